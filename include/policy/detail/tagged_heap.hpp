// The boundary-tag heap shared by first_fit, best_fit, next_fit and tlsf. What differs between
// them is only the `Index`: how free blocks are kept and which one a request gets (see
// fit_heap.hpp and tlsf_heap.hpp). Splitting, coalescing, growth, in-place reallocation,
// metrics and the invariant are written here once.
//
//   chunk (from chunk_store)
//   +--------------+-----+-----------+-----------+------------+-----+-------+
//   | chunk_header | pad | tag|block | tag|block | tag|free...  | ... | fence |
//   +--------------+-----+-----------+-----------+------------+-----+-------+
//
// Every block starts with a 16-byte tag: its own size and flags, and the size of the block
// just before it (for the first block of a chunk: the chunk header). So a freed block finds
// both neighbours in O(1) and merges with the free ones: no two free blocks are ever adjacent.
// A fence tag (size 0, in use) ends each chunk. Free blocks keep their list links in their
// payload, through the hardening policy's codec. A block is split only when the rest can be a
// block of its own (at least `min_block` bytes), so no unusable sliver is ever left.
//
// Chunks grow geometrically (each new one at least a quarter of all before it, halving on
// refusal down to what the request needs), so a fixed arena fills completely and chunks stay few;
// a heap of large blocks only (segregated fit's large-block heap) doubles (growth_divisor).
// A chunk that becomes wholly free is kept if it is among the largest such (one over an arena,
// `kept_chunks` over the kernel's pages: spare_chunk.hpp says why), otherwise given back. A chunk
// taken for one request is sized so that the same request finds it again once it is free.
//
// Memory checkers (sanitizer.hpp): a free block is poisoned but for its tag and its first
// `Index::link_bytes` (the index's links), the only parts of it the heap reads, so coalescing,
// metrics() and invariant() walk tags and links freely. The poisoning is done where blocks
// change state (take, free_block, reallocate in place, grow), not by each index.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "chunk_store.hpp"
#include "guarded_source.hpp"
#include "heap_layer.hpp"
#include "page_reclaim.hpp"
#include "reallocate.hpp"
#include "report_error.hpp"
#include "sanitizer.hpp"
#include "spare_chunk.hpp"

namespace alloy::detail {

/// The boundary tag at the start of every block.
struct block_tag {
  std::size_t prev_size;   ///< size of the block just before; the chunk_header* for a chunk's first block
  std::size_t size_flags;  ///< this block's size in bytes (tag included, a multiple of 16) | flags

  static constexpr std::size_t free_bit = 1;
  static constexpr std::size_t first_bit = 2;  ///< first block of its chunk: prev_size holds the chunk
  // Reclaiming heaps only: a free block seen free by one reclaim scan, and one whose inner pages
  // were then decommitted. set() clears both, so a block taken, merged or resized starts afresh.
  static constexpr std::size_t seen_bit = 4;
  static constexpr std::size_t decommitted_bit = 8;
  static constexpr std::size_t flag_mask = 15;

