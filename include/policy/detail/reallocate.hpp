// The fallback every heap shares when a block cannot be resized where it lies:
// allocate, copy the bytes both blocks hold, free. On failure the old block is untouched.
#pragma once
#include <algorithm>
#include <cstring>

namespace alloy::detail {

template <class Heap>
void* reallocate_by_copy(Heap& heap, void* p, std::size_t old_size, std::size_t new_size, std::size_t alignment) noexcept {
  void* fresh = heap.allocate(new_size, alignment);
  if (fresh == nullptr) return nullptr;
  std::memcpy(fresh, p, std::min(old_size, new_size));
  heap.deallocate(p, old_size, alignment);
  return fresh;
}

}  // namespace alloy::detail
