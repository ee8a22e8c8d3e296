// Reclaiming for segregated fit's class chunks (the reclaim axis, policy/reclaim.hpp): which
// pages of a class chunk hold only free blocks, and which chunks are wholly free — found
// without a byte or an instruction on the allocate/free fast path, which stays a list pop and
// push. The price is paid on slow paths, by a *sweep* of one class at a time:
//
//   1. detach   the class's free list is taken whole (O(1)); the class carries on with an
//               empty list, which its next refill fills again from what is still untallied
//   2. tally    each detached block counts itself in the pages it overlaps (WorkPerCall blocks
//               per call); a chunk counts its free blocks
//   3. decide   per chunk: all its carved blocks free -> the chunk goes back to the source;
//               else every page whose blocks are all free (tallied, or already set aside) is
//               marked for decommit
//   4. settle   the tallied blocks go back on the class list (WorkPerCall per call), except
//               those of a returning chunk or overlapping a marked page: those are *parked*,
//               in no list at all, so no link lives in a page the kernel is about to zero
//   5. finish   the marked pages are decommitted (one madvise per run), the wholly free chunks
//               returned; chunks with parked blocks join their class's parked list
//
// A refill of the class takes parked blocks back before it carves anything new (restore: the
// blocks of a chunk's decommitted pages onto the list, a page at a time until a refill's worth;
// writing their links faults zero pages in), so a heap that reclaimed grows again inside its
// own chunks. Invariant: a block of a class chunk is parked exactly when it overlaps a
// decommitted page.
//
// What a program in a steady state pays: a class is looked for at most once per tick of the
// clock, and a sweep that gives nothing back doubles its class's next wait (up to 64 delays).
//
// Each chunk keeps its bookkeeping (`chunk_pages`) right after its header, before its first
// block: two bits and two bytes per page (1 MiB chunks: ~600 bytes), only in reclaiming heaps.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "chunk_store.hpp"
#include "free_list.hpp"
#include "page_reclaim.hpp"
#include "sanitizer.hpp"

namespace alloy::detail {

/// `Parts` (the heap's, passed to every call): `lists` (the class free lists), `bumps` (each
/// class's bump region: `next`, `end`), `store` (the chunk store) and `codec` (the hardening's).
template <class Store, class Codec, std::size_t ClassCount, class Tuning, bool Decommit>
class class_reclaim {
  static constexpr std::size_t granule = Store::granule;
  /// Pages are tracked only where they can be decommitted; elsewhere (a static arena, malloc'd
  /// chunks, chunks smaller than a page) a sweep still finds and returns wholly free chunks.
  static constexpr bool decommits = Decommit && granule >= reclaim_page;
  static constexpr std::size_t pages = decommits ? granule / reclaim_page : 1;
  static constexpr std::size_t words = (pages + 63) / 64;
  static constexpr std::size_t none = ~std::size_t{0};
  /// Blocks a refill restores from decommitted pages before it stops (a page at a time).
  static constexpr std::size_t restore_batch = 32;
  using list_type = free_list<Codec>;
  using bits = std::array<std::uint64_t, words>;

 public:
  /// What each class chunk of a reclaiming heap keeps after its header.
  struct chunk_pages {
    std::array<std::uint16_t, pages> free_in_page;  // tallied free blocks overlapping each page (a sweep)
    bits decommitted;                               // pages given back; their blocks are parked
    bits marked;                                    // pages to give back when the sweep finishes
    chunk_header* next_parked;                      // in its class's list of chunks with parked blocks
    std::uint32_t tallied;                          // free blocks tallied by the current sweep
    std::uint32_t parked;                           // blocks set aside in decommitted pages
    bool listed;                                    // in the parked list
    bool whole;                                     // every carved block free: goes back at finish
  };
  /// Bytes a reclaiming heap reserves after each class chunk's header.
  static constexpr std::size_t area_bytes = sizeof(chunk_pages);

