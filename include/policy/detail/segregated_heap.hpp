// The heap behind segregated_fit (policy/search/segregated_fit.hpp): one free list per size
// class, each class carved from chunks of its own whose header every block finds by masking its
// address; large blocks in chunks of their own, or in a general heap named by LargeSearch.
// The design, its costs and its tuned forms are described in the policy's header.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <type_traits>

#include "../source/concept.hpp"
#include "chunk_store.hpp"
#include "class_reclaim.hpp"
#include "free_list.hpp"
#include "guarded_source.hpp"
#include "hardened_list.hpp"
#include "heap_layer.hpp"
#include "reallocate.hpp"
#include "report_error.hpp"
#include "sanitizer.hpp"  // only for large direct chunks: hardened_list poisons the class blocks
#include "spare_chunk.hpp"

namespace alloy::detail {


/// The heap that serves segregated_fit's large blocks: none (direct chunks), or a search policy's,
/// built from the composition plus what only it needs to know: every block it serves is above
/// the largest class (tagged_heap then grows its chunks by doubling).
struct direct_chunks {};
template <class Config>
struct large_block_config : Config {
  static constexpr bool serves_large_blocks = true;
};
template <class LargeSearch, class Config>
struct large_heap_of {
  using type = typename LargeSearch::template heap<large_block_config<Config>>;
};
template <class Config>
struct large_heap_of<void, Config> {
  using type = direct_chunks;
};

template <class Config, std::size_t ChunkBytes, class LargeSearch = void>
class segregated_heap {
  using source_type = typename Config::source;
  using classes = typename Config::classes;
  using hardening = typename Config::hardening;
  using codec_type = typename hardening::link_codec;
  using links = hardened_list<hardening>;  // every push and pop goes through the hardening policy
  static constexpr std::size_t alignment = Config::alignment;
  static constexpr std::size_t block_size_of(std::size_t c) noexcept { return align_up(classes::size_of(c), alignment); }
  static constexpr std::size_t max_block = block_size_of(classes::count - 1);
  // A chunk holds at least four of the largest blocks, so no class wastes most of its chunk.
  static constexpr std::size_t granule =
      std::max({ChunkBytes == 0 ? source_type::preferred_chunk_bytes : ChunkBytes, source_type::granule,
                std::bit_ceil(align_up(64, alignment) + 4 * max_block)});
  using chunk_source = maybe_guarded_source<source_type, hardening::guards_pages>;
  using store_type = chunk_store<chunk_source, granule>;
  static constexpr std::uint32_t large_kind = ~std::uint32_t{0};
  // A class chunk's mark in the store: its class, offset past the store's own marks, while
  // every pointer into it is a block's start (cached_start_lookup); plain otherwise, and for
  // large chunks. Past 253 classes no chunk is marked and every lock-free free divides.
  static constexpr std::size_t first_class_mark = store_type::plain_mark + 1;
  static constexpr bool marks_classes = classes::count <= 256 - first_class_mark;
  static constexpr std::size_t refill_batch = 32;
  static constexpr std::size_t refill_bytes = 4096;
  static_assert(refill_batch <= hardened_list<hardening>::max_carve);
  static constexpr bool has_large_heap = !std::is_void_v<LargeSearch>;
  // Fresh class-chunk pages are populated ahead of carving where the source can (populate_ahead).
  static constexpr bool populates = source_populates_pages<chunk_source>;
  static constexpr std::size_t populate_window = std::size_t{32} << 10;
  using large_heap_type = typename large_heap_of<LargeSearch, Config>::type;
  // Huge blocks: 32 MiB is where glibc's adaptive mmap threshold stops rising. Smaller buffers
  // come and go too often to map each, and are seldom written whole.
  static constexpr std::size_t huge_block_bytes = std::size_t{32} << 20;
  // Blocks above `own_chunk_above` are chunks of their own: every large block without a large
  // heap; beside one, only huge blocks over a source that remaps pages. Those go back to the
  // system on free and realloc resizes them with mremap, copying nothing; the large heap
  // reuses the smaller ones with no system call.
  static constexpr bool remaps = source_remaps_pages<chunk_source>;
  static constexpr std::size_t own_chunk_above =
      !has_large_heap ? classes::max_size : remaps ? std::max(classes::max_size, huge_block_bytes) : max_request;
  // Reclaiming (the reclaim axis): only on the slow paths below, every branch `if constexpr`.
  using reclaim_tuning_type = reclaim_tuning<Config>;
  static constexpr bool reclaims = reclaim_tuning_type::enabled;
  // Pages are decommitted only where a chunk is whole pages of a mapping of its own (the
  // source's `protects_pages`): not inside a static arena (the allocator object itself) nor
  // inside malloc'd chunks. Over any other source a reclaiming heap still gives whole chunks back.
  using reclaimer_type = class_reclaim<store_type, codec_type, classes::count, reclaim_tuning_type,
                                       source_protects_pages<source_type>>;
  struct no_reclaimer {};
  // A reclaiming heap keeps its freed blocks' own chunks for the delay, as its other free
  // memory (recent_chunks), over a source that remaps pages, so a kept chunk smaller than the
  // request is grown by the kernel, its faulted pages kept. Without a large heap every block
  // above the classes is one: the hardened library's blocks above 128 KiB, mapped, faulted and
  // unmapped each time before (bench/process large-realloc 10.2x tcmalloc's CPU time). A calloc
  // takes a fresh chunk still (allocate_large): its zeros need no writing.
  static constexpr bool keeps_own_chunks = remaps && reclaims;
  // A kept chunk's kind: no class, nor a block's (a second free of its block is a double free).
  static constexpr std::uint32_t kept_kind = large_kind - 1;
  static_assert(classes::count < kept_kind);
  // Guard pages: a chunk serving a block is resized to the block's very pages, so the guard
  // stays right behind it (on reuse and on realloc) instead of wherever a larger chunk ends.
  static constexpr bool exact_own_chunks = hardening::guards_pages;
  static constexpr std::size_t kept_own_chunks = 4;
  struct no_kept_chunks {};
  static constexpr complexity large_cost(bool alloc) noexcept {
    if constexpr (has_large_heap) return alloc ? large_heap_type::alloc_complexity : large_heap_type::free_complexity;
    else return complexity::constant;
  }

