// The design of
//   alloy::allocator<P::first_fit, P::static_arena<ArenaBytes>, P::single_thread, P::align<16>>
// written by hand, as one plain class with no policy machinery.
//
// Same design, decision for decision:
//  - a fixed arena inside the object, cut into 1 KiB pages, a bit per page in use; chunks are
//    the first run of free pages that fits;
//  - chunks of at least 64 KiB (each at least a quarter of all before it, halving on refusal),
//    a 64-byte chunk header, then blocks with 16-byte boundary tags (own size | free | first,
//    and the previous block's size) and a fence tag ending the chunk;
//  - one doubly linked free list in address order; allocate takes the first block that is
//    large enough, splitting off the rest when it can be a block (>= 32 bytes); free merges
//    with free neighbours at once; a wholly free chunk is kept if it is the largest such;
//  - owns() walks the chunks; a hash set of chunk addresses (its table in the arena too);
//  - input checks: size 0 gets a unique block, a size over a quarter of the address space nullptr.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "hand_chunks.hpp"

namespace zero_overhead {

template <std::size_t ArenaBytes>
class hand_first_fit {
 public:
  static constexpr std::size_t alignment = 16;
  static constexpr std::size_t tag_bytes = 16;
  static constexpr std::size_t min_block = 32;  // a tag and two links
  static constexpr std::size_t header_bytes = 64;
  static constexpr std::size_t first_chunk = 64 * 1024;
  static constexpr std::size_t max_request = std::size_t{1} << 62;

  hand_first_fit() = default;
  hand_first_fit(const hand_first_fit&) = delete;
  hand_first_fit& operator=(const hand_first_fit&) = delete;
  ~hand_first_fit() { release(); }

  [[gnu::always_inline]] void* allocate(std::size_t size) noexcept {
    if (size - 1 < max_request) [[likely]] {
      const std::size_t need = std::max(min_block, (size + tag_bytes + 15) & ~std::size_t{15});
      node* n = free_;
      while (n != nullptr && tag_of(n)->size() < need) n = n->next;
      if (n == nullptr) n = grow(need);
      return n == nullptr ? nullptr : take(n, need);
    }
    return allocate_zero_or_absurd(size);
  }

  /// The tags know the size: sized and unsized free are one.
  [[gnu::always_inline]] void deallocate(void* p, std::size_t) noexcept { deallocate(p); }
  void deallocate(void* p) noexcept { free_block(tag_of(p)); }

  bool owns(const void* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    for (chunk* h = chunks_.first(); h != nullptr; h = h->next) {
      const auto first = reinterpret_cast<std::uintptr_t>(h->payload) + 16;
      if (a >= first && a < first + h->block_size) return true;
    }
    return false;
  }

  std::size_t reserved_bytes() const noexcept { return chunks_.reserved_bytes(); }

  void release() noexcept {
    chunks_.clear(arena_);
    free_ = nullptr;
    spare_ = nullptr;
  }

 private:
  struct tag {
    std::size_t prev_size;   // the previous block's size; the chunk's address for a first block
    std::size_t size_flags;  // size | free | first
    std::size_t size() const noexcept { return size_flags & ~std::size_t{15}; }
    bool is_free() const noexcept { return (size_flags & 1) != 0; }
    bool is_first() const noexcept { return (size_flags & 2) != 0; }
    void set(std::size_t size, bool free) noexcept { size_flags = size | (size_flags & 2) | (free ? 1 : 0); }
  };
  struct node {  // a free block's payload: its list links
    node* next;
    node* prev;
  };
  using chunk = hand_chunk;  // block_size: the bytes of its blocks area

  /// The fixed arena: 1 KiB pages, a bit per page in use.
  struct arena {
    static constexpr std::size_t page = 1024;
    static constexpr std::size_t pages = ArenaBytes / page;
    alignas(page) std::byte bytes[ArenaBytes];
    std::uint64_t used[(pages + 63) / 64] = {};

    bool is_used(std::size_t i) const noexcept { return (used[i / 64] >> (i % 64)) & 1u; }
    void mark(std::size_t i, bool on) noexcept {
      const std::uint64_t bit = std::uint64_t{1} << (i % 64);
      used[i / 64] = on ? (used[i / 64] | bit) : (used[i / 64] & ~bit);
    }
    void* take(std::size_t n) noexcept {
      if (n == 0 || n > ArenaBytes) return nullptr;
      const std::size_t need = (n + page - 1) / page;
      for (std::size_t first = 0; first + need <= pages; ++first) {
        std::size_t run = 0;
        while (run < need && !is_used(first + run)) ++run;
        if (run == need) {
          for (std::size_t i = 0; i < need; ++i) mark(first + i, true);
          return bytes + first * page;
        }
      }
      return nullptr;
    }
    void give(void* p, std::size_t n) noexcept {
      const auto first = static_cast<std::size_t>(static_cast<std::byte*>(p) - bytes) / page;
      for (std::size_t i = 0; i < (n + page - 1) / page; ++i) mark(first + i, false);
    }
  };

