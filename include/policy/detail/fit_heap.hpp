// The heap of first_fit, best_fit and next_fit: the boundary-tag heap (tagged_heap.hpp) with
// one explicit free list kept in address order. The three policies differ only in `Choice`,
// the rule that picks a block from that list:
//
//   choose(list, codec, need) -> a free block of at least `need` bytes, or nullptr
//   on_remove(n, successor), on_replace(old, fresh): keep any position the rule remembers
//
// Address order (Knuth's formulation, and the one with the least fragmentation for first fit)
// means that freeing a block that touches no free neighbour walks the list to its place: O(n).
// A block that merges with a neighbour takes the neighbour's place: O(1).
#pragma once
#include "linked_free_list.hpp"
#include "tagged_heap.hpp"

namespace alloy::detail {

template <class Codec, class Choice>
class fit_index {
 public:
  using list_type = linked_free_list<Codec>;
  static constexpr complexity alloc_complexity = complexity::linear;
  static constexpr complexity free_complexity = complexity::linear;
  static constexpr std::size_t link_bytes = list_type::link_bytes;

  ALLOY_FAST_PATH void* find(std::size_t need) noexcept { return choice_.choose(list_, codec_, need); }

  void insert(void* n, std::size_t) noexcept {
    void* before = nullptr;
    for (void* b = list_.front(); b != nullptr && b < n; b = list_.next(b, codec_)) before = b;
    list_.insert_after(before, n, codec_);
  }

  ALLOY_FAST_PATH void remove(void* n, std::size_t) noexcept {
    choice_.on_remove(n, list_.next(n, codec_));
    list_.remove(n, codec_);
  }

  /// `fresh` lies where `old` did in address order (a split remainder, or a merged block).
  ALLOY_FAST_PATH void replace(void* old, std::size_t, void* fresh, std::size_t) noexcept {
    choice_.on_replace(old, fresh);
    list_.replace(old, fresh, codec_);
  }

  template <class F>
  std::size_t for_each(F&& f, std::size_t limit = ~std::size_t{0}) const noexcept {
    return list_.for_each(codec_, f, limit);
  }

  /// Back links mirror forward links, and addresses strictly increase (which also ends a cycle).
  bool invariant() const noexcept {
    const void* before = nullptr;
    for (void* b = list_.front(); b != nullptr; before = b, b = list_.next(b, codec_))
      if (b <= before || list_.prev(b, codec_) != before) return false;
    return choice_.invariant(list_, codec_);
  }

  /// The heap took a chunk: the hardening codec lets links point into it.
  void admit(void* base, std::size_t bytes) noexcept { codec_.admit(base, bytes); }

  void clear() noexcept {
    list_.clear();
    choice_.clear();
  }

  const Choice& choice() const noexcept { return choice_; }

 private:
  list_type list_{};
  [[no_unique_address]] Codec codec_{};
  [[no_unique_address]] Choice choice_{};
};

/// What a choice that remembers nothing needs besides `choose`.
struct stateless_choice {
  ALLOY_FAST_PATH void on_remove(void*, void*) noexcept {}
  ALLOY_FAST_PATH void on_replace(void*, void*) noexcept {}
  template <class List, class Codec>
  bool invariant(const List&, const Codec&) const noexcept {
    return true;
  }
  void clear() noexcept {}
};

template <class Config, class Choice, std::size_t ChunkBytes>
using fit_heap = tagged_heap<Config, fit_index<typename Config::hardening::link_codec, Choice>, ChunkBytes>;

}  // namespace alloy::detail
