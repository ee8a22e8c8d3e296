// A hash set of chunk addresses for the hand-written allocators, written out by hand the way
// the composed types' registry works (include/policy/detail/address_set.hpp): open addressing,
// linear probing, tombstones instead of moving keys, lookups without a lock checked against a
// generation count, a spare table reused by the next rebuild of the same size. Its tables come
// from the same pages as the chunks (`Pages`: take(bytes) / give(p, bytes), units of
// Pages::page). It is what makes owns() exact without touching memory that may be unmapped.
#pragma once
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace zero_overhead {

template <class Pages>
class hand_registry {
  struct table {
    std::size_t capacity;
    std::size_t used;
    table* older;
    std::atomic<std::uintptr_t>* slots() noexcept { return reinterpret_cast<std::atomic<std::uintptr_t>*>(this + 1); }
  };

 public:
  bool insert(Pages& pages, std::uintptr_t key) noexcept {
    table* t = live_.load(std::memory_order_relaxed);
    if ((t == nullptr || (t->used + 1) * 4 > t->capacity * 3) && (t = rebuild(pages, t)) == nullptr) return false;
    std::size_t i = slot(t, key);
    while (t->slots()[i].load(std::memory_order_relaxed) > 1) i = (i + 1) & (t->capacity - 1);
    if (t->slots()[i].load(std::memory_order_relaxed) == 0) ++t->used;
    t->slots()[i].store(key, std::memory_order_release);
    ++size_;
    return true;
  }

  bool contains(std::uintptr_t key) const noexcept {
    for (;;) {
      const std::size_t gen = generation_.load(std::memory_order_acquire);
      table* t = live_.load(std::memory_order_acquire);
      if (t == nullptr) return false;
      bool found = false;
      for (std::size_t i = slot(t, key), n = 0; n < t->capacity; i = (i + 1) & (t->capacity - 1), ++n) {
        const std::uintptr_t k = t->slots()[i].load(std::memory_order_acquire);
        found = k == key;
        if (found || k == 0) break;
      }
      if (gen % 2 == 0 && generation_.load(std::memory_order_relaxed) == gen) return found;
    }
  }

  void erase(std::uintptr_t key) noexcept {
    table* t = live_.load(std::memory_order_relaxed);
    if (t == nullptr) return;
    for (std::size_t i = slot(t, key);; i = (i + 1) & (t->capacity - 1)) {
      const std::uintptr_t k = t->slots()[i].load(std::memory_order_relaxed);
      if (k == 0) return;
      if (k == key) {
        t->slots()[i].store(1, std::memory_order_release);
        --size_;
        return;
      }
    }
  }

  std::size_t table_bytes() const noexcept { return bytes_; }

  void clear(Pages& pages) noexcept {
    for (table* t : {live_.exchange(nullptr), spare_, old_}) {
      while (t != nullptr) {
        table* next = t->older;
        pages.give(t, bytes_for(t->capacity));
        t = next;
      }
    }
    spare_ = old_ = nullptr;
    size_ = bytes_ = 0;
  }

 private:
  static std::size_t slot(const table* t, std::uintptr_t key) noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (t->capacity - 1);
  }
  static std::size_t bytes_for(std::size_t capacity) noexcept {
    return (sizeof(table) + capacity * sizeof(std::uintptr_t) + Pages::page - 1) & ~(Pages::page - 1);
  }
  table* rebuild(Pages& pages, table* old) noexcept {
    std::size_t capacity = old == nullptr ? std::bit_floor((Pages::page - sizeof(table)) / sizeof(std::uintptr_t)) : old->capacity;
    while ((size_ + 1) * 2 > capacity) capacity *= 2;
    table* t = spare_ != nullptr && spare_->capacity == capacity ? spare_ : nullptr;
    if (t != nullptr) {
      spare_ = nullptr;
      generation_.fetch_add(1, std::memory_order_relaxed);
    } else {
      t = static_cast<table*>(pages.take(bytes_for(capacity)));
      if (t == nullptr) return nullptr;
      t->capacity = capacity;
      t->older = nullptr;
      bytes_ += bytes_for(capacity);
    }
    t->used = 0;
    for (std::size_t i = 0; i < capacity; ++i) t->slots()[i].store(0, std::memory_order_release);
    for (std::size_t i = 0; old != nullptr && i < old->capacity; ++i) {
      const std::uintptr_t k = old->slots()[i].load(std::memory_order_relaxed);
      if (k <= 1) continue;
      std::size_t j = slot(t, k);
      while (t->slots()[j].load(std::memory_order_relaxed) != 0) j = (j + 1) & (capacity - 1);
      t->slots()[j].store(k, std::memory_order_release);
      ++t->used;
    }
    live_.store(t, std::memory_order_release);
    if (generation_.load(std::memory_order_relaxed) % 2 != 0) generation_.fetch_add(1, std::memory_order_release);
    if (old != nullptr && old->capacity == capacity) {
      spare_ = old;
    } else if (old != nullptr) {
      old->older = old_;
      old_ = old;
      if (spare_ != nullptr) {
        spare_->older = old_;
        old_ = spare_;
        spare_ = nullptr;
      }
    }
    return t;
  }

  std::atomic<table*> live_{nullptr};
  std::atomic<std::size_t> generation_{0};
  table* spare_ = nullptr;
  table* old_ = nullptr;
  std::size_t size_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace zero_overhead