  static chunk_pages& pages_of(const chunk_header* h) noexcept {
    return *reinterpret_cast<chunk_pages*>(reinterpret_cast<std::byte*>(const_cast<chunk_header*>(h)) + Store::header_bytes);
  }
  /// A class chunk was just taken: its bookkeeping starts empty (the store poisoned it).
  static void on_new_chunk(chunk_header* h) noexcept {
    unpoison(&pages_of(h), area_bytes);
    ::new (static_cast<void*>(&pages_of(h))) chunk_pages{};
  }

  /// Class `c` ran out of free blocks (its refill): it is in demand now, and its list is filled
  /// from the sweep's blocks or from parked ones where there are. @returns true when the list
  /// is no longer empty.
  template <class Parts>
  bool on_refill(std::size_t c, Parts& x) noexcept {
    demand_ms_[c] = now_ms_;
    if (class_ == c) {
      if (!pending_.empty()) {
        std::swap(x.lists[c], pending_);  // untallied blocks: the class takes them back as they are
      } else {
        // Settling: finish now, so that no block is held back while the class grows.
        if (!decided_) decide(x);
        settle(none, x);
        finish(x);
      }
      if (!x.lists[c].empty()) return true;
    }
    return restore(c, x);
  }

  /// Progress on a slow path: at most WorkPerCall blocks tallied or settled, one class at a
  /// time, a class only after `delay_ms` without demand and since its last sweep.
  template <class Parts>
  void tick(Parts& x, std::uint64_t now_ms) noexcept {
    now_ms_ = now_ms;
    step(Tuning::work_per_call, false, x);
  }

  /// Everything now, delay or not: every class swept to the end.
  template <class Parts>
  void trim(Parts& x) noexcept {
    now_ms_ = monotonic_ms();
    if (class_ != none) step(none, true, x);
    for (std::size_t c = 0; c < ClassCount; ++c) {
      if (x.lists[c].empty()) continue;
      start(c, x);
      step(none, true, x);
    }
  }

  /// Visits the blocks a sweep holds (detached or tallied): free, but in no class list now.
  template <class F>
  void for_each_held(const Codec& codec, F&& f) const noexcept {
    if (class_ == none) return;
    pending_.for_each(codec, [&](void* b) { f(b, class_); });
    tallied_.for_each(codec, [&](void* b) { f(b, class_); });
    dense_.for_each(codec, [&](void* b) { f(b, class_); });
  }
  /// Parked blocks of class `c`.
  std::size_t parked_blocks(std::size_t c) const noexcept {
    std::size_t n = 0;
    for (chunk_header* h = parked_[c]; h != nullptr; h = pages_of(h).next_parked) n += pages_of(h).parked;
    return n;
  }
  const reclaim_counters& counters() const noexcept { return counters_; }

  /// Every chunk went back to the source (release): nothing is held, parked or decommitted.
  void clear() noexcept {
    class_ = none;
    pending_.clear();
    tallied_.clear();
    dense_.clear();
    parked_.fill(nullptr);
    counters_.decommitted_bytes = 0;
  }

 private:
  template <class Parts>
  void start(std::size_t c, Parts& x) noexcept {
    class_ = c;
    decided_ = false;
    std::swap(pending_, x.lists[c]);
  }

  /// The next class worth a sweep, or none.
  template <class Parts>
  std::size_t pick(const Parts& x) noexcept {
    for (std::size_t i = 0; i < ClassCount; ++i) {
      const std::size_t c = (next_class_ + i) % ClassCount;
      if (!x.lists[c].empty() && now_ms_ - demand_ms_[c] >= Tuning::delay_ms &&
          now_ms_ - swept_ms_[c] >= std::uint64_t{Tuning::delay_ms} << backoff_[c]) {
        next_class_ = c + 1;
        return c;
      }
    }
    return none;
  }

