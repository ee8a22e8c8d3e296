// first_fit (首次适配): the first free block, in address order, that is large enough.
//
//   free list (address order):  [32] -> [96] -> [512] -> [64] -> [4096]
//   allocate(80): walks from the lowest address, takes [96], splits off what is left
//
// Allocation walks the list: O(n) in the number of free blocks. Address order keeps the low
// addresses densely used and the large free blocks at the top, so it fragments little.
// The heap (boundary tags, coalescing, splitting) is detail::fit_heap, shared with best_fit
// and next_fit; this header is only the choice.
#pragma once
#include <string>

#include "../detail/fit_heap.hpp"
#include "concept.hpp"

namespace alloy {
namespace detail {

struct first_fit_choice : stateless_choice {
  template <class List, class Codec>
  ALLOY_FAST_PATH void* choose(const List& list, const Codec& codec, std::size_t need) const noexcept {
    for (void* b = list.front(); b != nullptr; b = list.next(b, codec))
      if (free_size(b) >= need) return b;
    return nullptr;
  }
};

}  // namespace detail

namespace policy {

struct first_fit {
  using axis = alloy::axis::search;

  /// Tuned form: `ChunkBytes` is the heap's first chunk (later ones grow geometrically);
  /// 0 means max(the memory source's preferred chunk, 64 KiB).
  template <std::size_t ChunkBytes>
  struct with {
    static_assert(ChunkBytes == 0 || detail::is_pow2(ChunkBytes),
                  "first_fit::with<ChunkBytes>: ChunkBytes must be 0 (automatic) or a power of two");
    using axis = alloy::axis::search;
    template <class Config>
    using heap = detail::fit_heap<Config, detail::first_fit_choice, ChunkBytes>;
    static std::string name() { return "first_fit::with<" + std::to_string(ChunkBytes) + ">"; }
  };

  template <class Config>
  using heap = detail::fit_heap<Config, detail::first_fit_choice, 0>;
  static std::string name() { return "first_fit"; }
};

}  // namespace policy
}  // namespace alloy
