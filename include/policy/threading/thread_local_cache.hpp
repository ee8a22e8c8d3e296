// thread_local_cache: each thread keeps free blocks per size class in front of one shared back
// end (the heap below behind an alloy::spin_mutex), so allocate and free take no lock and no
// atomic instruction on their fast path; the lock is taken once per batch of blocks.
//
//   thread 1: bins [16]: x x   [32]: x  ...   --+
//   thread 2: bins [16]: x     [32]: x x x ... --+--> refill / flush a batch, one lock --> heap
//   thread 3: ...                              --+        (a parcel of their addresses)
//
// The design, and why
// -------------------
// mimalloc and snmalloc give every block an *owner* thread (its page / slab) and send a block
// freed elsewhere home: mimalloc pushes it on the page's thread-free list with one CAS,
// snmalloc batches it into a message queue. They need that because their heaps are per
// thread. Alloy's back end is one heap per allocator instance, so a block belongs to the
// instance, not to a thread: a block freed by another thread (producer/consumer) simply joins
// the *freeing* thread's cache — no owner, no atomic, no lock; the fast path of every thread
// is the same few instructions whether the block is local or remote (tcmalloc's design).
// Blocks migrate in batches: a consumer's full bin copies its most recent batch's addresses
// into a parcel and parks it (up to 256 KiB of blocks per bin) beside the back end; a
// producer's empty bin copies a parked parcel in — tcmalloc's transfer cache
// (detail/transfer_cache.hpp): one lock per batch, and no block read or written on the way —
// or else takes a chain cut from the heap's class list, walked into the bin after the lock is
// let go. Parcels are parked by the parking thread's *home* and taken back from there first, so a thread that only
// wavers between giving blocks back and taking them gets its own blocks again, in cache lines
// no other core writes (the one place where Alloy keeps mimalloc's thread affinity). The
// cost: memory cached per thread is bounded per bin (BlocksPerClass blocks, at most ~128 KiB),
// not zero.
//
// What the cache sees of the design
// ---------------------------------
// The layer reads the composition through `Inner::config`: its bins *are* the heap's size
// classes (one rounding: a request's class is computed once, and the block a bin holds is the
// block the heap would give), it serves every alignment those classes serve (the composition's
// `align<N>`), and its bookkeeping — each thread's bins — is a block of the heap itself, so it
// comes from the composition's memory source: over a `static_arena` nothing calls the system.
// A reclaiming heap may also ask it to cache none of a class for a while (caches_none): one
// whose memory is mostly free, where reuse by recency would keep every page of it in use.
//
// Correctness where naive designs fail
// ------------------------------------
// - Instances: each instance has a never-reused 64-bit id. A thread keeps a few (id, cache)
//   slots in static thread-local storage; the fast path compares the current slot's id with
//   the instance's. The live instances of one allocator type are listed under one process-wide
//   lock, which is taken only on a thread's first use of an instance and at thread exit.
// - Thread exit: a thread_local object's destructor gives every cached block back to its
//   instance — if the instance is still listed — and frees the cache, under that lock.
// - Instance destroyed (or released) while threads run: it leaves the list under the lock and
//   its caches die with its memory; a thread's slot for it is never dereferenced again, since
//   the id is not listed any more and ids are never reused.
// - Re-entry (a malloc replacement whose TLS setup calls malloc) and use from thread_local
//   destructors after the slots are gone both fall back to the locked back end.
//
// Bins are arrays: a bin holds its blocks as pointers in the cache (bin), so its pop and push
// read and write no block, and a cached block holds no link a write after free could forge.
// Between threads a batch travels as a parcel of addresses; links are written only where a
// batch goes back to the heap's class list or comes from it, as a chain — per batch, not per
// block (tcmalloc's per-CPU slabs are arrays for the same reasons). Hardening: parcels and
// chains are encoded with the composition's link codec, so with P::hardened they are checked
// as the heap's links are; a bin stops a block freed twice in a row against its newest block
// (one compare), and with the double-free scan against all of its blocks. Each thread keeps a copy of the
// heap's codec (its secret and the span of the heap's chunks, adopted under the lock) to link
// and walk chains without the lock; a link outside the copy's span is checked against the
// heap's span before it is reported. Needs a heap that publishes its codec
// (shares_link_codec); unhardened, the codec is the identity and costs nothing.
//
// Unsized free: when the heap can tell a block's class from the block alone, without its lock
// (segregated fit: the chunk header found by masking), an unsized free is a cached free too.
// Its fast half (deallocate_cached) takes the pointer as the block's start where the heap says
// that needs no division (cached_start_lookup); a pointer into a block takes the slow half.
// Everything else — over-aligned requests, sizes above the largest class, reallocate of
// large blocks — goes to the locked back end.
//
// Fast path: 22 instructions per allocate + free pair of a size known at compile time, loop
// excluded (bench/threading counts them with callgrind; single_thread: 10, both including the
// facade's null test of sized free). Hardened: 24 (single_thread hardened: 20): the 2 added
// are the double-free compare with the bin's newest block; no link is encoded or decoded on
// the fast path (docs/policies/hardening.md). What the 22 are: per operation the instance
// test (load the id, compare with the thread's slot, branch), the cache's address, and the
// bin's top loaded, compared with its floor or ceiling, moved and stored, with the block read
// or written there. `one_instance` (a type with one live instance: the process heap's) keeps
// each thread's cache in static TLS and drops the instance test and the slot's load: 14
// (hardened 16). How an unattached cache stays sound without a test is told at bin,
// push_to_own and deallocate_cached.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>

#include "../detail/cached_classes.hpp"
#include "../detail/config.hpp"
#include "../detail/free_list.hpp"
#include "../detail/hardened_list.hpp"
#include "../detail/heap_layer.hpp"
#include "../detail/math.hpp"
#include "../detail/report_error.hpp"
#include "../detail/transfer_cache.hpp"
#include "concept.hpp"
#include "locked.hpp"
#include "spin_mutex.hpp"

namespace alloy {
namespace detail {

/// Ids of allocator instances for the thread caches: never reused and never 0, the id that
/// zero-filled storage holds before an instance is built there; a thread with no cache holds
/// all ones, which no instance gets either (thread_cache_layer::no_instance).
inline std::atomic<std::uint64_t> next_cache_instance_id{1};

template <class Inner, std::size_t BlocksPerClass, std::size_t Batch, bool OneInstance>
class thread_cache_layer : cached_classes<Inner> {
 public:
  using config = typename Inner::config;

