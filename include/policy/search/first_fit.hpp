// first_fit (首次适配): the first free block, in address order, that is large enough.
//
//   free list (address order):  [32] -> [96] -> [512] -> [64] -> [4096]
//   allocate(80): walks from the lowest address, takes [96], splits off what is left
//
// Allocation walks the list: O(n) in the number of free blocks. Address order keeps the low
// addresses densely used and the large free blocks at the top, so it fragments little.
// The heap (boundary tags, coalescing, splitting) is detail::fit_heap, shared with best_fit
// and next_fit; this header is only the choice.
//
// Tuned form: P::first_fit::with<ChunkBytes>, the first chunk taken from the memory source (later
// ones grow geometrically); 0, the default, means max(the source's preferred chunk, 64 KiB).
#pragma once
#include <string_view>

#include "../detail/fit_heap.hpp"
#include "concept.hpp"
#include "tagged_spelling.hpp"

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

template <class Config, std::size_t ChunkBytes>
using first_fit_heap_of = fit_heap<Config, first_fit_choice, ChunkBytes>;

}  // namespace detail

namespace policy {

struct first_fit : detail::tagged_search_policy<first_fit, detail::first_fit_heap_of> {
  static constexpr std::string_view base_name = "first_fit";
};

}  // namespace policy
}  // namespace alloy
