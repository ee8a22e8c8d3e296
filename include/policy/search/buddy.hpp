// buddy (伙伴系统): the binary buddy system. Power-of-two blocks, split on allocate, merged with
// the buddy found by address on free, one free list per order: O(log n) both ways, no external
// fragmentation inside a top block beyond what power-of-two rounding costs (internal waste up
// to half a block, reported by stats' internal_fragmentation()).
//
//   P::buddy                         blocks of 32 B .. 1 MiB (the defaults)
//   P::buddy::with<16, (1 << 20)>    smallest and largest block, both powers of two
//
// A top block is taken from the memory source at MaxBlock bytes (halved while the source
// refuses, so a small static_arena still works). Requests that no order can hold (over
// MaxBlock with the tag) go to the source as a chunk of their own, given back when freed.
// See detail/buddy_heap.hpp.
#pragma once
#include <string>

#include "../detail/buddy_heap.hpp"
#include "concept.hpp"

namespace alloy::policy {

struct buddy {
  using axis = alloy::axis::search;
  static constexpr std::size_t default_min_block = 32;
  static constexpr std::size_t default_max_block = std::size_t{1} << 20;

  /// Tuned form: the smallest and the largest (top) block, powers of two.
  template <std::size_t MinBlock, std::size_t MaxBlock>
  struct with {
    static_assert(detail::is_pow2(MinBlock) && detail::is_pow2(MaxBlock) && MinBlock <= MaxBlock,
                  "buddy::with<MinBlock, MaxBlock>: both must be powers of two with MinBlock <= MaxBlock, "
                  "for example buddy::with<16, (1 << 20)>");
    using axis = alloy::axis::search;
    template <class Config>
    using heap = detail::buddy_heap<Config, MinBlock, MaxBlock>;
    static std::string name() {
      if constexpr (MinBlock == default_min_block && MaxBlock == default_max_block) return "buddy";
      else return "buddy::with<" + std::to_string(MinBlock) + ", " + std::to_string(MaxBlock) + ">";
    }
  };

  /// The untuned spelling is the tuned form with the default arguments (one design, one type).
  using tuned = with<default_min_block, default_max_block>;
  template <class Config>
  using heap = tuned::heap<Config>;
  static std::string name() { return tuned::name(); }
};

}  // namespace alloy::policy