 private:
  using cached = cached_classes<Inner>;
  using typename cached::classes;
  using cached::alignment, cached::cached_max, cached::bin_count, cached::block_size, cached::cacheable;
  using back_end_type = locked_layer<Inner, spin_mutex>;
  /// Bytes one bin may hold before it gives a batch back (small bins are capped by count).
  /// 128 KiB: a batch (half a bin) of a 1–4 KiB class is then 16–21 blocks, tcmalloc's
  /// batch for those sizes. At 32 KiB it was 4–16, and a program that churns such blocks
  /// across threads paid a lock and a chain walk every few frees: the python_threads trace
  /// replayed at 37 ns per pair against mimalloc's 30, and at 26 with 128 KiB (same run);
  /// perl's trace 31 → 26.5. A thread then caches at most 64 blocks of each class up to 2 KiB
  /// and 128 KiB of each above: 1.29 MiB of the preload library's 28 classes (0.56 before).
  static constexpr std::size_t bin_byte_limit = std::size_t{128} << 10;
  /// Blocks bin `c` holds when full: BlocksPerClass, or fewer where that many would pass
  /// bin_byte_limit, and at least two. A table (a lambda fills it) since the cache's slot
  /// array below is sized from it inside this class.
  static constexpr auto bin_limits = [] {
    std::array<std::uint32_t, bin_count == 0 ? 1 : bin_count> limits{};
    for (std::size_t c = 0; c < bin_count; ++c)
      limits[c] = static_cast<std::uint32_t>(std::clamp<std::size_t>(bin_byte_limit / block_size(c), 2, BlocksPerClass));
    return limits;
  }();
  static constexpr std::uint32_t limit_of(std::size_t c) noexcept { return bin_limits[c]; }
  /// Where bin `c`'s slots start in a cache's slot array (slot_starts[bin_count]: the array's
  /// length): each bin is a null sentinel, then its limit_of(c) slots.
  static constexpr auto slot_starts = [] {
    std::array<std::size_t, bin_count + 1> at{};
    std::size_t n = 0;
    for (std::size_t c = 0; c < bin_count; ++c) {
      at[c] = n + 1;
      n += 1 + bin_limits[c];
    }
    at[bin_count] = n;
    return at;
  }();
  /// At most one instance of this type lives at a time (thread_local_cache::one_instance): a
  /// thread's cache sits in its static TLS and the fast path tests no instance id.
  static constexpr bool one_instance = OneInstance;
  /// The heap can name a block's class without its lock (see the header comment).
  static constexpr bool lock_free_lookup = requires(const Inner& heap, const void* p) { heap.cached_lookup(p); };
  /// one_instance over a heap that names a block's class by a byte, its chunk's mark (segregated
  /// fit's cached_start_mark): the thread's bins are indexed by that byte, one for each of the
  /// 256 — those of no class stay null, so full, and a free of such a block takes the slow
  /// path — and an unsized free neither subtracts the offset nor tests the range: the process
  /// free 18 -> 15 instructions, while malloc adds the offset to its class, 14 -> 15 (g++ does
  /// not fold it into the addresses). The 256 tops, floors and ceilings cost 6 KiB of static
  /// TLS, of which a thread touches the lines of its classes.
  static constexpr bool bins_by_mark = [] {
    if constexpr (one_instance && requires(const Inner& heap, const void* p) {
                    { heap.cached_start_mark(p) } -> std::same_as<std::uint8_t>;
                  })
      return Inner::marks_class_chunks && Inner::class_mark_offset + bin_count <= 256;
    else
      return false;
  }();
  /// Where bin 0 sits in a cache's arrays: the mark of class 0 when bins_by_mark.
  static constexpr std::size_t bin_base = [] {
    if constexpr (bins_by_mark) return Inner::class_mark_offset;
    else return std::size_t{0};
  }();

  // Hardening: a cached block holds no link (a bin is an array of pointers), so a write after
  // free into one redirects nothing; a block freed twice in a row is caught against the bin's
  // newest block, and with the double-free scan against every block of the bin. The parcels a
  // flush parks and the chains it gives back to the heap (or a refill takes from it) are encoded
  // as the heap links its free blocks: through the composition's link codec, checked when read.
  using hardening = typename config::hardening;
  static constexpr bool encodes_links = hardening::encodes_links;
  /// The codec of what the heap reads (parked parcels, chains given back): the heap's own
  /// (shares_link_codec, alloc/detail/compatibility.hpp) when links are encoded, else plain.
  using heap_codec = std::conditional_t<encodes_links, typename hardening::link_codec, plain_links>;
  static const heap_codec& links_of(const Inner& heap) noexcept {
    if constexpr (encodes_links) {
      return heap.link_codec();
    } else {
      static constexpr plain_links plain{};
      return plain;
    }
  }

  /// A thread's copy of the heap's codec, read with no lock: the heap's secret, and the span of
  /// the heap's chunks as it was when the copy last looked (adopt, under the back end's lock).
  /// A thread links a batch it gives back to the heap into a chain, and walks the chain a
  /// refill took from the heap after letting the lock go, with this copy. A block another thread freed may come from a chunk taken since, so a link
  /// outside the copy's span is checked again against the heap's before it is called corrupt —
  /// a cold path, once per new chunk at most; a forged link fails both and stops the program.
  class cache_codec {
   public:
    ALLOY_FAST_PATH void* encode(void* next, void* slot) const noexcept { return own_.encode(next, slot); }
    ALLOY_FAST_PATH void* decode(void* stored, void* slot) const noexcept {
      return own_.decode(stored, slot, *this);  // outside the copy's span: operator() below
    }
    /// A link outside the copy's span: look at the heap's span again (cold), under the back
    /// end's lock (this codec is used only outside it).
    ALLOY_SLOW_PATH void* operator()(void* slot, std::uintptr_t decoded) const noexcept {
      owner_->back_end_.with_lock([&](Inner& heap) noexcept { own_.adopt(links_of(heap)); });
      return own_.checked(slot, decoded);  // reports a link outside the heap's own span
    }

    /// Made for `owner`'s cache: the heap's secret before the first link is encoded.
    void bind(thread_cache_layer& owner) noexcept {
      owner_ = &owner;
      owner.back_end_.with_lock([&](Inner& heap) noexcept { own_.adopt(links_of(heap)); });
    }

   private:
    mutable heap_codec own_{typename heap_codec::adopting_t{}};  // bind() adopts the heap's secret
    thread_cache_layer* owner_ = nullptr;
  };
  /// The codec of the chains a cache links and walks: no bytes and no instructions unless links are encoded.
  using chain_codec = std::conditional_t<encodes_links, cache_codec, plain_links>;
  using chain_links = hardened_list<hardening, heap_codec>;
  /// Parked parcels are encoded with the heap's codec: the heap may read them back.
  using transfer_slot = detail::transfer_slot<heap_codec>;
  using parcel_stack = detail::parcel_stack<heap_codec>;

  /// A bin: its class's cached blocks as a stack of pointers in the thread's cache, [floor,
  /// top), the newest on top; ceiling - floor is the bin's limit now. No block holds a link while
  /// cached, so a pop reads no block memory (a block another core freed costs its miss when the
  /// caller uses it, not on the path that finds it) and a write after free redirects nothing.
  /// The slot under floor is a null sentinel: the double-free test compares a freed block with
  /// top[-1], in an empty bin too. Zero-filled (all three null), a bin is empty and full at
  /// once: every pop and push takes the slow path — an unattached cache's bins (see cache).
  /// A cached block is poisoned but for its first word under a memory checker, as a heap's free
  /// block is: a flush writes its link there.
  struct bin {
    void**& top;
    void** const& floor;
    void**& ceiling;

    ALLOY_FAST_PATH bool empty() const noexcept { return top == floor; }
    ALLOY_FAST_PATH bool full() const noexcept { return top == ceiling; }
    std::size_t count() const noexcept { return static_cast<std::size_t>(top - floor); }
    std::size_t limit() const noexcept { return static_cast<std::size_t>(ceiling - floor); }
    /// The bin holds at most `n` blocks from now on (it holds no more now).
    void set_limit(std::size_t n) noexcept { ceiling = floor + n; }

    /// The newest block (the bin is not empty), handed out: accessible for its `bytes`.
    ALLOY_FAST_PATH void* pop(std::size_t bytes) noexcept {
      void* p = *--top;
      // Never null (nothing pushes null): said, so that callers drop their own null tests of
      // the block (allocate's, and the sized free's of the same pointer after it).
      if (p == nullptr) __builtin_unreachable();
      unpoison(p, bytes);
      // The scan recognises a free block by its first word: a live one must not look free.
      if constexpr (hardening::scans_double_free) *static_cast<void**>(p) = nullptr;
      return p;
    }
    /// `p` (of `bytes`) onto the bin, which is not full.
    ALLOY_FAST_PATH void push(void* p, std::size_t bytes) noexcept {
      if constexpr (hardening::checks_double_free) {
        if (p == top[-1]) [[unlikely]] report_double_free(p);
        if constexpr (hardening::scans_double_free) {
          if (std::find(floor, top, p) != top) [[unlikely]] report_double_free(p);
        }
      }
      *top++ = p;
      poison_free(p, bytes, free_list<chain_codec>::link_bytes);
    }

