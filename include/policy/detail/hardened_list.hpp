// Free-list operations as the hardening policy wants them, shared by every search heap so each
// mitigation is written once. With `no_hardening` every `if constexpr` below is false and the
// operations are exactly free_list's own: no byte, no instruction added.
//
//   pop   : the list's pop; with the double-free scan, the popped block's link word is cleared
//           so a live block never looks free.
//   push  : with a double-free check, the block must not be the list head (a compare and a
//           branch on the fast path; with encoded links the codec's encode_head tests it on
//           the encoding's own xor, one branch); with the double-free scan (encoded links), a block whose first word
//           decodes to a valid link is looked up in the list (cold) — only a block already free
//           passes that test.
//   carve : n fresh blocks onto a list, in address order or, randomized, in a shuffled one.
//
// Memory checkers (sanitizer.hpp) are told here too, so a heap built on these operations needs
// no call of its own: a block pushed or carved is poisoned but for its link word, a block
// popped is unpoisoned for its `bytes` (the block size the caller keeps the list for).
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "config.hpp"
#include "free_list.hpp"
#include "report_error.hpp"
#include "sanitizer.hpp"

namespace alloy::detail {

/// `Codec` is the heap's link codec; a thread cache passes its own copy of it (thread_local_cache).
template <class Hardening, class Codec = typename Hardening::link_codec>
struct hardened_list {
  using codec_type = Codec;
  using list_type = free_list<codec_type>;
  /// The codec's encode_head() stops a block freed twice in a row (encoded links); else push() compares.
  static constexpr bool codec_refuses_self_links = requires { requires Codec::refuses_self_links; };
  /// carve() shuffles at most this many blocks at a time.
  static constexpr std::size_t max_carve = 64;

  /// The block at the head of `list` (not empty), handed out: accessible for its `bytes`.
  ALLOY_FAST_PATH static void* pop(list_type& list, std::size_t bytes, const codec_type& codec) noexcept {
    void* block = list.pop(codec);
    if constexpr (Hardening::scans_double_free) *static_cast<void**>(block) = nullptr;
    unpoison(block, bytes);
    return block;
  }

  /// `block` (of `bytes`) is free again: onto `list`, poisoned but for its link.
  ALLOY_FAST_PATH static void push(list_type& list, void* block, std::size_t bytes, const codec_type& codec) noexcept {
    if constexpr (Hardening::checks_double_free) {
      if constexpr (!codec_refuses_self_links) {
        if (block == list.front()) [[unlikely]] report_double_free(block);
      }
      if constexpr (Hardening::scans_double_free) {
        // A tail call: nothing stays live across it, so the fast path saves no registers.
        if (codec.looks_free(block)) [[unlikely]] return push_suspect(list, block, bytes, codec);
      }
    }
    list.push(block, codec);
    poison_free(block, bytes, list_type::link_bytes);
  }

  /// Puts the `n` blocks of `block_size` starting at `first` (n <= max_carve) on `list` but
  /// one, which it returns, accessible. Unrandomized, later pops ascend through memory.
  /// The blocks are fresh chunk memory, poisoned or not: they are opened for their links first.
  static void* carve(list_type& list, std::byte* first, std::size_t n, std::size_t block_size, codec_type& codec) noexcept {
    unpoison(first, n * block_size);
    std::byte* given;
    if constexpr (Hardening::randomizes_placement) {
      std::array<std::uint8_t, max_carve> order;
      for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint8_t>(i);
      for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[codec.random_below(i)]);  // Fisher-Yates
      for (std::size_t i = 1; i < n; ++i) list.push(first + order[i] * block_size, codec);
      given = first + order[0] * block_size;
    } else {
      for (std::size_t i = n; i-- > 1;) list.push(first + i * block_size, codec);
      given = first;
    }
    if constexpr (poisoning_active) {
      for (std::size_t i = 0; i < n; ++i)
        if (first + i * block_size != given) poison_free(first + i * block_size, block_size, list_type::link_bytes);
    }
    return given;
  }

 private:
  /// The block's first word decoded to a valid link: free, or user data that happens to look
  /// like one (about one chance in 2^60). Only the walk can tell.
  ALLOY_SLOW_PATH static void push_suspect(list_type& list, void* block, std::size_t bytes, const codec_type& codec) noexcept {
    bool found = false;
    list.for_each(codec, [&](void* b) { found = found || b == block; }, codec.max_links());
    if (found) report_double_free(block);
    list.push(block, codec);
    poison_free(block, bytes, list_type::link_bytes);
  }
};

}  // namespace alloy::detail
