// The design of
//   alloy::allocator<P::segregated_fit, P::pow2_classes<16, 512>, P::single_thread, P::align<16>>
// written by hand, as one plain class with no policy machinery: the yardstick the composed type
// is measured against (bench/zero_overhead/README.md).
//
// Same design, decision for decision:
//  - six classes, 16, 32, ..., 512 bytes; a request of n bytes takes the smallest class >= n;
//  - one LIFO free list per class, the link stored in the free block;
//  - 64 KiB chunks from mmap, aligned to 64 KiB, a 64-byte header at the start, blocks of one
//    class carved from the rest 32 at a time (ascending addresses), the chunk's fresh pages
//    made resident ahead of the carving in one madvise, a window that doubles with what the
//    class has carved of the chunk, up to 32 KiB;
//  - a larger request gets its own chunk (header, then the block), unmapped on free;
//  - unsized free finds the header by masking the address; owns() is exact through a hash set
//    of chunk addresses; the chunks form a doubly linked list so release() finds them all;
//  - input checks: size 0 gets a unique 16-byte block, a size over a quarter of the address
//    space gets nullptr.
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hand_chunks.hpp"

namespace zero_overhead {


class hand_segregated_fit {
 public:
  static constexpr std::size_t alignment = 16;
  static constexpr std::size_t smallest = 16;
  static constexpr std::size_t largest = 512;
  static constexpr std::size_t class_count = 6;
  static constexpr std::size_t chunk_bytes = 64 * 1024;
  static constexpr std::size_t header_bytes = 64;
  static constexpr std::size_t batch = 32;
  static constexpr std::size_t page = 4096;
  static constexpr std::size_t max_request = std::size_t{1} << 62;

  hand_segregated_fit() = default;
  hand_segregated_fit(const hand_segregated_fit&) = delete;
  hand_segregated_fit& operator=(const hand_segregated_fit&) = delete;
  ~hand_segregated_fit() { release(); }

  [[gnu::always_inline]] void* allocate(std::size_t size) noexcept {
    if (size - 1 < largest) [[likely]] {  // 1 <= size <= 512 in one compare
      const std::size_t c = class_of(size);
      if (free_[c] != nullptr) [[likely]] {
        block* b = free_[c];
        free_[c] = b->next;
        return b;
      }
      return refill(c);
    }
    return allocate_outside_classes(size);
  }

  // The contract Alloy's allocators keep: freeing a null pointer, sized or not, does nothing.
  [[gnu::always_inline]] void deallocate(void* p, std::size_t size) noexcept {
    if (size - 1 < largest && p != nullptr) [[likely]] {
      const std::size_t c = class_of(size);
      static_cast<block*>(p)->next = free_[c];
      free_[c] = static_cast<block*>(p);
      return;
    }
    if (p != nullptr) deallocate(p);  // size 0 or large: the chunk header knows
  }

  void deallocate(void* p) noexcept {
    chunk* h = chunk_of(p);
    if (h->kind != large_kind) {
      const auto offset = static_cast<std::size_t>(static_cast<std::byte*>(p) - h->payload);
      auto* b = reinterpret_cast<block*>(h->payload + (offset - offset % h->block_size));
      b->next = free_[h->kind];
      free_[h->kind] = b;
      return;
    }
    chunks_.remove(pages_, h);
  }

  bool owns(const void* p) const noexcept {
    if (p == nullptr) return false;
    const chunk* h = chunk_of(p);
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    return chunks_.contains(h) && p >= h->payload && a < reinterpret_cast<std::uintptr_t>(h->base) + h->bytes;
  }

  std::size_t reserved_bytes() const noexcept { return chunks_.reserved_bytes(); }
  std::size_t peak_reserved_bytes() const noexcept { return chunks_.peak_reserved_bytes(); }

  void release() noexcept {
    chunks_.clear(pages_);
    std::fill(std::begin(free_), std::end(free_), nullptr);
    std::fill(std::begin(bump_), std::end(bump_), bump_region{});
  }

 private:
  struct block {
    block* next;
  };
  using chunk = hand_chunk;
  struct bump_region {
    std::byte* next = nullptr;
    std::byte* end = nullptr;
    std::byte* populated = nullptr;  // the pages below are resident
  };
  static constexpr std::size_t populate_window = 32 * 1024;
  static constexpr std::uint32_t large_kind = ~std::uint32_t{0};

  /// The smallest class >= size, for 1 <= size <= 512: ceil(log2(size)) - 4, with sizes up to
  /// 16 lifted to class 0 by the OR instead of a branch.
  static std::size_t class_of(std::size_t size) noexcept {
    return static_cast<unsigned>(std::bit_width((size - 1) | (smallest - 1))) - 4u;
  }
  static chunk* chunk_of(const void* p) noexcept {
    return reinterpret_cast<chunk*>((reinterpret_cast<std::uintptr_t>(p) - 1) & ~(chunk_bytes - 1));
  }

  [[gnu::noinline, gnu::cold]] void* refill(std::size_t c) noexcept {
    const std::size_t size = smallest << c;
    bump_region& bump = bump_[c];
    if (bump.next == bump.end) {
      chunk* h = map_chunk(chunk_bytes - header_bytes);
      if (h == nullptr) return nullptr;
      h->kind = static_cast<std::uint32_t>(c);
      h->block_size = size;
      const std::size_t room = chunk_bytes - header_bytes;
      bump = {h->payload, h->payload + room / size * size, page_end(h->payload)};
    }
    std::byte* first = bump.next;
    const std::size_t n = std::min({batch, std::max<std::size_t>(1, 4096 / size), static_cast<std::size_t>(bump.end - first) / size});
    bump.next += n * size;
    if (bump.next > bump.populated) {
      const std::size_t carved = static_cast<std::size_t>(bump.next - chunk_of(bump.next)->payload);
      const std::size_t window = std::clamp(carved & ~(page - 1), page, populate_window);
      std::byte* to = std::min(page_end(bump.next) + window, page_end(bump.end));
      ::madvise(bump.populated, static_cast<std::size_t>(to - bump.populated), MADV_POPULATE_WRITE);
      bump.populated = to;
    }
    for (std::size_t i = n; i-- > 1;) {
      auto* b = reinterpret_cast<block*>(first + i * size);
      b->next = free_[c];
      free_[c] = b;
    }
    return first;
  }

  static std::byte* page_end(std::byte* p) noexcept {
    return p + ((page - reinterpret_cast<std::uintptr_t>(p) % page) % page);
  }

  [[gnu::noinline, gnu::cold]] void* allocate_outside_classes(std::size_t size) noexcept {
    if (size == 0) return allocate(1);
    if (size > max_request) return nullptr;
    chunk* h = map_chunk(size);
    if (h == nullptr) return nullptr;
    h->kind = large_kind;
    h->block_size = size;
    return h->payload;
  }

  /// A chunk aligned to chunk_bytes whose payload, after the header, holds `payload` bytes.
  chunk* map_chunk(std::size_t payload) noexcept {
    if (payload > max_request - header_bytes - chunk_bytes) return nullptr;
    const std::size_t bytes = (header_bytes + payload + page - 1) & ~(page - 1);
    void* base = pages_.take(bytes, chunk_bytes);
    if (base == nullptr) return nullptr;
    return chunks_.add(pages_, base, bytes, header_bytes);
  }

  block* free_[class_count] = {};  // hot: the fast path touches only these
  bump_region bump_[class_count] = {};
  [[no_unique_address]] mapped_pages pages_;
  hand_chunks<mapped_pages, 16> chunks_;  // keyed by chunk, as the composed heap
};

}  // namespace zero_overhead
