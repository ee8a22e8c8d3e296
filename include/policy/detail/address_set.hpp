// A set of addresses (chunk headers) with O(1) expected insert, erase and lookup: what makes
// `owns(p)` exact without reading memory that may not be mapped. Open addressing with linear
// probing; its table is itself a chunk of the heap's memory source, so the set works over a
// static arena and never calls malloc (a malloc replacement stands on it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "math.hpp"

namespace alloy::detail {

template <class Source>
class address_set {
 public:
  /// Reserves room for one more address; false when the source is exhausted.
  bool insert(Source& source, std::uintptr_t key) noexcept {
    if ((size_ + 1) * 4 > capacity_ * 3 && !grow(source)) return false;
    place(key);
    return true;
  }

  bool contains(std::uintptr_t key) const noexcept {
    if (capacity_ == 0) return false;
    for (std::size_t i = slot(key);; i = (i + 1) & (capacity_ - 1)) {
      if (table_[i] == key) return true;
      if (table_[i] == empty) return false;
    }
  }

  void erase(std::uintptr_t key) noexcept {
    if (capacity_ == 0) return;
    std::size_t i = slot(key);
    while (table_[i] != key) {
      if (table_[i] == empty) return;
      i = (i + 1) & (capacity_ - 1);
    }
    // Backward-shift deletion: no tombstones, so lookups stay short under churn.
    for (std::size_t j = (i + 1) & (capacity_ - 1); table_[j] != empty; j = (j + 1) & (capacity_ - 1)) {
      const std::size_t home = slot(table_[j]);
      if (((j - home) & (capacity_ - 1)) >= ((j - i) & (capacity_ - 1))) {
        table_[i] = table_[j];
        i = j;
      }
    }
    table_[i] = empty;
    --size_;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t table_bytes() const noexcept { return capacity_ * sizeof(std::uintptr_t); }

  void clear(Source& source) noexcept {
    if (table_ != nullptr) source.deallocate_chunk(table_, bytes_for(capacity_));
    table_ = nullptr;
    capacity_ = size_ = 0;
  }

 private:
  static constexpr std::uintptr_t empty = 0;

  static std::size_t bytes_for(std::size_t capacity) noexcept {
    return align_up(capacity * sizeof(std::uintptr_t), Source::granule);
  }
  std::size_t slot(std::uintptr_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (capacity_ - 1);
  }
  void place(std::uintptr_t key) noexcept {
    std::size_t i = slot(key);
    while (table_[i] != empty) i = (i + 1) & (capacity_ - 1);
    table_[i] = key;
    ++size_;
  }
  bool grow(Source& source) noexcept {
    const std::size_t fresh = capacity_ == 0 ? Source::granule / sizeof(std::uintptr_t) : capacity_ * 2;
    auto* table = static_cast<std::uintptr_t*>(source.allocate_chunk(bytes_for(fresh), Source::granule));
    if (table == nullptr) return false;
    std::memset(table, 0, bytes_for(fresh));
    std::uintptr_t* old = table_;
    const std::size_t old_capacity = capacity_;
    table_ = table;
    capacity_ = fresh;
    size_ = 0;
    for (std::size_t i = 0; i < old_capacity; ++i)
      if (old[i] != empty) place(old[i]);
    if (old != nullptr) source.deallocate_chunk(old, bytes_for(old_capacity));
    return true;
  }

  std::uintptr_t* table_ = nullptr;
  std::size_t capacity_ = 0;  // a power of two, or 0 before the first insert
  std::size_t size_ = 0;
};

}  // namespace alloy::detail
