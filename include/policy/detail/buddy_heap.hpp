// The binary buddy system (伙伴系统, Knowlton 1965): every block is a power of two at an offset
// that is a multiple of its size inside a top block, so its buddy is found by address alone:
// buddy(offset, order) = offset XOR 2^order.
//
//   top block (order 20)  [...............................................]
//   split for 4 KiB       [4K][4K][ 8K ][    16K    ][        32K        ] ...
//   free lists            list(12) -> [4K]; list(13) -> [8K]; ...      nonempty_: a bit per order
//
// allocate: the smallest non-empty order >= the request's (one bit scan), halved down to the
// request's order, pushing each upper half on its list: O(log n). free: merge with the buddy
// while it is free and of the same order: O(log n). Each block carries a 16-byte tag just
// before its payload (its order, free or used, and its chunk), so free needs no size and sized
// free stays right after an in-place reallocate. Requests no order can hold (over the top
// block) get a chunk of their own from the memory source, given back when freed.
//
// Memory checkers (sanitizer.hpp): a free block is poisoned but for its tag and its list
// links, which is all the heap reads of it (merging reads the buddy's tag only); push() does
// it, take() unpoisons the block it hands out.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <utility>

#include "chunk_store.hpp"
#include "guarded_source.hpp"
#include "heap_layer.hpp"
#include "linked_free_list.hpp"
#include "reallocate.hpp"
#include "report_error.hpp"
#include "sanitizer.hpp"
#include "spare_chunk.hpp"

namespace alloy::detail {

template <class Config, std::size_t MinBlock, std::size_t MaxBlock>
class buddy_heap {
  using source_type = typename Config::source;
  using hardening = typename Config::hardening;
  using store_type = chunk_store<maybe_guarded_source<source_type, hardening::guards_pages>, source_type::granule>;
  using codec_type = typename hardening::link_codec;
  using list_type = linked_free_list<codec_type>;
  static constexpr std::size_t alignment = Config::alignment;

  enum class state : std::uint32_t { free = 0xB0DD1E5, used = 0xB0DD1ED, shifted = 0x5A1F7ED, large = 0x1A26E };
  /// Just before every payload. For a shifted (over-aligned) payload `link` is the block's own
  /// payload; otherwise it is the block's chunk.
  struct tag {
    void* link;
    std::uint32_t order;
    state st;
  };
  static_assert(sizeof(tag) == 16);

 public:
  /// Bytes from a block's start to its payload: room for the tag, keeping payloads aligned.
  static constexpr std::size_t header = std::max<std::size_t>(alignment, sizeof(tag));
  static constexpr std::size_t min_block = std::max(MinBlock, std::bit_ceil(header + list_type::link_bytes));
  static constexpr unsigned min_order = log2_floor(min_block);
  static constexpr unsigned max_order = log2_floor(MaxBlock);
  using config = Config;  // the design, seen by every layer stacked above
  static constexpr bool is_thread_safe = false;
  static constexpr complexity alloc_complexity = complexity::logarithmic;
  static constexpr complexity free_complexity = complexity::logarithmic;
  static constexpr std::size_t max_class_size = 0;

  static_assert(is_pow2(MinBlock) && is_pow2(MaxBlock) && MinBlock <= MaxBlock && MaxBlock <= (std::size_t{1} << 62),
                "buddy::with<MinBlock, MaxBlock>: both must be powers of two with MinBlock <= MaxBlock");
  static_assert(min_block <= MaxBlock, "buddy::with<MinBlock, MaxBlock>: MaxBlock is too small for one block and its tag");

  buddy_heap() = default;
  buddy_heap(const buddy_heap&) = delete;
  buddy_heap& operator=(const buddy_heap&) = delete;

  ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    if (align <= alignment && size <= MaxBlock - header) [[likely]] return take(order_for(size + header));
    return allocate_unusual(size, align);
  }

  /// The tag knows the block's order, so the size given is not needed.
  ALLOY_FAST_PATH void deallocate(void* p, std::size_t, std::size_t) noexcept { deallocate(p); }

  ALLOY_FAST_PATH void deallocate(void* p) noexcept {
    tag* t = tag_of(p);
    if (t->st == state::shifted) [[unlikely]] {
      p = t->link;
      t = tag_of(p);
    } else if (t->st == state::large) [[unlikely]] {
      store_.give_back(static_cast<chunk_header*>(t->link));
      return;
    }
    // The tag's state is the cheap double-free test: a live block's is never `free`.
    if constexpr (hardening::checks_double_free) {
      if (t->st == state::free) [[unlikely]] report_double_free(p);
    }
    free_block(static_cast<std::byte*>(p) - header, t->order, static_cast<chunk_header*>(t->link));
  }

