// The cells of the matrix: what a workload runs on. A cell is a type that names itself and
// makes two heaps — one for the timed runs, one for the memory run (which may carry
// instrumentation, e.g. an Alloy cell composed with P::stats) — both offering
//   void* allocate(size)   void deallocate(p, size)   void end_of_round()
// and the memory heap also   reserved_now(), keeps_peak, peak_reserved()   (see memory_probe).
//
// Cells: every Alloy composition of a matrix (alloy_cell<A>), the hand-written segregated free
// list the speed target is measured against, and the baselines: glibc malloc, jemalloc,
// tcmalloc and mimalloc (loaded by bench/common/baselines.hpp) and the std::pmr resources.
#pragma once
#include <boost/hana/for_each.hpp>
#include <boost/hana/accessors.hpp>
#include <boost/mp11/algorithm.hpp>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <memory_resource>
#include <string>
#include <type_traits>
#include <vector>

#include <alloc/allocator.hpp>
#include <policy/detail/config.hpp>
#include <policy/stats/stats.hpp>

#include "bench/common/baselines.hpp"
#include "reflect.hpp"

namespace alloy::bench {

/// The kinds a report tells apart.
namespace kind {
inline constexpr const char* alloy = "alloy";
inline constexpr const char* baseline = "baseline";
inline constexpr const char* reference = "reference";
}  // namespace kind

// ---- Alloy compositions ------------------------------------------------------------------------

/// `A` with its instrumentation axis set to P::stats: the type the memory run measures.
template <class A>
using with_stats_t = boost::mp11::mp_apply<
    alloy::allocator, boost::mp11::mp_replace_if_q<typename A::policies, alloy::detail::on_axis<alloy::axis::stats>,
                                                   alloy::policy::stats>>;

template <class A>
struct alloy_heap {
  static constexpr bool frees_on_destruction = true;  // the allocator gives every chunk back
  A heap;
  [[gnu::always_inline]] void* allocate(std::size_t size) noexcept { return heap.allocate(size); }
  [[gnu::always_inline]] void deallocate(void* p, std::size_t size) noexcept { heap.deallocate(p, size); }
  void end_of_round() noexcept {}
};

template <class A>
struct alloy_memory_heap : alloy_heap<with_stats_t<A>> {
  static constexpr bool keeps_peak = true;
  std::size_t reserved_now() const noexcept { return 0; }  // a fresh heap has reserved nothing
  std::size_t peak_reserved() const noexcept { return this->heap.stats().peak_reserved_bytes; }
  /// What the heap holds now: its committed bytes where the stats count them apart from the
  /// reserved ones (a heap that decommits free pages, issue 16's reclaim), else its reserved bytes.
  std::size_t footprint_now() const noexcept {
    const auto s = this->heap.stats();
    if constexpr (requires { s.committed_bytes; }) return s.committed_bytes;
    else return s.reserved_bytes;
  }
  stats_snapshot snapshot() const noexcept { return this->heap.stats(); }
};

/// "alloy::allocator<P::segregated_fit, P::pow2_classes<16, 4096>, P::single_thread, P::align<16>>":
/// the type to paste, written from the composition's readable name. Every policy gets `P::`,
/// those named inside another's parameters too (`segregated_fit::with<0, P::tlsf>`); numbers and
/// names already qualified (`std::mutex`, `alloy::spin_mutex`) stay as they are.
template <class A>
std::string declaration_of() {
  const std::string name = alloy::name_of<A>();
  std::string out = "alloy::allocator<";
  bool at_start = true;  // at the first character of a policy or a parameter
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name.compare(i, 3, " + ") == 0) {
      out += ", ";
      i += 2;
      at_start = true;
      continue;
    }
    if (at_start && (std::islower(static_cast<unsigned char>(name[i])) || name[i] == '_') &&
        name.compare(i, 5, "std::") != 0 && name.compare(i, 7, "alloy::") != 0)
      out += "P::";
    out += name[i];
    at_start = name[i] == '<' || (name[i] == ' ' && i > 0 && name[i - 1] == ',');
  }
  return out + ">";
}

