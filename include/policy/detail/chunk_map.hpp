// A page map of chunk addresses: for any pointer, whether one of this store's chunks starts in
// its granule, and the chunk's mark — one load of a leaf pointer kept in the map itself, one
// load of a byte, no loop, read with no lock (snmalloc's pagemap, tcmalloc's pagemap). It
// answers the question address_set answers (chunk_store's registry), for stores over a source
// whose chunks are the kernel's pages (`kernel_pages`): there the map itself may be address
// space reserved from the kernel and touched page by page, which a static arena or malloc'd
// chunks cannot offer.
//
//   address:  | leaf index (47 - 27 - log2 Granule bits) | entry index (27 bits) | offset in granule |
//   leaves_ (in the map): [leaf pointers] --> leaf: one byte per granule, 0 = no chunk's header
//                                                     here, else the chunk's mark (chunk_store)
//
// The mark is why the entry is a byte and not a bit: the store's owner names what the chunk
// holds there (segregated fit: the size class of every block in it), so a free learns the
// block's class from the load that proves the block is the heap's, with no read of the
// chunk's header — mimalloc reads its page's block size, snmalloc its pagemap entry's sizeclass.
//
// Sizes: user space addresses have 47 bits (x86-64, and AArch64 with 48-bit VA); anything above
// is told "no" before any load. A leaf is 2^27 bytes of address space mapped with
// MAP_NORESERVE, so memory is spent only on the pages a chunk's entry falls in: with 1 MiB
// granules one leaf covers all of user space (the map is flat: the leaf index is 0 for every
// address below 2^47) and each 4 KiB page of it covers 4 GiB of heap. Smaller granules take
// more leaves (16 for 64 KiB granules), held in the map's own array, which a map not built yet
// in zero-filled storage reads as all null. A flat map keeps the count of entries a lookup may
// read beside its one leaf — 0 until the leaf is mapped, and in zero-filled storage — so one
// compare refuses both an address above user space and a map with no leaf yet: a free's lookup
// needs no test that the heap was ever used, nor one of its own that it was built. That memory is not counted in reserved bytes (it is
// not the source's), like the kernel's own page tables.
//
// Concurrency: the owning heap writes under its lock (or on its one thread); `contains` may run
// on any thread meanwhile. Leaves are never unmapped while the map lives (they are only ever
// added), entries are atomic bytes, so a lookup never reads freed memory and never misses a
// present key.
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "config.hpp"
#include "math.hpp"

namespace alloy::detail {

/// Address bits of user space the map covers; a pointer above them is never a chunk's.
inline constexpr unsigned user_address_bits = 47;

template <std::size_t Granule>
class chunk_map {
  static_assert(is_pow2(Granule) && Granule >= 4096);
  static constexpr unsigned granule_bits = log2_floor(Granule);
  static constexpr unsigned entry_bits = std::min(27u, user_address_bits - granule_bits);
  static constexpr unsigned leaf_index_bits = user_address_bits - granule_bits - entry_bits;
  static constexpr std::size_t leaf_count = std::size_t{1} << leaf_index_bits;
  static constexpr std::size_t leaf_bytes = std::size_t{1} << entry_bits;
  using entry = std::atomic<std::uint8_t>;

 public:
  chunk_map() noexcept { set_readable(0); }
  chunk_map(const chunk_map&) = delete;
  chunk_map& operator=(const chunk_map&) = delete;
  ~chunk_map() { clear(); }

