// The design of
//   alloy::allocator<P::buddy, P::single_thread, P::align<16>>
// written by hand, as one plain class with no policy machinery.
//
// Same design, decision for decision:
//  - a binary buddy system over top blocks of 1 MiB (orders 5 .. 20: blocks of 32 B .. 1 MiB),
//    each taken from mmap as a chunk with a 64-byte header before it (halved while refused);
//  - every block starts with a 16-byte tag (its chunk, its order, free or used), the payload
//    right after it, so free needs no size;
//  - one doubly linked LIFO list per order and a bit per non-empty order: allocate finds the
//    smallest non-empty order >= the request's with one bit scan and halves the block down,
//    pushing each upper half; free merges with the buddy (offset XOR block size) while it is
//    free and of the same order;
//  - a wholly free top block is kept if it is the largest such, any other given back;
//  - a request no order can hold gets a chunk of its own (tag before the payload), unmapped on
//    free; an over-aligned one a block with room to slide its payload up, behind a forwarding
//    tag; owns() walks the chunks; input checks as every Alloy allocator does them.
#pragma once
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "hand_chunks.hpp"

namespace zero_overhead {

class hand_buddy {
 public:
  static constexpr std::size_t alignment = 16;
  static constexpr std::size_t header = 16;  // the tag before every payload
  static constexpr unsigned min_order = 5;   // 32-byte blocks: a tag and two links
  static constexpr unsigned max_order = 20;  // 1 MiB top blocks
  static constexpr std::size_t top_bytes = std::size_t{1} << max_order;
  static constexpr std::size_t chunk_header_bytes = 64;
  static constexpr std::size_t max_request = std::size_t{1} << 62;

  hand_buddy() = default;
  hand_buddy(const hand_buddy&) = delete;
  hand_buddy& operator=(const hand_buddy&) = delete;
  ~hand_buddy() { release(); }

  [[gnu::always_inline]] void* allocate(std::size_t size) noexcept {
    if (size - 1 < top_bytes - header) [[likely]] return take(order_for(size + header));
    return allocate_outside_orders(size);
  }

  /// Aligned to `align` (a power of two; nullptr otherwise). Over-aligned requests get a
  /// block with room to slide the payload up, and a forwarding tag just before the payload.
  void* allocate(std::size_t size, std::size_t align) noexcept {
    if (!std::has_single_bit(align) || align > max_request) return nullptr;
    if (align <= alignment) return allocate(size);
    if (size - 1 >= max_request) return size == 0 ? allocate(1, align) : nullptr;
    return allocate_over_aligned(size, align);
  }

  /// The tag knows the order: sized and unsized free are one.
  [[gnu::always_inline]] void deallocate(void* p, std::size_t) noexcept { deallocate(p); }

  [[gnu::always_inline]] void deallocate(void* p) noexcept {
    tag* t = tag_of(p);
    if (t->st == state::shifted) [[unlikely]] {  // over-aligned: the tag leads to the block's payload
      p = t->chunk;
      t = tag_of(p);
    } else if (t->st == state::large) [[unlikely]] {
      return chunks_.remove(pages_, t->chunk);
    }
    free_block(static_cast<std::byte*>(p) - header, t->order, t->chunk);
  }

  bool owns(const void* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    for (hand_chunk* h = chunks_.first(); h != nullptr; h = h->next) {
      const auto first = reinterpret_cast<std::uintptr_t>(h->payload);
      const std::uintptr_t end = h->kind == large_kind ? reinterpret_cast<std::uintptr_t>(h->base) + h->bytes
                                                       : first + (std::size_t{1} << h->kind);
      if (a >= first && a < end) return true;
    }
    return false;
  }

  std::size_t reserved_bytes() const noexcept { return chunks_.reserved_bytes(); }

  void release() noexcept {
    chunks_.clear(pages_);
    std::fill(std::begin(free_), std::end(free_), nullptr);
    nonempty_ = 0;
    spare_ = nullptr;
  }

 private:
  enum class state : std::uint32_t { free = 0xB0DD1E5, used = 0xB0DD1ED, shifted = 0x5A1F7ED, large = 0x1A26E };
  struct tag {
    hand_chunk* chunk;  // its chunk; for a shifted payload, the block's own payload (as a pointer)
    std::uint32_t order;
    state st;
  };
  struct node {  // a free block's payload: its list links
    node* next;
    node* prev;
  };
  static constexpr std::uint32_t large_kind = ~std::uint32_t{0};

  static tag* tag_of(const void* payload) noexcept {
    return reinterpret_cast<tag*>(static_cast<std::byte*>(const_cast<void*>(payload)) - sizeof(tag));
  }
  static unsigned order_for(std::size_t bytes) noexcept {
    return std::max(min_order, static_cast<unsigned>(std::bit_width(bytes - 1)));
  }
  node*& list(unsigned k) noexcept { return free_[k - min_order]; }

  void push(std::byte* block, unsigned k, hand_chunk* h) noexcept {
    auto* n = reinterpret_cast<node*>(block + header);
    *tag_of(n) = tag{h, k, state::free};
    node* after = list(k);
    n->next = after;
    n->prev = nullptr;
    if (after != nullptr) after->prev = n;
    list(k) = n;
    nonempty_ |= std::uint64_t{1} << k;
  }
  void unlink(node* n, unsigned k) noexcept {
    node* before = n->prev;  // read once: the stores below could alias them
    node* after = n->next;
    if (before != nullptr) before->next = after;
    else list(k) = after;
    if (after != nullptr) after->prev = before;
    if (list(k) == nullptr) nonempty_ &= ~(std::uint64_t{1} << k);
  }