template <class A>
struct alloy_cell {
  using heap = alloy_heap<A>;
  using memory_heap = alloy_memory_heap<A>;
  static constexpr bool thread_safe = A::properties.thread_safe;
  static constexpr bool frees_nothing = false;
  static std::string name() { return alloy::name_of<A>(); }
  static std::string declaration() { return declaration_of<A>(); }
  static const char* kind() { return kind::alloy; }
  static std::string properties() { return to_json(A::properties); }
};

// ---- the hand-written reference ----------------------------------------------------------------

/// A plain segregated free list, written by hand the way one would without a library: 16-byte
/// classes up to 4 KiB carved from 64 KiB chunks, a singly linked list per class, sized free
/// only; larger requests go to malloc. The speed target is "within 1.25x of this".
class hand_free_list {
 public:
  static constexpr bool keeps_peak = false;
  static constexpr bool frees_on_destruction = false;  // its large blocks are malloc's
  hand_free_list() = default;
  hand_free_list(const hand_free_list&) = delete;
  hand_free_list& operator=(const hand_free_list&) = delete;
  ~hand_free_list() {
    for (void* c : chunks_) std::free(c);
  }

  [[gnu::always_inline]] void* allocate(std::size_t size) noexcept {
    if (size <= max_small) [[likely]] {
      const std::size_t c = (size + 15) >> 4;
      if (node* n = heads_[c]) [[likely]] {
        heads_[c] = n->next;
        return n;
      }
      return carve(c);
    }
    reserved_ += size;
    return std::malloc(size);
  }
  [[gnu::always_inline]] void deallocate(void* p, std::size_t size) noexcept {
    if (size <= max_small) [[likely]] {
      const std::size_t c = (size + 15) >> 4;
      auto* n = static_cast<node*>(p);
      n->next = heads_[c];
      heads_[c] = n;
      return;
    }
    reserved_ -= size;
    std::free(p);
  }
  void end_of_round() noexcept {}
  std::size_t reserved_now() const noexcept { return reserved_; }
  std::size_t peak_reserved() const noexcept { return 0; }

 private:
  struct node {
    node* next;
  };
  static constexpr std::size_t max_small = 4096;
  static constexpr std::size_t chunk_bytes = std::size_t{1} << 16;

  [[gnu::noinline]] void* carve(std::size_t c) noexcept {
    const std::size_t block = c == 0 ? 16 : c << 4;
    if (bump_ + block > end_) {
      auto* chunk = static_cast<char*>(std::malloc(chunk_bytes));
      if (chunk == nullptr) return nullptr;
      chunks_.push_back(chunk);
      reserved_ += chunk_bytes;
      bump_ = chunk;
      end_ = chunk + chunk_bytes;
    }
    void* p = bump_;
    bump_ += block;
    return p;
  }

  node* heads_[max_small / 16 + 1] = {};
  char* bump_ = nullptr;
  char* end_ = nullptr;
  std::size_t reserved_ = 0;
  std::vector<void*> chunks_;
};

struct hand_free_list_cell {
  using heap = hand_free_list;
  using memory_heap = hand_free_list;
  static constexpr bool thread_safe = false;
  static constexpr bool frees_nothing = false;
  static std::string name() { return "hand-written free list"; }
  static std::string declaration() { return ""; }
  static const char* kind() { return kind::reference; }
  static std::string properties() { return "{}"; }
};

// ---- the system allocators -------------------------------------------------------------------

/// What a system allocator holds from the system, asked through its own statistics API (found
/// with dlsym in the library bench/common/baselines.hpp loaded): glibc's arenas and mmapped
/// blocks (mallinfo2), jemalloc's resident bytes, tcmalloc's heap less what it has unmapped,
/// mimalloc's committed bytes. 0 when the library offers no such figure.
class system_footprint {
 public:
  explicit system_footprint(std::string_view name);
  std::size_t operator()() const noexcept;

