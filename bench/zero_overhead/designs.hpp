// The designs measured by the zero-overhead comparison: each one composed from Alloy's policies
// and written by hand (hand_*.hpp), plus the fixed operation sequences both are driven with.
#pragma once
#include <alloc/alloy.hpp>
#include <boost/mp11/algorithm.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hand_buddy.hpp"
#include "hand_first_fit.hpp"
#include "hand_locked_segregated_fit.hpp"
#include "hand_segregated_fit.hpp"

namespace zero_overhead {

namespace P = alloy::policy;

using composed_segregated_fit = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 512>, P::single_thread, P::align<16>>;
using composed_locked_segregated_fit =
    alloy::allocator<P::segregated_fit, P::pow2_classes<16, 512>, P::locked<std::mutex>, P::align<16>>;
using composed_first_fit = alloy::allocator<P::first_fit, P::static_arena<1 << 20>, P::single_thread, P::align<16>>;
using composed_buddy = alloy::allocator<P::buddy, P::single_thread, P::align<16>>;

/// A design, both ways: `composed` from Alloy's policies, `hand` written by hand, the `name` the
/// drivers and reports use, and `place(p, first)`: where block `p` lies in a form that must be the
/// same for both sides when they really carve memory alike (`first` is the first block allocated).
struct segregated_fit_design {
  using composed = composed_segregated_fit;
  using hand = hand_segregated_fit;
  static constexpr const char* name = "segregated_fit";
  /// Offset in its 64 KiB chunk (the chunks themselves come from mmap, anywhere).
  static std::uintptr_t place(const void* p, const void*) { return reinterpret_cast<std::uintptr_t>(p) % (64 * 1024); }
};

struct locked_segregated_fit_design : segregated_fit_design {
  using composed = composed_locked_segregated_fit;
  using hand = hand_locked_segregated_fit;
  static constexpr const char* name = "locked_segregated_fit";
};

struct first_fit_design {
  using composed = composed_first_fit;
  using hand = hand_first_fit<1 << 20>;
  static constexpr const char* name = "first_fit";
  /// Offset from the first block: one arena, so the whole layout is determined.
  static std::uintptr_t place(const void* p, const void* first) {
    return reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(first);
  }
};

struct buddy_design {
  using composed = composed_buddy;
  using hand = hand_buddy;
  static constexpr const char* name = "buddy";
  /// Offset in its 4 KiB page: a top block is one mmap, whose place is the kernel's choice.
  static std::uintptr_t place(const void* p, const void*) { return reinterpret_cast<std::uintptr_t>(p) % 4096; }
};

using designs = boost::mp11::mp_list<segregated_fit_design, locked_segregated_fit_design, first_fit_design, buddy_design>;

/// Calls `f(Design{})` for every design.
inline void for_each_design(auto&& f) { boost::mp11::mp_for_each<designs>(f); }

/// The varied sequence: sizes drawn uniformly from [16, 512] by a fixed LCG, the same every run.
inline std::vector<std::size_t> varied_sizes(std::size_t n) {
  std::vector<std::size_t> sizes(n);
  std::uint64_t state = 0x2545F4914F6CDD1Dull;
  for (auto& s : sizes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    s = 16 + static_cast<std::size_t>((state >> 33) % (512 - 16 + 1));
  }
  return sizes;
}

/// The size of the fixed sequence, a compile-time constant as in `allocate(sizeof(T))`.
inline constexpr std::size_t fixed_size = 64;

/// Hides `p` from the optimizer and makes it assume memory changed, so an allocate and the free
/// after it stay two real operations (as they are when a program uses the block in between).
inline void escape(void* p) noexcept { asm volatile("" : : "r"(p) : "memory"); }

/// The measured loops. Identical for both sides of a design; only the heap type differs.
template <class Heap>
[[gnu::noinline]] void pairs_varied(Heap& heap, const std::size_t* sizes, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t size = sizes[i];
    void* p = heap.allocate(size);
    escape(p);
    heap.deallocate(p, size);
  }
}

template <class Heap>
[[gnu::noinline]] void pairs_fixed(Heap& heap, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    void* p = heap.allocate(fixed_size);
    escape(p);
    heap.deallocate(p, fixed_size);
  }
}

/// Brings a heap to its steady state outside the measurement. First every size of the sequence
/// once (so a size-class heap has a free block in every class it will use and never refills in
/// the measured loop), then a background that stays: 16 blocks of the sequence's sizes, every
/// other one freed again, so the measured pairs work among live blocks and holes, not in an
/// empty heap. Each measured pair then leaves the heap exactly as it found it.
template <class Heap>
[[gnu::noinline]] void warm_up(Heap& heap, const std::vector<std::size_t>& sizes) noexcept {
  for (std::size_t size : sizes) {
    void* p = heap.allocate(size);
    escape(p);
    heap.deallocate(p, size);
  }
  void* background[16];
  for (std::size_t i = 0; i < 16; ++i) background[i] = heap.allocate(sizes[i % sizes.size()]);
  for (std::size_t i = 0; i < 16; i += 2) heap.deallocate(background[i], sizes[i % sizes.size()]);
}

}  // namespace zero_overhead