  /// The block stays put while the new size fits it; otherwise allocate, copy, free.
  void* resize_without_copy(void* p, std::size_t, std::size_t new_size, std::size_t) noexcept {
    return new_size <= usable_size(p) ? p : nullptr;
  }
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    if (void* same = resize_without_copy(p, old_size, new_size, align)) return same;
    return reallocate_by_copy(*this, p, old_size, new_size, align);
  }

  /// Exact: true only for pointers into this heap's top blocks and large chunks. O(chunks).
  bool owns(const void* p) const noexcept { return chunk_containing(store_, p, bounds) != nullptr; }

  std::size_t usable_size(const void* p) const noexcept {
    const tag* t = tag_of(p);
    if (t->st == state::large) {
      const auto* h = static_cast<const chunk_header*>(t->link);
      return addr(h->base) + h->bytes - addr(p);
    }
    const void* own = t->st == state::shifted ? t->link : p;
    return addr(own) - header + (std::size_t{1} << tag_of(own)->order) - addr(p);
  }

  /// Makes sure one free block holds `count` blocks of `size`; false when that is more than a
  /// top block (a buddy heap cannot pre-allocate beyond one).
  bool reserve(std::size_t size, std::size_t count) noexcept {
    if (size == 0 || count == 0) return true;
    if (size > MaxBlock || count > MaxBlock / (std::size_t{1} << order_for(size + header))) return false;
    const std::size_t total = count << order_for(size + header);
    void* p = allocate(total - header, alignment);
    if (p == nullptr) return false;
    deallocate(p);
    return true;
  }

  void release() noexcept {
    store_.release();
    for (auto& l : lists_) l.clear();
    nonempty_ = 0;
    spare_.clear();
  }

  heap_metrics metrics() const noexcept {
    heap_metrics m{store_.reserved_bytes(), store_.peak_reserved_bytes(), 0, 0};
    for (unsigned k = min_order; k <= max_order; ++k) {
      const std::size_t n = list(k).for_each(codec_, [](void*) {}, ~std::size_t{0});
      m.free_bytes += n * ((std::size_t{1} << k) - header);
      if (n > 0) m.largest_free_block = (std::size_t{1} << k) - header;
    }
    return m;
  }

  /// Tags agree with the lists and the bitmap, every block sits at a multiple of its size, and
  /// no two free buddies of one order are left unmerged.
  bool invariant() const noexcept {
    if (!store_.invariant()) return false;
    bool ok = true;
    std::size_t free_blocks = 0;
    store_.for_each([&](chunk_header* h) {
      if (h->kind == large_kind) return;  // one block, no buddies
      const unsigned top = h->kind;
      ok = ok && top >= min_order && top <= max_order;
      for (std::size_t off = 0; ok && off < (std::size_t{1} << top);) {
        const tag* t = tag_of(h->payload + off + header);
        const unsigned k = t->order;
        ok = (t->st == state::free || t->st == state::used) && t->link == h && k >= min_order && k <= top &&
             off % (std::size_t{1} << k) == 0;
        if (ok && t->st == state::free) {
          ++free_blocks;
          if (k < top) {
            const tag* b = tag_of(h->payload + (off ^ (std::size_t{1} << k)) + header);
            ok = !(b->st == state::free && b->order == k);
          }
        }
        off += std::size_t{1} << k;
      }
    });
    if (!ok) return false;
    std::size_t listed = 0;
    if ((nonempty_ & ((std::uint64_t{1} << min_order) - 1)) != 0) return false;  // no order below min_order
    for (unsigned k = min_order; k <= max_order; ++k) {
      if (((nonempty_ >> k) & 1u) != !list(k).empty()) return false;
      listed += list(k).for_each(codec_, [&](void* n) {
        const tag* t = tag_of(n);
        ok = ok && t->st == state::free && t->order == k && owns(n);
      }, free_blocks + 1, &ok);
    }
    return ok && listed == free_blocks;
  }

 private:
  static constexpr std::uint32_t large_kind = ~std::uint32_t{0};

  static tag* tag_of(const void* payload) noexcept {
    return reinterpret_cast<tag*>(static_cast<std::byte*>(const_cast<void*>(payload)) - sizeof(tag));
  }
  static constexpr unsigned order_for(std::size_t bytes) noexcept { return std::max(min_order, log2_ceil(bytes)); }

  /// Where a chunk's blocks lie: its top block, or a large chunk's whole payload.
  static std::pair<void*, void*> bounds(const chunk_header* h) noexcept {
    if (h->kind == large_kind) return {h->payload, static_cast<std::byte*>(h->base) + h->bytes};
    return {h->payload, h->payload + (std::size_t{1} << h->kind)};
  }

  /// The list of order k (no list is kept for the orders below min_order, which no block has).
  list_type& list(unsigned k) noexcept { return lists_[k - min_order]; }
  const list_type& list(unsigned k) const noexcept { return lists_[k - min_order]; }

  /// The free block of order `k` at `block` onto its list: tag and links written (they may lie
  /// in poisoned memory: a fresh chunk, a split block), the rest of it poisoned.
  void push(std::byte* block, unsigned k, chunk_header* h) noexcept {
    void* payload = block + header;
    unpoison(tag_of(payload), sizeof(tag) + list_type::link_bytes);
    *tag_of(payload) = tag{h, k, state::free};
    list(k).push_front(payload, codec_);
    nonempty_ |= std::uint64_t{1} << k;
    poison_free(payload, (std::size_t{1} << k) - header, list_type::link_bytes);
  }
  void unlink(void* payload, unsigned k) noexcept {
    list(k).remove(payload, codec_);
    if (list(k).empty()) nonempty_ &= ~(std::uint64_t{1} << k);
  }

  /// A block of order `k`: the smallest free one at least that large, halved down to `k`.
  ALLOY_FAST_PATH void* take(unsigned k) noexcept {
    const std::uint64_t candidates = nonempty_ & (~std::uint64_t{0} << k);
    if (candidates == 0) [[unlikely]] return grow_and_take(k);
    unsigned j = static_cast<unsigned>(std::countr_zero(candidates));
    void* payload = list(j).front();
    tag* t = tag_of(payload);
    auto* h = static_cast<chunk_header*>(t->link);
    if (j == h->kind) spare_.on_used(h);
    unlink(payload, j);
    std::byte* block = static_cast<std::byte*>(payload) - header;
    while (j > k) {
      --j;
      push(block + (std::size_t{1} << j), j, h);
    }
    *t = tag{h, k, state::used};
    unpoison(payload, (std::size_t{1} << k) - header);  // handed out, links included (read for the last time above)
    return payload;
  }

  // Inlined (with deallocate): as a call, free cost more instructions per allocate + free pair
  // than the same buddy system written by hand (bench/zero_overhead).
  ALLOY_FAST_PATH void free_block(std::byte* block, unsigned k, chunk_header* h) noexcept {
    const unsigned top = h->kind;
    std::size_t off = static_cast<std::size_t>(block - h->payload);
    while (k < top) {
      void* buddy = h->payload + (off ^ (std::size_t{1} << k)) + header;
      const tag* b = tag_of(buddy);
      if (b->st != state::free || b->order != k) break;
      unlink(buddy, k);
      off &= ~(std::size_t{1} << k);
      ++k;
    }
    push(h->payload + off, k, h);
    if (k == top) [[unlikely]] on_chunk_empty(h);
  }

  ALLOY_SLOW_PATH void on_chunk_empty(chunk_header* h) noexcept {
    chunk_header* give = spare_.on_empty(h);
    if (give == nullptr) return;
    unlink(give->payload + header, give->kind);
    store_.give_back(give);
  }

  /// No free block is large enough: a new top block (halved while the source refuses).
  ALLOY_SLOW_PATH void* grow_and_take(unsigned k) noexcept {
    unsigned top = max_order;
    chunk_header* h = nullptr;
    // Free-list links may point into this chunk from now on: the codec admits it.
    while ((h = store_.take(std::size_t{1} << top, alignment, codec_)) == nullptr) {
      if (top == k) return nullptr;
      --top;
    }
    h->kind = top;
    h->block_size = std::size_t{1} << top;
    push(h->payload, top, h);
    return take(k);
  }

  ALLOY_SLOW_PATH void* allocate_unusual(std::size_t size, std::size_t align) noexcept {
    if (size > max_request / 2) return nullptr;
    align = std::max(align, alignment);
    if (align > alignment && size + header + sizeof(tag) + align <= MaxBlock) {
      // Over-aligned: a block with room to slide the payload up, and a forwarding tag before it.
      void* own = take(order_for(size + header + sizeof(tag) + align));
      if (own == nullptr || addr(own) % align == 0) return own;
      void* p = ptr(align_up(addr(own) + sizeof(tag), align));
      *tag_of(p) = tag{own, 0, state::shifted};
      return p;
    }
    // No order can hold it: a chunk of its own, given back on free.
    const std::size_t prefix = align_up(sizeof(tag), align);
    chunk_header* h = store_.take(prefix + size, align);
    if (h == nullptr) return nullptr;
    h->kind = large_kind;
    h->block_size = size;
    make_defined(h->payload, store_type::payload_bytes_of(h));  // handed out whole, as the source gave it
    void* p = h->payload + prefix;
    *tag_of(p) = tag{h, 0, state::large};
    return p;
  }

  std::array<list_type, max_order - min_order + 1> lists_{};  // orders min_order .. max_order only
  std::uint64_t nonempty_ = 0;  // bit k: list(k) holds a block
  [[no_unique_address]] codec_type codec_{};
  spare_chunk spare_{};
  store_type store_;
};

}  // namespace alloy::detail