 private:
  enum class source { none, glibc, jemalloc, tcmalloc, mimalloc } source_ = source::none;
  void* query_ = nullptr;
};

/// glibc malloc, jemalloc, tcmalloc and mimalloc, each through the loader's function pointers
/// (glibc's too: every system allocator pays the same indirect call).
template <std::size_t Index>
struct system_heap {
  static constexpr bool keeps_peak = false;
  static constexpr bool frees_on_destruction = false;
  const baseline& api = baselines()[Index];
  system_footprint footprint{baselines()[Index].name};
  void* allocate(std::size_t size) noexcept { return api.allocate(size); }
  void deallocate(void* p, std::size_t) noexcept { api.deallocate(p); }
  void end_of_round() noexcept {}
  std::size_t reserved_now() const noexcept { return footprint(); }
  std::size_t peak_reserved() const noexcept { return 0; }
};

template <std::size_t Index>
struct system_cell {
  using heap = system_heap<Index>;
  using memory_heap = system_heap<Index>;
  static constexpr bool thread_safe = true;
  static constexpr bool frees_nothing = false;
  /// Left out under AddressSanitizer, which replaces malloc itself (and mixes up its
  /// interceptors with a malloc taken by address): nothing there to measure or to check.
  static bool available() { return !ALLOY_ASAN && baselines()[Index].available(); }
  static std::string name() { return std::string(baselines()[Index].name); }
  static std::string declaration() { return ""; }
  static const char* kind() { return kind::baseline; }
  static std::string properties() { return "{}"; }
};

// ---- std::pmr ----------------------------------------------------------------------------------

/// Upstream of the pmr cells: operator new, counting what it hands out (the pool's footprint).
class counting_resource final : public std::pmr::memory_resource {
 public:
  std::size_t outstanding() const noexcept { return outstanding_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    outstanding_ += bytes;
    return ::operator new(bytes, std::align_val_t{align});
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    outstanding_ -= bytes;
    ::operator delete(p, bytes, std::align_val_t{align});
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
  std::size_t outstanding_ = 0;
};

template <class Resource>
struct pmr_heap {
  static constexpr bool keeps_peak = false;
  static constexpr bool frees_on_destruction = true;  // the resource releases its upstream memory
  counting_resource upstream;
  Resource resource{&upstream};
  void* allocate(std::size_t size) { return resource.allocate(size, alignof(std::max_align_t)); }
  void deallocate(void* p, std::size_t size) { resource.deallocate(p, size, alignof(std::max_align_t)); }
  void end_of_round() {
    if constexpr (std::is_same_v<Resource, std::pmr::monotonic_buffer_resource>) resource.release();
  }
  std::size_t reserved_now() const noexcept { return upstream.outstanding(); }
  std::size_t peak_reserved() const noexcept { return 0; }
};

template <class Resource>
struct pmr_cell {
  using heap = pmr_heap<Resource>;
  using memory_heap = pmr_heap<Resource>;
  static constexpr bool thread_safe = std::is_same_v<Resource, std::pmr::synchronized_pool_resource>;
  /// A monotonic buffer frees nothing until release(): only workloads that free everything
  /// at the end of each round can run on it.
  static constexpr bool frees_nothing = std::is_same_v<Resource, std::pmr::monotonic_buffer_resource>;
  static std::string name() {
    if constexpr (std::is_same_v<Resource, std::pmr::unsynchronized_pool_resource>) return "pmr unsynchronized_pool";
    else if constexpr (std::is_same_v<Resource, std::pmr::synchronized_pool_resource>) return "pmr synchronized_pool";
    else return "pmr monotonic_buffer";
  }
  static std::string declaration() { return ""; }
  static const char* kind() { return kind::baseline; }
  static std::string properties() { return "{}"; }
};

}  // namespace alloy::bench
