// Free-list operations as the hardening policy wants them, shared by every search heap so each
// mitigation is written once. With `no_hardening` every `if constexpr` below is false and the
// operations are exactly free_list's own: no byte, no instruction added.
//
//   pop   : the list's pop; with the double-free scan, the popped block's link word is cleared
//           so a live block never looks free.
//   push  : with a double-free check, the block must not be the list head (one compare on the
//           fast path); with the double-free scan (encoded links), a block whose first word
//           decodes to a valid link is looked up in the list (cold) — only a block already free
//           passes that test.
//   carve : n fresh blocks onto a list, in address order or, randomized, in a shuffled one.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "config.hpp"
#include "free_list.hpp"

namespace alloy::detail {

/// Reports a heap-exploitation attempt on stderr and stops the program: continuing would hand
/// out memory of the attacker's choosing. Writes with write(2): the heap may be the one broken.
[[noreturn]] ALLOY_SLOW_PATH inline void hardening_abort(const char* what, const void* block, std::uintptr_t value) noexcept {
  char message[256];
  const int n = std::snprintf(message, sizeof message, "alloy hardening: %s (block %p, value %#zx); aborting\n", what,
                              block, static_cast<std::size_t>(value));
  const std::size_t length = n < 0 ? 0 : std::min(static_cast<std::size_t>(n), sizeof message - 1);
  if (::write(2, message, length) < 0) std::abort();
  std::abort();
}

[[noreturn]] ALLOY_SLOW_PATH inline void report_corrupt_link(const void* slot, std::uintptr_t decoded) noexcept {
  hardening_abort("corrupted free-list link: it decodes to a misaligned address or one outside this heap's chunks",
                  slot, decoded);
}

[[noreturn]] ALLOY_SLOW_PATH inline void report_double_free(const void* block) noexcept {
  hardening_abort("double free: the block is already on its free list", block, reinterpret_cast<std::uintptr_t>(block));
}

template <class Hardening>
struct hardened_list {
  using codec_type = typename Hardening::link_codec;
  using list_type = free_list<codec_type>;
  /// carve() shuffles at most this many blocks at a time.
  static constexpr std::size_t max_carve = 64;

  ALLOY_FAST_PATH static void* pop(list_type& list, const codec_type& codec) noexcept {
    void* block = list.pop(codec);
    if constexpr (Hardening::scans_double_free) *static_cast<void**>(block) = nullptr;
    return block;
  }

  ALLOY_FAST_PATH static void push(list_type& list, void* block, const codec_type& codec) noexcept {
    if constexpr (Hardening::checks_double_free) {
      if (block == list.front()) [[unlikely]] report_double_free(block);
      if constexpr (Hardening::scans_double_free) {
        // A tail call: nothing stays live across it, so the fast path saves no registers.
        if (codec.looks_free(block)) [[unlikely]] return push_suspect(list, block, codec);
      }
    }
    list.push(block, codec);
  }

  /// Puts the `n` blocks of `block_size` starting at `first` (n <= max_carve) on `list` but
  /// one, which it returns. Unrandomized, later pops ascend through memory.
  static void* carve(list_type& list, std::byte* first, std::size_t n, std::size_t block_size, codec_type& codec) noexcept {
    if constexpr (Hardening::randomizes_placement) {
      std::array<std::uint8_t, max_carve> order;
      for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint8_t>(i);
      for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[codec.random_below(i)]);  // Fisher-Yates
      for (std::size_t i = 1; i < n; ++i) list.push(first + order[i] * block_size, codec);
      return first + order[0] * block_size;
    } else {
      for (std::size_t i = n; i-- > 1;) list.push(first + i * block_size, codec);
      return first;
    }
  }

 private:
  /// The block's first word decoded to a valid link: free, or user data that happens to look
  /// like one (about one chance in 2^60). Only the walk can tell.
  ALLOY_SLOW_PATH static void push_suspect(list_type& list, void* block, const codec_type& codec) noexcept {
    bool found = false;
    list.for_each(codec, [&](void* b) { found = found || b == block; }, codec.max_links());
    if (found) report_double_free(block);
    list.push(block, codec);
  }
};

}  // namespace alloy::detail
