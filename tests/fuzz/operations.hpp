// The fuzzers' engine: input bytes become a sequence of heap operations (allocate with a size
// and alignment, free sized or unsized, reallocate, reserve, release, bad input), run against a
// small reference model, with every invariant checked after every step:
//   no two live blocks overlap, each is aligned as asked, contents intact, owns() exact (true
//   for every live block, false for a foreign one), usable_size >= size, stats equal to the
//   model, and the heap's own invariant().
//
// No Catch2 here: a failed check prints what and where, then aborts, which libFuzzer records
// as a crash with its input. The same code runs as a plain replay over the corpus (replay.cpp).
#pragma once
#include <alloc/allocator.hpp>
#include <policy/alignment.hpp>
#include <policy/checks.hpp>
#include <policy/size_classes.hpp>
#include <policy/source.hpp>
#include <policy/stats.hpp>
#include <boost/mp11/algorithm.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace alloy::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line, const std::string& heap) {
  std::fprintf(stderr, "alloy fuzz: check failed: %s at %s:%d (allocator %s)\n", what, file, line, heap.c_str());
  std::abort();
}

#define ALLOY_FUZZ_CHECK(cond) \
  ((cond) ? void() : ::alloy::fuzz::fail(#cond, __FILE__, __LINE__, ::alloy::name_of<Alloc>()))

/// Reads the input a byte (or two) at a time; past the end, zeros.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | u8() << 8); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

/// The blocks' expected contents: block `seed` holds ramp()[seed + i] at byte i. Written and
/// checked with memcpy/memcmp (byte loops are slow under the fuzzer's comparison tracing).
inline constexpr std::size_t max_block_bytes = std::size_t{1} << 18;
inline const unsigned char* ramp() {
  static const std::vector<unsigned char> bytes = [] {
    std::vector<unsigned char> r(max_block_bytes + 256);
    for (std::size_t k = 0; k < r.size(); ++k) r[k] = static_cast<unsigned char>(k * 13 + k / 251);
    return r;
  }();
  return bytes.data();
}

struct model_block {
  std::size_t size;   // as asked (>= 1 as the heap sees it)
  std::size_t align;  // as asked (0: the allocator's default)
  unsigned char seed;
  std::size_t granted;  // usable_size when recorded
};

/// Whether refusing an ordinary request is legitimate for this composition (a fixed arena can fill up).
template <class Alloc>
constexpr bool may_run_out =
    !std::is_same_v<boost::mp11::mp_front<typename Alloc::policies>, policy::system_pages> &&
    !std::is_same_v<boost::mp11::mp_front<typename Alloc::policies>, policy::system_malloc>;

template <class Alloc>
class driver {
 public:
  static constexpr std::size_t max_live = 64;
  static constexpr bool reports_leaks = requires(Alloc& a) { a.layers().live_blocks(); };

  explicit driver(Alloc& heap, Alloc& other) : heap_(heap), other_(other) {
    foreign_ = other_.allocate(64);
    ALLOY_FUZZ_CHECK(foreign_ != nullptr || may_run_out<Alloc>);
  }
  ~driver() {
    if (foreign_ != nullptr) other_.deallocate(foreign_, 64);
  }

  void run(byte_reader& in) {
    while (!in.done()) {
      step(in);
      check_all();
    }
    for (auto it = live_.begin(); it != live_.end();) {
      void* p = it->first;
      ++it;
      free_block(p, false);
    }
    check_all();
  }

 private:
  std::size_t read_size(byte_reader& in) {
    const std::uint8_t kind = in.u8();
    const std::size_t raw = in.u16();
    switch (kind % 8) {
      case 0: return raw % 17;                 // tiny, 0 included
      case 1: case 2: case 3: return raw % 257;
      case 4: case 5: return raw % 4097;
      case 6: return raw * 4;                  // up to 256 KiB (max_block_bytes): the large-block paths
      default: return (raw % 64) * 16 + 16;    // exact class sizes
    }
  }
  std::size_t read_align(byte_reader& in) {
    const std::uint8_t b = in.u8();
    if (b < 160) return 0;                           // mostly the default
    return std::size_t{1} << (b % 13);               // 1 .. 4096
  }
  void* pick(byte_reader& in) {
    if (live_.empty()) return nullptr;
    auto it = live_.begin();
    std::advance(it, in.u8() % live_.size());
    return it->first;
  }

  void step(byte_reader& in) {
    const std::uint8_t op = in.u8();
    switch (op % 16) {
      case 0: case 1: case 2: case 3: case 4: case 5:
        if (live_.size() < max_live) allocate(read_size(in), read_align(in), in.u8());
        return;
      case 6: case 7: case 8:
        if (void* p = pick(in)) free_block(p, true);
        return;
      case 9: case 10: case 11:
        if (void* p = pick(in)) free_block(p, false);
        return;
      case 12: case 13:
        if (void* p = pick(in)) reallocate(p, read_size(in));
        return;
      case 14: {
        const std::size_t size = read_size(in);
        const std::size_t count = in.u8() % 40;
        (void)heap_.reserve(size, count);  // may decline (a size no class serves); must not corrupt
        return;
      }
      default:
        if (op == 0xff) return release();
        bad_input(in.u8());
        return;
    }
  }

  void allocate(std::size_t size, std::size_t align, unsigned char seed) {
    void* p = align == 0 ? heap_.allocate(size) : heap_.allocate(size, align);
    if (p == nullptr) {
      ALLOY_FUZZ_CHECK(may_run_out<Alloc>);
      return;
    }
    record(p, size, align, seed);
  }

  void record(void* p, std::size_t size, std::size_t align, unsigned char seed) {
    const std::size_t n = size == 0 ? 1 : size;
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    ALLOY_FUZZ_CHECK(a % std::max(align, Alloc::alignment) == 0);
    ALLOY_FUZZ_CHECK(heap_.owns(p));
    ALLOY_FUZZ_CHECK(!other_.owns(p));
    ALLOY_FUZZ_CHECK(heap_.usable_size(p) >= size);
    ALLOY_FUZZ_CHECK(live_.find(p) == live_.end());
    auto next = live_.upper_bound(p);
    if (next != live_.end()) ALLOY_FUZZ_CHECK(a + n <= reinterpret_cast<std::uintptr_t>(next->first));
    if (next != live_.begin()) {
      auto prev = std::prev(next);
      ALLOY_FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(prev->first) + prev->second.size <= a);
    }
    std::memcpy(p, ramp() + seed, n);  // allocate(0) gives at least one byte
    const std::size_t granted = heap_.usable_size(p);
    live_[p] = {n, align, seed, granted};
    granted_ += granted;
    ++allocations_;
  }

  void check_contents(const void* p, const model_block& m, std::size_t upto) const {
    ALLOY_FUZZ_CHECK(std::memcmp(p, ramp() + m.seed, std::min(m.size, upto)) == 0);
  }

  void free_block(void* p, bool sized) {
    const model_block m = live_.at(p);
    check_contents(p, m, m.size);
    forget(p);
    if (!sized) heap_.deallocate(p);
    else if (m.align == 0) heap_.deallocate(p, m.size);
    else heap_.deallocate(p, m.size, m.align);
  }

  void forget(void* p) {
    granted_ -= live_.at(p).granted;
    live_.erase(p);
    ++deallocations_;
  }

  void reallocate(void* p, std::size_t new_size) {
    const model_block m = live_.at(p);
    void* q = heap_.reallocate(p, m.size, new_size, m.align == 0 ? 1 : m.align);
    if (q == nullptr) {
      ALLOY_FUZZ_CHECK(may_run_out<Alloc>);
      check_contents(p, m, m.size);  // refused: the old block untouched
      return;
    }
    check_contents(q, m, new_size == 0 ? 1 : new_size);
    forget(p);  // stats count a resize as one free and one allocation
    record(q, new_size, m.align, m.seed);
  }

  void release() {
    if constexpr (reports_leaks) {  // a checking heap rightly reports live blocks as leaks: free them first
      while (!live_.empty()) free_block(live_.begin()->first, false);
    }
    heap_.release();
    live_.clear();
    granted_ = 0;
    ALLOY_FUZZ_CHECK(heap_.invariant());
    if constexpr (Alloc::has_stats) {
      ALLOY_FUZZ_CHECK(heap_.stats().live_bytes == 0);
      ALLOY_FUZZ_CHECK(heap_.stats().reserved_bytes == 0);
    }
  }

  /// Requests the facade must refuse (nullptr) without touching the heap.
  void bad_input(std::uint8_t which) {
    void* p = nullptr;
    switch (which % 4) {
      case 0: p = heap_.allocate(SIZE_MAX - which); break;
      case 1: p = heap_.allocate(16, 3 + std::size_t{which} * 2); break;  // odd: never a power of two
      case 2: p = heap_.allocate(SIZE_MAX / 2 + which, 64); break;
      default: p = heap_.allocate(16, std::size_t{1} << 63); break;
    }
    ALLOY_FUZZ_CHECK(p == nullptr);
  }

  void check_all() {
    ALLOY_FUZZ_CHECK(heap_.invariant());
    for (const auto& [p, m] : live_) {
      ALLOY_FUZZ_CHECK(heap_.owns(p));
      check_contents(p, m, 16);  // the first bytes of every block each step, all of it on free
    }
    if (foreign_ != nullptr) ALLOY_FUZZ_CHECK(!heap_.owns(foreign_));
    int on_stack = 0;
    ALLOY_FUZZ_CHECK(!heap_.owns(&on_stack));
    if constexpr (Alloc::has_stats) {
      const auto s = heap_.stats();
      ALLOY_FUZZ_CHECK(s.live_bytes == granted_);
      ALLOY_FUZZ_CHECK(s.allocations == allocations_);
      ALLOY_FUZZ_CHECK(s.deallocations == deallocations_);
      ALLOY_FUZZ_CHECK(s.peak_live_bytes >= s.live_bytes);
      ALLOY_FUZZ_CHECK(s.reserved_bytes >= s.live_bytes + s.free_bytes);
      ALLOY_FUZZ_CHECK(s.largest_free_block <= s.free_bytes);
    }
  }

  Alloc& heap_;
  Alloc& other_;
  void* foreign_ = nullptr;
  std::map<void*, model_block> live_;
  std::size_t granted_ = 0;
  std::size_t allocations_ = 0;
  std::size_t deallocations_ = 0;
};

/// The first byte picks a composition from `List`; the rest is the operation sequence.
template <class List>
int run_one_of(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  byte_reader in(data + 1, size - 1);
  boost::mp11::mp_with_index<boost::mp11::mp_size<List>::value>(data[0] % boost::mp11::mp_size<List>::value, [&](auto i) {
    using Alloc = boost::mp11::mp_at_c<List, decltype(i)::value>;
    static Alloc other;  // the source of a foreign block; built once, not per input
    auto heap = std::make_unique<Alloc>();
    driver<Alloc>(*heap, other).run(in);
  });
  return 0;
}

}  // namespace alloy::fuzz
