// An intrusive singly linked list of free blocks: the next pointer lives in the free block
// itself, so an empty list costs one pointer and a block costs nothing. Links pass through the
// hardening policy's codec (the identity unless hardened), the one place a link is read.
#pragma once
#include <cstddef>

#include "config.hpp"

namespace alloy::detail {

/// The codec of unhardened links: a link is stored as the pointer itself (no_hardening's
/// link_codec, and a thread cache's when the hardening encodes no link).
struct plain_links {
  ALLOY_FAST_PATH void* encode(void* next, void*) const noexcept { return next; }
  ALLOY_FAST_PATH void* decode(void* stored, void*) const noexcept { return stored; }
  ALLOY_FAST_PATH void admit(void*, std::size_t) noexcept {}
};

/// Free blocks linked as a free_list links them, ended by an encoded null, and known by both
/// ends, so that the whole chain joins a list in O(1) (free_list::prepend).
struct block_chain {
  void* head = nullptr;
  void* tail = nullptr;
};

template <class Codec>
class free_list {
  struct node {
    void* next;
  };

 public:
  /// Bytes at the start of a free block that the list reads and writes (kept unpoisoned).
  static constexpr std::size_t link_bytes = sizeof(node);

  ALLOY_FAST_PATH bool empty() const noexcept { return head_ == nullptr; }
  /// The block the next pop returns (null when empty), read without decoding anything.
  ALLOY_FAST_PATH const void* front() const noexcept { return head_; }

  ALLOY_FAST_PATH void push(void* block, const Codec& codec) noexcept {
    auto* n = static_cast<node*>(block);
    // A hardened codec may test the link to the old head as it encodes it (hardened_codec::encode_head).
    if constexpr (requires { codec.encode_head(head_, &n->next); }) n->next = codec.encode_head(head_, &n->next);
    else n->next = codec.encode(head_, &n->next);
    head_ = n;
  }

  /// The most recently freed block (LIFO keeps it warm in cache); the list must not be empty.
  ALLOY_FAST_PATH void* pop(const Codec& codec) noexcept {
    node* n = head_;
    head_ = static_cast<node*>(codec.decode(n->next, &n->next));
    return n;
  }

  /// Visits every block, stopping after `limit` (so a corrupted, cyclic list cannot hang a check).
  template <class F>
  std::size_t for_each(const Codec& codec, F&& f, std::size_t limit = ~std::size_t{0}) const noexcept {
    std::size_t n = 0;
    for (node* b = head_; b != nullptr && n < limit; b = static_cast<node*>(codec.decode(b->next, &b->next)), ++n) f(b);
    return n;
  }

  void clear() noexcept { head_ = nullptr; }

  /// Detaches the first `n` blocks, or all when there are fewer (the list is not empty), as a
  /// chain of their own: a thread cache hands such chains between threads whole, takes its
  /// refill from a heap's class list so, and gives a full bin's batch back so. One read of each
  /// link and one write, where popping and pushing each block wrote every link. @returns the
  /// chain; `count`: its length.
  block_chain cut(std::size_t n, const Codec& codec, std::size_t& count) noexcept {
    node* first = head_;
    node* last = first;
    count = 1;
    for (node* next; count < n && (next = static_cast<node*>(codec.decode(last->next, &last->next))) != nullptr; ++count)
      last = next;
    head_ = static_cast<node*>(codec.decode(last->next, &last->next));
    last->next = codec.encode(nullptr, &last->next);
    return {first, last};
  }

  /// An empty list takes a chain made by cut() (with a codec of the same secret) whole.
  void splice(void* chain) noexcept { head_ = static_cast<node*>(chain); }
  /// Any list takes a chain (linked with a codec of the same secret) in front, whole: only the
  /// tail's link is written, so the other blocks stay as they were (poisoned but for their link).
  void prepend(const block_chain& chain, const Codec& codec) noexcept {
    auto* tail = static_cast<node*>(chain.tail);
    tail->next = codec.encode(head_, &tail->next);
    head_ = static_cast<node*>(chain.head);
  }

 private:
  node* head_ = nullptr;
};

}  // namespace alloy::detail
