// best_fit (最佳适配): the smallest free block that is large enough; an exact fit ends the search.
//
//   free list (address order):  [32] -> [96] -> [512] -> [88] -> [4096]
//   allocate(80): looks at every block and takes [88], the tightest
//
// Allocation looks at every free block unless one fits exactly: O(n). It leaves the large
// blocks whole for large requests, at the price of many small remainders. The heap is
// detail::fit_heap, shared with first_fit and next_fit; this header is only the choice.
//
// Tuned form: P::best_fit::with<ChunkBytes>, the first chunk taken from the memory source (later
// ones grow geometrically); 0, the default, means max(the source's preferred chunk, 64 KiB).
#pragma once
#include <string_view>

#include "../detail/fit_heap.hpp"
#include "concept.hpp"
#include "tagged_spelling.hpp"

namespace alloy {
namespace detail {

struct best_fit_choice : stateless_choice {
  template <class List, class Codec>
  ALLOY_FAST_PATH void* choose(const List& list, const Codec& codec, std::size_t need) const noexcept {
    void* best = nullptr;
    std::size_t best_size = ~std::size_t{0};
    for (void* b = list.front(); b != nullptr; b = list.next(b, codec)) {
      const std::size_t s = free_size(b);
      if (s >= need && s < best_size) {
        best = b;
        best_size = s;
        if (s == need) break;  // nothing can be tighter
      }
    }
    return best;
  }
};

template <class Config, std::size_t ChunkBytes>
using best_fit_heap_of = fit_heap<Config, best_fit_choice, ChunkBytes>;

}  // namespace detail

namespace policy {

struct best_fit : detail::tagged_search_policy<best_fit, detail::best_fit_heap_of> {
  static constexpr std::string_view base_name = "best_fit";
};

}  // namespace policy
}  // namespace alloy