  std::size_t size() const noexcept { return size_flags & ~flag_mask; }
  bool is_free() const noexcept { return (size_flags & free_bit) != 0; }
  bool is_first() const noexcept { return (size_flags & first_bit) != 0; }
  /// Sets size and free state, keeping the first-block flag.
  void set(std::size_t size, bool free) noexcept { size_flags = size | (size_flags & first_bit) | (free ? free_bit : 0); }
  chunk_header* chunk() const noexcept { return reinterpret_cast<chunk_header*>(prev_size); }
};

inline constexpr std::size_t tag_bytes = sizeof(block_tag);
static_assert(tag_bytes == 16);

inline block_tag* tag_of(const void* payload) noexcept {
  return reinterpret_cast<block_tag*>(static_cast<std::byte*>(const_cast<void*>(payload)) - tag_bytes);
}
inline void* payload_of(block_tag* t) noexcept { return t + 1; }
inline block_tag* tag_at(block_tag* t, std::size_t offset) noexcept {
  return reinterpret_cast<block_tag*>(reinterpret_cast<std::byte*>(t) + offset);
}
inline block_tag* next_tag(block_tag* t) noexcept { return tag_at(t, t->size()); }
inline block_tag* prev_tag(block_tag* t) noexcept {
  return reinterpret_cast<block_tag*>(reinterpret_cast<std::byte*>(t) - t->prev_size);
}
/// Size of the free block whose payload is `node` (what the indexes sort and search by).
inline std::size_t free_size(const void* node) noexcept { return tag_of(node)->size(); }

/// An index keeps the free blocks (as payload pointers) and chooses one for a request.
template <class I>
concept tagged_index = requires(I& i, const I& ci, void* n, std::size_t s) {
  { i.insert(n, s) } noexcept;
  { i.remove(n, s) } noexcept;
  { i.replace(n, s, n, s) } noexcept;  // (old, old size, fresh, fresh size): fresh takes old's place
  { i.find(s) } noexcept -> std::same_as<void*>;
  { ci.invariant() } noexcept -> std::same_as<bool>;
  { i.clear() } noexcept;
  { i.admit(n, s) } noexcept;          // (chunk base, bytes): links may point into it (hardening)
  { I::alloc_complexity } -> std::convertible_to<complexity>;
  { I::free_complexity } -> std::convertible_to<complexity>;
  { I::link_bytes } -> std::convertible_to<std::size_t>;  // bytes at a free payload's start the index reads
};

template <class Config, class Index, std::size_t ChunkBytes>
class tagged_heap {
  using source_type = typename Config::source;
  using hardening = typename Config::hardening;
  using chunk_source = maybe_guarded_source<source_type, hardening::guards_pages>;
  using store_type = chunk_store<chunk_source, source_type::granule>;
  static constexpr std::size_t alignment = Config::alignment;
  // Over a source that remaps pages, a block alone in its chunk grows with the chunk (regrow).
  static constexpr bool remaps = source_remaps_pages<chunk_source>;
  static constexpr std::uint32_t tagged_kind = 0x7A66;  // marks the chunk header of a tagged chunk
  // A new chunk is at least 1/growth_divisor of all the heap holds. A quarter keeps a heap of
  // small blocks from reserving much ahead of need. A heap whose every block is large — the
  // heap behind a segregated fit's classes (Config::serves_large_blocks) — doubles instead:
  // free space cannot coalesce across chunks, and with a quarter a heap of 1-4 MiB buffers ends
  // as a score of chunks each holding one or two blocks and a free block too small for the
  // next (bench/process vector-growth: 22 chunks, 29 of 51 MiB free at the peak, largest free
  // block 4.2 MiB). Doubling keeps most blocks in the largest chunk, where they coalesce, and
  // what it reserves ahead of need is address space, untouched (10 chunks, 46 MiB reserved at
  // the same peak). Preloaded, 3 runs each: vector-growth peak RSS 39-44 -> 30-37 MB (mimalloc
  // 35.5), page faults 9.6-10.9k -> 7.3-9.0k; its calls replayed on one thread 37.6 -> 28.6
  // MiB (mimalloc 32.9, jemalloc 31.1); large-realloc 83-93 -> 71-79 MB, 20.6-23.0k ->
  // 17.4-19.6k faults (mimalloc 93 MB, 33k); huge-realloc unchanged; bench/programs peak RSS
  // 1.035 -> 1.038x glibc's (perl +1 MiB, sqlite3 -0.3).
  static constexpr std::size_t growth_divisor = [] {
    if constexpr (requires { requires Config::serves_large_blocks; }) return 1;
    else return 4;
  }();

