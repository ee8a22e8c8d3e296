// alloy::allocator<Policies...>: the user-facing type. Validates input once, at the top, then
// hands the request to the layer stack the policies built.
//
//   using small_objects = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>,
//                                          P::single_thread, P::align<16>>;
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <cstring>
#include <string>
#include <string_view>

#include "../policy/alignment/align.hpp"
#include "../policy/checks/no_checks.hpp"
#include "../policy/faults/no_faults.hpp"
#include "../policy/hardening/no_hardening.hpp"
#include "../policy/reclaim/no_reclaim.hpp"
#include "../policy/search/segregated_fit.hpp"
#include "../policy/size_classes/geometric_classes.hpp"
#include "../policy/source/system_pages.hpp"
#include "../policy/stats/no_stats.hpp"
#include "../policy/threading/single_thread.hpp"
#include "detail/compose.hpp"

namespace alloy {

/// What a composed allocator guarantees, derived from its policies at compile time.
/// (The benchmark report reflects it with Boost.Hana: bench/matrix/reflect.hpp.)
struct allocator_properties {
  bool thread_safe;
  std::string_view allocate_cost;  // worst case: O(1), O(log n), O(n)
  std::string_view free_cost;
  std::size_t alignment;           // every block is aligned to at least this
  bool free_needs_size;            // false: deallocate(p) works for every block
  std::size_t max_class_size;      // largest size served by a size class
};

template <class Allocator>
std::string name_of();

template <class Composition>
class basic_allocator {
  using top_type = typename Composition::top;

 public:
  using composition = Composition;
  using policies = typename Composition::policies;
  static constexpr std::size_t alignment = Composition::alignment;
  static constexpr allocator_properties properties{
      top_type::is_thread_safe, to_string(top_type::alloc_complexity), to_string(top_type::free_complexity),
      alignment, false, top_type::max_class_size};
  static constexpr bool has_stats = requires(const top_type& t) { t.stats(); };

  constexpr basic_allocator() noexcept {
    // A layer that reports its users' errors (the checks axis) names the allocator in its reports.
    if constexpr (requires(top_type& t) { t.name_reports(&name_of<basic_allocator>); })
      impl_.name_reports(&name_of<basic_allocator>);
  }
  basic_allocator(const basic_allocator&) = delete;  // a heap is a place: share it by reference
  basic_allocator& operator=(const basic_allocator&) = delete;

  /// @returns a block of at least `size` bytes aligned to `alignment`, or nullptr when the
  /// memory source is exhausted or `size` is absurd (over half the address space).
  /// `allocate(0)` returns a unique block that must be freed like any other.
  [[nodiscard]] ALLOY_FAST_PATH void* allocate(std::size_t size) noexcept {
    if (size - 1 < fast_sizes) [[likely]] return impl_.allocate(size, alignment);
    return allocate_edge(size, alignment);
  }

  /// As above, aligned to `align`; nullptr when `align` is not a power of two.
  [[nodiscard]] ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    if (!detail::is_pow2(align) || align > detail::max_request) [[unlikely]] return nullptr;
    align = align < alignment ? alignment : align;
    if (size - 1 < fast_sizes) [[likely]] return impl_.allocate(size, align);
    return allocate_edge(size, align);
  }

  /// A block of `size` bytes, all zero (calloc's), or nullptr as allocate. Bytes a layer knows
  /// to be zero already — a chunk fresh from a source whose fresh chunks read as zeros
  /// (layer_knows_zeroed, policy/detail/heap_layer.hpp) — are not written, and no lock is held
  /// while the others are: a large, sparsely used table faults only the pages the program writes.
  [[nodiscard]] void* allocate_zeroed(std::size_t size) noexcept {
    if constexpr (layer_knows_zeroed<top_type>) {
      if (size - 1 < detail::max_request) [[likely]] {
        const maybe_zeroed got = impl_.allocate_maybe_zeroed(size, alignment);
        if (got.block != nullptr && !got.zeroed) std::memset(got.block, 0, size);
        return got.block;
      }
    }
    void* p = allocate(size);
    if (p != nullptr) std::memset(p, 0, size);
    return p;
  }

