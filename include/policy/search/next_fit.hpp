// next_fit (循环首次适配): first fit, but each search resumes where the last one stopped (a
// roving pointer over the address-ordered free list), wrapping around once.
//
//   free list:  [32] -> [96] -> [512] -> [64] -> [4096]
//                         ^ rover: the block the last search took (or what replaced it)
//
// Allocation is O(n) in the worst case (a full lap), but spreads allocations over the heap
// instead of piling them at low addresses. The heap is detail::fit_heap, shared with first_fit
// and best_fit; this header is the choice and its rover.
//
// Tuned form: P::next_fit::with<ChunkBytes>, the first chunk taken from the memory source (later
// ones grow geometrically); 0, the default, means max(the source's preferred chunk, 64 KiB).
#pragma once
#include <string_view>

#include "../detail/fit_heap.hpp"
#include "concept.hpp"
#include "tagged_spelling.hpp"

namespace alloy {
namespace detail {

class next_fit_choice {
 public:
  template <class List, class Codec>
  ALLOY_FAST_PATH void* choose(const List& list, const Codec& codec, std::size_t need) noexcept {
    void* start = rover_ == nullptr ? list.front() : rover_;
    for (void* b = start; b != nullptr; b = list.next(b, codec))
      if (free_size(b) >= need) return rover_ = b;
    for (void* b = list.front(); b != start; b = list.next(b, codec))
      if (free_size(b) >= need) return rover_ = b;
    return nullptr;
  }
  /// The rover's block leaves the list: the search resumes at its successor.
  ALLOY_FAST_PATH void on_remove(void* n, void* successor) noexcept {
    if (n == rover_) rover_ = successor;
  }
  /// The rover's block is split or merged: the search resumes at what took its place.
  ALLOY_FAST_PATH void on_replace(void* old, void* fresh) noexcept {
    if (old == rover_) rover_ = fresh;
  }
  /// The rover is null or on the list.
  template <class List, class Codec>
  bool invariant(const List& list, const Codec& codec) const noexcept {
    if (rover_ == nullptr) return true;
    for (void* b = list.front(); b != nullptr; b = list.next(b, codec))
      if (b == rover_) return true;
    return false;
  }
  void clear() noexcept { rover_ = nullptr; }
  void* rover() const noexcept { return rover_; }

 private:
  void* rover_ = nullptr;
};

template <class Config, std::size_t ChunkBytes>
using next_fit_heap_of = fit_heap<Config, next_fit_choice, ChunkBytes>;

}  // namespace detail

namespace policy {

struct next_fit : detail::tagged_search_policy<next_fit, detail::next_fit_heap_of> {
  static constexpr std::string_view base_name = "next_fit";
};

}  // namespace policy
}  // namespace alloy
