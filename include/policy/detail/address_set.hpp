// A set of addresses (chunk headers) with O(1) expected insert, erase and lookup: what makes
// `owns(p)` exact without reading memory that may not be mapped. Open addressing with linear
// probing; its table is itself a chunk of the heap's memory source, so the set works over a
// static arena and never calls malloc (a malloc replacement stands on it).
//
// Lookups take no lock: the heap changes the set under its own lock (or on its one thread),
// while `contains` may run on any thread at the same time — that is how a thread cache, and
// the process malloc's free(), tell a heap's block from a foreign pointer without the heap's
// lock (snmalloc's pagemap and mimalloc's segment map answer the same question). Three rules
// make that safe:
//   - slots are atomics, written with release and read with acquire;
//   - erase leaves a tombstone, never moves a key, so a lookup never misses a present key;
//   - a rebuild (growth, or clearing tombstones) fills another table and publishes it with one
//     store. A table that is outgrown stays readable until clear() (the smaller tables add up
//     to less than the live one); a table of the same size is kept as the spare and reused by
//     the next rebuild, under a generation count that lookups check like a seqlock: a lookup
//     that raced with the reuse of the table it read tries again. So churn never grows memory.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "math.hpp"

namespace alloy::detail {

template <class Source>
class address_set {
 public:
  address_set() = default;
  address_set(const address_set&) = delete;
  address_set& operator=(const address_set&) = delete;

  /// Adds `key`; false when the source cannot give a bigger table. Writers are serialised by
  /// the owning heap.
  bool insert(Source& source, std::uintptr_t key) noexcept {
    table* t = table_.load(std::memory_order_relaxed);
    if (t == nullptr || (t->used + 1) * 4 > t->capacity * 3) {
      t = grow(source, t);
      if (t == nullptr) return false;
    }
    std::size_t i = slot(t, key);
    while (t->slots()[i].load(std::memory_order_relaxed) > tombstone) i = (i + 1) & (t->capacity - 1);
    if (t->slots()[i].load(std::memory_order_relaxed) == empty) ++t->used;  // a tombstone is reused
    t->slots()[i].store(key, std::memory_order_release);
    ++size_;
    return true;
  }

  /// Lock-free: may run while another thread inserts or erases.
  bool contains(std::uintptr_t key) const noexcept {
    for (;;) {
      const std::size_t before = generation_.load(std::memory_order_acquire);
      const table* t = table_.load(std::memory_order_acquire);
      if (t == nullptr) return false;
      bool found = false;
      // Bounded: a table being reused under us may hold anything, even no empty slot.
      for (std::size_t i = slot(t, key), n = 0; n < t->capacity; i = (i + 1) & (t->capacity - 1), ++n) {
        const std::uintptr_t k = t->slots()[i].load(std::memory_order_acquire);
        if (k == key) found = true;
        if (k == key || k == empty) break;
      }
      // The slot loads are acquire: this load cannot move above them (no fence needed).
      if (before % 2 == 0 && generation_.load(std::memory_order_relaxed) == before) [[likely]] return found;
    }
  }

  void erase(std::uintptr_t key) noexcept {
    table* t = table_.load(std::memory_order_relaxed);
    if (t == nullptr) return;
    for (std::size_t i = slot(t, key);; i = (i + 1) & (t->capacity - 1)) {
      const std::uintptr_t k = t->slots()[i].load(std::memory_order_relaxed);
      if (k == empty) return;
      if (k == key) {
        t->slots()[i].store(tombstone, std::memory_order_release);
        --size_;
        return;
      }
    }
  }

  std::size_t size() const noexcept { return size_; }
  /// Bytes of the live table and the retired ones.
  std::size_t table_bytes() const noexcept { return table_bytes_; }

  void clear(Source& source) noexcept {
    retire(table_.exchange(nullptr, std::memory_order_relaxed));
    retire(std::exchange(spare_, nullptr));
    while (retired_ != nullptr) {
      table* t = std::exchange(retired_, retired_->retired);
      source.deallocate_chunk(t, bytes_for(t->capacity));
    }
    size_ = 0;
    table_bytes_ = 0;
  }