  template <class Parts>
  void step(std::size_t budget, bool force, Parts& x) noexcept {
    if (class_ == none) {
      // Looking for a class to sweep walks the classes: at most once per tick of the clock
      // (a few ms), however many slow paths there are in between.
      if (force || now_ms_ == picked_ms_) return;
      picked_ms_ = now_ms_;
      const std::size_t c = pick(x);
      if (c == none) return;
      start(c, x);
    }
    std::size_t work = 0;
    for (; work < budget && !pending_.empty(); ++work) {
      void* b = pending_.pop(x.codec);
      tally(b);
      tallied_.push(b, x.codec);
    }
    if (!pending_.empty()) return;
    if (!decided_) {
      decide(x);
      decided_ = true;
    }
    if (settle(budget - work, x)) finish(x);
  }

  /// The first and one-past-last page of chunk `h` that the block at `b` overlaps.
  static std::pair<std::size_t, std::size_t> pages_of_block(const chunk_header* h, const std::byte* b) noexcept {
    const std::size_t from = static_cast<std::size_t>(b - reinterpret_cast<const std::byte*>(h));
    return {from / reclaim_page, (from + h->block_size - 1) / reclaim_page + 1};
  }
  static bool test(const bits& set, std::size_t page) noexcept { return (set[page / 64] >> (page % 64)) & 1u; }
  static bool any_in(const bits& set, std::pair<std::size_t, std::size_t> range) noexcept {
    for (std::size_t p = range.first; p < range.second; ++p)
      if (test(set, p)) return true;
    return false;
  }

  static void tally(void* block) noexcept {
    chunk_header* h = Store::header_of(block);
    chunk_pages& st = pages_of(h);
    ++st.tallied;
    if constexpr (decommits) {
      const auto [first, end] = pages_of_block(h, static_cast<std::byte*>(block));
      for (std::size_t p = first; p < end; ++p) ++st.free_in_page[p];
    }
  }

  /// Where the carved blocks of class chunk `h` end: its bump region's next block, or its last.
  template <class Parts>
  static std::byte* carved_end(const chunk_header* h, const Parts& x) noexcept {
    const auto& bump = x.bumps[h->kind];
    if (bump.next != nullptr && Store::header_of(bump.next - 1) == h) return bump.next;
    const std::size_t room = Store::payload_bytes_of(h);
    return h->payload + room / h->block_size * h->block_size;
  }

  template <class Parts>
  void decide(Parts& x) noexcept {
    x.store.for_each([&](chunk_header* h) {
      if (h->kind != class_) return;
      chunk_pages& st = pages_of(h);
      std::byte* end = carved_end(h, x);
      const std::size_t carved = static_cast<std::size_t>(end - h->payload) / h->block_size;
      st.whole = carved != 0 && st.tallied + st.parked == carved;
      if constexpr (decommits) {
        if (st.whole || st.tallied == 0) return;
        const auto* base = reinterpret_cast<std::byte*>(h);
        const std::size_t first_page = align_up(static_cast<std::size_t>(h->payload - base), reclaim_page) / reclaim_page;
        const std::size_t end_page = static_cast<std::size_t>(end - base) / reclaim_page;
        for (std::size_t p = first_page; p < end_page; ++p) {
          if (test(st.decommitted, p) || st.free_in_page[p] == 0) continue;
          const std::byte* page = base + p * reclaim_page;
          const std::size_t i0 = static_cast<std::size_t>(page - h->payload) / h->block_size;
          const std::size_t i1 = static_cast<std::size_t>(page + reclaim_page - 1 - h->payload) / h->block_size;
          // An edge block may reach into a decommitted page: parked, so free but not tallied.
          std::size_t free = st.free_in_page[p];
          free += any_in(st.decommitted, pages_of_block(h, h->payload + i0 * h->block_size));
          if (i1 != i0) free += any_in(st.decommitted, pages_of_block(h, h->payload + i1 * h->block_size));
          if (free == i1 - i0 + 1) st.marked[p / 64] |= std::uint64_t{1} << (p % 64);
        }
      }
    });
  }

