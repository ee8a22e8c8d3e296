// Reclaiming for segregated fit's class chunks (the reclaim axis, policy/reclaim.hpp): which
// pages of a class chunk hold only free blocks, and which chunks are wholly free — found
// without a byte or an instruction on the allocate/free fast path, which stays a list pop and
// push. The price is paid on slow paths, by a *sweep* of one class at a time:
//
//   1. detach   the class's free list is taken whole (O(1)); the class carries on with an
//               empty list, which its next refill fills again from what is still untallied
//   2. tally    each detached block counts itself in the pages it overlaps and joins the
//               sublist of the page it starts in (WorkPerCall blocks per call); a chunk counts
//               its free blocks
//   3. settle   one walk of the class's chunks: all carved blocks free -> the chunk goes back to
//               the source; else every page whose blocks are all free is decommitted (one
//               madvise per run), its blocks *parked*, in no list at all, so no link lives in a
//               page the kernel zeroes; every other page's sublist joins the class list whole
//
// Visiting a free block costs a cache miss (the blocks of a long list lie anywhere in its
// chunks), so a block is visited once per sweep, by the tally, which links it into its page's
// sublist while its line is loaded. Settling costs per page, not per block: a sublist knows
// both ends and joins a list in O(1); only the few sublists whose last blocks reach into a page
// being decommitted are walked. (The first version walked the tallied blocks a second time to
// settle them: python3 with every object through malloc spent 15% more CPU than without
// reclaiming, nearly all of it in that second walk and the first one's misses.)
//
// A refill of the class takes parked blocks back before it carves anything new (restore: the
// blocks of a chunk's decommitted pages onto the list, a page at a time until a refill's worth;
// writing their links faults zero pages in), so a heap that reclaimed grows again inside its
// own chunks. Invariant: a block of a class chunk is parked exactly when it overlaps a
// decommitted page.
//
// What a program in a steady state pays: the clock is read on one slow path in 8 (a slow path
// with no sweep under way and no new reading does nothing more), a class is looked for at most
// once per tick of the clock, and a sweep that gives nothing back doubles its class's next wait
// (up to 64 delays).
//
// Concentrating. Decommitting free pages gives back little after random frees: with a tenth of
// a class's blocks live at random, most pages still hold one. What comes back then depends on
// *where new blocks go*: a thread cache hands a freed block out again at once (LIFO), so a
// program's turnover replaces live blocks in place and the pages in use never change. A settle
// that leaves a quarter of a class's resident blocks free, and at least `concentrate_bytes`,
// marks the class *concentrating*: a thread cache above stops caching it (thread_local_cache:
// bins of one block, every free and refill through the heap), the blocks it gives back *wait*
// here, out of reuse, and refills take the class list, which the settle ordered fullest pages
// first. New blocks then fill the pages that stay resident anyway, the sparse pages drain as
// their blocks are freed, and the next sweep decommits them: the live set gathers in few pages
// (glibc's turnover does the same by carving from one remainder chunk). The class stops
// concentrating when its list runs dry (the surplus was used: the waiting blocks become its
// list) or when a settle finds less than an eighth free (not a quarter: each sweep decommits
// what drained, and a class that stopped there would stop gathering half way). The price,
// paid only while a class has that much memory free: its allocations and frees take the
// heap's lock, one block at a time.
//
// Each chunk keeps its bookkeeping (`chunk_pages`) right after its header, before its first
// block: 12 bytes and two bits per page (1 MiB chunks: ~3 KiB, 0.3%), only in reclaiming heaps.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "../source/concept.hpp"
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
  /// Free bytes in a class's resident pages past which a settle may make it concentrate: less
  /// is not worth a lock on each of the class's allocations and frees.
  static constexpr std::size_t concentrate_bytes = std::size_t{1} << 20;
  using list_type = free_list<Codec>;
  using bits = std::array<std::uint64_t, words>;
  static_assert(granule <= (std::size_t{1} << 32), "a sublist's ends are 32-bit offsets into their chunk");

 public:
  /// What each class chunk of a reclaiming heap keeps after its header.
  struct chunk_pages {
    std::array<std::uint16_t, pages> free_in_page;  // tallied free blocks overlapping each page (a sweep)
    std::array<std::uint16_t, pages> starting;      // tallied blocks starting in each page (decommitting heaps)
    std::array<std::uint32_t, pages> first;         // each page's sublist of those blocks: its ends, as
    std::array<std::uint32_t, pages> last;          //   offsets from the chunk (0: empty; the header is there)
    bits touched;                                   // pages a tallied block overlaps: all a settle visits
    bits decommitted;                               // pages given back; their blocks are parked
    chunk_header* next_parked;                      // in its class's list of chunks with parked blocks
    std::uint32_t tallied;                          // free blocks tallied by the current sweep
    std::uint32_t parked;                           // blocks set aside in decommitted pages
    bool listed;                                    // in the parked list
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
    demand_ms_[c] = now_ms_;  // the last reading: at most clock_every - 1 slow paths old
    if (class_ == c) {
      // Its untallied blocks come back as they are, the tallied ones are settled now: no block
      // is held back while the class grows.
      std::swap(x.lists[c], pending_);  // the list was empty
      if (held_.head != nullptr) prepend(waiting_[c], std::exchange(held_, {}), x.codec);  // they still wait
      settle(x, false);
      if (!x.lists[c].empty()) return true;
    }
    concentrating_[c] = false;  // the list ran dry: its surplus is used up
    if (waiting_[c].head != nullptr) {  // the blocks given back while it concentrated: its list now
      x.lists[c].splice(std::exchange(waiting_[c], {}).head);
      return true;
    }
    return restore(c, x);
  }

  /// The reclaimer's clock, on a slow path: read on one call in `clock_every` (a vDSO call and
  /// a division are most of what a slow path with nothing to reclaim paid), the last reading
  /// kept in between: a class's demand is stamped with a reading at most `clock_every - 1`
  /// slow paths old (microseconds in a busy program; in one with few slow paths a sweep may
  /// come that much early, which costs a page fault at worst). @returns true when the time
  /// moved on (something may be due).
  ALLOY_FAST_PATH bool advance_clock() noexcept {
    if (++calls_ % clock_every != 0) [[likely]] return false;
    return read_clock();
  }
  ALLOY_SLOW_PATH bool read_clock() noexcept {
    const std::uint64_t now = monotonic_ms();
    if (now == now_ms_) return false;
    now_ms_ = now;
    return true;
  }
  /// Class `c` concentrates (the header comment): a thread cache above keeps none of its
  /// blocks, and gives them back through hold_back().
  bool concentrating(std::size_t c) const noexcept { return concentrating_[c]; }
  /// Counts the classes that began concentrating: a thread cache that saw another count
  /// looks at its bins again (thread_local_cache::follow_heap).
  std::uint32_t concentration_epoch() const noexcept { return concentration_epoch_; }
  /// Blocks of class `c` freed while it concentrates wait, out of reuse, for the class's next
  /// sweep or for its list to run dry: handed out again at once, they would keep the pages
  /// they lie in resident.
  void hold_back(std::size_t c, const block_chain& blocks, const Codec& codec) noexcept {
    prepend(waiting_[c], blocks, codec);
  }

  /// A sweep is under way: each slow path takes it a step further, whatever the time.
  bool sweeping() const noexcept { return class_ != none; }
  std::uint64_t now_ms() const noexcept { return now_ms_; }

  /// Progress on a slow path: at most WorkPerCall blocks tallied, one class at a time, a class
  /// only after `delay_ms` without demand and since its last sweep.
  template <class Parts>
  void tick(Parts& x) noexcept {
    step(Tuning::work_per_call, false, x);
  }

  /// Everything now, delay or not: every class swept to the end.
  template <class Parts>
  void trim(Parts& x) noexcept {
    now_ms_ = monotonic_ms();
    if (class_ != none) step(none, true, x);
    for (std::size_t c = 0; c < ClassCount; ++c) {
      if (x.lists[c].empty() && waiting_[c].head == nullptr) continue;
      start(c, x);
      step(none, true, x);
    }
  }

  /// Visits the blocks the reclaimer holds — a sweep's (detached or tallied) and the waiting
  /// ones of concentrating classes: free, but in no class list now.
  template <class F>
  void for_each_held(const Store& store, const Codec& codec, F&& f) const noexcept {
    for (std::size_t c = 0; c < ClassCount; ++c) {
      for (void* b = waiting_[c].head; b != nullptr; b = next_of(b, codec)) f(b, c);
    }
    if (class_ == none) return;
    pending_.for_each(codec, [&](void* b) { f(b, class_); });
    for (void* b = held_.head; b != nullptr; b = next_of(b, codec)) f(b, class_);
    store.for_each([&](const chunk_header* h) {
      if (h->kind != class_) return;
      const chunk_pages& st = pages_of(h);
      if (st.tallied == 0) return;
      for (std::size_t p = 0; p < pages; ++p) {
        for (void* b = at(h, st.first[p]); b != nullptr; b = next_of(b, codec)) f(b, class_);
      }
    });
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
    held_ = {};
    parked_.fill(nullptr);
    waiting_.fill({});
    concentrating_.fill(false);
    counters_.decommitted_bytes = 0;
  }

 private:
  /// Blocks linked through the codec, known by both ends, so that they join a list in O(1).
  using chain = block_chain;
  // A free block's link is its first word, written and read through the codec, as free_list does.
  static void set_link(void* block, void* next, const Codec& codec) noexcept {
    *static_cast<void**>(block) = codec.encode(next, block);
  }
  static void* next_of(void* block, const Codec& codec) noexcept { return codec.decode(*static_cast<void**>(block), block); }
  static void* at(const chunk_header* h, std::uint32_t offset) noexcept {
    return offset == 0 ? nullptr : reinterpret_cast<std::byte*>(const_cast<chunk_header*>(h)) + offset;
  }
  static void* pop(chain& c, const Codec& codec) noexcept {
    void* block = c.head;
    c.head = next_of(block, codec);
    if (c.head == nullptr) c.tail = nullptr;
    return block;
  }
  static void push_front(chain& c, void* block, const Codec& codec) noexcept {
    set_link(block, c.head, codec);
    c.head = block;
    if (c.tail == nullptr) c.tail = block;
  }
  /// `c` goes in front of `into`, whole: one link written.
  static void prepend(chain& into, const chain& c, const Codec& codec) noexcept {
    set_link(c.tail, into.head, codec);
    into.head = c.head;
    if (into.tail == nullptr) into.tail = c.tail;
  }

  template <class Parts>
  void start(std::size_t c, Parts& x) noexcept {
    class_ = c;
    std::swap(pending_, x.lists[c]);
    held_ = std::exchange(waiting_[c], {});  // tallied after the list, and never handed out before the settle
  }

  /// The next class worth a sweep, or none.
  template <class Parts>
  std::size_t pick(const Parts& x) noexcept {
    for (std::size_t i = 0; i < ClassCount; ++i) {
      const std::size_t c = (next_class_ + i) % ClassCount;
      if ((!x.lists[c].empty() || waiting_[c].head != nullptr) && now_ms_ - demand_ms_[c] >= Tuning::delay_ms &&
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
    for (std::size_t work = 0; work < budget && !(pending_.empty() && held_.head == nullptr); ++work)
      tally(pending_.empty() ? pop(held_, x.codec) : pending_.pop(x.codec), x.codec);
    if (pending_.empty() && held_.head == nullptr) settle(x, true);
  }

  /// The first and one-past-last page of chunk `h` that the block at `b` overlaps.
  static std::pair<std::size_t, std::size_t> pages_of_block(const chunk_header* h, const void* b) noexcept {
    const std::size_t from = static_cast<std::size_t>(static_cast<const std::byte*>(b) - reinterpret_cast<const std::byte*>(h));
    return {from / reclaim_page, (from + h->block_size - 1) / reclaim_page + 1};
  }
  static bool test(const bits& set, std::size_t page) noexcept { return (set[page / 64] >> (page % 64)) & 1u; }
  static void set(bits& set, std::size_t page) noexcept { set[page / 64] |= std::uint64_t{1} << (page % 64); }
  /// f(p) for each page p in `set`, in ascending order.
  template <class F>
  static void for_each_page(const bits& set, F&& f) noexcept {
    for (std::size_t w = 0; w < words; ++w) {
      for (std::uint64_t m = set[w]; m != 0; m &= m - 1) f(w * 64 + static_cast<std::size_t>(std::countr_zero(m)));
    }
  }
  static bool any_in(const bits& set, std::pair<std::size_t, std::size_t> range) noexcept {
    for (std::size_t p = range.first; p < range.second; ++p)
      if (test(set, p)) return true;
    return false;
  }

  /// The block counts itself and joins its page's sublist: its link is rewritten while the pop
  /// that found it still has its line in cache, so settling never visits it again.
  static void tally(void* block, const Codec& codec) noexcept {
    chunk_header* h = Store::header_of(block);
    chunk_pages& st = pages_of(h);
    ++st.tallied;
    std::size_t s = 0;
    if constexpr (decommits) {
      const auto [first, end] = pages_of_block(h, block);
      ++st.free_in_page[first];  // most blocks lie in one page: no loop for them
      for (std::size_t p = first + 1; p < end; ++p) {
        ++st.free_in_page[p];
        set(st.touched, p);
      }
      s = first;
      ++st.starting[s];
    }
    set(st.touched, s);
    set_link(block, at(h, st.first[s]), codec);
    const auto offset = static_cast<std::uint32_t>(static_cast<std::byte*>(block) - reinterpret_cast<std::byte*>(h));
    if (st.first[s] == 0) st.last[s] = offset;
    st.first[s] = offset;
  }

  /// Where the carved blocks of class chunk `h` end: its bump region's next block, or its last.
  template <class Parts>
  static std::byte* carved_end(const chunk_header* h, const Parts& x) noexcept {
    const auto& bump = x.bumps[h->kind];
    if (bump.next != nullptr && Store::header_of(bump.next - 1) == h) return bump.next;
    const std::size_t room = Store::payload_bytes_of(h);
    return h->payload + room / h->block_size * h->block_size;
  }

  /// The pages of `h` below `end` whose blocks are all free (tallied, or already parked).
  static bits free_pages(const chunk_header* h, const chunk_pages& st, const std::byte* end) noexcept {
    bits marked{};
    const auto* base = reinterpret_cast<const std::byte*>(h);
    const std::size_t first_page = align_up(static_cast<std::size_t>(h->payload - base), reclaim_page) / reclaim_page;
    const std::size_t end_page = static_cast<std::size_t>(end - base) / reclaim_page;
    for_each_page(st.touched, [&](std::size_t p) {
      if (p < first_page || p >= end_page || test(st.decommitted, p) || st.free_in_page[p] == 0) return;
      const std::byte* page = base + p * reclaim_page;
      const std::size_t i0 = static_cast<std::size_t>(page - h->payload) / h->block_size;
      const std::size_t i1 = static_cast<std::size_t>(page + reclaim_page - 1 - h->payload) / h->block_size;
      // An edge block may reach into a decommitted page: parked, so free but not tallied.
      std::size_t free = st.free_in_page[p];
      free += any_in(st.decommitted, pages_of_block(h, h->payload + i0 * h->block_size));
      if (i1 != i0) free += any_in(st.decommitted, pages_of_block(h, h->payload + i1 * h->block_size));
      if (free == i1 - i0 + 1) set(marked, p);
    });
    return marked;
  }

  /// The end of the sweep, one walk of the class's chunks: wholly free chunks go back, free
  /// pages are decommitted and their blocks parked, every other tallied block rejoins the class
  /// list a page's sublist at a time, ordered by how full their pages are (in quarters, a
  /// bucket each): the fullest pages' blocks are handed out first, so new blocks fill the pages
  /// that stay resident anyway and the sparse pages' free blocks wait, so that the frees to come
  /// empty those pages for the next sweep (mimalloc's reason for allocating from the fullest
  /// page first). What stays resident of the class decides whether it concentrates (the header
  /// comment) — when the sweep tallied every free block of the class (`whole`): one cut short
  /// by a refill saw only some of them, and leaves the class as it was.
  template <class Parts>
  void settle(Parts& x, bool whole) noexcept {
    const std::size_t reclaims_before = counters_.reclaims;
    chunk_header* returning = nullptr;
    std::array<chain, fullness_levels> by_fullness{};
    std::size_t resident_bytes = 0;  // carved blocks in the pages kept, free or not
    std::size_t kept_free_bytes = 0;  // free blocks among them
    x.store.for_each([&](chunk_header* h) {
      if (h->kind != class_) return;
      chunk_pages& st = pages_of(h);
      const std::byte* end = carved_end(h, x);
      const std::size_t carved = static_cast<std::size_t>(end - h->payload) / h->block_size;
      if (carved != 0 && st.tallied + st.parked == carved) {  // every carved block free: its sublists go with it
        if (st.listed) unlink_parked(h);
        st.next_parked = returning;
        returning = h;
        return;
      }
      const std::size_t parked_before = st.parked;
      const auto tally_resident = [&] {
        resident_bytes += (carved - st.parked) * h->block_size;
        kept_free_bytes += (st.tallied - (st.parked - parked_before)) * h->block_size;
      };
      if (st.tallied == 0) return tally_resident();
      bits marked{};
      if constexpr (decommits) marked = free_pages(h, st, end);
      for_each_page(st.touched, [&](std::size_t p) {  // only pages this sweep's blocks overlap
        chain c{at(h, st.first[p]), at(h, st.last[p])};
        if (c.head == nullptr) return;
        st.first[p] = 0;
        if constexpr (decommits) {
          const std::size_t starting = std::exchange(st.starting[p], 0);
          if (test(marked, p)) {  // every block starting here overlaps the page: all parked, none visited
            st.parked += starting;
            return;
          }
          // A block starting in page p reaches at most this many pages past it.
          const std::size_t reach = (h->block_size + reclaim_page - 1) / reclaim_page;
          if (any_in(marked, {p + 1, std::min(pages, p + 1 + reach)})) c = without_marked(h, st, c, marked, x.codec);
          if (c.head == nullptr) return;
          prepend(by_fullness[fullness(h, st, p)], c, x.codec);  // only its tail's link rewritten: poisoned but for it
        } else {
          x.lists[class_].prepend(c, x.codec);
        }
      });
      if constexpr (decommits) {
        decommit(h, st, marked);
        if (st.parked != 0 && !st.listed) {
          st.next_parked = parked_[class_];
          parked_[class_] = h;
          st.listed = true;
        }
      }
      tally_resident();
      for_each_page(st.touched, [&](std::size_t p) { st.free_in_page[p] = 0; });
      st.touched = {};
      st.tallied = 0;
    });
    const bool concentrate = decommits && kept_free_bytes >= concentrate_bytes &&
                             (concentrating_[class_] ? 8 : 4) * kept_free_bytes >= resident_bytes;
    if (whole) {
      concentration_epoch_ += concentrate && !concentrating_[class_];
      concentrating_[class_] = concentrate;
    }
    for (std::size_t level = fullness_levels; level-- > 0;) {  // the sparsest go in front first: they end up last
      if (by_fullness[level].head != nullptr) x.lists[class_].prepend(by_fullness[level], x.codec);
    }
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

  /// The blocks of sublist `c` that reach into no marked page; the others are parked.
  static chain without_marked(const chunk_header* h, chunk_pages& st, const chain& c, const bits& marked,
                              const Codec& codec) noexcept {
    chain kept;
    for (void* b = c.head; b != nullptr;) {
      void* next = next_of(b, codec);
      if (any_in(marked, pages_of_block(h, b))) ++st.parked;
      else push_front(kept, b, codec);
      b = next;
    }
    return kept;
  }

  /// How free page `p` of `h` is, by this sweep's tally: 0 when under a quarter of the blocks
  /// overlapping it are free, up to fullness_levels - 1 when three quarters or more are.
  static constexpr std::size_t fullness_levels = 4;
  static std::size_t fullness(const chunk_header* h, const chunk_pages& st, std::size_t p) noexcept {
    const auto* page = reinterpret_cast<const std::byte*>(h) + p * reclaim_page;
    const std::byte* from = std::max(page, static_cast<const std::byte*>(h->payload));
    const std::size_t i0 = static_cast<std::size_t>(from - h->payload) / h->block_size;
    const std::size_t i1 = static_cast<std::size_t>(page + reclaim_page - 1 - h->payload) / h->block_size;
    return std::min(fullness_levels - 1, fullness_levels * st.free_in_page[p] / (i1 - i0 + 1));
  }

  /// One madvise per run of marked pages; they become decommitted.
  void decommit(chunk_header* h, chunk_pages& st, const bits& marked) noexcept {
    auto* base = reinterpret_cast<std::byte*>(h);
    for (std::size_t p = 0; p < pages;) {
      if (!test(marked, p)) {
        ++p;
        continue;
      }
      std::size_t q = p;
      while (q < pages && test(marked, q)) ++q;
      decommit_pages(base + p * reclaim_page, (q - p) * reclaim_page, Tuning::advice);
      counters_.decommitted_bytes += (q - p) * reclaim_page;
      ++counters_.reclaims;
      p = q;
    }
    for (std::size_t w = 0; w < words; ++w) st.decommitted[w] |= marked[w];
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
      std::size_t populated = 0;  // pages below are resident again (populate_run)
      for (std::size_t p = 0; p < pages && restored < restore_batch; ++p) {
        if (!test(st.decommitted, p)) continue;
        if constexpr (source_populates_pages<typename Store::source_type>) {
          if (p >= populated) populated = populate_run(x, base, st, p, (restore_batch - restored) * h->block_size);
        }
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

  /// The run of decommitted pages from page `p` of the chunk at `base` that a restore needing
  /// `bytes` more will bring back, made resident in one call where the links it writes would
  /// fault once a page (the heap populates its fresh pages the same way:
  /// segregated_heap::populate_ahead). @returns the page after the run.
  template <class Parts>
  static std::size_t populate_run(Parts& x, std::byte* base, const chunk_pages& st, std::size_t p, std::size_t bytes) noexcept {
    const std::size_t want = std::max<std::size_t>(1, bytes / reclaim_page);  // rounded down: the rest faults
    std::size_t q = p + 1;
    while (q < pages && q - p < want && test(st.decommitted, q)) ++q;
    x.store.source().populate(base + p * reclaim_page, (q - p) * reclaim_page);
    return q;
  }

  std::size_t class_ = none;  // the class being swept
  list_type pending_;         // detached, not yet tallied (the tallied ones are in their pages' sublists)
  chain held_;                // the swept class's waiting blocks, not yet tallied
  std::size_t next_class_ = 0;
  std::uint64_t now_ms_ = 0;  // the last clock reading
  std::uint32_t calls_ = 0;   // slow paths seen: the clock is read on one in clock_every
  static constexpr std::uint32_t clock_every = 8;
  std::uint64_t picked_ms_ = ~std::uint64_t{0};  // when pick() last ran
  std::array<std::uint64_t, ClassCount> demand_ms_{};  // when each class last ran out of blocks
  std::array<std::uint64_t, ClassCount> swept_ms_{};   // when each class's last sweep finished
  std::array<std::uint8_t, ClassCount> backoff_{};     // its next sweep waits delay << backoff
  static constexpr std::uint8_t max_backoff = 6;
  std::array<chunk_header*, ClassCount> parked_{};
  std::array<chain, ClassCount> waiting_{};         // given back while the class concentrates
  std::array<bool, ClassCount> concentrating_{};
  std::uint32_t concentration_epoch_ = 0;
  reclaim_counters counters_;
};

}  // namespace alloy::detail