  /// Sized free, the fast path: `size` (and `align`) as given to allocate. A null `p` is
  /// ignored, as by the unsized form: the cleanup after a failed allocate may free what it got.
  ALLOY_FAST_PATH void deallocate(void* p, std::size_t size) noexcept {
    if (p != nullptr && size - 1 < fast_sizes) [[likely]] return impl_.deallocate(p, size, alignment);
    deallocate_edge(p, size, alignment);
  }
  ALLOY_FAST_PATH void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    align = align < alignment ? alignment : align;
    if (p != nullptr && size - 1 < fast_sizes) [[likely]] return impl_.deallocate(p, size, align);
    deallocate_edge(p, size, align);
  }
  /// Unsized free: works for every block of this allocator; a null pointer is ignored.
  void deallocate(void* p) noexcept {
    if (p != nullptr) impl_.deallocate(p);
  }

  /// Frees `p` if this very instance handed it out, else does nothing and returns false (a
  /// null `p` too): what a process malloc's free() needs, in one lookup where a thread-safe
  /// threading layer offers it (owns() then deallocate() would look the block up twice).
  ALLOY_FAST_PATH bool try_deallocate(void* p) noexcept {
    if constexpr (std::is_same_v<top_type, typename Composition::threaded> && requires { impl_.try_deallocate(p); }) {
      return impl_.try_deallocate(p);  // a threading layer's answers null itself, off its fast path
    } else {
      if (p == nullptr) return false;
      if (!impl_.owns(p)) return false;
      impl_.deallocate(p);
      return true;
    }
  }

  /// Resizes the block to `new_size`, in place when the heap can, else by moving it.
  /// @returns the block, or nullptr with `p` untouched. A null `p` allocates.
  [[nodiscard]] void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align = 1) noexcept {
    if (p == nullptr) return allocate(new_size, align);
    if (!detail::is_pow2(align) || align > detail::max_request || new_size > detail::max_request) return nullptr;
    return impl_.reallocate(p, old_size + (old_size == 0), new_size + (new_size == 0), align < alignment ? alignment : align);
  }

  /// Exact: true only for memory this very instance handed out.
  bool owns(const void* p) const noexcept { return impl_.owns(p); }
  /// Bytes the block can hold (at least the size asked for); 0 for null.
  std::size_t usable_size(const void* p) const noexcept { return p == nullptr ? 0 : impl_.usable_size(p); }
  /// Pre-allocates `count` blocks for requests of `size`, so the first ones carve nothing.
  bool reserve(std::size_t size, std::size_t count) noexcept { return impl_.reserve(size, count); }
  /// Gives every chunk back to the memory source; every block is invalidated.
  void release() noexcept { impl_.release(); }
  /// Gives back to the system, now, every free page and wholly free chunk the heap can (with
  /// `P::reclaim`; the calling thread's cache included under `P::thread_local_cache`).
  /// @returns the reclaims made (madvise calls and chunks returned); 0 under `P::no_reclaim`.
  std::size_t trim() noexcept {
    if constexpr (requires { impl_.trim(); }) return impl_.trim();
    else return 0;
  }
  /// The heap's own data structures are well formed (free lists, tags, bitmaps).
  bool invariant() const noexcept { return impl_.invariant(); }

  /// Counters and fragmentation (only with the `stats` policy).
  auto stats() const noexcept
    requires has_stats
  {
    return impl_.stats();
  }

  /// The layer stack: the top layer, which derives from every layer down to the threading
  /// layer, so each of their members is reachable here whatever the threading policy
  /// (`heap.layers().fail_after(3)`, `heap.layers().live_blocks()`). Below a thread-safe
  /// threading layer the heap is reached with the lock held: `heap.layers().lock()->metrics()`.
  top_type& layers() noexcept { return impl_; }
  const top_type& layers() const noexcept { return impl_; }

  /// The layer a policy of this composition built, by the policy's type:
  /// `heap.layer<P::fail_after>().fail_after(3)`, `heap.layer<P::locked<>>().lock()`. Every
  /// layer from the top down to the threading layer is reachable; the heap too under
  /// `single_thread`, where no lock stands between it and the user.
  template <class Policy>
  auto& layer() noexcept
    requires boost::mp11::mp_contains<policies, Policy>::value
  {
    using target = typename Composition::template layer_of<typename Policy::axis>;
    static_assert(std::is_base_of_v<target, top_type>,
                  "allocator::layer<P>(): this layer sits below a thread-safe threading layer; reach it "
                  "with the lock held: heap.layers().lock()");
    return static_cast<target&>(impl_);
  }

 private:
  // The fast paths test 1 <= size <= fast_sizes in one compare: the sizes the heap serves from
  // its size classes (its own "is it a class size" test then folds away), or every valid size
  // for a heap without classes. Size 0, large and absurd sizes take the edge paths below.
  static constexpr std::size_t fast_sizes = top_type::max_class_size != 0 ? top_type::max_class_size : detail::max_request;

  ALLOY_SLOW_PATH void* allocate_edge(std::size_t size, std::size_t align) noexcept {
    if (size - 1 >= detail::max_request) return size == 0 ? impl_.allocate(1, align) : nullptr;
    return impl_.allocate(size, align);
  }
  ALLOY_SLOW_PATH void deallocate_edge(void* p, std::size_t size, std::size_t align) noexcept {
    if (p != nullptr) impl_.deallocate(p, size + (size == 0), align);
  }

  top_type impl_;
};

/// The public spelling: policies in any order, at most one per axis, defaults for the rest.
template <class... Policies>
using allocator = basic_allocator<typename detail::resolve<Policies...>::type>;

/// "segregated_fit + pow2_classes<8, 256> + single_thread + align<16>": the search, size
/// classes, threading and alignment always, then the other axes where they differ from the
/// default (reading order and defaults: the axis table, policy/axis.hpp).
template <class Allocator>
std::string name_of() {
  using reading_order = boost::mp11::mp_sort_q<detail::axis_table, detail::by_reading_position>;
  std::string out;
  boost::mp11::mp_for_each<reading_order>([&out]<class Row>(Row) {
    using Axis = typename Row::axis;
    using P = detail::policy_on_axis<Axis, typename Allocator::policies>;
    if constexpr (Row::read_at < detail::always_named_axes || !std::is_same_v<P, default_policy_t<Axis>>) {
      out += (out.empty() ? "" : " + ") + P::name();
    }
  });
  return out;
}

}  // namespace alloy
