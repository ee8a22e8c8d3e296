// The heap of tlsf: the boundary-tag heap (tagged_heap.hpp) with a two-level segregated index
// (Masmano et al., "TLSF: a new dynamic memory allocator for real-time systems", 2004).
//
//   first level:  one class per power of two        fl_bitmap: which rows hold a block
//   second level: each power of two cut in 16       sl_bitmap[fl]: which lists of the row do
//   sizes below 256: 16 linear classes of 16 bytes (row 0)
//
// insert/remove: compute (fl, sl) from the size with a bit scan, push/unlink: O(1).
// find(need): round `need` up to the next class boundary, so that *every* block of that class
// or above is large enough, then two find-first-set on the bitmaps: O(1), a good fit.
// Each list is LIFO. Blocks of need's own class may be too small, so that class is skipped —
// the price of O(1) — but for its front block, tried first: one comparison reuses a block freed
// at the very size asked for again. Without it a program that frees buffers and asks for the
// same size again never got them back (the size falls in its own class, which is always
// skipped): bench/process vector-growth, whose vectors double through the same sizes, touched
// 11k fresh pages against mimalloc's 8.6k.
#pragma once
#include <array>
#include <bit>
#include <cstdint>

#include "linked_free_list.hpp"
#include "tagged_heap.hpp"

namespace alloy::detail {

template <class Codec>
class tlsf_index {
 public:
  static constexpr complexity alloc_complexity = complexity::constant;
  static constexpr complexity free_complexity = complexity::constant;
  static constexpr unsigned sl_log = 4;
  static constexpr unsigned sl_count = 1u << sl_log;
  static constexpr unsigned linear_log = sl_log + 4;  // below 2^8 = 256 bytes: 16-byte classes
  static constexpr unsigned fl_count = 64 - linear_log + 1;
  static constexpr std::size_t link_bytes = linked_free_list<Codec>::link_bytes;

  struct class_index {
    unsigned fl;
    unsigned sl;
  };

  /// The class a free block of `size` bytes is filed under.
  static constexpr class_index class_of(std::size_t size) noexcept {
    if (size < (std::size_t{1} << linear_log)) return {0, static_cast<unsigned>(size >> 4)};
    const unsigned f = log2_floor(size);
    return {f - linear_log + 1, static_cast<unsigned>(size >> (f - sl_log)) & (sl_count - 1)};
  }
  /// The lowest class all of whose blocks hold `need` bytes.
  static constexpr class_index good_fit_class(std::size_t need) noexcept {
    if (need >= (std::size_t{1} << linear_log)) need += (std::size_t{1} << (log2_floor(need) - sl_log)) - 1;
    return class_of(need);
  }

  /// The smallest block find(need) may return: the lower bound of need's good-fit class. The
  /// heap sizes a chunk taken for one request by it, so that request finds the chunk again.
  static constexpr std::size_t smallest_found(std::size_t need) noexcept {
    const auto [fl, sl] = good_fit_class(need);
    if (fl == 0) return std::max<std::size_t>(need, std::size_t{sl} << 4);
    const unsigned f = fl + linear_log - 1;
    return (std::size_t{1} << f) + (std::size_t{sl} << (f - sl_log));
  }

  ALLOY_FAST_PATH void* find(std::size_t need) noexcept {
    const class_index own = class_of(need);
    if (own.fl >= fl_count) return nullptr;
    if (void* front = lists_[own.fl][own.sl].front(); front != nullptr && free_size(front) >= need) return front;
    auto [fl, sl] = good_fit_class(need);
    if (fl >= fl_count) return nullptr;
    std::uint32_t sl_map = sl_bitmap_[fl] & (~std::uint32_t{0} << sl);
    if (sl_map == 0) {
      const std::uint64_t fl_map = fl + 1 < 64 ? fl_bitmap_ & (~std::uint64_t{0} << (fl + 1)) : 0;
      if (fl_map == 0) return nullptr;
      fl = static_cast<unsigned>(std::countr_zero(fl_map));
      sl_map = sl_bitmap_[fl];
    }
    return lists_[fl][static_cast<unsigned>(std::countr_zero(sl_map))].front();
  }

  ALLOY_FAST_PATH void insert(void* n, std::size_t size) noexcept {
    const auto [fl, sl] = class_of(size);
    lists_[fl][sl].push_front(n, codec_);
    sl_bitmap_[fl] |= std::uint32_t{1} << sl;
    fl_bitmap_ |= std::uint64_t{1} << fl;
  }

  ALLOY_FAST_PATH void remove(void* n, std::size_t size) noexcept {
    const auto [fl, sl] = class_of(size);
    lists_[fl][sl].remove(n, codec_);
    if (lists_[fl][sl].empty()) {
      sl_bitmap_[fl] &= ~(std::uint32_t{1} << sl);
      if (sl_bitmap_[fl] == 0) fl_bitmap_ &= ~(std::uint64_t{1} << fl);
    }
  }

  ALLOY_FAST_PATH void replace(void* old, std::size_t old_size, void* fresh, std::size_t size) noexcept {
    const class_index a = class_of(old_size);
    const class_index b = class_of(size);
    if (a.fl == b.fl && a.sl == b.sl) {
      lists_[a.fl][a.sl].replace(old, fresh, codec_);
      return;
    }
    remove(old, old_size);
    insert(fresh, size);
  }

  template <class F>
  std::size_t for_each(F&& f, std::size_t limit = ~std::size_t{0}) const noexcept {
    std::size_t n = 0;
    for (const auto& row : lists_)
      for (const auto& list : row) n += list.for_each(codec_, f, limit - n);
    return n;
  }

  /// Bitmaps match the lists, each list is well linked, and each block is filed under its class.
  bool invariant() const noexcept {
    bool ok = true;
    for (unsigned fl = 0; fl < fl_count; ++fl) {
      if (((fl_bitmap_ >> fl) & 1u) != (sl_bitmap_[fl] != 0)) return false;
      for (unsigned sl = 0; sl < sl_count; ++sl) {
        const auto& list = lists_[fl][sl];
        if (((sl_bitmap_[fl] >> sl) & 1u) != !list.empty()) return false;
        list.for_each(codec_, [&](void* b) {
          const class_index c = class_of(free_size(b));
          ok = ok && c.fl == fl && c.sl == sl;
        }, ~std::size_t{0}, &ok);
      }
    }
    return ok && (fl_bitmap_ >> fl_count) == 0;
  }

  /// The heap took a chunk: the hardening codec lets links point into it.
  void admit(void* base, std::size_t bytes) noexcept { codec_.admit(base, bytes); }

  void clear() noexcept {
    for (auto& row : lists_)
      for (auto& list : row) list.clear();
    sl_bitmap_.fill(0);
    fl_bitmap_ = 0;
  }

 private:
  std::uint64_t fl_bitmap_ = 0;
  std::array<std::uint32_t, fl_count> sl_bitmap_{};
  std::array<std::array<linked_free_list<Codec>, sl_count>, fl_count> lists_{};
  [[no_unique_address]] Codec codec_{};
};

template <class Config, std::size_t ChunkBytes>
using tlsf_heap = tagged_heap<Config, tlsf_index<typename Config::hardening::link_codec>, ChunkBytes>;

}  // namespace alloy::detail