 public:
  /// Blocks are multiples of `unit` and their payloads are `unit`-aligned.
  static constexpr std::size_t unit = std::max<std::size_t>(alignment, 16);
  static constexpr std::size_t min_block = align_up(tag_bytes + 2 * sizeof(void*), unit);
  static constexpr std::size_t chunk_bytes = std::max<std::size_t>(
      ChunkBytes == 0 ? std::max<std::size_t>(source_type::preferred_chunk_bytes, std::size_t{1} << 16) : ChunkBytes,
      source_type::granule);
  using config = Config;  // the design, seen by every layer stacked above
  static constexpr bool is_thread_safe = false;
  using reclaim_tuning_type = reclaim_tuning<Config>;
  static constexpr bool reclaims = reclaim_tuning_type::enabled;
  static constexpr complexity alloc_complexity = Index::alloc_complexity;
  static constexpr complexity free_complexity = Index::free_complexity;
  static constexpr std::size_t max_class_size = 0;
  /// Wholly free chunks kept for reuse (no_reclaim; a reclaiming heap keeps them all and lets
  /// their pages go after the delay). Over the kernel's pages, where giving one back costs a
  /// munmap and taking it again a mmap and a fault per page: eight, the largest, so a program
  /// whose few large buffers are freed and allocated again (xz: six of 7-16 MiB a round) maps
  /// them once; at most eight chunks' worth of address space is held beyond the live blocks.
  static constexpr std::size_t kept_chunks = source_kernel_pages<source_type> ? 8 : 1;

  static_assert(tagged_index<Index>);

  tagged_heap() = default;
  tagged_heap(const tagged_heap&) = delete;
  tagged_heap& operator=(const tagged_heap&) = delete;

  ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    if (align <= unit) [[likely]] {
      const std::size_t need = block_size_for(size);
      void* n = index_.find(need);
      if (n == nullptr) n = grow(need);
      return n == nullptr ? nullptr : take(n, need);
    }
    return allocate_aligned(size, align);
  }

  /// allocate, telling whether the block reads as zeros (layer_knows_zeroed): it does when no
  /// free block fitted and it is the first of a chunk just taken from a source whose fresh
  /// chunks read as zeros — the only bytes written there are the links the chunk's one free
  /// block held, cleared again. A calloc'd table then faults only the pages the program writes,
  /// as glibc's and jemalloc's do. A block reused from a free one says nothing (its caller clears it).
  maybe_zeroed allocate_maybe_zeroed(std::size_t size, std::size_t align) noexcept {
    if (align > unit) return {allocate_aligned(size, align), false};
    const std::size_t need = block_size_for(size);
    if (void* n = index_.find(need)) return {take(n, need), false};
    void* n = grow(need);
    if (n == nullptr) return {};
    void* p = take(n, need);
    if constexpr (!source_zeroes_fresh_chunks<chunk_source>) {
      return {p, false};
    } else {
      std::memset(p, 0, std::min(size, min_block - tag_bytes));  // a free block's links fit there (min_block)
      make_defined(p, size);
      return {p, true};
    }
  }

  /// The tags know each block's size, so the size given is not needed (and after an in-place
  /// reallocate it would not match the block anyway).
  ALLOY_FAST_PATH void deallocate(void* p, std::size_t, std::size_t) noexcept { deallocate(p); }

  ALLOY_FAST_PATH void deallocate(void* p) noexcept {
    // The tag's free bit is the cheap double-free test: a live block's is always clear.
    if constexpr (hardening::checks_double_free) {
      if (tag_of(p)->is_free()) [[unlikely]] report_double_free(p);
    }
    free_block(tag_of(p));
  }

