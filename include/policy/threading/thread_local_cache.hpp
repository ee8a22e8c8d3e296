// thread_local_cache: each thread keeps free blocks per size class in front of one shared back
// end (the heap below behind an alloy::spin_mutex), so allocate and free take no lock and no
// atomic instruction on their fast path; the lock is taken once per batch of blocks.
//
//   thread 1: bins [16]->x->x  [32]->x  ...  --+
//   thread 2: bins [16]->x     [32]->x->x ...  --+--> refill / flush a batch, one lock --> heap
//   thread 3: ...                              --+
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
// Blocks migrate in batches: a consumer's full bin cuts its most recent batch out as one
// chain and parks it (up to 256 KiB per bin) beside the back end; a producer's empty bin takes
// a parked chain whole — tcmalloc's transfer cache (detail/transfer_cache.hpp): one lock and two
// pointer moves per batch, no block touched — or else carves a batch from the heap. Chains are
// parked by the parking thread's *home* and taken back from there first, so a thread that only
// wavers between giving blocks back and taking them gets its own blocks again, in cache lines
// no other core writes (the one place where Alloy keeps mimalloc's thread affinity). The
// cost: memory cached per thread is bounded per bin (BlocksPerClass blocks, at most ~32 KiB),
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
// Hardening: a bin's list is a heap free list (hardened_list over the composition's link
// codec), so with P::hardened its links are encoded and checked, and double frees tested, as
// the heap's are; parked chains are linked through the heap's own codec. Each thread keeps a
// copy of that codec (its secret and the span of the heap's chunks, adopted under the lock),
// so the fast path reads no shared state; a link outside the copy's span is checked against
// the heap's span before it is reported. Needs a heap that publishes its codec
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
// facade's null test of sized free). Hardened: 32 (single_thread hardened: 20): the 10 added
// are the codec's and the double-free test's, as on the heap (docs/policies/hardening.md).
// What the 22 are: per operation the instance test (load the id, compare with the thread's
// slot, branch), the bins' address, the list's pop or push and the bin's room count, and the
// pop's prefetch of the next block (bin::pop says why); a design that keeps those guarantees
// (several instances per type, bounded bins) needs about 16, single_thread's 10 plus the two
// tests and two counts. `one_instance` (a type with one live instance: the process heap's)
// keeps each thread's cache in static TLS and drops the instance test and the slot's load: 14.
// How an unattached cache stays sound without a test is told at push_to_own.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
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
  static constexpr std::size_t bin_byte_limit = std::size_t{32} << 10;
  /// At most one instance of this type lives at a time (thread_local_cache::one_instance): a
  /// thread's cache sits in its static TLS and the fast path tests no instance id.
  static constexpr bool one_instance = OneInstance;
  /// The heap can name a block's class without its lock (see the header comment).
  static constexpr bool lock_free_lookup = requires(const Inner& heap, const void* p) { heap.cached_lookup(p); };

  // Hardening: the blocks a cache holds are linked as the heap links its own free blocks —
  // through the composition's link codec, with hardened_list's double-free tests and poisoning
  // — so every mitigation that guards the heap's lists guards the caches too.
  using hardening = typename config::hardening;
  static constexpr bool encodes_links = hardening::encodes_links;
  /// The codec of links the heap reads (parked chains, blocks given back): the heap's own
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
  /// A block another thread freed may come from a chunk taken since, so a link outside the
  /// copy's span is checked again against the heap's before it is called corrupt — a cold
  /// path, once per new chunk at most; a forged link fails both and stops the program.
  class cache_codec {
   public:
    static constexpr bool refuses_self_links = heap_codec::refuses_self_links;
    ALLOY_FAST_PATH void* encode(void* next, void* slot) const noexcept { return own_.encode(next, slot); }
    ALLOY_FAST_PATH void* encode_head(void* next, void* slot) const noexcept { return own_.encode_head(next, slot); }
    ALLOY_FAST_PATH void* decode(void* stored, void* slot) const noexcept {
      return own_.decode(stored, slot, *this);  // outside the copy's span: operator() below
    }
    /// A link outside the copy's span: look at the heap's span again (cold), under the back
    /// end's lock — taken here unless this thread holds it already.
    ALLOY_SLOW_PATH void* operator()(void* slot, std::uintptr_t decoded) const noexcept {
      if (lock_held_) own_.adopt(links_of(owner_->back_end_.unlocked()));
      else owner_->back_end_.with_lock([&](Inner& heap) noexcept { own_.adopt(links_of(heap)); });
      return own_.checked(slot, decoded);  // reports a link outside the heap's own span
    }
    bool looks_free(const void* block) const noexcept
      requires hardening::scans_double_free
    {
      return own_.looks_free(block);
    }
    std::size_t max_links() const noexcept
      requires hardening::scans_double_free
    {
      return own_.max_links();
    }

    /// Made for `owner`'s cache: the heap's secret before the first link is encoded.
    void bind(thread_cache_layer& owner) noexcept {
      owner_ = &owner;
      owner.back_end_.with_lock([&](Inner& heap) noexcept { own_.adopt(links_of(heap)); });
    }
    /// This thread holds the back end's lock from now on (until unhold): a second look at
    /// the heap's span must not take it again.
    void hold() noexcept { lock_held_ = true; }
    void unhold() noexcept { lock_held_ = false; }

   private:
    mutable heap_codec own_{typename heap_codec::adopting_t{}};  // bind() adopts the heap's secret
    thread_cache_layer* owner_ = nullptr;
    bool lock_held_ = false;
  };
  /// The codec of the bins' links: no bytes and no instructions unless links are encoded.
  using bin_codec = std::conditional_t<encodes_links, cache_codec, plain_links>;
  using bin_links = hardened_list<hardening, bin_codec>;
  using chain_links = hardened_list<hardening, heap_codec>;
  /// Parked chains are linked through the heap's codec: the heap may read them back.
  using transfer_slot = detail::transfer_slot<heap_codec>;
  using chain_stack = detail::chain_stack<heap_codec>;

  /// A bin counts down the room it has left, so the free path tests one decrement. Its list is
  /// a heap free list (hardened_list): under a memory checker a cached block is poisoned but
  /// for its link, like a heap's free block; without one the hooks are empty. A bin is a view
  /// of its class's entries in the cache's arrays (cache::bin_at).
  struct bin {
    typename bin_links::list_type& list;
    std::uint32_t& room;         // blocks it may still take before it gives a batch back
    const std::uint32_t& limit;  // room when empty

    ALLOY_FAST_PATH void* pop(std::size_t block, const bin_codec& codec) noexcept {
      ++room;
      void* p = bin_links::pop(list, block, codec);
      // The next pop loads the link in the block now at the head, and nothing can start before
      // that load returns. A block another thread freed, or one refilled from a parked chain,
      // is likely in another core's cache: fetched now, that miss overlaps the caller's use of
      // this block (tcmalloc prefetches its next object the same way). Harmless on null.
      __builtin_prefetch(list.front(), 1);
      return p;
    }
    ALLOY_FAST_PATH void push(void* b, std::size_t block, const bin_codec& codec) noexcept {
      bin_links::push(list, b, block, codec);
      --room;
    }
    std::uint32_t count() const noexcept { return limit - room; }
  };

  /// One thread's cache for one instance: a block of the instance's own heap. The codec (empty
  /// unless links are encoded) and the bins first: the fast path touches only them. The bins
  /// are parallel arrays, not an array of {list, room, limit}: a class's list head is then at
  /// lists + 8 * class, one scaled index, where 16-byte bins took a shift and an add on every
  /// malloc and free whose class is known only at run time (the process library's: malloc(64)
  /// + free 43 -> 38 instructions, bench/malloc/count.sh).
  struct cache {
    static constexpr std::size_t bins = bin_count == 0 ? 1 : bin_count;
    [[no_unique_address]] bin_codec codec;
    std::array<typename bin_links::list_type, bins> lists{};
    std::array<std::uint32_t, bins> rooms{};
    std::array<std::uint32_t, bins> limits{};
    cache* prev = nullptr;  // in the instance's list of caches (under instances_mutex_)
    cache* next = nullptr;
    std::size_t home = 0;  // where its flushes park chains (transfer_slot)
    bool attached = false;  // in its instance's list; one_instance's fast halves test it
    std::uint32_t concentration_epoch = 0;  // the heap's, when this cache last fitted its bins (follow_heap)

    ALLOY_FAST_PATH bin bin_at(std::size_t index) noexcept { return {lists[index], rooms[index], limits[index]}; }

    /// A cache no instance has (one_instance's thread cache before its first use, and after its
    /// instance went away): empty bins with room for one block each, so that the fast path's
    /// push of a block makes the room 0 and leads to the slow path (own_full), which attaches
    /// the cache or takes the block back out.
    struct unattached_t {};
    cache() = default;
    constexpr explicit cache(unattached_t) noexcept { detach(); }
    constexpr void detach() noexcept {
      lists.fill({});
      rooms.fill(1);
      limits.fill(1);
      prev = next = nullptr;
      attached = false;
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
        if (!b.list.empty()) [[likely]] return b.pop(block_size(index), own_.codec);
      }
      return nullptr;
    }
    if (size - 1 < cached_max && current_.id == id()) [[likely]] {
      const std::size_t index = classes::class_of(size);
      cache* c = current_.caches;
      bin b = c->bin_at(index);
      if (!b.list.empty()) [[likely]] return b.pop(block_size(index), c->codec);
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
  /// try_deallocate(). The thread's slot is tested first: an instance not built yet (see
  /// allocate_cached) fails there, before the heap's page map is read.
  ALLOY_FAST_PATH bool deallocate_cached(void* p) noexcept {
    if constexpr (lock_free_lookup) {
      // The test comes first: it keeps an instance not built yet from reading its page map.
      // one_instance tests its cache's flag, in the same TLS as its bins, not the instance's id.
      if (attached_here()) [[likely]] {
        const auto found = back_end_.unlocked().cached_start_lookup(p);
        if (found.size_class < bin_count) [[likely]] {
          push_to_bin(this_threads_cache(), p, found.size_class);
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
      // The attached flag is tested first, as in the unsized free: a full bin then needs
      // nothing of `p` afterwards, and the process library's sized operator delete stays a leaf
      // (push_to_own's way back out would keep `p` and the size in saved registers).
      if (p != nullptr && size - 1 < cached_max && own_.attached) [[likely]] {
        push_to_bin(own_, p, classes::class_of(size));
        return true;
      }
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

  /// The heap's figures after the calling thread's cache and the parked chains went back to
  /// it: exact once every other thread that used this instance has exited.
  heap_metrics metrics() const noexcept {
    auto* self = const_cast<thread_cache_layer*>(this);
    if (cache* c = self->find_cache(); c != nullptr) self->flush_all(*c);
    self->back_end_.with_lock([&](Inner& heap) noexcept { self->drain_transfers(heap); });
    return back_end_.metrics();
  }

  /// The back end is well formed, and so are the parked chains and the calling thread's cache.
  bool invariant() const noexcept {
    if (!back_end_.invariant()) return false;
    const bool parked_ok = back_end_.with_lock([&](Inner& heap) noexcept {
      for (std::size_t i = 0; i < bin_count; ++i) {
        const transfer_slot& t = transfers_[i];
        if (t.count() > max_parked(i)) return false;
        for (const chain_stack& home : t.homes) {
          std::size_t chains = 0;
          for (void* chain = home.top; chain != nullptr && chains <= home.count; chain = home.next_chain(chain, links_of(heap)), ++chains) {
            typename chain_links::list_type blocks;
            blocks.splice(chain);
            bool owned = true;
            const std::size_t n = blocks.for_each(links_of(heap), [&](void* p) { owned = owned && heap.owns(p); }, batch_of(i) + 1);
            if (!owned || n != batch_of(i)) return false;
          }
          if (chains != home.count) return false;
        }
      }
      return true;
    });
    if (!parked_ok) return false;
    cache* c = const_cast<thread_cache_layer*>(this)->find_cache();
    if (c == nullptr) return true;
    for (std::size_t i = 0; i < bin_count; ++i) {
      const bin b = c->bin_at(i);
      bool owned = true;
      const std::size_t n = b.list.for_each(c->codec, [&](void* p) { owned = owned && back_end_.owns(p); }, b.limit + 1);
      if (!owned || n != b.count() || b.room > b.limit) return false;
    }
    return true;
  }

  /// Everything the heap can give back to the system, now (a reclaiming heap only): the
  /// calling thread's cache and the parked chains go back to the heap first. Other threads'
  /// caches stay theirs (at most ~32 KiB per bin each) until they flush or exit.
  std::size_t trim() noexcept
    requires requires(Inner& heap) { heap.trim(); }
  {
    cache* c = find_cache();
    return back_end_.with_lock([&](Inner& heap) noexcept {
      if (c != nullptr) give_back(heap, *c);
      drain_transfers(heap);
      const std::size_t done = heap.trim();
      if (c != nullptr) {  // empty now: each bin takes the size its class wants after the sweeps
        for (std::size_t i = 0; i < bin_count; ++i) c->limits[i] = c->rooms[i] = limit_for(heap, i);
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

  /// Locked access to the heap below: `f(heap)` runs with the back end's lock held.
  template <class F>
  decltype(auto) with_lock(F&& f) noexcept(noexcept(f(std::declval<Inner&>()))) {
    return back_end_.with_lock(static_cast<F&&>(f));
  }
  /// The heap below behind a lock held while the returned handle lives.
  auto lock() noexcept { return back_end_.lock(); }

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
  /// turns out not to be attached to this instance (the push made an unattached bin's room
  /// 0): `p` is taken back out and the caller's slow path frees it.
  ALLOY_FAST_PATH bool push_to_own(void* p, std::size_t index) noexcept {
    bin b = own_.bin_at(index);
    b.push(p, block_size(index), own_.codec);
    if (b.room == 0) [[unlikely]] return own_full(index);
    return true;
  }
  ALLOY_SLOW_PATH bool own_full(std::size_t index) noexcept {
    if (attached_here()) {  // an ordinary full bin
      flush(own_, index);
      return true;
    }
    (void)own_.bin_at(index).pop(block_size(index), own_.codec);  // the one block an unattached bin takes
    return false;
  }
  ALLOY_FAST_PATH void push_to_bin(cache& c, void* p, std::size_t index) noexcept {
    bin b = c.bin_at(index);
    b.push(p, block_size(index), c.codec);
    if (b.room == 0) [[unlikely]] flush(c, index);
  }

  static constexpr std::uint32_t limit_of(std::size_t c) noexcept {
    return static_cast<std::uint32_t>(std::clamp<std::size_t>(bin_byte_limit / block_size(c), 2, BlocksPerClass));
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
  /// would never change; with a room of one block every free goes back to the heap, where it
  /// waits, and every allocation takes the heap's next block, from its fullest pages. The
  /// bin's size is decided on each refill and flush, so it follows the heap both ways.
  static bool caches_none([[maybe_unused]] const Inner& heap, [[maybe_unused]] std::size_t index) noexcept {
    if constexpr (requires { heap.concentrating(index); }) return heap.concentrating(heap_class(index));
    else return false;
  }
  /// The room an empty bin gets now (the back end's lock held).
  static std::uint32_t limit_for(const Inner& heap, std::size_t index) noexcept {
    return caches_none(heap, index) ? 1 : limit_of(index);
  }
  /// On each refill and flush (the back end's lock held): when a class began concentrating
  /// since this cache last looked, the bins of every concentrating class give their blocks
  /// back and shrink now, not at their own next refill or flush — a bin whose frees and
  /// allocations balance may not reach either for a long time. One compare when nothing began.
  static void follow_heap([[maybe_unused]] Inner& heap, [[maybe_unused]] cache& c) noexcept {
    if constexpr (requires { heap.concentration_epoch(); }) {
      if (c.concentration_epoch == heap.concentration_epoch()) [[likely]] return;
      c.concentration_epoch = heap.concentration_epoch();
      for (std::size_t i = 0; i < bin_count; ++i) {
        if (c.limits[i] != 1 && caches_none(heap, i)) cache_none(heap, c, i);
      }
    }
  }
  /// Bin `index` gives every block it holds back to the heap and keeps a room of one block
  /// (caches_none; the back end's lock held).
  static void cache_none(Inner& heap, cache& c, std::size_t index) noexcept {
    bin b = c.bin_at(index);
    if (!b.list.empty()) {
      const codec_under_lock held(c);
      std::size_t cut = 0;
      give_to_heap(heap, b.list.cut(b.count(), c.codec, cut), index);
    }
    c.limits[index] = c.rooms[index] = 1;
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
    if (b.list.empty()) refill(*c, index);
    return b.list.empty() ? nullptr : b.pop(block_size(index), c->codec);
  }

  ALLOY_SLOW_PATH void free_slow(void* p, std::size_t index) noexcept {
    cache* c = current_or_new_cache();
    if (c == nullptr) return back_end_.deallocate(p, block_size(index), alignment);
    bin b = c->bin_at(index);
    b.push(p, block_size(index), c->codec);
    if (b.room == 0) flush(*c, index);
  }

  /// One lock for a batch of blocks: a whole parked chain when there is one for this thread's
  /// home (transfer_slot; no block touched), else a chain cut from the heap's class list
  /// (take_chain: each link read once, one written), or block by block from a heap without one.
  /// A concentrating class (caches_none) takes one block, never a parked chain.
  void refill(cache& c, std::size_t index) noexcept {
    bin b = c.bin_at(index);
    back_end_.with_lock([&](Inner& heap) noexcept {
      follow_heap(heap, c);
      c.limits[index] = b.room = limit_for(heap, index);  // the bin is empty: all its room
      const bool none = b.limit == 1;
      const std::size_t n = none ? 1 : batch_of(index);
      if (void* chain = none ? nullptr : transfers_[index].take(c.home, links_of(heap))) {
        b.list.splice(chain);
        b.room -= static_cast<std::uint32_t>(n);
        reclaim_tick_of(heap);
        return;
      }
      const codec_under_lock held(c);
      if constexpr (moves_chains) {
        std::size_t taken = 0;
        if (void* chain = heap.take_chain(heap_class(index), n, taken)) {  // the heap's links are the bin's
          b.list.splice(chain);
          b.room -= static_cast<std::uint32_t>(taken);
        }
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          void* block = heap.allocate(block_size(index), alignment);
          if (block == nullptr) break;
          b.push(block, block_size(index), c.codec);
        }
      }
      reclaim_tick_of(heap);
    });
  }

  /// A full bin gives its most recent batch back as one chain (cut out of the list outside
  /// the lock); under the lock the chain is parked on the thread's home for the next refill
  /// of that bin — its own, or a producer's — so a producer/consumer pair trades chains, not
  /// blocks. Parking is bounded, and needs a second word in the chain's first block; past the
  /// bound, or for blocks of one word, the chain goes back to the heap — whole where the heap
  /// takes chains (give_chain), else block by block.
  /// A concentrating class's bin (caches_none) gives every block back to the heap, unparked.
  ALLOY_SLOW_PATH void flush(cache& c, std::size_t index) noexcept {
    bin b = c.bin_at(index);
    std::size_t cut = 0;  // the batch: a full bin holds more
    const block_chain chain = b.list.cut(batch_of(index), c.codec, cut);
    b.room += static_cast<std::uint32_t>(cut);
    back_end_.with_lock([&](Inner& heap) noexcept {
      follow_heap(heap, c);
      if (caches_none(heap, index)) {
        give_to_heap(heap, chain, index);
        cache_none(heap, c, index);  // a whole bin until now: the rest goes too
      } else {
        if (b.limit != limit_of(index)) {  // the class stopped concentrating: a whole bin again
          b.room += limit_of(index) - b.limit;
          c.limits[index] = limit_of(index);
        }
        transfer_slot& t = transfers_[index];
        if (block_size(index) >= 2 * sizeof(void*) && t.count() < max_parked(index) && cut == batch_of(index)) {
          t.park(c.home, chain.head, links_of(heap));
        } else {
          give_to_heap(heap, chain, index);
        }
      }
      reclaim_tick_of(heap);
    });
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

  /// While it lives, the thread holds the back end's lock and the cache's codec knows it.
  struct codec_under_lock {
    explicit codec_under_lock(cache& c) noexcept : c_(c) {
      if constexpr (encodes_links) c_.codec.hold();
    }
    ~codec_under_lock() {
      if constexpr (encodes_links) c_.codec.unhold();
    }
    codec_under_lock(const codec_under_lock&) = delete;
    codec_under_lock& operator=(const codec_under_lock&) = delete;
    cache& c_;
  };

  /// Every block of a cache back to the heap (the back end's lock held).
  void flush_all(cache& c) noexcept {
    back_end_.with_lock([&](Inner& heap) noexcept { give_back(heap, c); });
  }
  static void give_back(Inner& heap, cache& c) noexcept {
    const codec_under_lock held(c);
    for (std::size_t i = 0; i < bin_count; ++i) {
      bin b = c.bin_at(i);
      while (!b.list.empty()) heap.deallocate(b.pop(block_size(i), c.codec), block_size(i), alignment);
    }
  }

  /// A chain's blocks back to the heap (the back end's lock held).
  static void give_chain_back(Inner& heap, void* chain, std::size_t index) noexcept {
    typename chain_links::list_type blocks;
    blocks.splice(chain);
    while (!blocks.empty())
      heap.deallocate(chain_links::pop(blocks, block_size(index), links_of(heap)), block_size(index), alignment);
  }

  /// Parked chains back to the heap (the back end's lock held), so its figures see them free.
  void drain_transfers(Inner& heap) noexcept {
    for (std::size_t i = 0; i < bin_count; ++i) {
      for (chain_stack& home : transfers_[i].homes)
        while (home.count != 0) give_chain_back(heap, home.pop(links_of(heap)), i);
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
    for (std::size_t i = 0; i < bin_count; ++i) c.limits[i] = c.rooms[i] = limit_of(i);
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

  /// Chains a bin may park: up to 256 KiB of blocks, and at least 8 chains.
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
  /// (and never more than ~32 KiB); refills and flushes move `Batch` blocks per lock.
  /// `OneInstance`: see one_instance below.
  template <std::size_t BlocksPerClass, std::size_t Batch, bool OneInstance = false>
  struct with {
    static_assert(BlocksPerClass >= 2 && Batch >= 1 && Batch <= BlocksPerClass,
                  "thread_local_cache::with<BlocksPerClass, Batch>: need BlocksPerClass >= 2 and 1 <= Batch <= "
                  "BlocksPerClass");
    using axis = alloy::axis::threading;
    static constexpr bool caches_freed_blocks = true;  // linked through the heap's codec (shares_link_codec)
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