  static tag* tag_of(const void* payload) noexcept {
    return reinterpret_cast<tag*>(static_cast<std::byte*>(const_cast<void*>(payload)) - tag_bytes);
  }
  static node* payload_of(tag* t) noexcept { return reinterpret_cast<node*>(t + 1); }
  static tag* tag_at(tag* t, std::size_t offset) noexcept {
    return reinterpret_cast<tag*>(reinterpret_cast<std::byte*>(t) + offset);
  }
  static tag* next_tag(tag* t) noexcept { return tag_at(t, t->size()); }
  static tag* prev_tag(tag* t) noexcept { return reinterpret_cast<tag*>(reinterpret_cast<std::byte*>(t) - t->prev_size); }

  // The free list, in address order.
  void list_insert(node* n) noexcept {
    node* before = nullptr;
    for (node* b = free_; b != nullptr && b < n; b = b->next) before = b;
    node* after = before == nullptr ? free_ : before->next;
    n->next = after;
    n->prev = before;
    if (after != nullptr) after->prev = n;
    if (before != nullptr) before->next = n;
    else free_ = n;
  }
  void list_remove(node* n) noexcept {
    node* before = n->prev;  // read once: the stores below could alias them
    node* after = n->next;
    if (before != nullptr) before->next = after;
    else free_ = after;
    if (after != nullptr) after->prev = before;
  }
  /// `fresh` takes the place of `old` (a split remainder, or a merged block: same order).
  void list_replace(node* old, node* fresh) noexcept {
    if (old == fresh) return;
    node* before = old->prev;
    node* after = old->next;
    fresh->next = after;
    fresh->prev = before;
    if (before != nullptr) before->next = fresh;
    else free_ = fresh;
    if (after != nullptr) after->prev = fresh;
  }

  [[gnu::always_inline]] void* take(node* n, std::size_t need) noexcept {
    tag* t = tag_of(n);
    const std::size_t have = t->size();
    if (t->is_first() && reinterpret_cast<chunk*>(t->prev_size) == spare_) spare_ = nullptr;
    if (have - need >= min_block) {
      tag* rest = tag_at(t, need);
      rest->prev_size = need;
      rest->size_flags = (have - need) | 1;
      next_tag(rest)->prev_size = have - need;
      t->set(need, false);
      list_replace(n, payload_of(rest));
    } else {
      t->set(have, false);
      list_remove(n);
    }
    return n;
  }

  void free_block(tag* t) noexcept {
    const std::size_t size = t->size();
    tag* next = next_tag(t);
    const bool next_free = next->is_free();
    const std::size_t next_size = next->size();
    tag* merged = t;
    if (!t->is_first() && prev_tag(t)->is_free()) {
      merged = prev_tag(t);
      std::size_t total = merged->size() + size;
      if (next_free) {
        list_remove(payload_of(next));
        total += next_size;
      }
      merged->set(total, true);
      next_tag(merged)->prev_size = total;
    } else if (next_free) {
      t->set(size + next_size, true);
      next_tag(t)->prev_size = size + next_size;
      list_replace(payload_of(next), payload_of(t));
    } else {
      t->set(size, true);
      list_insert(payload_of(t));
    }
    if (merged->is_first() && next_tag(merged)->size() == 0) [[unlikely]] chunk_now_empty(reinterpret_cast<chunk*>(merged->prev_size));
  }

  /// Keep the largest wholly free chunk, give any other back.
  [[gnu::noinline, gnu::cold]] void chunk_now_empty(chunk* h) noexcept {
    if (spare_ == nullptr) {
      spare_ = h;
      return;
    }
    if (h->bytes > spare_->bytes) std::swap(h, spare_);
    list_remove(reinterpret_cast<node*>(h->payload + 16));
    chunks_.remove(arena_, h);
  }

  [[gnu::noinline, gnu::cold]] void* allocate_zero_or_absurd(std::size_t size) noexcept {
    return size == 0 ? allocate(1) : nullptr;
  }

  /// No free block fits: a chunk of at least a quarter of all before it, halving down to what
  /// `need` takes.
  [[gnu::noinline, gnu::cold]] node* grow(std::size_t need) noexcept {
    if (need > max_request / 2) return nullptr;
    const std::size_t least = need + 16;  // blocks + fence
    std::size_t want = std::max({first_chunk, least, reserved_bytes() / 4});
    chunk* h = nullptr;
    while ((h = take_chunk(want)) == nullptr) {
      if (want == least) return nullptr;
      want = std::max(want / 2, least);
    }
    const auto room = static_cast<std::size_t>(static_cast<std::byte*>(h->base) + h->bytes - h->payload);
    h->kind = 0x7A66;
    h->block_size = (room - 16) & ~std::size_t{15};
    auto* first = reinterpret_cast<tag*>(h->payload);
    first->prev_size = reinterpret_cast<std::size_t>(h);
    first->size_flags = h->block_size | 1 | 2;
    tag* fence = next_tag(first);
    fence->prev_size = h->block_size;
    fence->size_flags = 0;
    list_insert(payload_of(first));
    return payload_of(first);
  }

  chunk* take_chunk(std::size_t payload) noexcept {
    if (payload > max_request - header_bytes - arena::page) return nullptr;
    const std::size_t bytes = (header_bytes + payload + arena::page - 1) & ~(arena::page - 1);
    void* base = arena_.take(bytes);
    if (base == nullptr) return nullptr;
    return chunks_.add(arena_, base, bytes, header_bytes);
  }

  arena arena_;
  node* free_ = nullptr;
  chunk* spare_ = nullptr;
  hand_chunks<arena, 12> chunks_;
};

}  // namespace zero_overhead