 private:
  static constexpr std::uintptr_t empty = 0;
  static constexpr std::uintptr_t tombstone = 1;  // keys are chunk headers: aligned, never 1

  struct table {
    std::size_t capacity;  // a power of two
    std::size_t used;      // keys and tombstones
    table* retired;        // next in the list of outgrown tables
    /// The slots follow the table's fields in the same chunk.
    std::atomic<std::uintptr_t>* slots() noexcept {
      return reinterpret_cast<std::atomic<std::uintptr_t>*>(reinterpret_cast<std::byte*>(this) + slots_offset);
    }
    const std::atomic<std::uintptr_t>* slots() const noexcept { return const_cast<table*>(this)->slots(); }
  };
  static constexpr std::size_t slots_offset = align_up(sizeof(table), alignof(std::atomic<std::uintptr_t>));

  static std::size_t bytes_for(std::size_t capacity) noexcept {
    return align_up(slots_offset + capacity * sizeof(std::uintptr_t), Source::granule);
  }
  static std::size_t slot(const table* t, std::uintptr_t key) noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (t->capacity - 1);
  }

  void retire(table* t) noexcept {
    if (t == nullptr) return;
    t->retired = retired_;
    retired_ = t;
  }

  /// A table for at least twice the live keys, without tombstones, published in one store.
  table* grow(Source& source, table* old) noexcept {
    std::size_t capacity = old == nullptr ? (Source::granule - slots_offset) / sizeof(std::uintptr_t) : old->capacity;
    capacity = std::size_t{1} << log2_floor(capacity);
    while ((size_ + 1) * 2 > capacity) capacity *= 2;
    table* t;
    const bool reuse = spare_ != nullptr && spare_->capacity == capacity;
    if (reuse) {  // lookups still reading the spare will see the generation move and retry
      t = spare_;
      spare_ = nullptr;
      // Odd from here; the rebuild's stores are release, so a lookup that reads one of them
      // also reads this count when it checks, and retries.
      generation_.fetch_add(1, std::memory_order_relaxed);
    } else {
      void* raw = source.allocate_chunk(bytes_for(capacity), Source::granule);
      if (raw == nullptr) return nullptr;
      t = static_cast<table*>(raw);
      t->capacity = capacity;
      for (std::size_t i = 0; i < capacity; ++i) ::new (t->slots() + i) std::atomic<std::uintptr_t>(empty);
      table_bytes_ += bytes_for(capacity);
    }
    t->used = 0;
    for (std::size_t i = 0; i < capacity; ++i) t->slots()[i].store(empty, std::memory_order_release);
    if (old != nullptr) {
      for (std::size_t i = 0; i < old->capacity; ++i) {
        const std::uintptr_t k = old->slots()[i].load(std::memory_order_relaxed);
        if (k <= tombstone) continue;
        std::size_t j = slot(t, k);
        while (t->slots()[j].load(std::memory_order_relaxed) != empty) j = (j + 1) & (capacity - 1);
        t->slots()[j].store(k, std::memory_order_release);
        ++t->used;
      }
    }
    table_.store(t, std::memory_order_release);
    if (reuse) generation_.fetch_add(1, std::memory_order_release);
    if (old != nullptr) {
      if (old->capacity == capacity) {
        spare_ = old;  // the next rebuild of this size reuses it
      } else {         // outgrown: it and its spare stay readable until clear()
        retire(old);
        if (spare_ != nullptr) retire(std::exchange(spare_, nullptr));
      }
    }
    return t;
  }

  std::atomic<table*> table_{nullptr};
  std::atomic<std::size_t> generation_{0};  // odd while the spare is being rebuilt
  table* spare_ = nullptr;                  // a table of the live size, free for the next rebuild
  table* retired_ = nullptr;                // outgrown tables, still readable by lookups in flight
  std::size_t size_ = 0;
  std::size_t table_bytes_ = 0;
};

}  // namespace alloy::detail