  /// Tallied blocks back on the class list, but those of returning chunks or marked pages.
  /// Blocks in pages mostly live go on last, so they are handed out first: new blocks fill the
  /// pages that stay resident anyway, and the sparse pages' free blocks wait, so that the
  /// frees to come empty those pages for the next sweep (mimalloc's reason for allocating from
  /// the fullest page first). @returns true when none is left.
  template <class Parts>
  bool settle(std::size_t budget, Parts& x) noexcept {
    std::size_t work = 0;
    for (; work < budget && !tallied_.empty(); ++work) {
      void* b = tallied_.pop(x.codec);
      chunk_header* h = Store::header_of(b);
      chunk_pages& st = pages_of(h);
      if (st.whole) continue;
      if constexpr (decommits) {
        const auto range = pages_of_block(h, static_cast<std::byte*>(b));
        if (any_in(st.marked, range)) {
          ++st.parked;
          continue;
        }
        if (mostly_live(h, st, range.first)) {
          dense_.push(b, x.codec);
          continue;
        }
      }
      x.lists[class_].push(b, x.codec);  // only its link rewritten: poisoned but for it, as before
    }
    for (; work < budget && !dense_.empty(); ++work) x.lists[class_].push(dense_.pop(x.codec), x.codec);
    return tallied_.empty() && dense_.empty();
  }

  /// Fewer than half the blocks overlapping page `p` of `h` are free (by this sweep's tally).
  static bool mostly_live(const chunk_header* h, const chunk_pages& st, std::size_t p) noexcept {
    const auto* page = reinterpret_cast<const std::byte*>(h) + p * reclaim_page;
    const std::byte* from = std::max(page, static_cast<const std::byte*>(h->payload));
    const std::size_t i0 = static_cast<std::size_t>(from - h->payload) / h->block_size;
    const std::size_t i1 = static_cast<std::size_t>(page + reclaim_page - 1 - h->payload) / h->block_size;
    return 2 * st.free_in_page[p] < i1 - i0 + 1;
  }

  template <class Parts>
  void finish(Parts& x) noexcept {
    const std::size_t reclaims_before = counters_.reclaims;
    chunk_header* returning = nullptr;
    x.store.for_each([&](chunk_header* h) {
      if (h->kind != class_) return;
      chunk_pages& st = pages_of(h);
      if (st.whole && decided_) {
        if (st.listed) unlink_parked(h);
        st.next_parked = returning;
        returning = h;
        return;
      }
      if constexpr (decommits) {
        decommit_marked(h, st);
        if (st.parked != 0 && !st.listed) {
          st.next_parked = parked_[class_];
          parked_[class_] = h;
          st.listed = true;
        }
        st.free_in_page.fill(0);
      }
      st.tallied = 0;
      st.whole = false;
    });
    while (returning != nullptr) {  // after the walk: giving a chunk back unlinks it from the store
      chunk_header* h = returning;
      returning = pages_of(h).next_parked;
      auto& bump = x.bumps[h->kind];
      if (bump.next != nullptr && Store::header_of(bump.next - 1) == h) bump = {};
      std::size_t decommitted = 0;
      for (std::uint64_t w : pages_of(h).decommitted) decommitted += static_cast<std::size_t>(std::popcount(w));
      counters_.decommitted_bytes -= decommitted * reclaim_page;
      x.store.give_back(h);
      ++counters_.reclaims;
    }
    swept_ms_[class_] = now_ms_;
    // A sweep that found nothing to give back makes the next one of this class wait twice as
    // long (up to 64 delays): a program in a steady state stops paying for sweeps.
    backoff_[class_] = counters_.reclaims != reclaims_before ? 0 : std::min<std::uint8_t>(backoff_[class_] + 1, max_backoff);
    class_ = none;
  }

