// What a coalescing heap does with a chunk that has become wholly free: it keeps one such chunk
// (the largest) so that a heap that empties and refills does not thrash its memory source, and
// gives every other one back. After everything is freed the heap therefore holds exactly one
// free block: largest_free_block == free_bytes, the proof that coalescing is complete.
#pragma once
#include <utility>

#include "chunk_store.hpp"

namespace alloy::detail {

class spare_chunk {
 public:
  /// `h` just became wholly free. @returns the chunk to give back: nullptr, `h`, or the
  /// previous spare when `h` is larger.
  chunk_header* on_empty(chunk_header* h) noexcept {
    if (spare_ == nullptr) {
      spare_ = h;
      return nullptr;
    }
    if (h->bytes > spare_->bytes) std::swap(h, spare_);
    return h;
  }
  /// A block of `h` is being handed out: `h` is no longer wholly free.
  ALLOY_FAST_PATH void on_used(const chunk_header* h) noexcept {
    if (h == spare_) spare_ = nullptr;
  }
  void clear() noexcept { spare_ = nullptr; }
  /// The kept chunk, which stops being kept (to give it back after all), or nullptr.
  chunk_header* take() noexcept { return std::exchange(spare_, nullptr); }

 private:
  chunk_header* spare_ = nullptr;
};

/// The chunk of `store` whose blocks area [first, end) holds `p`, or nullptr. For heaps whose
/// chunks vary in size (so masking the address cannot find the header): O(chunks), and those
/// heaps grow geometrically, so chunks stay few.
template <class Store, class Bounds>
chunk_header* chunk_containing(const Store& store, const void* p, Bounds&& bounds) noexcept {
  chunk_header* found = nullptr;
  store.for_each([&](chunk_header* h) {
    const auto [first, end] = bounds(h);
    if (addr(p) >= addr(first) && addr(p) < addr(end)) found = h;
  });
  return found;
}

}  // namespace alloy::detail