  /// A block of order `k`: the smallest free one at least that large, halved down to `k`.
  [[gnu::always_inline]] void* take(unsigned k) noexcept {
    const std::uint64_t candidates = nonempty_ & (~std::uint64_t{0} << k);
    if (candidates == 0) [[unlikely]] return grow_and_take(k);
    auto j = static_cast<unsigned>(std::countr_zero(candidates));
    node* n = list(j);
    tag* t = tag_of(n);
    hand_chunk* h = t->chunk;
    if (j == h->kind && h == spare_) spare_ = nullptr;
    unlink(n, j);
    auto* block = reinterpret_cast<std::byte*>(n) - header;
    while (j > k) {
      --j;
      push(block + (std::size_t{1} << j), j, h);
    }
    *t = tag{h, k, state::used};
    return n;
  }

  [[gnu::always_inline]] void free_block(std::byte* block, unsigned k, hand_chunk* h) noexcept {
    const unsigned top = h->kind;
    auto offset = static_cast<std::size_t>(block - h->payload);
    while (k < top) {
      auto* buddy = reinterpret_cast<node*>(h->payload + (offset ^ (std::size_t{1} << k)) + header);
      const tag* b = tag_of(buddy);
      if (b->st != state::free || b->order != k) break;
      unlink(buddy, k);
      offset &= ~(std::size_t{1} << k);
      ++k;
    }
    push(h->payload + offset, k, h);
    if (k == top) [[unlikely]] top_block_now_free(h);
  }

  /// Keep the largest wholly free top block, give any other back.
  [[gnu::noinline, gnu::cold]] void top_block_now_free(hand_chunk* h) noexcept {
    if (spare_ == nullptr) {
      spare_ = h;
      return;
    }
    if (h->bytes > spare_->bytes) std::swap(h, spare_);
    unlink(reinterpret_cast<node*>(h->payload + header), h->kind);
    chunks_.remove(pages_, h);
  }

  [[gnu::noinline, gnu::cold]] void* grow_and_take(unsigned k) noexcept {
    unsigned top = max_order;
    hand_chunk* h = nullptr;
    while ((h = take_chunk(std::size_t{1} << top)) == nullptr) {
      if (top == k) return nullptr;
      --top;
    }
    h->kind = top;
    h->block_size = std::size_t{1} << top;
    push(h->payload, top, h);
    return take(k);
  }

  /// Size 0 (a minimal block), a size no order can hold (a chunk of its own), or absurd (nullptr).
  [[gnu::noinline, gnu::cold]] void* allocate_outside_orders(std::size_t size) noexcept {
    if (size == 0) return take(min_order);
    return allocate_large(size, alignment);
  }

  [[gnu::noinline, gnu::cold]] void* allocate_over_aligned(std::size_t size, std::size_t align) noexcept {
    if (size > max_request / 2) return nullptr;
    if (size + header + sizeof(tag) + align > top_bytes) return allocate_large(size, align);
    void* own = take(order_for(size + header + sizeof(tag) + align));
    if (own == nullptr || reinterpret_cast<std::uintptr_t>(own) % align == 0) return own;
    auto* p = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(own) + sizeof(tag) + align - 1) & ~(align - 1));
    *tag_of(p) = tag{static_cast<hand_chunk*>(own), 0, state::shifted};
    return p;
  }

  /// No order can hold it: a chunk of its own, given back on free.
  void* allocate_large(std::size_t size, std::size_t align) noexcept {
    if (size > max_request / 2) return nullptr;
    const std::size_t prefix = (sizeof(tag) + align - 1) & ~(align - 1);
    hand_chunk* h = take_chunk(prefix + size, align);
    if (h == nullptr) return nullptr;
    h->kind = large_kind;
    h->block_size = size;
    void* p = h->payload + prefix;
    *tag_of(p) = tag{h, 0, state::large};
    return p;
  }

  /// A chunk whose payload holds `payload` bytes at alignment `align`: after the 64-byte header
  /// (page-aligned), or, over-aligned beyond a page, at `align` with the header in the page before.
  hand_chunk* take_chunk(std::size_t payload, std::size_t align = alignment) noexcept {
    constexpr std::size_t page = mapped_pages::page;
    const bool huge = align >= page;
    const std::size_t offset = huge ? align : (chunk_header_bytes + align - 1) & ~(align - 1);
    if (payload > max_request - offset - page) return nullptr;
    const std::size_t bytes = (offset + payload + page - 1) & ~(page - 1);
    void* base = pages_.take(bytes, huge ? align : page);
    if (base == nullptr) return nullptr;
    return chunks_.add(pages_, base, bytes, offset);
  }

  node* free_[max_order - min_order + 1] = {};
  std::uint64_t nonempty_ = 0;  // bit k: the list of order k holds a block
  hand_chunk* spare_ = nullptr;
  [[no_unique_address]] mapped_pages pages_;
  hand_chunks<mapped_pages, 12> chunks_;  // 4 KiB granules, as the composed buddy heap
};

}  // namespace zero_overhead
