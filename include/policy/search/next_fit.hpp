// next_fit (循环首次适配): first fit, but each search resumes where the last one stopped (a
// roving pointer over the address-ordered free list), wrapping around once.
//
//   free list:  [32] -> [96] -> [512] -> [64] -> [4096]
//                         ^ rover: the block the last search took (or what replaced it)
//
// Allocation is O(n) in the worst case (a full lap), but spreads allocations over the heap
// instead of piling them at low addresses. The heap is detail::fit_heap, shared with first_fit
// and best_fit; this header is the choice and its rover.
#pragma once
#include <string>

#include "../detail/fit_heap.hpp"
#include "concept.hpp"

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

}  // namespace detail

namespace policy {

struct next_fit {
  using axis = alloy::axis::search;

  /// Tuned form: `ChunkBytes` is the heap's first chunk (later ones grow geometrically);
  /// 0 means max(the memory source's preferred chunk, 64 KiB).
  template <std::size_t ChunkBytes>
  struct with {
    static_assert(ChunkBytes == 0 || detail::is_pow2(ChunkBytes),
                  "next_fit::with<ChunkBytes>: ChunkBytes must be 0 (automatic) or a power of two");
    using axis = alloy::axis::search;
    template <class Config>
    using heap = detail::fit_heap<Config, detail::next_fit_choice, ChunkBytes>;
    static std::string name() { return "next_fit::with<" + std::to_string(ChunkBytes) + ">"; }
  };

  template <class Config>
  using heap = detail::fit_heap<Config, detail::next_fit_choice, 0>;
  static std::string name() { return "next_fit"; }
};

}  // namespace policy
}  // namespace alloy
