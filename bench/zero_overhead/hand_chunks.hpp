// The chunk bookkeeping both hand-written heaps share: every chunk starts with a header, the
// chunks form a doubly linked list (so release() finds them all), their addresses sit in a page
// map over mapped pages or else a hash set (so owns() is exact), and the bytes they hold are
// counted. `Pages` (take / give, in units
// of Pages::page) is where chunks and the set's table come from: mmap, or a fixed arena.
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "hand_page_map.hpp"
#include "hand_registry.hpp"

namespace zero_overhead {

/// Pages straight from the kernel; an alignment above a page is had by over-mapping and
/// trimming both ends.
struct mapped_pages {
  static constexpr std::size_t page = 4096;
  void* take(std::size_t bytes, std::size_t align = page) noexcept {
    const std::size_t span = bytes + (align > page ? align - page : 0);
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto begin = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (begin + align - 1) & ~(align - 1);
    if (aligned > begin) ::munmap(raw, aligned - begin);
    if (begin + span > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), begin + span - aligned - bytes);
    return reinterpret_cast<void*>(aligned);
  }
  void give(void* p, std::size_t bytes) noexcept { ::munmap(p, bytes); }
};

struct hand_chunk {
  hand_chunk* prev;
  hand_chunk* next;
  void* base;
  std::size_t bytes;
  std::byte* payload;       // first usable byte, after the header
  std::size_t block_size;   // the class's block size, a large block's size, or the blocks area
  std::uint32_t kind;       // the class, or a heap-specific marker
};

/// `MapBits`: log2 of the granule the page map keys chunks by (the composed heap's granule).
template <class Pages, unsigned MapBits>
class hand_chunks {
 public:
  /// Makes the `bytes` at `base` a chunk whose payload starts `payload_offset` in, its header
  /// in the page just before the payload (at `base` unless the payload is over-aligned);
  /// nullptr (and the memory given back) when the hash set cannot grow.
  hand_chunk* add(Pages& pages, void* base, std::size_t bytes, std::size_t payload_offset) noexcept {
    std::byte* payload = static_cast<std::byte*>(base) + payload_offset;
    auto* h = reinterpret_cast<hand_chunk*>((reinterpret_cast<std::uintptr_t>(payload) - 1) & ~(Pages::page - 1));
    if (!registry_.insert(pages, reinterpret_cast<std::uintptr_t>(h))) {
      pages.give(base, bytes);
      return nullptr;
    }
    *h = hand_chunk{nullptr, head_, base, bytes, payload, 0, 0};
    if (head_ != nullptr) head_->prev = h;
    head_ = h;
    reserved_ += bytes;
    peak_ = std::max(peak_, reserved_ + registry_.table_bytes());
    return h;
  }

  void remove(Pages& pages, hand_chunk* h) noexcept {
    (h->prev != nullptr ? h->prev->next : head_) = h->next;
    if (h->next != nullptr) h->next->prev = h->prev;
    registry_.erase(reinterpret_cast<std::uintptr_t>(h));
    reserved_ -= h->bytes;
    pages.give(h->base, h->bytes);
  }

  void clear(Pages& pages) noexcept {
    while (head_ != nullptr) remove(pages, head_);
    registry_.clear(pages);
  }

  bool contains(const hand_chunk* h) const noexcept { return registry_.contains(reinterpret_cast<std::uintptr_t>(h)); }
  hand_chunk* first() const noexcept { return head_; }
  std::size_t reserved_bytes() const noexcept { return reserved_ + registry_.table_bytes(); }
  std::size_t peak_reserved_bytes() const noexcept { return peak_; }

 private:
  std::conditional_t<std::is_same_v<Pages, mapped_pages>, hand_page_map<MapBits>, hand_registry<Pages>> registry_;
  hand_chunk* head_ = nullptr;
  std::size_t reserved_ = 0;
  std::size_t peak_ = 0;
};

}  // namespace zero_overhead