  /// One madvise per run of marked pages; they become decommitted.
  void decommit_marked(chunk_header* h, chunk_pages& st) noexcept {
    auto* base = reinterpret_cast<std::byte*>(h);
    for (std::size_t p = 0; p < pages;) {
      if (!test(st.marked, p)) {
        ++p;
        continue;
      }
      std::size_t q = p;
      while (q < pages && test(st.marked, q)) ++q;
      decommit_pages(base + p * reclaim_page, (q - p) * reclaim_page, Tuning::advice);
      counters_.decommitted_bytes += (q - p) * reclaim_page;
      ++counters_.reclaims;
      p = q;
    }
    for (std::size_t w = 0; w < words; ++w) {
      st.decommitted[w] |= st.marked[w];
      st.marked[w] = 0;
    }
  }

  void unlink_parked(chunk_header* h) noexcept {
    for (chunk_header** link = &parked_[h->kind]; *link != nullptr; link = &pages_of(*link).next_parked) {
      if (*link == h) {
        *link = pages_of(h).next_parked;
        break;
      }
    }
    pages_of(h).listed = false;
  }

  /// Parked blocks of a chunk of class `c` back on its list, a page at a time until a refill's
  /// worth (their pages fault back in as the links are written; the rest stay decommitted).
  /// @returns true when the list is no longer empty.
  template <class Parts>
  bool restore(std::size_t c, Parts& x) noexcept {
    if constexpr (decommits) {
      chunk_header* h = parked_[c];
      if (h == nullptr) return false;
      chunk_pages& st = pages_of(h);
      std::byte* base = reinterpret_cast<std::byte*>(h);
      std::size_t restored = 0;
      for (std::size_t p = 0; p < pages && restored < restore_batch; ++p) {
        if (!test(st.decommitted, p)) continue;
        st.decommitted[p / 64] &= ~(std::uint64_t{1} << (p % 64));
        counters_.decommitted_bytes -= reclaim_page;
        std::byte* page = base + p * reclaim_page;
        const std::size_t i0 = static_cast<std::size_t>(page - h->payload) / h->block_size;
        const std::size_t i1 = static_cast<std::size_t>(page + reclaim_page - 1 - h->payload) / h->block_size;
        for (std::size_t i = i0; i <= i1; ++i) {
          std::byte* b = h->payload + i * h->block_size;
          if (any_in(st.decommitted, pages_of_block(h, b))) continue;  // comes back with its last page
          x.lists[c].push(b, x.codec);
          poison_free(b, h->block_size, list_type::link_bytes);
          --st.parked;
          ++restored;
        }
      }
      if (st.parked == 0) {  // every decommitted page came back (a parked block overlaps each)
        parked_[c] = st.next_parked;
        st.listed = false;
      }
      return !x.lists[c].empty();
    } else {
      (void)c;
      (void)x;
      return false;
    }
  }

  std::size_t class_ = none;  // the class being swept
  bool decided_ = false;      // its pages and chunks are decided (tally done)
  list_type pending_;         // detached, not yet tallied
  list_type tallied_;         // tallied, not yet settled
  list_type dense_;           // settled blocks of mostly live pages, to go on the list last
  std::size_t next_class_ = 0;
  std::uint64_t now_ms_ = 0;
  std::uint64_t picked_ms_ = ~std::uint64_t{0};  // when pick() last ran
  std::array<std::uint64_t, ClassCount> demand_ms_{};  // when each class last ran out of blocks
  std::array<std::uint64_t, ClassCount> swept_ms_{};   // when each class's last sweep finished
  std::array<std::uint8_t, ClassCount> backoff_{};     // its next sweep waits delay << backoff
  static constexpr std::uint8_t max_backoff = 6;
  std::array<chunk_header*, ClassCount> parked_{};
  reclaim_counters counters_;
};

}  // namespace alloy::detail
