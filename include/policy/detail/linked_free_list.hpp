// An intrusive doubly linked list of free blocks: both links live in the free block itself and
// pass through the hardening policy's codec, like detail::free_list. Doubly linked because the
// coalescing heaps (fits, tlsf, buddy) unlink a neighbour or a buddy from the middle in O(1).
#pragma once
#include <cstddef>

#include "config.hpp"

namespace alloy::detail {

template <class Codec>
class linked_free_list {
  struct node {
    void* next;
    void* prev;
  };
  static node* as_node(void* p) noexcept { return static_cast<node*>(p); }

 public:
  /// Bytes a free block must offer for its links: the start of the block that the list reads
  /// and writes, which memory checkers must leave accessible (sanitizer.hpp's poison_free).
  static constexpr std::size_t link_bytes = sizeof(node);

  ALLOY_FAST_PATH bool empty() const noexcept { return head_ == nullptr; }
  ALLOY_FAST_PATH void* front() const noexcept { return head_; }

  ALLOY_FAST_PATH void* next(void* n, const Codec& codec) const noexcept {
    return codec.decode(as_node(n)->next, &as_node(n)->next);
  }
  ALLOY_FAST_PATH void* prev(void* n, const Codec& codec) const noexcept {
    return codec.decode(as_node(n)->prev, &as_node(n)->prev);
  }

  /// Links `n` after `pos` (at the front when `pos` is null).
  ALLOY_FAST_PATH void insert_after(void* pos, void* n, const Codec& codec) noexcept {
    void* after = pos == nullptr ? head_ : next(pos, codec);
    set_next(n, after, codec);
    set_prev(n, pos, codec);
    if (after != nullptr) set_prev(after, n, codec);
    if (pos != nullptr) set_next(pos, n, codec);
    else head_ = n;
  }
  ALLOY_FAST_PATH void push_front(void* n, const Codec& codec) noexcept { insert_after(nullptr, n, codec); }

  ALLOY_FAST_PATH void remove(void* n, const Codec& codec) noexcept {
    void* before = prev(n, codec);
    void* after = next(n, codec);
    if (before != nullptr) set_next(before, after, codec);
    else head_ = after;
    if (after != nullptr) set_prev(after, before, codec);
  }

  /// `fresh` takes the place of `old` (which may be the same block): O(1), order kept.
  ALLOY_FAST_PATH void replace(void* old, void* fresh, const Codec& codec) noexcept {
    if (old == fresh) return;
    void* before = prev(old, codec);
    void* after = next(old, codec);
    set_next(fresh, after, codec);
    set_prev(fresh, before, codec);
    if (before != nullptr) set_next(before, fresh, codec);
    else head_ = fresh;
    if (after != nullptr) set_prev(after, fresh, codec);
  }

  /// Visits every block in list order, stopping after `limit`. With `links_ok` it also checks
  /// that every back link mirrors its forward link and stops at the first that does not, which
  /// ends any cycle (a block reached twice would need two different predecessors).
  template <class F>
  std::size_t for_each(const Codec& codec, F&& f, std::size_t limit, bool* links_ok = nullptr) const noexcept {
    std::size_t n = 0;
    void* before = nullptr;
    for (void* b = head_; b != nullptr && n < limit; before = b, b = next(b, codec), ++n) {
      if (links_ok != nullptr && prev(b, codec) != before) {
        *links_ok = false;
        break;
      }
      f(b);
    }
    return n;
  }

  void clear() noexcept { head_ = nullptr; }

 private:
  void set_next(void* n, void* v, const Codec& codec) noexcept { as_node(n)->next = codec.encode(v, &as_node(n)->next); }
  void set_prev(void* n, void* v, const Codec& codec) noexcept { as_node(n)->prev = codec.encode(v, &as_node(n)->prev); }

  void* head_ = nullptr;
};

}  // namespace alloy::detail