    /// The newest `n` blocks (n <= count()) leave the bin as one chain, linked through `codec`:
    /// the newest at its head, as a list of them would be.
    block_chain cut(std::size_t n, const chain_codec& codec) noexcept {
      void** const from = top - n;
      for (void** s = from; s != top; ++s) {
        void* next = s == from ? nullptr : s[-1];
        *static_cast<void**>(*s) = codec.encode(next, *s);
      }
      const block_chain chain{top[-1], *from};
      top = from;
      return chain;
    }
    /// An empty bin takes a chain of at most limit() blocks (linked through `codec`, which
    /// checks each link) in its order: the chain's head is popped first.
    void fill(void* chain, const chain_codec& codec) noexcept {
      free_list<chain_codec> list;
      list.splice(chain);
      while (!list.empty() && top != ceiling) *top++ = list.pop(codec);
      std::reverse(floor, top);
    }
  };

  /// One thread's cache for one instance: a block of the instance's own heap. The codec (empty
  /// unless links are encoded) and the bins first: the fast path touches only them. The bins
  /// are parallel arrays, not an array of {top, floor, ceiling}: a class's top is then at
  /// tops + 8 * class, one scaled index, where 24-byte bins took a multiply and an add on every
  /// malloc and free whose class is known only at run time.
  struct cache {
    static constexpr std::size_t bins = bins_by_mark ? 256 : bin_count == 0 ? 1 : bin_count;
    [[no_unique_address]] chain_codec codec;
    std::array<void**, bins> tops{};
    std::array<void**, bins> floors{};
    std::array<void**, bins> ceilings{};
    cache* prev = nullptr;  // in the instance's list of caches (under instances_mutex_)
    cache* next = nullptr;
    std::size_t home = 0;  // where its flushes park parcels (transfer_slot)
    bool attached = false;  // in its instance's list; one_instance's slow paths test it
    std::uint32_t concentration_epoch = 0;  // the heap's, when this cache last fitted its bins (follow_heap)
    std::array<void*, slot_starts[bin_count]> slots{};  // the bins' pointers, each after its null sentinel

    ALLOY_FAST_PATH bin bin_at(std::size_t index) noexcept {
      return {tops[bin_base + index], floors[bin_base + index], ceilings[bin_base + index]};
    }

    /// A cache no instance has (one_instance's thread cache before its first use, and after its
    /// instance went away): zero-filled bins, empty and full at once, so that the fast path's
    /// pop and push both lead to the slow path, which attaches the cache (own_full).
    struct unattached_t {};
    cache() = default;
    constexpr explicit cache(unattached_t) noexcept { detach(); }
    constexpr void detach() noexcept {
      tops.fill(nullptr);
      floors.fill(nullptr);
      ceilings.fill(nullptr);
      prev = next = nullptr;
      attached = false;
    }
    /// Empty bins over the slots, each of its full limit.
    void lay_out() noexcept {
      for (std::size_t i = 0; i < bin_count; ++i) {
        slots[slot_starts[i] - 1] = nullptr;  // the sentinel
        floors[bin_base + i] = tops[bin_base + i] = &slots[slot_starts[i]];
        ceilings[bin_base + i] = floors[bin_base + i] + limit_of(i);
      }
    }
  };

  static constexpr std::uint64_t no_instance = ~std::uint64_t{0};
  struct slot {
    std::uint64_t id = no_instance;
    cache* caches = nullptr;
  };
  static constexpr std::size_t slots_per_thread = 8;

  /// Its destructor runs at thread exit and gives the thread's caches back.
  struct thread_exit {
    thread_exit() noexcept { exit_armed_ = true; }
    ~thread_exit() {
      slot last = current_;
      current_ = {};
      exit_armed_ = false;
      exited_ = true;
      if constexpr (one_instance) drop(last);  // the thread's one cache: own_
      else
        for (slot& s : slots_) drop(s);
    }
  };

 public:
  static constexpr bool is_thread_safe = true;
  /// The heap moves a batch whole (segregated fit: take_chain, give_chain), so a refill or a
  /// flush past the transfer cache is a walk along the links and a few pointer moves under the
  /// lock, not a pop and a push per block. A test states which heaps do: a member the layer
  /// cannot reach (once, a private one) makes this false, and the per-block path would run.
  static constexpr bool moves_chains = requires(Inner& heap, std::size_t c, std::size_t& taken, const block_chain& chain) {
    heap.take_chain(c, c, taken);
    heap.give_chain(c, chain);
  };
  static constexpr complexity alloc_complexity = Inner::alloc_complexity;
  static constexpr complexity free_complexity = Inner::free_complexity;
  static constexpr std::size_t max_class_size = Inner::max_class_size;
  thread_cache_layer() noexcept {  // NOLINT(cppcoreguidelines-pro-type-member-init): id_, see there
    if constexpr (one_instance) {
      // Two live instances would share every thread's cache: one's blocks handed out by the other.
      if (one_alive_.exchange(true, std::memory_order_relaxed)) report_second_instance();
    }
    set_new_id();
    std::lock_guard guard(instances_mutex_);
    next_instance_ = instances_;
    instances_ = this;
  }
  thread_cache_layer(const thread_cache_layer&) = delete;
  thread_cache_layer& operator=(const thread_cache_layer&) = delete;
  ~thread_cache_layer() {
    std::lock_guard guard(instances_mutex_);
    for (thread_cache_layer** link = &instances_; *link != nullptr; link = &(*link)->next_instance_) {
      if (*link == this) {
        *link = next_instance_;
        break;
      }
    }
    forget_caches();  // their memory goes with the heap
    if constexpr (one_instance) one_alive_.store(false, std::memory_order_relaxed);
  }

  ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    if (align <= alignment) [[likely]] {
      if (void* p = allocate_cached(size)) [[likely]] return p;
    }
    return allocate_slow(size, align);
  }

  /// The fast half of allocate, for a caller with a slow path of its own (the process malloc):
  /// a block of at least `size` bytes (1 <= size) from the calling thread's bin, or nullptr
  /// when it takes more — a size the bins do not hold, an empty bin, no cache yet — and the
  /// caller's slow path calls allocate(). Inlined there it is a leaf: no stack frame, no saved
  /// register, and the slow path is a tail call.
  ///
  /// Safe on zero-filled storage where no instance has been built yet (the process heap before
  /// its first call), as is deallocate_cached: the first thing either reads of the instance is
  /// its id, 0 there, which no thread's slot holds. The caller then needs no "built?" test.
  ALLOY_FAST_PATH void* allocate_cached(std::size_t size) noexcept {
    if constexpr (one_instance) {
      // No instance test: the thread's cache holds blocks only while attached to the one
      // instance, and an unattached one's bins are empty.
      if (size - 1 < cached_max) [[likely]] {
        const std::size_t index = classes::class_of(size);
        bin b = own_.bin_at(index);
        if (!b.empty()) [[likely]] return b.pop(block_size(index));
      }
      return nullptr;
    }
    if (size - 1 < cached_max && current_.id == id()) [[likely]] {
      const std::size_t index = classes::class_of(size);
      cache* c = current_.caches;
      bin b = c->bin_at(index);
      if (!b.empty()) [[likely]] return b.pop(block_size(index));
    }
    return nullptr;
  }