  /// Adds `key` (a granule-aligned address) with `mark` (not 0); false when the kernel refuses
  /// the map's pages. Writers are serialised by the owning heap.
  template <class Source>
  bool insert(Source&, std::uintptr_t key, std::uint8_t mark) noexcept {
    if ((key >> user_address_bits) != 0) return false;
    std::atomic<entry*>& slot = leaves_[key >> (granule_bits + entry_bits)];
    entry* leaf = slot.load(std::memory_order_relaxed);
    if (leaf == nullptr) {
      leaf = static_cast<entry*>(map_pages(leaf_bytes));
      if (leaf == nullptr) return false;
      slot.store(leaf, std::memory_order_release);  // zero-filled: no entry yet
      if constexpr (leaf_count == 1) set_readable(leaf_bytes);
    }
    leaf[(key >> granule_bits) & (leaf_bytes - 1)].store(mark, std::memory_order_release);
    ++size_;
    return true;
  }

  /// A new mark (not 0) for `key`, present. Relaxed: a reader that sees the old one acts on
  /// what the owner said before, as if it had read a moment earlier.
  void remark(std::uintptr_t key, std::uint8_t mark) noexcept { find(key)->store(mark, std::memory_order_relaxed); }

  void erase(std::uintptr_t key) noexcept {
    entry* e = find(key);
    if (e != nullptr && e->load(std::memory_order_relaxed) != 0) {
      e->store(0, std::memory_order_release);
      --size_;
    }
  }

  /// Lock-free: may run while another thread inserts or erases.
  ALLOY_FAST_PATH bool contains(std::uintptr_t key) const noexcept { return mark_of(key) != 0; }

  /// The mark of the granule `address` lies in, 0 when no key is there; lock-free. Safe on a
  /// map not built yet in zero-filled storage (the process heap's before its first call).
  ALLOY_FAST_PATH std::uint8_t mark_of(std::uintptr_t address) const noexcept {
    if constexpr (leaf_count == 1) {
      const std::uintptr_t index = address >> granule_bits;
      // Above user space, or no leaf yet (0 readable): one compare. Acquire: the leaf's
      // pointer, stored before the count, is then seen.
      if (index >= readable()) [[unlikely]] return 0;
      return leaves_[0].load(std::memory_order_relaxed)[index].load(std::memory_order_acquire);
    } else {
      const entry* e = find(address);
      return e == nullptr ? 0 : e->load(std::memory_order_acquire);
    }
  }

  std::size_t size() const noexcept { return size_; }
  /// The map is the kernel's address space, not the source's memory (see the header comment).
  static constexpr std::size_t table_bytes() noexcept { return 0; }

  template <class Source>
  void clear(Source&) noexcept {
    clear();
  }

 private:
  /// The entry of the granule `address` lies in (any address in it, not only the key).
  ALLOY_FAST_PATH entry* find(std::uintptr_t address) const noexcept {
    const std::uintptr_t top = address >> (granule_bits + entry_bits);
    if (top >= leaf_count) [[unlikely]] return nullptr;
    entry* leaf = leaves_[top].load(std::memory_order_acquire);
    return leaf == nullptr ? nullptr : leaf + ((address >> granule_bits) & (leaf_bytes - 1));
  }

  void clear() noexcept {
    set_readable(0);  // before the leaf goes
    for (std::atomic<entry*>& slot : leaves_)
      if (entry* leaf = slot.exchange(nullptr, std::memory_order_relaxed)) ::munmap(leaf, leaf_bytes);
    size_ = 0;
  }

  static void* map_pages(std::size_t bytes) noexcept {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }

  /// A flat map's readable entries (see the header comment). Given no initialiser and read and
  /// written only as an atomic: a free on another thread may read it from zero-filled storage
  /// while the map is being built there, so the constructor's atomic store must be its only
  /// write (as thread_cache_layer's id_).
  std::size_t readable_;
  ALLOY_FAST_PATH std::size_t readable() const noexcept {
    return std::atomic_ref(const_cast<std::size_t&>(readable_)).load(std::memory_order_acquire);
  }
  void set_readable(std::size_t n) noexcept { std::atomic_ref(readable_).store(n, std::memory_order_release); }

  std::array<std::atomic<entry*>, leaf_count> leaves_{};
  std::size_t size_ = 0;
};

}  // namespace alloy::detail