 public:
  using config = Config;  // the design, seen by every layer stacked above
  static constexpr bool is_thread_safe = false;
  static constexpr complexity alloc_complexity = std::max(complexity::constant, large_cost(true));
  static constexpr complexity free_complexity = std::max(complexity::constant, large_cost(false));
  static constexpr std::size_t max_class_size = classes::max_size;
  static constexpr std::size_t chunk_bytes = granule;

  segregated_heap() = default;
  segregated_heap(const segregated_heap&) = delete;
  segregated_heap& operator=(const segregated_heap&) = delete;

  ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    if (align <= alignment && size <= classes::max_size) [[likely]] {
      const std::size_t c = classes::class_of(size);
      if (!lists_[c].empty()) [[likely]] return links::pop(lists_[c], block_size_of(c), codec_);
      return refill(c);
    }
    return allocate_unusual(size, align);
  }

  /// allocate, telling whether the block reads as zeros (layer_knows_zeroed): a class block
  /// never says so (classes reuse their blocks); a large one may (allocate_large).
  maybe_zeroed allocate_maybe_zeroed(std::size_t size, std::size_t align) noexcept {
    if (size <= classes::max_size) return {allocate(size, align), false};
    return allocate_large(size, std::max(align, alignment), true);
  }

  ALLOY_FAST_PATH void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    if (align <= alignment && size <= classes::max_size) [[likely]] {
      const std::size_t c = classes::class_of(size);
      links::push(lists_[c], p, block_size_of(c), codec_);
      return;
    }
    deallocate(p);  // over-aligned or large: the chunk header knows where the block starts
  }

  void deallocate(void* p) noexcept {
    if constexpr (has_large_heap) {
      if (!store_.owns(p)) [[unlikely]] return deallocate_large(p);  // not in a class chunk: a large block
    }
    chunk_header* h = store_type::header_of(p);
    if (h->kind < classes::count) [[likely]] {
      std::byte* b = block_start(h, p);
      links::push(lists_[h->kind], b, h->block_size, codec_);
      return;
    }
    free_own_chunk(h);
  }

  /// Progress of the reclaiming on a slow path of a layer above (a thread cache's refill or
  /// flush): at most the policy's work per call. Only in a reclaiming heap.
  ALLOY_FAST_PATH void reclaim_tick() noexcept
    requires reclaims
  {
    // Most slow paths have nothing to do: no sweep under way and no new clock reading, so
    // nothing can have come due (class_reclaim::advance_clock; one clock for both heaps).
    // That check is inlined into the callers' slow paths; the work is not.
    const bool moved = reclaimer_.advance_clock();
    if (!moved && !reclaimer_.sweeping()) [[likely]] return;
    reclaim_step(moved);
  }
  ALLOY_SLOW_PATH void reclaim_step(bool moved) noexcept
    requires reclaims
  {
    auto x = parts();
    reclaimer_.tick(x);
    if constexpr (has_large_heap) {
      if (moved) large_.reclaim_tick(reclaimer_.now_ms());
    }
    if constexpr (keeps_own_chunks) {
      if (moved) expire_own_chunks(reclaim_tuning_type::delay_ms);
    }
  }

  /// Everything that can go back to the system, now: every class swept, every free page
  /// decommitted, every wholly free chunk returned. @returns the reclaims it made.
  std::size_t trim() noexcept
    requires reclaims
  {
    const std::size_t before = reclaimer_.counters().reclaims;
    auto x = parts();
    reclaimer_.trim(x);
    std::size_t done = reclaimer_.counters().reclaims - before;
    if constexpr (has_large_heap) done += large_.trim();
    if constexpr (keeps_own_chunks) done += expire_own_chunks(0);
    return done;
  }

  /// A block's start and class, without the heap's lock: the class store's registry answers
  /// lock-free (detail/chunk_map.hpp, or detail/address_set.hpp over sources that are not the
  /// kernel's pages), and the chunk header found by masking was written when the chunk was
  /// taken and stays fixed while it lives. `size_class` is `classes::count` or more for
  /// anything else — a large block, or a pointer this heap never handed out.
  struct lookup_result {
    void* block;
    std::size_t size_class;
  };
  ALLOY_FAST_PATH lookup_result cached_lookup(const void* p) const noexcept {
    const chunk_header* h = registered_header_of(p);
    if (h == nullptr) [[unlikely]] return {const_cast<void*>(p), ~std::size_t{0}};
    return {block_start(h, p), h->kind};
  }
  /// cached_lookup for the common case, a pointer to a block's start: the same answer from the
  /// chunk's mark alone — its class, while the chunk has never handed out a pointer into a
  /// block (an over-aligned request's, which clears it) — with no read of the chunk's header
  /// and no division; else no class, and the caller asks cached_lookup. The thread caches'
  /// free fast path. Not exact for a pointer into a chunk's header (chunk_store::mark_of).
  /// Safe on a heap not built yet in zero-filled storage (chunk_map: no leaf, no class).
  ALLOY_FAST_PATH lookup_result cached_start_lookup(const void* p) const noexcept {
    // 32-bit: wraps for 0 and plain_mark to far above any class.
    return {const_cast<void*>(p), std::uint32_t{cached_start_mark(p)} - std::uint32_t{class_mark_offset}};
  }
  /// The byte cached_start_lookup reads: class `c`'s mark is c + class_mark_offset where
  /// marks_class_chunks; any other byte names no class. A cache that keeps a bin for every
  /// byte (thread_local_cache::one_instance) indexes its bins by it and tests no range.
  static constexpr std::size_t class_mark_offset = first_class_mark;
  static constexpr bool marks_class_chunks = marks_classes;
  ALLOY_FAST_PATH std::uint8_t cached_start_mark(const void* p) const noexcept { return store_.mark_of(p); }
  /// The header of the chunk `p` points past, if it is one of the class store's; lock-free. A
  /// registered header makes the rest of the test cheap: a class chunk spans its whole granule,
  /// so a pointer past the header is inside it; a large chunk's kind is above every class, so
  /// the lookups above do not answer for it (its bounds are checked under the lock).
  ALLOY_FAST_PATH chunk_header* registered_header_of(const void* p) const noexcept {
    chunk_header* h = store_type::header_of(p);
    return store_.registered(h) && p >= h->payload ? h : nullptr;
  }

  /// The codec every class list's links go through: a thread cache above adopts its secret and
  /// span under the heap's lock, so the blocks it holds are linked as the heap's own are.
  const codec_type& link_codec() const noexcept { return codec_; }

  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    if (void* resized = resize_without_copy(p, old_size, new_size, align)) return resized;
    return reallocate_by_copy(*this, p, old_size, new_size, align);
  }
  /// The no-copy half of reallocate: the block resized where it lies, or moved by the kernel
  /// (a chunk of its own over a source that remaps pages); nullptr when only a copy can do it.
  /// A class block stays only while the new size maps to its very class, which keeps sized
  /// free correct (the new size still finds this block's list).
  void* resize_without_copy(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    if constexpr (has_large_heap) {
      if (!store_.owns(p)) {
        const bool stays_large = new_size > classes::max_size && new_size <= own_chunk_above;
        return stays_large ? large_.resize_without_copy(p, old_size, new_size, align) : nullptr;
      }
    }
    chunk_header* h = store_type::header_of(p);
    if (h->kind == large_kind) {
      if (new_size <= classes::max_size) return nullptr;
      if constexpr (keeps_own_chunks) {
        // A kept chunk that holds the grown block has its pages resident: a copy into it costs
        // less than the fresh pages a move faults (on the VM measured a fault costs 12 us,
        // copying a page about 0.3), as the large heap prefers a free block (tagged_heap). Not
        // for a huge block: its fresh pages are huge ones, a fault per 2 MiB, cheaper than a copy.
        if (new_size > usable_size(p) && new_size < huge_block_bytes &&
            own_kept_.holds(new_size, store_type::payload_bytes_of))
          return nullptr;
      }
      return resize_own_chunk(h, p, new_size);
    }
    const bool stays = align <= alignment ? new_size <= classes::max_size && classes::class_of(new_size) == h->kind
                                          : new_size <= usable_size(p);
    return stays ? p : nullptr;
  }

  bool owns(const void* p) const noexcept {
    if constexpr (has_large_heap) return store_.owns(p) || large_.owns(p);
    else return store_.owns(p);
  }

  std::size_t usable_size(const void* p) const noexcept {
    if constexpr (has_large_heap) {
      if (!store_.owns(p)) return large_.usable_size(p);
    }
    const chunk_header* h = store_type::header_of(p);
    const auto* b = static_cast<const std::byte*>(p);
    if (h->kind == large_kind) return static_cast<std::size_t>(static_cast<const std::byte*>(h->base) + h->bytes - b);
    return static_cast<std::size_t>(block_start(h, p) + h->block_size - b);
  }

  /// Pre-allocation (the seed's cure for cold starts): `count` blocks of `size` carved now.
  bool reserve(std::size_t size, std::size_t count) noexcept {
    if constexpr (has_large_heap) {
      if (size > classes::max_size) return large_.reserve(size, count);
    }
    if (size == 0 || size > classes::max_size) return size == 0;
    free_list<codec_type> taken;
    std::size_t got = 0;
    for (; got < count; ++got) {
      void* b = allocate(size, alignment);
      if (b == nullptr) break;
      taken.push(b, codec_);
    }
    const std::size_t c = classes::class_of(size);
    while (!taken.empty()) {
      void* b = taken.pop(codec_);
      lists_[c].push(b, codec_);  // not links::push: the double-free scan would walk the list for each
      poison_free(b, block_size_of(c), free_list<codec_type>::link_bytes);
    }
    return got == count;
  }

  void release() noexcept {
    if constexpr (keeps_own_chunks) own_kept_.clear();  // still the store's chunks: released with it
    store_.release();
    for (auto& l : lists_) l.clear();
    bumps_.fill({});
    if constexpr (reclaims) reclaimer_.clear();
    if constexpr (has_large_heap) large_.release();
  }

  heap_metrics metrics() const noexcept {
    heap_metrics m{store_.reserved_bytes(), store_.peak_reserved_bytes(), 0, 0};
    for (std::size_t c = 0; c < classes::count; ++c) {
      const std::size_t bs = block_size_of(c);
      const std::size_t n = lists_[c].for_each(codec_, [](void*) {}) +
                            static_cast<std::size_t>(bumps_[c].end - bumps_[c].next) / bs;
      m.free_bytes += n * bs;
      if (n > 0) m.largest_free_block = std::max(m.largest_free_block, bs);
      if constexpr (reclaims) {  // listed blocks wait for their class's sweep (a bump region was never touched)
        m.pending_reclaim_bytes += (n - static_cast<std::size_t>(bumps_[c].end - bumps_[c].next) / bs) * bs;
        const std::size_t parked = reclaimer_.parked_blocks(c);
        m.free_bytes += parked * bs;
        if (parked > 0) m.largest_free_block = std::max(m.largest_free_block, bs);
      }
    }
    if constexpr (reclaims) {
      reclaimer_.for_each_held(store_, codec_, [&](void*, std::size_t c) {
        m.free_bytes += block_size_of(c);
        m.pending_reclaim_bytes += block_size_of(c);
        m.largest_free_block = std::max(m.largest_free_block, block_size_of(c));
      });
      m.decommitted_bytes = reclaimer_.counters().decommitted_bytes;
      m.reclaims = reclaimer_.counters().reclaims;
    }
    if constexpr (keeps_own_chunks) {
      m.reclaims += own_kept_.expired();
      own_kept_.for_each([&](const chunk_header* h) {
        const std::size_t bytes = store_type::payload_bytes_of(h);
        m.free_bytes += bytes;
        m.pending_reclaim_bytes += bytes;
        m.largest_free_block = std::max(m.largest_free_block, bytes);
      });
    }
    if constexpr (has_large_heap) {  // peak: the sum of both peaks, an upper bound
      const heap_metrics l = large_.metrics();
      m.reserved_bytes += l.reserved_bytes;
      m.peak_reserved_bytes += l.peak_reserved_bytes;
      m.free_bytes += l.free_bytes;
      m.largest_free_block = std::max(m.largest_free_block, l.largest_free_block);
      m.decommitted_bytes += l.decommitted_bytes;
      m.pending_reclaim_bytes += l.pending_reclaim_bytes;
      m.reclaims += l.reclaims;
    }
    return m;
  }

  bool invariant() const noexcept {
    if (!store_.invariant()) return false;
    if constexpr (has_large_heap) {
      if (!large_.invariant()) return false;
    }
    // A free block of class c: in one of the store's chunks of that class, at a block's start.
    const auto free_block_of = [&](const void* b, std::size_t c) {
      const chunk_header* h = store_type::header_of(b);
      return store_.owns(b) && h->kind == c && block_start(h, b) == b;
    };
    const std::size_t limit = store_.reserved_bytes() / sizeof(void*) + 1;  // more links than that means a cycle
    for (std::size_t c = 0; c < classes::count; ++c) {
      bool ok = true;
      const std::size_t n = lists_[c].for_each(codec_, [&](void* b) { ok = ok && free_block_of(b, c); }, limit);
      if (!ok || n == limit) return false;
    }
    if constexpr (reclaims) {  // the blocks the reclaimer holds (a sweep's, the waiting ones) alike
      bool ok = true;
      reclaimer_.for_each_held(store_, codec_, [&](void* b, std::size_t c) { ok = ok && free_block_of(b, c); });
      if (!ok) return false;
    }
    return true;
  }

  // A thread cache's batches, moved whole (thread_local_cache's refill and flush; public, since
  // a layer asks for them with a requires-expression, which is false for a private member).

  /// Up to `n` free blocks of class `c` (a thread cache's refill: `c` is the class its bin's
  /// blocks belong to, thread_local_cache::heap_class) as one chain cut from the class list,
  /// which is carved first when empty: one walk along the links where a pop and a push per
  /// block wrote each. @returns the chain, or nullptr when the source refuses a chunk; `taken`:
  /// its length.
  void* take_chain(std::size_t c, std::size_t n, std::size_t& taken) noexcept {
    if (lists_[c].empty()) {
      void* b = refill(c);  // the batch carved, but one block handed out: it rejoins the list
      if (b == nullptr) return nullptr;
      links::push(lists_[c], b, block_size_of(c), codec_);
    }
    return lists_[c].cut(n, codec_, taken).head;
  }
  /// A chain of free blocks of class `c` (a thread cache's full bin cut its batch out) joins the
  /// class list whole: one link written under the caller's lock, where giving the blocks back
  /// one by one took a pop and a push each. Its blocks were tested for a double free as they
  /// entered the bin, as a push here would test them. A concentrating class's chain waits in
  /// the reclaimer instead, out of reuse (class_reclaim.hpp).
  void give_chain(std::size_t c, const block_chain& chain) noexcept {
    if constexpr (reclaims) {
      if (reclaimer_.concentrating(c)) return reclaimer_.hold_back(c, chain, codec_);
    }
    lists_[c].prepend(chain, codec_);
  }
  /// Class `c` has most of its resident memory free (class_reclaim.hpp): a thread cache keeps
  /// none of its blocks, so that reuse follows the class list's order, fullest pages first.
  bool concentrating(std::size_t c) const noexcept
    requires reclaims
  {
    return reclaimer_.concentrating(c);
  }
  std::uint32_t concentration_epoch() const noexcept
    requires reclaims
  {
    return reclaimer_.concentration_epoch();
  }

 private:
  struct nothing_populated {};
  struct bump_region {
    std::byte* next = nullptr;
    std::byte* end = nullptr;
    // The pages below are resident (populate_ahead): no byte where the source cannot populate.
    [[no_unique_address]] std::conditional_t<populates, std::byte*, nothing_populated> populated{};
  };

  /// The block `p` points into: its offset in the chunk divided by the block size with one
  /// multiply by the chunk's magic, ceil(2^64 / block_size) — exact for 32-bit offsets
  /// (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019) — instead of a
  /// division of 20-40 cycles on the unsized free path.
  ALLOY_FAST_PATH static std::byte* block_start(const chunk_header* h, const void* p) noexcept {
    const std::uint64_t offset = addr(p) - addr(h->payload);  // unsigned: p is past the payload's start
    const auto index = static_cast<std::uint64_t>((static_cast<__uint128_t>(h->block_magic) * offset) >> 64);
    return h->payload + index * h->block_size;
  }
  static constexpr std::uint64_t magic_for(std::size_t block_size) noexcept { return ~std::uint64_t{0} / block_size + 1; }
  static_assert(granule <= (std::size_t{1} << 32), "block_start divides 32-bit offsets: class chunks stay under 4 GiB");

  /// What the reclaimer works on: the heap's own lists, bump regions, chunks and codec.
  struct reclaim_parts {
    std::array<free_list<codec_type>, classes::count>& lists;
    std::array<bump_region, classes::count>& bumps;
    store_type& store;
    codec_type& codec;
  };
  reclaim_parts parts() noexcept { return {lists_, bumps_, store_, codec_}; }

  /// A block that is a chunk of its own is freed: kept for the reclaim delay where the heap
  /// keeps such chunks, else given back to the source at once.
  ALLOY_SLOW_PATH void free_own_chunk(chunk_header* h) noexcept {
    if constexpr (keeps_own_chunks) {
      if (h->kind == kept_kind) [[unlikely]] {  // freed already: kept once is enough
        if constexpr (hardening::checks_double_free) report_double_free(h->payload);
        return;
      }
      h->kind = kept_kind;
      // Stamped with a fresh reading (class_reclaim reads its clock on one slow path in eight,
      // which could be long ago): a huge free is rare, the vDSO read ~20 ns.
      const bool moved = reclaimer_.read_clock();
      poison(h->payload, store_type::payload_bytes_of(h));  // a use after free faults under a checker
      if (chunk_header* out = own_kept_.put(h, reclaimer_.now_ms())) store_.give_back(out);
      if (moved || reclaimer_.sweeping()) reclaim_step(moved);
    } else {
      store_.give_back(h);
      if constexpr (reclaims) reclaim_tick();
    }
  }
  /// A kept chunk serving a huge block of `size` at `align`: as it is when it holds the block
  /// and is not mostly waste, else resized by the kernel (resize_own_chunk). nullptr when none
  /// is kept, or the one taken could not be resized (then it goes back: it is the largest).
  void* reuse_own_chunk(std::size_t size, std::size_t align) noexcept
    requires keeps_own_chunks
  {
    chunk_header* h = own_kept_.take(size, store_type::payload_bytes_of,
                                     [align](const chunk_header* k) { return addr(k->payload) % align == 0; });
    if (h == nullptr) return nullptr;
    h->kind = large_kind;
    h->block_size = size;
    make_defined(h->payload, store_type::payload_bytes_of(h));  // a block again: the user's bytes
    if (void* p = resize_own_chunk(h, h->payload, size)) return p;
    store_.give_back(h);
    return nullptr;
  }
  /// Kept chunks freed at least `delay_ms` ago (all with 0) back to the source. @returns how many.
  std::size_t expire_own_chunks(std::uint64_t delay_ms) noexcept
    requires keeps_own_chunks
  {
    return own_kept_.expire(reclaimer_.now_ms(), delay_ms, [this](chunk_header* h) { store_.give_back(h); });
  }

  /// A large block's free, in the large heap: a slow path, so the reclaiming makes progress.
  void deallocate_large(void* p) noexcept {
    large_.deallocate(p);
    if constexpr (reclaims) reclaim_tick();
  }

  /// The list of class `c` is empty: carve a batch from its chunk, taking a new chunk if needed
  /// (reclaiming: blocks a sweep holds or parked ones first, so the heap regrows in its own chunks).
  ALLOY_SLOW_PATH void* refill(std::size_t c) noexcept {
    const std::size_t bs = block_size_of(c);
    if constexpr (reclaims) {
      reclaim_tick();
      auto x = parts();
      if (reclaimer_.on_refill(c, x)) return links::pop(lists_[c], bs, codec_);
    }
    bump_region& bump = bumps_[c];
    if (bump.next == bump.end) {
      // Free-list links may point into this chunk from now on: the codec admits it.
      chunk_header* h = store_.take(granule - align_up(store_type::header_bytes, alignment), alignment, codec_);
      if (h == nullptr) return nullptr;
      if constexpr (reclaims) {  // its page bookkeeping sits between the header and the first block
        reclaimer_type::on_new_chunk(h);
        h->payload = reinterpret_cast<std::byte*>(h) +
                     align_up(store_type::header_bytes + reclaimer_type::area_bytes, alignment);
      }
      h->kind = static_cast<std::uint32_t>(c);
      if constexpr (marks_classes) store_.mark(h, static_cast<std::uint8_t>(first_class_mark + c));  // no block handed out yet
      h->block_size = bs;
      h->block_magic = magic_for(bs);
      const std::size_t room = store_type::payload_bytes_of(h);
      bump = {h->payload, h->payload + room / bs * bs};
      if constexpr (populates) bump.populated = page_end(h->payload);  // the header's page is resident
    }
    std::byte* first = bump.next;
    // Carving writes a link into every block it carves, which makes its page resident: a refill
    // touches about a page (refill_bytes), so a class of 16 KiB blocks used once costs one
    // block's page, not 32 blocks' (mimalloc extends a page's free list the same way).
    const std::size_t n = std::min({refill_batch, std::max<std::size_t>(1, refill_bytes / bs),
                                    static_cast<std::size_t>(bump.end - first) / bs});
    bump.next += n * bs;
    if constexpr (populates) {
      if (bump.next > bump.populated) populate_ahead(bump);
    }
    return links::carve(lists_[c], first, n, bs, codec_);  // ascending pops, or shuffled when randomized
  }

  /// Carving is the first touch of a class chunk's pages, in address order, and a first touch
  /// traps into the kernel once a page. Populating the pages ahead in one call costs a fraction
  /// of the traps (on this project's VM a first touch takes 12 µs, populating 0.9-2.7 µs a page
  /// by window, and the touch after it 5.5: perl under the preload library 5-8% faster,
  /// docs/policies/memory-sources.md). The window doubles with what the class has carved of the
  /// chunk, from a page to `populate_window`, so a class used a little makes a little resident
  /// ahead of use.
  ALLOY_SLOW_PATH void populate_ahead(bump_region& bump) noexcept {
    const std::byte* start = store_type::header_of(bump.next - 1)->payload;
    const std::size_t carved = static_cast<std::size_t>(bump.next - start);
    const std::size_t window = std::clamp(align_down(carved, reclaim_page), reclaim_page, populate_window);
    std::byte* to = std::min(page_end(bump.next) + window, page_end(bump.end));
    store_.source().populate(bump.populated, static_cast<std::size_t>(to - bump.populated));
    bump.populated = to;
  }
  /// `p` rounded up to its page's end (to itself when it starts a page).
  static std::byte* page_end(std::byte* p) noexcept { return static_cast<std::byte*>(ptr(align_up(addr(p), reclaim_page))); }

  ALLOY_SLOW_PATH void* allocate_unusual(std::size_t size, std::size_t align) noexcept {
    align = std::max(align, alignment);
    if (size <= classes::max_size && align - alignment <= classes::max_size - size) {
      // Over-aligned but small: a block with room to slide the start up to the alignment.
      const std::size_t c = classes::class_of(size + align - alignment);
      void* b = lists_[c].empty() ? refill(c) : links::pop(lists_[c], block_size_of(c), codec_);
      if (b == nullptr) return nullptr;
      void* p = ptr(align_up(addr(b), align));
      // From now on a pointer into this chunk may be inside a block: lock-free frees of its
      // blocks divide (cached_start_lookup). Marks are read without the lock: atomic.
      if (p != b) store_.mark(store_type::header_of(b), store_type::plain_mark);
      return p;
    }
    return allocate_large(size, align).block;
  }

  /// A block above the classes (or too aligned for them): in the large heap, else a chunk of
  /// its own — zero-filled when freshly taken from a source whose fresh chunks read as zeros.
  /// For a block that must read as zeros (`zeroed`, calloc's) no kept chunk is reused: a fresh
  /// one is zeros unwritten, so a large table the program writes in part stays resident in part.
  ALLOY_SLOW_PATH maybe_zeroed allocate_large(std::size_t size, std::size_t align, bool zeroed = false) noexcept {
    if constexpr (reclaims) reclaim_tick();
    if constexpr (has_large_heap) {
      if (size <= own_chunk_above) {
        if constexpr (layer_knows_zeroed<large_heap_type>) return large_.allocate_maybe_zeroed(size, align);
        else return {large_.allocate(size, align), false};
      }
    }
    if constexpr (keeps_own_chunks) {
      if (!zeroed)
        if (void* p = reuse_own_chunk(size, align)) return {p, false};
    }
    chunk_header* h = store_.take(size, align);
    if constexpr (keeps_own_chunks) {
      if (h == nullptr && expire_own_chunks(0) > 0) h = store_.take(size, align);  // refused: the kept ones go first
    }
    if (h == nullptr) return {};
    // Huge pages only for huge blocks, whichever heap serves the smaller ones: a chunk of a few
    // MiB is often written in part, and a touched huge page is resident whole (the hardened
    // library, whose blocks above 128 KiB are all chunks of their own: xz's 7-16 MiB buffers
    // huge-paged, peak RSS 32.5 -> 36.6 MiB for 8% of its CPU time; bench/programs).
    if (size >= huge_block_bytes) store_.prefer_huge_pages(h);
    h->kind = large_kind;
    h->block_size = size;
    // Handed out whole; defined, not just accessible: its bytes are what the source gave.
    make_defined(h->payload, store_type::payload_bytes_of(h));
    return {h->payload, source_zeroes_fresh_chunks<chunk_source>};
  }

  /// A block that is a chunk of its own (it starts the chunk's payload): kept while it holds
  /// `new_size` and is not mostly waste (behind guard pages: while it is `new_size`'s very
  /// pages); otherwise, over a source that remaps pages, the kernel grows it where it lies or
  /// moves its pages, and shrinks it where it lies.
  void* resize_own_chunk(chunk_header* h, void* p, std::size_t new_size) noexcept {
    const std::size_t usable = usable_size(p);
    if constexpr (remaps) {
      const bool other_pages = store_type::chunk_bytes(store_type::payload_offset_of(h), new_size) != h->bytes;
      if (new_size > usable || new_size < usable / 2 || (exact_own_chunks && other_pages)) {
        if (chunk_header* resized = store_.resize(h, new_size)) {
          make_defined(resized->payload, store_type::payload_bytes_of(resized));  // grown pages read as zeros
          return resized->payload;
        }
      }
    }
    return new_size <= usable ? p : nullptr;
  }

  std::array<free_list<codec_type>, classes::count> lists_{};  // hot: the fast path touches only these
  [[no_unique_address]] codec_type codec_{};
  std::array<bump_region, classes::count> bumps_{};
  store_type store_;
  [[no_unique_address]] large_heap_type large_;
  [[no_unique_address]] std::conditional_t<reclaims, reclaimer_type, no_reclaimer> reclaimer_;
  [[no_unique_address]] std::conditional_t<keeps_own_chunks, recent_chunks<kept_own_chunks>, no_kept_chunks> own_kept_;
};

}  // namespace alloy::detail