  maybe_zeroed allocate_maybe_zeroed(std::size_t size, std::size_t align) noexcept
    requires layer_knows_zeroed<Inner>
  {
    return cached::allocate_maybe_zeroed(*this, back_end_, size, align);
  }

  ALLOY_FAST_PATH void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    if (cacheable(size, align)) [[likely]] return cache_free(p, classes::class_of(size));
    back_end_.deallocate(p, size, align);
  }

  /// Unsized: cached too when the heap names the block's class without its lock.
  void deallocate(void* p) noexcept {
    if (deallocate_cached(p) || cache_free_any(p)) [[likely]] return;
    back_end_.deallocate(p);
  }

  /// The fast half of try_deallocate, for a caller with a slow path of its own (the process
  /// free): true when `p` went to the calling thread's bin — the start of a class block of
  /// this instance, found without a lock — false when it takes more (no cache yet, a pointer
  /// into a block, a large or foreign block, null) and the caller's slow path calls
  /// try_deallocate(). Safe on an instance not built yet, as allocate_cached is.
  ALLOY_FAST_PATH bool deallocate_cached(void* p) noexcept {
    if constexpr (lock_free_lookup) {
      if constexpr (one_instance) {
        // No test of the cache first: the heap's lookup finds no class in a heap not built yet
        // (its page map has no leaf), and an unattached cache's bins are full. A full bin is
        // the caller's slow path too (try_deallocate_slow), which keeps this half a leaf.
        if constexpr (bins_by_mark) {
          // Every byte has a bin; one of no class is full (see bins_by_mark). Unsigned: the
          // index wraps below bin 0, and bin_at adds bin_base back.
          return push_if_room(own_, p, std::size_t{back_end_.unlocked().cached_start_mark(p)} - bin_base);
        } else {
          const auto found = back_end_.unlocked().cached_start_lookup(p);
          if (found.size_class < bin_count) [[likely]] return push_if_room(own_, p, found.size_class);
        }
      } else if (current_.id == id()) [[likely]] {  // first: current_.caches is this instance's
        const auto found = back_end_.unlocked().cached_start_lookup(p);
        if (found.size_class < bin_count) [[likely]] {
          push_to_bin(*current_.caches, p, found.size_class);
          return true;
        }
      }
    }
    return false;
  }

  /// The fast half of a sized free of the alignment the classes serve, for a caller with a slow
  /// path of its own (the process library's sized operator delete): true when `p` (of `size`
  /// bytes) went to the calling thread's bin; false when it takes deallocate(p, size, align) —
  /// a null `p`, a size the bins do not hold, no cache yet. Safe on an instance not built yet,
  /// as allocate_cached is.
  ALLOY_FAST_PATH bool deallocate_cached(void* p, std::size_t size) noexcept {
    if constexpr (one_instance) {
      // As the unsized free: no test of the cache (an unattached one's bins are full), and a
      // full bin is the caller's slow path, so the process library's sized operator delete
      // stays a leaf (push_to_own's way back out would keep `p` and the size in saved registers).
      if (p != nullptr && size - 1 < cached_max) [[likely]] return push_if_room(own_, p, classes::class_of(size));
      return false;
    }
    if (p != nullptr && size - 1 < cached_max && current_.id == id()) [[likely]] {
      push_to_bin(*current_.caches, p, classes::class_of(size));
      return true;
    }
    return false;
  }

