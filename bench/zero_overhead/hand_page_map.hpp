// A page map of chunk addresses for the hand-written allocators over mapped pages, written out
// by hand the way the composed types' map works (include/policy/detail/chunk_map.hpp): a root of
// 2048 leaf pointers, leaves of one byte per page, both reserved from the kernel with
// MAP_NORESERVE and never unmapped while the map lives, so lookups take no lock.
#pragma once
#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zero_overhead {

class hand_page_map {
  static constexpr unsigned page_bits = 12, root_bits = 11, leaf_bits = 47 - page_bits - root_bits;
  static constexpr std::size_t root_entries = std::size_t{1} << root_bits, leaf_bytes = std::size_t{1} << leaf_bits;
  using entry = std::atomic<std::uint8_t>;

 public:
  ~hand_page_map() { unmap(); }

  template <class Pages>
  bool insert(Pages&, std::uintptr_t key) noexcept {
    if (key >> 47) return false;
    if (root_ == nullptr && (root_ = static_cast<std::atomic<entry*>*>(map(root_entries * sizeof(void*)))) == nullptr)
      return false;
    std::atomic<entry*>& slot = root_[key >> (page_bits + leaf_bits)];
    entry* leaf = slot.load(std::memory_order_relaxed);
    if (leaf == nullptr) {
      if ((leaf = static_cast<entry*>(map(leaf_bytes))) == nullptr) return false;
      slot.store(leaf, std::memory_order_release);
    }
    leaf[(key >> page_bits) & (leaf_bytes - 1)].store(1, std::memory_order_release);
    ++size_;
    return true;
  }
  void erase(std::uintptr_t key) noexcept {
    root_[key >> (page_bits + leaf_bits)].load()[(key >> page_bits) & (leaf_bytes - 1)].store(0);
    --size_;
  }
  bool contains(std::uintptr_t key) const noexcept {
    if (root_ == nullptr || (key >> (page_bits + leaf_bits)) >= root_entries) return false;
    const entry* leaf = root_[key >> (page_bits + leaf_bits)].load(std::memory_order_acquire);
    return leaf != nullptr && leaf[(key >> page_bits) & (leaf_bytes - 1)].load(std::memory_order_acquire) != 0;
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
    if (root_ == nullptr) return;
    for (std::size_t i = 0; i < root_entries; ++i)
      if (entry* leaf = root_[i].load(std::memory_order_relaxed)) ::munmap(leaf, leaf_bytes);
    ::munmap(root_, root_entries * sizeof(void*));
    root_ = nullptr;
    size_ = 0;
  }

  std::atomic<entry*>* root_ = nullptr;
  std::size_t size_ = 0;  // chunks mapped: what the composed map counts for its invariant
};

}  // namespace zero_overhead
