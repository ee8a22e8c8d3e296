// A page map of chunk addresses for the hand-written allocators over mapped pages, written out
// by hand the way the composed types' map works (include/policy/detail/chunk_map.hpp): leaves of
// one byte per granule, 2^27 bytes each, reserved from the kernel with MAP_NORESERVE and never
// unmapped while the map lives (so lookups take no lock), their pointers in the map itself; a
// flat map (one leaf) counts the entries a lookup may read, 0 until its leaf is mapped.
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zero_overhead {

template <unsigned GranuleBits>
class hand_page_map {
  static constexpr unsigned entry_bits = std::min(27u, 47 - GranuleBits);
  static constexpr std::size_t leaf_count = std::size_t{1} << (47 - GranuleBits - entry_bits);
  static constexpr std::size_t leaf_bytes = std::size_t{1} << entry_bits;
  using entry = std::atomic<std::uint8_t>;

 public:
  ~hand_page_map() { unmap(); }

  template <class Pages>
  bool insert(Pages&, std::uintptr_t key) noexcept {
    if (key >> 47) return false;
    std::atomic<entry*>& slot = leaves_[key >> (GranuleBits + entry_bits)];
    entry* leaf = slot.load(std::memory_order_relaxed);
    if (leaf == nullptr) {
      if ((leaf = static_cast<entry*>(map(leaf_bytes))) == nullptr) return false;
      slot.store(leaf, std::memory_order_release);
      if constexpr (leaf_count == 1) readable_.store(leaf_bytes, std::memory_order_release);
    }
    leaf[(key >> GranuleBits) & (leaf_bytes - 1)].store(1, std::memory_order_release);
    ++size_;
    return true;
  }
  void erase(std::uintptr_t key) noexcept {
    leaves_[key >> (GranuleBits + entry_bits)].load()[(key >> GranuleBits) & (leaf_bytes - 1)].store(0);
    --size_;
  }
  bool contains(std::uintptr_t key) const noexcept {
    if constexpr (leaf_count == 1) {
      if ((key >> GranuleBits) >= readable_.load(std::memory_order_acquire)) return false;
      return leaves_[0].load(std::memory_order_relaxed)[key >> GranuleBits].load(std::memory_order_acquire) != 0;
    }
    if ((key >> (GranuleBits + entry_bits)) >= leaf_count) return false;
    const entry* leaf = leaves_[key >> (GranuleBits + entry_bits)].load(std::memory_order_acquire);
    return leaf != nullptr && leaf[(key >> GranuleBits) & (leaf_bytes - 1)].load(std::memory_order_acquire) != 0;
  }
  template <class Pages>
  void clear(Pages&) noexcept {
    unmap();
  }
  static constexpr std::size_t table_bytes() noexcept { return 0; }  // address space, not memory

 private:
  static void* map(std::size_t bytes) noexcept {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }
  void unmap() noexcept {
    readable_.store(0, std::memory_order_release);
    for (std::atomic<entry*>& slot : leaves_)
      if (entry* leaf = slot.exchange(nullptr, std::memory_order_relaxed)) ::munmap(leaf, leaf_bytes);
    size_ = 0;
  }

  std::atomic<std::size_t> readable_{0};
  std::array<std::atomic<entry*>, leaf_count> leaves_{};
  std::size_t size_ = 0;  // chunks mapped: what the composed map counts for its invariant
};

}  // namespace zero_overhead