  /// Frees `p` if this instance handed it out: one lookup where owns() and deallocate() make
  /// two. A class block goes to the thread's bin with no lock; the rest is decided under it.
  ALLOY_FAST_PATH bool try_deallocate(void* p) noexcept { return deallocate_cached(p) || try_deallocate_slow(p); }

  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    return cached::reallocate(*this, back_end_, p, old_size, new_size, align);
  }

  /// Lock-free for the heap's class blocks (and for most foreign pointers) when the heap can
  /// look a block up without its lock; the rest asks the back end under its lock.
  bool owns(const void* p) const noexcept {
    if constexpr (lock_free_lookup) {
      if (back_end_.unlocked().cached_lookup(p).size_class < bin_count) return true;
    }
    return back_end_.owns(p);
  }
  std::size_t usable_size(const void* p) const noexcept {
    if constexpr (lock_free_lookup) {
      const auto found = back_end_.unlocked().cached_lookup(p);
      if (found.size_class < bin_count) return block_size(found.size_class) - static_cast<std::size_t>(addr(p) - addr(found.block));
    }
    return back_end_.usable_size(p);
  }
  /// Pre-allocation in the back end, for the very block size the caches will ask for.
  bool reserve(std::size_t size, std::size_t count) noexcept {
    return back_end_.reserve(size != 0 && cacheable(size, alignment) ? block_size(classes::class_of(size)) : size, count);
  }

  /// Every chunk back to the source; every thread's cached blocks die with them.
  void release() noexcept {
    {
      std::lock_guard guard(instances_mutex_);
      forget_caches();
      set_new_id();
    }
    back_end_.with_lock([&](Inner&) noexcept {
      transfers_ = {};  // their blocks die with the chunks
    });
    back_end_.release();
  }

  /// The heap's figures after the calling thread's cache and the parked parcels went back to
  /// it: exact once every other thread that used this instance has exited.
  heap_metrics metrics() const noexcept {
    auto* self = const_cast<thread_cache_layer*>(this);
    if (cache* c = self->find_cache(); c != nullptr) self->flush_all(*c);
    self->back_end_.with_lock([&](Inner& heap) noexcept { self->drain_transfers(heap); });
    return back_end_.metrics();
  }

  /// The back end is well formed, and so are the parked parcels and the calling thread's cache.
  bool invariant() const noexcept {
    if (!back_end_.invariant()) return false;
    const bool parked_ok = back_end_.with_lock([&](Inner& heap) noexcept {
      for (std::size_t i = 0; i < bin_count; ++i) {
        const transfer_slot& t = transfers_[i];
        if (t.count() > max_parked(i)) return false;
        for (const parcel_stack& home : t.homes) {
          std::size_t parcels = 0;
          for (void** parcel = home.top; parcel != nullptr && parcels <= home.count;
               parcel = home.next_parcel(parcel, links_of(heap)), ++parcels) {
            if (!heap.owns(parcel)) return false;
            for (std::size_t k = 0; k < batch_of(i); ++k) {
              void* p = detail::parcel_block(parcel, k, links_of(heap));
              if (p == nullptr || !heap.owns(p)) return false;
            }
          }
          if (parcels != home.count) return false;
        }
      }
      return true;
    });
    if (!parked_ok) return false;
    cache* c = const_cast<thread_cache_layer*>(this)->find_cache();
    if (c == nullptr) return true;
    for (std::size_t i = 0; i < bin_count; ++i) {
      const bin b = c->bin_at(i);
      if (b.floor != &c->slots[slot_starts[i]] || b.floor[-1] != nullptr) return false;
      if (b.top < b.floor || b.ceiling < b.top || b.limit() > limit_of(i)) return false;
      if (!std::all_of(b.floor, b.top, [&](void* p) { return back_end_.owns(p); })) return false;
    }
    return true;
  }

  /// Everything the heap can give back to the system, now (a reclaiming heap only): the
  /// calling thread's cache and the parked parcels go back to the heap first. Other threads'
  /// caches stay theirs (at most ~128 KiB per bin each) until they flush or exit.
  std::size_t trim() noexcept
    requires requires(Inner& heap) { heap.trim(); }
  {
    cache* c = find_cache();
    return back_end_.with_lock([&](Inner& heap) noexcept {
      if (c != nullptr) give_back(heap, *c);
      drain_transfers(heap);
      const std::size_t done = heap.trim();
      if (c != nullptr) {  // empty now: each bin takes the size its class wants after the sweeps
        for (std::size_t i = 0; i < bin_count; ++i) c->bin_at(i).set_limit(limit_for(heap, i));
      }
      return done;
    });
  }

  /// One bounded step of a reclaiming heap's work, under the back end's lock: for a caller
  /// with no slow path of its own (the preload library's background reclaimer).
  void reclaim_tick() noexcept
    requires requires(Inner& heap) { heap.reclaim_tick(); }
  {
    back_end_.with_lock([](Inner& heap) noexcept { heap.reclaim_tick(); });
  }

  /// The parcel parked last on the calling thread's home for blocks of `size` bytes, or null:
  /// where an attacker's write would forge its words (tests/hardening/attacks.cpp does).
  void** last_parked(std::size_t size) noexcept {
    cache* c = find_cache();
    if (c == nullptr || !cacheable(size, alignment)) return nullptr;
    return back_end_.with_lock([&](Inner&) noexcept { return transfers_[classes::class_of(size)].homes[c->home].top; });
  }

  /// Parcels parked in the transfer cache for blocks of `size` bytes, over every home: tests
  /// prove with it that batches travel between threads (or CPUs) as parcels.
  std::size_t parcels_parked(std::size_t size) noexcept {
    if (!cacheable(size, alignment)) return 0;
    return back_end_.with_lock([&](Inner&) noexcept { return transfers_[classes::class_of(size)].count(); });
  }

  /// Locked access to the heap below: `f(heap)` runs with the back end's lock held.
  template <class F>
  decltype(auto) with_lock(F&& f) noexcept(noexcept(f(std::declval<Inner&>()))) {
    return back_end_.with_lock(static_cast<F&&>(f));
  }
  /// The heap below behind a lock held while the returned handle lives.
  auto lock() noexcept { return back_end_.lock(); }

  /// The batches of a cache in front of this layer whose bins are not threads' (per_cpu_cache's
  /// per-CPU stacks) travel through this layer's transfer cache as the thread caches' do: one
  /// lock per batch, and a whole batch as a parcel, so a CPU's overflow reaches another CPU's
  /// refill — or a thread cache's — with no block touched. `home` spreads such callers over
  /// the transfer cache's homes (a CPU's number will do).
  ///
  /// Up to `want` blocks of bin `index`'s class into `out`, accessible: a parcel's when `want` is
  /// this layer's batch for the class and one is parked for `home`, else the heap's blocks.
  /// @returns how many (0: the heap has no memory).
  std::size_t take_batch(std::size_t index, std::size_t home, void** out, std::size_t want) noexcept {
    const std::size_t n = back_end_.with_lock([&](Inner& heap) noexcept -> std::size_t {
      reclaim_tick_of(heap);
      if (want == batch_of(index) && take_parcel(heap, index, home % transfer_slot::home_count, out)) return want;
      std::size_t got = 0;
      while (got < want && (out[got] = heap.allocate(block_size(index), alignment)) != nullptr) ++got;
      return got;
    });
    for (std::size_t i = 0; i < n; ++i) unpoison(out[i], block_size(index));  // a parcel's were cached
    return n;
  }
  /// `n` accessible blocks of bin `index`'s class back under one lock: parked on `home` as a
  /// parcel when they are a whole batch (and the class is not concentrating: caches_none),
  /// else to the heap.
  void give_batch(std::size_t index, std::size_t home, void* const* blocks, std::size_t n) noexcept {
    back_end_.with_lock([&](Inner& heap) noexcept {
      reclaim_tick_of(heap);
      if (n == batch_of(index) && !caches_none(heap, index) &&
          park_batch(heap, index, home % transfer_slot::home_count, blocks)) {
        // Cached now, as a bin's blocks are: poisoned but for the word a chain would link.
        for (std::size_t i = 0; i < n; ++i) poison_free(blocks[i], block_size(index), free_list<chain_codec>::link_bytes);
        return;
      }
      for (std::size_t i = 0; i < n; ++i) heap.deallocate(blocks[i], block_size(index), alignment);
    });
  }

  /// fork() in a process whose malloc this is (include/alloc/malloc_override.hpp registers
  /// these with pthread_atfork): the instance list's lock, then the back end's (the order a
  /// thread's exit takes them in), are held across fork so the child inherits neither taken.
  void prepare_fork() noexcept {
    instances_mutex_.lock();
    back_end_.prepare_fork();
  }
  void after_fork_parent() noexcept {
    back_end_.after_fork_parent();
    instances_mutex_.unlock();
  }
  void after_fork_child() noexcept { after_fork_parent(); }

  /// Thread caches of this allocator type alive now, over all threads and instances: tests
  /// prove with it that exiting threads and destroyed instances leave none behind.
  static std::size_t caches_alive() noexcept { return caches_alive_.load(std::memory_order_relaxed); }

 private:
  ALLOY_FAST_PATH void cache_free(void* p, std::size_t index) noexcept {
    if constexpr (one_instance) {
      if (push_to_own(p, index)) [[likely]] return;
    } else {
      if (current_.id == id()) [[likely]] return push_to_bin(*current_.caches, p, index);
    }
    free_slow(p, index);
  }
  /// The calling thread's cache serves this instance. (A function, so that a type of several
  /// instances never instantiates own_: it would cost every thread its bytes of static TLS.)
  ALLOY_FAST_PATH bool attached_here() const noexcept {
    if constexpr (one_instance) return own_.attached;
    else return current_.id == id();
  }
  /// The thread's cache, once attached_here() said it serves this instance.
  ALLOY_FAST_PATH cache& this_threads_cache() noexcept {
    if constexpr (one_instance) return own_;
    else return *current_.caches;
  }
  /// one_instance: `p` joins the thread's bin with no instance test; false when the cache
  /// turns out not to be attached to this instance (an unattached bin is always full), and the
  /// caller's slow path frees `p`.
  ALLOY_FAST_PATH bool push_to_own(void* p, std::size_t index) noexcept {
    return push_if_room(own_, p, index) || own_full(p, index);
  }
  ALLOY_SLOW_PATH bool own_full(void* p, std::size_t index) noexcept {
    if (!attached_here()) return false;
    bin_full(own_, p, index);  // an ordinary full bin
    return true;
  }
  ALLOY_FAST_PATH void push_to_bin(cache& c, void* p, std::size_t index) noexcept {
    if (!push_if_room(c, p, index)) [[unlikely]] bin_full(c, p, index);
  }
  /// `p` onto bin `index` of `c` unless the bin is full (an unattached cache's always is): the
  /// push every free path shares; what a full bin means is each caller's.
  ALLOY_FAST_PATH static bool push_if_room(cache& c, void* p, std::size_t index) noexcept {
    bin b = c.bin_at(index);
    if (b.full()) [[unlikely]] return false;
    b.push(p, block_size(index));
    return true;
  }
  /// A full bin gives a batch back (flush), then takes `p`; or `p` goes to the heap with it.
  ALLOY_SLOW_PATH void bin_full(cache& c, void* p, std::size_t index) noexcept {
    if (flush(c, index, p)) c.bin_at(index).push(p, block_size(index));
  }

  /// The heap's class of the blocks bin `index` holds, as the heap's calls by size name it (the
  /// bins' way back to the heap, block by block, is by size): the bin's own class, unless the
  /// composition's alignment rounds its blocks up to a larger class's size (align<32> over
  /// 16-byte classes: bins 0 and 1 both hold the heap's 32-byte class). Chains are taken from
  /// and given to this class, so a block always goes back to the class it came from.
  static constexpr std::size_t heap_class(std::size_t index) noexcept { return classes::class_of(block_size(index)); }

  /// Blocks moved per refill or flush: a batch, at most half a bin so a bin never ping-pongs.
  static constexpr std::size_t batch_of(std::size_t c) noexcept {
    return std::max<std::size_t>(1, std::min<std::size_t>(Batch, limit_of(c) / 2));
  }

  /// The heap wants none of this bin's blocks cached (the back end's lock held): a reclaiming
  /// heap's *concentrating* class (detail/class_reclaim.hpp), most of whose memory is free. A
  /// bin caches by recency — a block freed is the next one handed out — so the pages in use
  /// would never change; with a limit of 0 every free goes back to the heap, where it waits,
  /// and every allocation takes the heap's next block, from its fullest pages. The bin's
  /// limit is decided on each refill and flush, so it follows the heap both ways.
  static bool caches_none([[maybe_unused]] const Inner& heap, [[maybe_unused]] std::size_t index) noexcept {
    if constexpr (requires { heap.concentrating(index); }) return heap.concentrating(heap_class(index));
    else return false;
  }
  /// The limit an empty bin gets now (the back end's lock held).
  static std::uint32_t limit_for(const Inner& heap, std::size_t index) noexcept {
    return caches_none(heap, index) ? 0 : limit_of(index);
  }
  /// On each refill and flush (the back end's lock held): when a class began concentrating
  /// since this cache last looked, the bins of every concentrating class give their blocks
  /// back and shrink now, not at their own next refill or flush — a bin whose frees and
  /// allocations balance may not reach either for a long time — and the parcels parked for
  /// it go back too (the first cache to look sends them; none are parked for it meanwhile):
  /// the heap places its blocks, and its sweeps see their pages free. One compare when
  /// nothing began.
  void follow_heap([[maybe_unused]] Inner& heap, [[maybe_unused]] cache& c) noexcept {
    if constexpr (requires { heap.concentration_epoch(); }) {
      if (c.concentration_epoch == heap.concentration_epoch()) [[likely]] return;
      c.concentration_epoch = heap.concentration_epoch();
      for (std::size_t i = 0; i < bin_count; ++i) {
        if (!caches_none(heap, i)) continue;
        if (c.bin_at(i).limit() != 0) cache_none(heap, c, i);
        drain_parcels(heap, i);
      }
    }
  }
  /// Bin `index` gives every block it holds back to the heap and holds none from now on: empty
  /// and full at once, each pop and push of its class takes the slow path (caches_none; the
  /// back end's lock held).
  static void cache_none(Inner& heap, cache& c, std::size_t index) noexcept {
    bin b = c.bin_at(index);
    if (!b.empty()) give_to_heap(heap, b.cut(b.count(), c.codec), index);  // held back, as a flush's batch
    b.set_limit(0);
  }

  /// Out of line, so the fast path above needs no saved registers: a block freed through a
  /// pointer into it (an over-aligned request's) or by a thread with no cache yet still goes to
  /// a bin; the rest is decided under the lock. A null `p` ends here too: the page map finds no
  /// chunk for it, so the fast path needs no test of its own.
  ALLOY_SLOW_PATH bool try_deallocate_slow(void* p) noexcept { return cache_free_any(p) || back_end_.try_deallocate(p); }
  /// A class block, found through any pointer into it, to the thread's bin (made if need be).
  bool cache_free_any(void* p) noexcept {
    if constexpr (lock_free_lookup) {
      const auto found = back_end_.unlocked().cached_lookup(p);
      if (found.size_class < bin_count) {
        cache_free(found.block, found.size_class);
        return true;
      }
    }
    return false;
  }

  ALLOY_SLOW_PATH void* allocate_slow(std::size_t size, std::size_t align) noexcept {
    if (!cacheable(size, align)) return back_end_.allocate(size, align);
    const std::size_t index = classes::class_of(size);
    cache* c = current_or_new_cache();
    // Uncached, a block is still taken as its class's block: any thread's cache may get it back.
    if (c == nullptr) return back_end_.allocate(block_size(index), alignment);
    bin b = c->bin_at(index);
    return b.empty() ? refill(*c, index) : b.pop(block_size(index));
  }

  ALLOY_SLOW_PATH void free_slow(void* p, std::size_t index) noexcept {
    cache* c = current_or_new_cache();
    if (c == nullptr) return back_end_.deallocate(p, block_size(index), alignment);
    push_to_bin(*c, p, index);
  }

  /// One lock for a batch of blocks: a parcel parked for this thread's home (transfer_slot),
  /// its addresses copied into the bin — no block touched — else a chain cut from the heap's
  /// class list (take_chain: each link read once, one written), walked into the bin after the
  /// lock is let go, or block by block from a heap without chains. A concentrating class
  /// (caches_none) takes the heap's next block for the caller alone.
  /// @returns a block for the caller (popped from the refilled bin), or nullptr.
  void* refill(cache& c, std::size_t index) noexcept {
    bin b = c.bin_at(index);
    void* single = nullptr;
    void* chain = back_end_.with_lock([&](Inner& heap) noexcept -> void* {
      follow_heap(heap, c);
      b.set_limit(limit_for(heap, index));  // the bin is empty: all its room
      void* taken = nullptr;
      if (b.limit() == 0) {
        single = heap.allocate(block_size(index), alignment);
      } else if (take_parcel(heap, index, c.home, b.top)) {
        b.top += batch_of(index);
      } else if constexpr (moves_chains) {
        std::size_t length = 0;
        taken = heap.take_chain(heap_class(index), batch_of(index), length);  // the heap's links are the chains'
      } else {
        for (std::size_t i = 0; i < batch_of(index); ++i) {
          void* block = heap.allocate(block_size(index), alignment);
          if (block == nullptr) break;
          b.push(block, block_size(index));
        }
      }
      reclaim_tick_of(heap);
      return taken;
    });
    if (chain != nullptr) b.fill(chain, c.codec);
    if (single != nullptr) return single;
    return b.empty() ? nullptr : b.pop(block_size(index));
  }

  /// A full bin gives its newest batch back: parked as a parcel on the thread's home for the
  /// next refill of that bin — its own, or a producer's — so a producer/consumer pair trades
  /// parcels, not blocks (park). Past the bound, or where the heap holds no parcel, the batch
  /// goes back to the heap as a chain — whole where the heap takes chains (give_chain), else
  /// block by block. A concentrating class's bin (caches_none) gives every block back to the
  /// heap, and `freed` (the block whose push found the bin full) with them.
  /// @returns whether the bin has room now; if not, `freed` went to the heap.
  ALLOY_SLOW_PATH bool flush(cache& c, std::size_t index, void* freed) noexcept {
    bin b = c.bin_at(index);
    const std::size_t cut = std::min(batch_of(index), b.count());  // the batch: a full bin holds more
    return back_end_.with_lock([&](Inner& heap) noexcept {
      follow_heap(heap, c);
      const bool none = caches_none(heap, index);
      if (none) {
        cache_none(heap, c, index);  // a whole bin until now: it all goes
        give_to_heap(heap, chain_of_one(heap, freed, index), index);
      } else if (cut != 0 && !park(heap, c, index, cut)) {
        give_to_heap(heap, b.cut(cut, c.codec), index);
      }
      if (!none) b.set_limit(limit_of(index));  // a whole bin again if the class stopped concentrating
      reclaim_tick_of(heap);
      return !none;
    });
  }
  /// Bin `index`'s newest `cut` blocks leave as a parcel parked on the thread's home: a whole
  /// batch, within the bound, in a parcel the heap gave (the back end's lock held). False when
  /// any of those fails: the blocks stay in the bin.
  bool park(Inner& heap, cache& c, std::size_t index, std::size_t cut) noexcept {
    bin b = c.bin_at(index);
    if (cut != batch_of(index) || !park_batch(heap, index, c.home, b.top - cut)) return false;
    b.top -= cut;
    return true;
  }
  /// A whole batch of bin `index`'s blocks, the addresses at `from`, parked on `home` in a
  /// parcel the heap gives (the back end's lock held). False where the class parks nothing,
  /// the bound is reached or the heap has no parcel: the blocks stay where they are.
  bool park_batch(Inner& heap, std::size_t index, std::size_t home, void* const* from) noexcept {
    transfer_slot& t = transfers_[index];
    if (!parks(index) || t.count() >= max_parked(index)) return false;
    auto** parcel = static_cast<void**>(heap.allocate(parcel_bytes(index), alignof(void*)));
    if (parcel == nullptr) return false;
    detail::pack(parcel, from, batch_of(index), links_of(heap));
    t.park(home, parcel, links_of(heap));
    return true;
  }
  /// A parcel parked for `home` (its own, or a pile elsewhere: transfer_slot::take): its batch
  /// of bin `index`'s blocks copied to `to`, and the parcel back to the heap (the back end's
  /// lock held). False when none is there for it.
  bool take_parcel(Inner& heap, std::size_t index, std::size_t home, void** to) noexcept {
    void** parcel = transfers_[index].take(home, links_of(heap));
    if (parcel == nullptr) return false;
    detail::unpack(parcel, to, batch_of(index), links_of(heap));
    heap.deallocate(parcel, parcel_bytes(index), alignof(void*));
    return true;
  }
  /// `p` (a block of bin `index`'s class, in use until now) as a chain of its own (the back
  /// end's lock held): what the heap takes back as it takes a flushed batch.
  static block_chain chain_of_one(Inner& heap, void* p, std::size_t index) noexcept {
    poison_free(p, block_size(index), free_list<chain_codec>::link_bytes);
    *static_cast<void**>(p) = links_of(heap).encode(nullptr, p);
    return {p, p};
  }
  /// A chain cut from a bin back to the heap (the back end's lock held): whole where the heap
  /// takes chains (give_chain), as take_chain took it; else block by block.
  static void give_to_heap(Inner& heap, const block_chain& chain, std::size_t index) noexcept {
    if constexpr (moves_chains) heap.give_chain(heap_class(index), chain);
    else give_chain_back(heap, chain.head, index);
  }

  /// A refill or flush is this layer's slow path: a reclaiming heap makes progress there (the
  /// back end's lock held), since the thread's fast paths never reach it.
  static void reclaim_tick_of([[maybe_unused]] Inner& heap) noexcept {
    if constexpr (requires { heap.reclaim_tick(); }) heap.reclaim_tick();
  }

  /// Every block of a cache back to the heap (the back end's lock held).
  void flush_all(cache& c) noexcept {
    back_end_.with_lock([&](Inner& heap) noexcept { give_back(heap, c); });
  }
  static void give_back(Inner& heap, cache& c) noexcept {
    for (std::size_t i = 0; i < bin_count; ++i) empty_into(heap, c.bin_at(i), i);
  }
  /// Bin `index`'s blocks back to the heap, one by one (the back end's lock held).
  static void empty_into(Inner& heap, bin b, std::size_t index) noexcept {
    while (!b.empty()) heap.deallocate(b.pop(block_size(index)), block_size(index), alignment);
  }

  /// A chain's blocks back to the heap (the back end's lock held).
  static void give_chain_back(Inner& heap, void* chain, std::size_t index) noexcept {
    typename chain_links::list_type blocks;
    blocks.splice(chain);
    while (!blocks.empty())
      heap.deallocate(chain_links::pop(blocks, block_size(index), links_of(heap)), block_size(index), alignment);
  }

  /// Parked parcels' blocks back to the heap, and the parcels themselves (the back end's lock
  /// held), so its figures see them free.
  void drain_transfers(Inner& heap) noexcept {
    for (std::size_t i = 0; i < bin_count; ++i) drain_parcels(heap, i);
  }
  /// Bin `index`'s parked parcels: their blocks back to the heap, and the parcels themselves.
  void drain_parcels(Inner& heap, std::size_t index) noexcept {
    for (parcel_stack& home : transfers_[index].homes) {
      while (home.count != 0) {
        void** parcel = home.pop(links_of(heap));
        for (std::size_t k = 0; k < batch_of(index); ++k) {
          void* p = detail::parcel_block(parcel, k, links_of(heap));
          unpoison(p, block_size(index));  // a cached block: poisoned but for its first word
          heap.deallocate(p, block_size(index), alignment);
        }
        heap.deallocate(parcel, parcel_bytes(index), alignof(void*));
      }
    }
  }

  cache* find_cache() noexcept {
    if (attached_here()) return &this_threads_cache();
    for (slot& s : slots_)
      if (s.id == id()) return s.caches;
    return nullptr;
  }

  /// This thread's cache for this instance, made on first use; null where caching cannot be
  /// set up (no classes, no memory, the thread is exiting, or a re-entrant call).
  cache* current_or_new_cache() noexcept {
    if constexpr (bin_count == 0) {
      return nullptr;
    } else {
      if (attached_here()) return &this_threads_cache();
      if (exited_ || in_setup_) return nullptr;
      in_setup_ = true;
      if (!exit_armed_) (void)&exit_;  // the first odr-use constructs it and registers its destructor
      cache* c = nullptr;
      if constexpr (one_instance) {
        c = &own_;  // static TLS, unattached: its bins are empty
        enlist(*c);
      } else {
        c = find_cache();
        if (c == nullptr) c = new_cache();
      }
      if (c != nullptr) current_ = {id(), c};
      in_setup_ = false;
      return c;
    }
  }

  cache* new_cache() noexcept {
    void* raw = back_end_.allocate(sizeof(cache), alignof(cache) > alignment ? alignof(cache) : alignment);
    if (raw == nullptr) return nullptr;
    cache* c = ::new (raw) cache{};
    enlist(*c);
    slot* free_slot = nullptr;
    for (slot& s : slots_) {
      if (s.caches == nullptr || !listed(s.id)) {  // empty, or an instance that went away
        free_slot = &s;
        break;
      }
    }
    if (free_slot == nullptr) {  // a thread using more instances than slots: the oldest slot goes
      free_slot = &slots_.back();
      drop(*free_slot);
    }
    std::move_backward(slots_.begin(), free_slot, free_slot + 1);  // most recent first
    slots_.front() = {id(), c};
    return c;
  }

  /// An empty cache — new, or one_instance's own_ — made ready for this instance (its codec
  /// bound, its bins' room set, a home) and listed among the instance's caches.
  void enlist(cache& c) noexcept {
    if constexpr (encodes_links) c.codec.bind(*this);
    c.lay_out();
    {
      std::lock_guard guard(instances_mutex_);
      c.home = next_home_++ % transfer_slot::home_count;
      c.prev = nullptr;
      c.next = caches_;
      if (c.next != nullptr) c.next->prev = &c;
      caches_ = &c;
      c.attached = true;  // with the listing: forget_caches and drop clear both under the same lock
    }
    caches_alive_.fetch_add(1, std::memory_order_relaxed);
  }

  [[noreturn]] ALLOY_SLOW_PATH static void report_second_instance() noexcept {
    error_message m;
    m.text("alloy: a second live instance of an allocator whose threading is thread_local_cache::one_instance; ");
    m.text("its thread caches would mix the two instances' blocks. Aborting\n");
    m.write_to_stderr();
    std::abort();
  }

  /// Whether an instance with this id is alive now.
  static bool listed(std::uint64_t id) noexcept {
    std::lock_guard guard(instances_mutex_);
    return find_instance(id) != nullptr;
  }
  static thread_cache_layer* find_instance(std::uint64_t id) noexcept {
    for (thread_cache_layer* l = instances_; l != nullptr; l = l->next_instance_)
      if (l->id() == id) return l;
    return nullptr;
  }

  /// Gives a slot's blocks back to its instance and frees its cache there, if the instance
  /// still lives under that id; else its memory already went with the instance.
  static void drop(slot& s) noexcept {
    if (s.caches != nullptr) {
      std::lock_guard guard(instances_mutex_);
      if (thread_cache_layer* l = find_instance(s.id)) {
        cache* c = s.caches;
        (c->prev != nullptr ? c->prev->next : l->caches_) = c->next;
        if (c->next != nullptr) c->next->prev = c->prev;
        l->back_end_.with_lock([&](Inner& heap) noexcept {
          give_back(heap, *c);
          if constexpr (one_instance) {
            c->detach();  // own_: static TLS, not the heap's
          } else {
            c->~cache();
            heap.deallocate(c, sizeof(cache), alignof(cache) > alignment ? alignof(cache) : alignment);
          }
        });
        caches_alive_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    s = {};
  }

  /// Detaches every cache of this instance (instances_mutex_ held): their blocks and their own
  /// memory go with the heap, which is being destroyed or released.
  void forget_caches() noexcept {
    std::size_t n = 0;
    for (cache* c = caches_; c != nullptr; ++n) {
      cache* next = c->next;
      // one_instance: each thread's cache is its own static TLS, which lives on; emptied here
      // (the thread uses no instance now), it attaches to the next instance on first use.
      if constexpr (one_instance) c->detach();
      c = next;
    }
    caches_ = nullptr;
    caches_alive_.fetch_sub(n, std::memory_order_relaxed);
    if (current_.id == id()) current_ = {};
  }

  // Per allocator type and thread. `current_` and `slots_` are constant-initialised and
  // trivially destructible, so the fast path reads `current_` with one %fs-relative load and no
  // init guard; `exit_` alone has a destructor, registered on a thread's first cache.
  static inline thread_local constinit slot current_{};
  static inline thread_local constinit std::array<slot, slots_per_thread> slots_{};
  /// one_instance: the thread's one cache, reached with one %fs-relative access.
  static inline thread_local constinit cache own_{typename cache::unattached_t{}};
  static inline thread_local constinit bool exit_armed_ = false;
  static inline thread_local constinit bool exited_ = false;
  static inline thread_local constinit bool in_setup_ = false;
  static inline thread_local thread_exit exit_;
  static inline std::atomic<std::size_t> caches_alive_{0};
  static inline std::atomic<bool> one_alive_{false};  // one_instance: an instance lives
  // The live instances of this allocator type, and their caches; the one lock of the slow
  // paths above (never taken on a fast path).
  static inline constinit spin_mutex instances_mutex_{};
  static inline constinit thread_cache_layer* instances_ = nullptr;

  /// Bytes of the parcel that carries bin `c`'s batch (detail/transfer_cache.hpp).
  static constexpr std::size_t parcel_bytes(std::size_t c) noexcept { return detail::parcel_words(batch_of(c)) * sizeof(void*); }
  /// Bin `c`'s batches are parked where a parcel is a class block of the heap (a pop from its
  /// class list under the lock already held); a heap whose classes stop below it takes the
  /// batches back as chains (a parcel there would be a large block, or a mapping, each).
  static constexpr bool parks(std::size_t c) noexcept { return parcel_bytes(c) <= cached_max; }
  /// Parcels a bin may park: up to 256 KiB of blocks, and at least 8 parcels.
  static constexpr std::size_t max_parked(std::size_t c) noexcept {
    return std::max<std::size_t>(8, (std::size_t{256} << 10) / (batch_of(c) * block_size(c)));
  }

  // Read and written only as an atomic (a plain load and store on x86 and AArch64), and given no
  // initialiser: the process malloc's fast paths read it from static storage that another thread
  // may be constructing the heap in, so the constructor's atomic store must be its only write
  // (an initialised std::atomic member would be a plain write racing with those loads).
  std::uint64_t id_;
  ALLOY_FAST_PATH std::uint64_t id() const noexcept {
    return std::atomic_ref(const_cast<std::uint64_t&>(id_)).load(std::memory_order_relaxed);
  }
  void set_new_id() noexcept {
    std::atomic_ref(id_).store(next_cache_instance_id.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  }
  thread_cache_layer* next_instance_ = nullptr;  // in instances_
  cache* caches_ = nullptr;                      // every thread's cache of this instance
  std::size_t next_home_ = 0;                    // the next new cache's home (instances_mutex_)
  std::array<transfer_slot, bin_count == 0 ? 1 : bin_count> transfers_{};
  mutable back_end_type back_end_;
};

}  // namespace detail

namespace policy {

struct thread_local_cache {
  using axis = alloy::axis::threading;
  static constexpr std::size_t default_blocks_per_class = 64;
  static constexpr std::size_t default_batch = 32;

  /// Tuned form: a bin flushes a batch back when it holds more than `BlocksPerClass` blocks
  /// (and never more than ~128 KiB); refills and flushes move `Batch` blocks per lock.
  /// `OneInstance`: see one_instance below.
  template <std::size_t BlocksPerClass, std::size_t Batch, bool OneInstance = false>
  struct with {
    static_assert(BlocksPerClass >= 2 && Batch >= 1 && Batch <= BlocksPerClass,
                  "thread_local_cache::with<BlocksPerClass, Batch>: need BlocksPerClass >= 2 and 1 <= Batch <= "
                  "BlocksPerClass");
    using axis = alloy::axis::threading;
    static constexpr bool caches_freed_blocks = true;  // its chains are linked through the heap's codec (shares_link_codec)
    template <class Inner>
    using layer = detail::thread_cache_layer<Inner, BlocksPerClass, Batch, OneInstance>;
    /// This design, for a type of which one instance lives (the process heap's, process_type).
    using one_instance_form = with<BlocksPerClass, Batch, true>;
    static std::string name() {
      if constexpr (BlocksPerClass == default_blocks_per_class && Batch == default_batch)
        return OneInstance ? "thread_local_cache::one_instance" : "thread_local_cache";
      else
        return "thread_local_cache::with<" + std::to_string(BlocksPerClass) + ", " + std::to_string(Batch) +
               (OneInstance ? ", true>" : ">");
    }
  };

  /// For an allocator type of which at most one instance lives at a time — a process-wide
  /// heap, the process malloc's: each thread's cache sits in static TLS and the fast path tests
  /// no instance id (allocate + free of a size known at compile time: 14 instructions against
  /// 22). A second instance built while one lives stops the program with a message; instances
  /// built one after another are fine.
  using one_instance = with<default_blocks_per_class, default_batch, true>;

  /// The untuned spelling is the tuned form with the default arguments (one design, one type).
  using tuned = with<default_blocks_per_class, default_batch>;
  static constexpr bool caches_freed_blocks = tuned::caches_freed_blocks;
  template <class Inner>
  using layer = typename tuned::template layer<Inner>;
  static std::string name() { return tuned::name(); }
};

}  // namespace policy
}  // namespace alloy
