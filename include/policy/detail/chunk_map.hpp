// A page map of chunk addresses: for any pointer, whether one of this store's chunks starts in
// its granule — two dependent loads and no loop, read with no lock (snmalloc's pagemap,
// tcmalloc's pagemap). It answers the question address_set answers (chunk_store's registry),
// for stores over a source whose chunks are the kernel's pages (`kernel_pages`): there the map
// itself may be address space reserved from the kernel and touched page by page, which a static
// arena or malloc'd chunks cannot offer.
//
//   address:  | root index (11 bits) | leaf index | offset in granule (log2 Granule bits) |
//   root_ --> [2048 leaf pointers] --> leaf: one byte per granule, 1 = a chunk's header is here
//
// Sizes: user space addresses have 47 bits (x86-64, and AArch64 with 48-bit VA); anything above
// is told "no" before any load. With 1 MiB granules a leaf is 64 KiB of bytes covering 64 GiB,
// and it is mapped with MAP_NORESERVE, so memory is spent only on the pages a chunk's entry
// falls in: one 4 KiB page per 4 GiB of heap. That memory is not counted in reserved bytes (it
// is not the source's), like the kernel's own page tables.
//
// Concurrency: the owning heap writes under its lock (or on its one thread); `contains` may run
// on any thread meanwhile. The root and leaves are never unmapped while the map lives (they are
// only ever added), entries are atomic bytes, so a lookup never reads freed memory and never
// misses a present key. Until the first insert, `root_` points at one shared all-null root, so
// the lookup needs no null test.
#pragma once
#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "config.hpp"
#include "math.hpp"

namespace alloy::detail {

/// Address bits of user space the map covers; a pointer above them is never a chunk's.
inline constexpr unsigned user_address_bits = 47;

/// The root every empty map points at: 2048 null leaves, shared by all maps, never written.
inline constexpr unsigned chunk_map_root_bits = 11;
alignas(64) inline constinit std::atomic<std::atomic<std::uint8_t>*> empty_chunk_map_root[std::size_t{1} << chunk_map_root_bits]{};

template <std::size_t Granule>
class chunk_map {
  static_assert(is_pow2(Granule) && Granule >= 4096);
  static constexpr unsigned granule_bits = log2_floor(Granule);
  static constexpr unsigned root_bits = chunk_map_root_bits;
  static constexpr unsigned leaf_bits = user_address_bits - granule_bits - root_bits;
  static constexpr std::size_t root_entries = std::size_t{1} << root_bits;
  static constexpr std::size_t leaf_bytes = std::size_t{1} << leaf_bits;
  using entry = std::atomic<std::uint8_t>;
  using leaf_ptr = std::atomic<entry*>;

 public:
  chunk_map() = default;
  chunk_map(const chunk_map&) = delete;
  chunk_map& operator=(const chunk_map&) = delete;
  ~chunk_map() { clear(); }

  /// Adds `key` (a granule-aligned address); false when the kernel refuses the map's pages.
  /// Writers are serialised by the owning heap.
  template <class Source>
  bool insert(Source&, std::uintptr_t key) noexcept {
    if ((key >> user_address_bits) != 0) return false;
    leaf_ptr* root = root_.load(std::memory_order_relaxed);
    if (root == empty_chunk_map_root) {
      root = static_cast<leaf_ptr*>(map_pages(root_entries * sizeof(leaf_ptr)));
      if (root == nullptr) return false;
      root_.store(root, std::memory_order_release);  // zero-filled: every leaf still null
    }
    leaf_ptr& slot = root[key >> (granule_bits + leaf_bits)];
    entry* leaf = slot.load(std::memory_order_relaxed);
    if (leaf == nullptr) {
      leaf = static_cast<entry*>(map_pages(leaf_bytes));
      if (leaf == nullptr) return false;
      slot.store(leaf, std::memory_order_release);
    }
    leaf[(key >> granule_bits) & (leaf_bytes - 1)].store(1, std::memory_order_release);
    ++size_;
    return true;
  }

  void erase(std::uintptr_t key) noexcept {
    entry* e = find(key);
    if (e != nullptr && e->load(std::memory_order_relaxed) != 0) {
      e->store(0, std::memory_order_release);
      --size_;
    }
  }

  /// Lock-free: may run while another thread inserts or erases.
  ALLOY_FAST_PATH bool contains(std::uintptr_t key) const noexcept {
    const entry* e = find(key);
    return e != nullptr && e->load(std::memory_order_acquire) != 0;
  }

  std::size_t size() const noexcept { return size_; }
  /// The map is the kernel's address space, not the source's memory (see the header comment).
  static constexpr std::size_t table_bytes() noexcept { return 0; }

  template <class Source>
  void clear(Source&) noexcept {
    clear();
  }

 private:
  ALLOY_FAST_PATH entry* find(std::uintptr_t key) const noexcept {
    const std::uintptr_t top = key >> (granule_bits + leaf_bits);
    if (top >= root_entries) [[unlikely]] return nullptr;
    entry* leaf = root_.load(std::memory_order_acquire)[top].load(std::memory_order_acquire);
    return leaf == nullptr ? nullptr : leaf + ((key >> granule_bits) & (leaf_bytes - 1));
  }

  void clear() noexcept {
    leaf_ptr* root = root_.exchange(empty_chunk_map_root, std::memory_order_relaxed);
    if (root == empty_chunk_map_root) return;
    for (std::size_t i = 0; i < root_entries; ++i)
      if (entry* leaf = root[i].load(std::memory_order_relaxed)) ::munmap(leaf, leaf_bytes);
    ::munmap(root, root_entries * sizeof(leaf_ptr));
    size_ = 0;
  }

  static void* map_pages(std::size_t bytes) noexcept {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }

  std::atomic<leaf_ptr*> root_{empty_chunk_map_root};
  std::size_t size_ = 0;
};

}  // namespace alloy::detail