  /// In place when it can: shrinking splits the tail off (merging it with a free successor),
  /// growing takes what it needs of a free successor. Otherwise allocate, copy, free.
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    if (void* same = resize_without_copy(p, old_size, new_size, align)) return same;
    return reallocate_by_copy(*this, p, old_size, new_size, align);
  }
  /// The no-copy half of reallocate: `p` when it now holds `new_size` bytes, else nullptr.
  void* resize_without_copy(void* p, std::size_t, std::size_t new_size, std::size_t) noexcept {
    block_tag* t = tag_of(p);
    const std::size_t have = t->size();
    const std::size_t need = block_size_for(new_size);
    if (need <= have) {
      if (have - need >= min_block) {
        t->set(need, false);
        block_tag* tail = tag_at(t, need);
        tail->prev_size = need;
        tail->size_flags = have - need;
        next_tag(tail)->prev_size = have - need;
        free_block(tail);
      }
      return p;
    }
    block_tag* next = next_tag(t);
    const std::size_t next_size = next->size();
    if (next->is_free() && have + next_size >= need) {
      forget_decommitted(next);
      const std::size_t total = have + next_size;
      if (total - need >= min_block) {
        // The rest's tag may lie over the neighbour's links: relink first, then write the tag.
        block_tag* rest = tag_at(t, need);
        open_free(next);  // the rest's tag and links may lie in the neighbour's poisoned part
        index_.replace(payload_of(next), next_size, payload_of(rest), total - need);
        rest->prev_size = need;
        rest->size_flags = (total - need) | block_tag::free_bit;
        next_tag(rest)->prev_size = total - need;
        t->set(need, false);
        poison_free_block(rest);
      } else {
        index_.remove(payload_of(next), next_size);
        t->set(total, false);
        next_tag(t)->prev_size = total;
      }
      unpoison(p, t->size() - tag_bytes);  // grown: the user's up to the next tag
      return p;
    }
    if constexpr (remaps) {
      // Only where a copy would need a new chunk, all of whose pages the copy faults: a free
      // block that fits is cheaper to copy into, its pages most likely resident already (a
      // page fault, 45-70 us on the VM measured, costs what copying 0.5 MiB does). And only for
      // a block that is a large part of the heap (a quarter, what grow() adds at least to a heap
      // of small blocks; kept at a quarter where it doubles, which huge-realloc relies on): a copy
      // leaves the old chunk's resident pages free for the program's other blocks, where there
      // are many. Regrowing sqlite3's sorter buffer 1.6 -> 2 MiB, in a heap over four times
      // that, raised its peak RSS 21.9 -> 24.5 MiB (bench/programs); with this rule, 21.9.
      const bool alone = t->is_first() && (next_size == 0 || (next->is_free() && next_tag(next)->size() == 0));
      if (alone && need >= store_.reserved_bytes() / 4 && index_.find(need) == nullptr) [[unlikely]]
        return regrow(t, need);
    }
    return nullptr;
  }

  /// Exact: true only for pointers into the blocks area of this heap's chunks. O(chunks).
  bool owns(const void* p) const noexcept { return chunk_containing(store_, p, bounds) != nullptr; }

  std::size_t usable_size(const void* p) const noexcept { return tag_of(p)->size() - tag_bytes; }

  /// Makes sure one free block can hold `count` blocks of `size` (taking a chunk if needed).
  bool reserve(std::size_t size, std::size_t count) noexcept {
    if (size == 0 || count == 0) return true;
    if (size > max_request / 2 || count > max_request / block_size_for(size)) return false;
    void* p = allocate(count * block_size_for(size) - tag_bytes, alignment);
    if (p == nullptr) return false;
    deallocate(p);
    return true;
  }

  void release() noexcept {
    store_.release();
    index_.clear();
    spare_.clear();
    if constexpr (reclaims) reclaim_ = {};
  }

  /// Progress of the reclaiming on a slow path (a large allocation or free of the heap above):
  /// at most once per `delay_ms`, a scan of at most the policy's work per call free blocks
  /// marks each as seen, and decommits the inner pages of those a previous scan saw free
  /// already (so a block freed and taken again within the delay is never touched).
  void reclaim_tick(std::uint64_t now = monotonic_ms()) noexcept
    requires reclaims
  {
    if (now - reclaim_.scanned_ms < reclaim_tuning_type::delay_ms) return;
    reclaim_.scanned_ms = now;
    scan(reclaim_tuning_type::work_per_call, false);
  }

  /// Everything now: every free block's inner pages decommitted, every wholly free chunk given back.
  /// @returns the reclaims it made.
  std::size_t trim() noexcept
    requires reclaims
  {
    const std::size_t before = reclaim_.counters.reclaims;
    give_back_free_chunks();
    scan(~std::size_t{0}, true);
    return reclaim_.counters.reclaims - before;
  }

  heap_metrics metrics() const noexcept {
    heap_metrics m{store_.reserved_bytes(), store_.peak_reserved_bytes(), 0, 0};
    index_.for_each([&](void* n) {
      const std::size_t usable = free_size(n) - tag_bytes;
      m.free_bytes += usable;
      m.largest_free_block = std::max(m.largest_free_block, usable);
      if constexpr (reclaims) {
        if ((tag_of(n)->size_flags & block_tag::decommitted_bit) == 0) m.pending_reclaim_bytes += inner_span(tag_of(n)).bytes();
      }
    });
    if constexpr (reclaims) {
      m.decommitted_bytes = reclaim_.counters.decommitted_bytes;
      m.reclaims = reclaim_.counters.reclaims;
    }
    return m;
  }

  /// Tags agree (each block's prev_size is its predecessor's size), no two free blocks touch,
  /// every free block is in the index exactly once, and the index's own rules hold.
  bool invariant() const noexcept {
    if (!store_.invariant() || !index_.invariant()) return false;
    bool ok = true;
    std::size_t free_blocks = 0;
    store_.for_each([&](chunk_header* h) {
      if (h->kind != tagged_kind) {
        ok = false;
        return;
      }
      const auto [first, end] = bounds(h);
      block_tag* t = tag_of(first);
      ok = ok && t->is_first() && t->chunk() == h;
      block_tag* before = nullptr;
      while (ok && t->size() != 0) {
        const std::size_t s = t->size();
        ok = s >= min_block && s % unit == 0 && addr(t) + s <= addr(tag_of(end)) &&
             (before == nullptr ? t->is_first() : !t->is_first() && t->prev_size == before->size()) &&
             !(before != nullptr && before->is_free() && t->is_free());
        free_blocks += t->is_free();
        before = t;
        t = next_tag(t);
      }
      ok = ok && before != nullptr && t->prev_size == before->size() && payload_of(t) == end;
    });
    if (!ok) return false;
    std::size_t indexed = 0;
    const std::size_t limit = free_blocks + 1;
    index_.for_each([&](void* n) {
      ++indexed;
      ok = ok && tag_of(n)->is_free() && owns(n);
    }, limit);
    return ok && indexed == free_blocks;
  }

  const Index& index() const noexcept { return index_; }

 private:
  /// The blocks area of chunk `h`: the first block's payload, and the fence's payload (the end).
  static std::pair<void*, void*> bounds(const chunk_header* h) noexcept {
    auto* first = h->payload + unit;
    return {first, first + h->block_size};
  }

  static constexpr std::size_t block_size_for(std::size_t size) noexcept {
    return std::max(min_block, align_up(size + tag_bytes, unit));
  }
  /// The smallest free block the index's find(need) may return: `need` for the exact searches,
  /// the next class boundary for an index that searches by class (tlsf).
  static constexpr std::size_t fit_block_size(std::size_t need) noexcept {
    if constexpr (requires { Index::smallest_found(need); }) return align_up(Index::smallest_found(need), unit);
    else return need;
  }

  // Memory checkers (sanitizer.hpp); each compiles to nothing without one.
  /// The free block `t` is complete (tag and links written): poison all but its tag and links.
  ALLOY_FAST_PATH static void poison_free_block(block_tag* t) noexcept {
    poison_free(payload_of(t), t->size() - tag_bytes, Index::link_bytes);
  }
  /// The free block `t` is about to be cut or merged into: its poisoned part becomes writable
  /// for the tags and links the heap places there.
  ALLOY_FAST_PATH static void open_free(block_tag* t) noexcept {
    if constexpr (poisoning_active) {
      auto* payload = static_cast<std::byte*>(payload_of(t));
      unpoison(payload + Index::link_bytes, t->size() - tag_bytes - Index::link_bytes);
    }
  }

  /// Hands out the free block `n` (at least `need` bytes), splitting off the rest when it can
  /// stand as a block of its own; the rest takes `n`'s place in the index.
  ALLOY_FAST_PATH void* take(void* n, std::size_t need) noexcept {
    block_tag* t = tag_of(n);
    const std::size_t have = t->size();
    if (t->is_first()) spare_.on_used(t->chunk());
    forget_decommitted(t);
    if (have - need >= min_block) {
      block_tag* rest = tag_at(t, need);
      open_free(t);
      rest->prev_size = need;
      rest->size_flags = (have - need) | block_tag::free_bit;
      next_tag(rest)->prev_size = have - need;
      t->set(need, false);
      index_.replace(n, have, payload_of(rest), have - need);
      poison_free_block(rest);
    } else {
      t->set(have, false);
      index_.remove(n, have);
    }
    unpoison(n, t->size() - tag_bytes);  // handed out, links included (read for the last time above)
    return n;
  }

  /// Frees the in-use block `t`, merging it with free neighbours in O(1) via the tags.
  /// Inlined (with deallocate): as a call it cost 8 instructions per allocate + free pair more
  /// than the same heap written by hand (bench/zero_overhead).
  ALLOY_FAST_PATH void free_block(block_tag* t) noexcept {
    const std::size_t size = t->size();
    block_tag* next = next_tag(t);
    const bool next_free = next->is_free();
    const std::size_t next_size = next->size();
    block_tag* merged = t;
    if constexpr (reclaims) {
      if (next_free) forget_decommitted(next);
      if (!t->is_first() && prev_tag(t)->is_free()) forget_decommitted(prev_tag(t));
    }
    if (!t->is_first() && prev_tag(t)->is_free()) {
      merged = prev_tag(t);
      const std::size_t prev_size = merged->size();
      std::size_t total = prev_size + size;
      if (next_free) {
        index_.remove(payload_of(next), next_size);
        total += next_size;
      }
      merged->set(total, true);
      next_tag(merged)->prev_size = total;
      index_.replace(payload_of(merged), prev_size, payload_of(merged), total);
    } else if (next_free) {
      t->set(size + next_size, true);
      next_tag(t)->prev_size = size + next_size;
      index_.replace(payload_of(next), next_size, payload_of(t), size + next_size);
    } else {
      t->set(size, true);
      index_.insert(payload_of(t), size);
    }
    poison_free_block(merged);  // the tags and links it swallowed included
    if (merged->is_first() && next_tag(merged)->size() == 0) [[unlikely]] on_chunk_empty(merged->chunk());
  }

  ALLOY_SLOW_PATH void on_chunk_empty(chunk_header* h) noexcept {
    // A reclaiming heap keeps every wholly free chunk as a free block: its pages go back after
    // the delay like any free block's (scan), the chunk itself on trim(). So a program that
    // frees a large block and takes another, the pattern of realloc-grown buffers, reuses
    // memory already mapped and faulted in, where unmapping would fault every page again.
    if constexpr (reclaims) return;
    chunk_header* give = spare_.on_empty(h);
    if (give != nullptr) give_back_empty(give);
  }

  /// Every wholly free chunk (its one block free, the fence right after) back to the source.
  /// @returns how many went back.
  std::size_t give_back_free_chunks() noexcept {
    spare_.clear();
    for (std::size_t given = 0;;) {  // collected first: giving a chunk back unlinks it from the list being walked
      std::array<chunk_header*, 16> found{};
      std::size_t n = 0;
      store_.for_each([&](chunk_header* h) {
        block_tag* t = tag_of(bounds(h).first);
        if (n < found.size() && t->is_free() && next_tag(t)->size() == 0) found[n++] = h;
      });
      for (std::size_t i = 0; i < n; ++i) give_back_empty(found[i]);
      given += n;
      if (n < found.size()) return given;
    }
  }

  /// The wholly free chunk `h` (one free block) goes back to the source.
  void give_back_empty(chunk_header* h) noexcept {
    forget_decommitted(tag_of(bounds(h).first));
    index_.remove(bounds(h).first, h->block_size);
    store_.give_back(h);
    if constexpr (reclaims) ++reclaim_.counters.reclaims;
  }

  // ---- reclaiming (the reclaim axis); none of it is compiled under no_reclaim -------------
  /// The pages inside the free block `t` that nothing reads: past its tag and links, before
  /// the next block's tag.
  static page_span inner_span(block_tag* t) noexcept {
    return inner_pages(addr(payload_of(t)) + Index::link_bytes, addr(t) + t->size());
  }
  /// The free block `t` is taken, merged or resized: its decommitted pages (if it had any)
  /// come back as it is written, so they no longer count as decommitted.
  ALLOY_FAST_PATH void forget_decommitted([[maybe_unused]] block_tag* t) noexcept {
    if constexpr (reclaims) {
      if ((t->size_flags & block_tag::decommitted_bit) != 0) [[unlikely]]
        reclaim_.counters.decommitted_bytes -= inner_span(t).bytes();
    }
  }
  /// Visits at most `budget` free blocks: a block seen free by the previous scan (or any, when
  /// `all`) has its inner pages decommitted; the others are marked seen.
  void scan(std::size_t budget, bool all) noexcept {
    index_.for_each([&](void* n) {
      block_tag* t = tag_of(n);
      if ((t->size_flags & block_tag::decommitted_bit) != 0) return;
      if (!all && (t->size_flags & block_tag::seen_bit) == 0) {
        t->size_flags |= block_tag::seen_bit;
        return;
      }
      const page_span span = inner_span(t);
      t->size_flags |= block_tag::seen_bit | block_tag::decommitted_bit;
      if (span.bytes() == 0) return;
      decommit_pages(ptr(span.begin), span.bytes(), reclaim_tuning_type::advice);
      reclaim_.counters.decommitted_bytes += span.bytes();
      ++reclaim_.counters.reclaims;
    }, budget);
  }
  struct reclaim_state {
    reclaim_counters counters;
    std::uint64_t scanned_ms = 0;
  };
  struct no_reclaim_state {};

  /// No free block fits: a new chunk of at least a quarter of all before it (halving when
  /// refused): few chunks, and at most a quarter of the heap reserved ahead of need. A heap of
  /// large blocks only (growth_divisor) doubles instead.
  ALLOY_SLOW_PATH void* grow(std::size_t need) noexcept {
    if (need > max_request / 2) return nullptr;
    // Front pad + blocks + fence, the block at least what a later find(need) accepts: TLSF
    // rounds a request up to its class's next boundary, so a block of exactly `need` bytes
    // would never serve the same request again once free, and each would take a chunk anew.
    const std::size_t least = fit_block_size(need) + unit;
    const auto wanted = [&] { return std::max({chunk_bytes, least, store_.reserved_bytes() / growth_divisor}); };
    std::size_t want = wanted();
    chunk_header* h = nullptr;
    // Free-list links may point into this chunk from now on: the index's codec admits it.
    while ((h = store_.take(want, unit, index_)) == nullptr) {
      if (want == least) {
        // Refused even what the request needs: the spare chunk, wholly free but too small,
        // goes back, and merges there with its free neighbours (a static arena's pages), so
        // the heap can serve again what it served from the same state. Then one more try.
        // (A reclaiming heap keeps every wholly free chunk: all of them go back.)
        if constexpr (reclaims) {
          if (give_back_free_chunks() == 0) return nullptr;
        } else {
          chunk_header* spare = spare_.take();
          if (spare == nullptr) return nullptr;
          give_back_empty(spare);
        }
        want = wanted();  // the heap is smaller now
        continue;
      }
      want = std::max(want / 2, least);
    }
    // No huge pages here (chunk_store::prefer_huge_pages): a fit heap's chunk holds many blocks,
    // some long free, and a huge page is resident whole — on the real programs of bench/programs
    // they cost 3.5% of peak RSS (1.049 -> 1.087x glibc's; xz 32.6 -> 40.7 MiB) for faster
    // large-block workloads (bench/process large-realloc 1.29 -> 0.94x tcmalloc's CPU).
    h->kind = tagged_kind;
    h->block_size = align_down(store_type::payload_bytes_of(h) - unit, unit);
    block_tag* first = tag_of(bounds(h).first);
    unpoison(first, h->block_size + tag_bytes);  // the store poisoned the payload: open the blocks and fence
    first->prev_size = reinterpret_cast<std::size_t>(h);
    first->size_flags = h->block_size | block_tag::free_bit | block_tag::first_bit;
    block_tag* fence = next_tag(first);
    fence->prev_size = h->block_size;
    fence->size_flags = 0;
    index_.insert(payload_of(first), h->block_size);
    poison_free_block(first);
    return payload_of(first);
  }

  /// The in-use block `t` is alone in its chunk (first, then the fence or one free block and the
  /// fence) and needs `need` bytes: the chunk grows, where it lies when the address space after
  /// it is free, else the kernel moves its pages onto a larger chunk (chunk_store::resize). No
  /// byte is copied and no page the block has touched faults again: copying into a fresh chunk
  /// faults every page of the copy, and the freed chunk's pages stay resident until reclaimed.
  /// A buffer grown by realloc a quarter at a time from 1 to 32 MiB (bench/process huge-realloc)
  /// is that block at every step after the first chunk is full. @returns the block's payload at
  /// its new address, or nullptr with the heap as it was.
  ALLOY_SLOW_PATH void* regrow(block_tag* t, std::size_t need) noexcept
    requires remaps
  {
    if (need > max_request / 2) return nullptr;
    chunk_header* h = t->chunk();
    block_tag* tail = next_tag(t);
    const std::size_t tail_size = tail->size();  // 0: the fence, no free tail
    if (tail_size != 0) {  // out of the index first: its links would not survive a move
      forget_decommitted(tail);
      index_.remove(payload_of(tail), tail_size);
      tail->set(tail_size, true);  // its seen and decommitted marks dropped with the count
    }
    // The old range's shadow must not outlive it (a later mapping there is someone else's):
    // the free tail's poison goes, as chunk_store::give_back clears a chunk's.
    make_defined(h->payload, store_type::payload_bytes_of(h));
    chunk_header* grown = store_.resize(h, unit + need);  // front pad + the block; the fence fits the rounding
    if (grown == nullptr) {
      if (tail_size != 0) {
        index_.insert(payload_of(tail), tail_size);
        poison_free_block(tail);
      }
      poison_outside_blocks(h);
      return nullptr;
    }
    index_.admit(grown->base, grown->bytes);  // hardened links may point into it later (a split)
    grown->block_size = align_down(store_type::payload_bytes_of(grown) - unit, unit);
    block_tag* first = tag_of(bounds(grown).first);
    first->prev_size = reinterpret_cast<std::size_t>(grown);
    first->set(grown->block_size, false);
    block_tag* fence = next_tag(first);
    fence->prev_size = grown->block_size;
    fence->size_flags = 0;
    poison_outside_blocks(grown);
    return payload_of(first);
  }
  /// Memory checkers: what no block covers — before the first block's tag, after the fence —
  /// poisoned, as a chunk the store hands out has it.
  static void poison_outside_blocks(const chunk_header* h) noexcept {
    if constexpr (poisoning_active) {
      const auto [first, end] = bounds(h);
      poison(h->payload, addr(tag_of(first)) - addr(h->payload));
      poison(end, addr(h->base) + h->bytes - addr(end));
    }
  }

  /// Over-aligned: a block with room to put an aligned payload after a front part that can be
  /// a free block of its own; the front and any tail go back as free blocks.
  ALLOY_SLOW_PATH void* allocate_aligned(std::size_t size, std::size_t align) noexcept {
    if (size > max_request / 2) return nullptr;
    const std::size_t need = block_size_for(size);
    const std::size_t search = need + align + min_block;
    void* n = index_.find(search);
    if (n == nullptr) n = grow(search);
    if (n == nullptr) return nullptr;
    block_tag* t = tag_of(take(n, search));
    const std::size_t have = t->size();
    void* p = addr(n) % align == 0 ? n : ptr(align_up(addr(n) + min_block, align));
    if (p != n) {
      const std::size_t front = addr(p) - addr(n);
      block_tag* moved = tag_of(p);
      moved->prev_size = front;
      moved->size_flags = have - front;
      next_tag(moved)->prev_size = have - front;
      t->set(front, false);
      free_block(t);
      t = moved;
    }
    if (t->size() - need >= min_block) {
      block_tag* tail = tag_at(t, need);
      tail->prev_size = need;
      tail->size_flags = t->size() - need;
      next_tag(tail)->prev_size = tail->size();
      t->set(need, false);
      free_block(tail);
    }
    return p;
  }

  Index index_{};
  spare_chunks<kept_chunks> spare_{};
  store_type store_;
  [[no_unique_address]] std::conditional_t<reclaims, reclaim_state, no_reclaim_state> reclaim_;
};

}  // namespace alloy::detail
