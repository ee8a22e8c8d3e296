// A plain hash set of chunk addresses for the hand-written allocators: open addressing, linear
// probing, its table taken from the same pages as the chunks (`Pages`: take(bytes) / give(p,
// bytes), in units of Pages::page). It is what makes owns() exact without touching memory that
// may be unmapped, as the composed types' owns() is.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace zero_overhead {

template <class Pages>
class hand_registry {
 public:
  bool insert(Pages& pages, std::uintptr_t key) noexcept {
    if ((size_ + 1) * 4 > capacity_ * 3 && !grow(pages)) return false;
    place(key);
    return true;
  }

  bool contains(std::uintptr_t key) const noexcept {
    if (capacity_ == 0) return false;
    for (std::size_t i = slot(key);; i = (i + 1) & (capacity_ - 1)) {
      if (table_[i] == key) return true;
      if (table_[i] == 0) return false;
    }
  }

  void erase(std::uintptr_t key) noexcept {
    if (capacity_ == 0) return;
    std::size_t i = slot(key);
    while (table_[i] != key) {
      if (table_[i] == 0) return;
      i = (i + 1) & (capacity_ - 1);
    }
    // Shift the rest of the run back so that no lookup stops early at the hole.
    for (std::size_t j = (i + 1) & (capacity_ - 1); table_[j] != 0; j = (j + 1) & (capacity_ - 1)) {
      if (((j - slot(table_[j])) & (capacity_ - 1)) >= ((j - i) & (capacity_ - 1))) {
        table_[i] = table_[j];
        i = j;
      }
    }
    table_[i] = 0;
    --size_;
  }

  std::size_t table_bytes() const noexcept { return capacity_ * sizeof(std::uintptr_t); }

  void clear(Pages& pages) noexcept {
    if (table_ != nullptr) pages.give(table_, bytes_for(capacity_));
    table_ = nullptr;
    capacity_ = size_ = 0;
  }

 private:
  std::size_t slot(std::uintptr_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (capacity_ - 1);
  }
  void place(std::uintptr_t key) noexcept {
    std::size_t i = slot(key);
    while (table_[i] != 0) i = (i + 1) & (capacity_ - 1);
    table_[i] = key;
    ++size_;
  }
  static std::size_t bytes_for(std::size_t capacity) noexcept {
    return (capacity * sizeof(std::uintptr_t) + Pages::page - 1) & ~(Pages::page - 1);
  }
  bool grow(Pages& pages) noexcept {
    const std::size_t fresh = capacity_ == 0 ? Pages::page / sizeof(std::uintptr_t) : capacity_ * 2;
    void* raw = pages.take(bytes_for(fresh));
    if (raw == nullptr) return false;
    std::memset(raw, 0, bytes_for(fresh));
    std::uintptr_t* old = table_;
    const std::size_t old_capacity = capacity_;
    table_ = static_cast<std::uintptr_t*>(raw);
    capacity_ = fresh;
    size_ = 0;
    for (std::size_t i = 0; i < old_capacity; ++i)
      if (old[i] != 0) place(old[i]);
    if (old != nullptr) pages.give(old, bytes_for(old_capacity));
    return true;
  }

  std::uintptr_t* table_ = nullptr;
  std::size_t capacity_ = 0;  // a power of two, or 0 before the first insert
  std::size_t size_ = 0;
};

}  // namespace zero_overhead
