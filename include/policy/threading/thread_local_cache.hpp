// thread_local_cache: each thread keeps free blocks per size bin in front of one shared back
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
// a parked chain whole — tcmalloc's transfer cache: one lock and two pointer moves per batch,
// no block touched — or else carves a batch from the heap. The cost: memory cached per thread
// is bounded per bin (BlocksPerClass blocks, at most ~32 KiB), not zero.
//
// Correctness where naive designs fail
// ------------------------------------
// - Instances: each instance has a never-reused 64-bit id; a thread's caches are keyed by it,
//   and the fast path compares one thread-local (id, cache) pair with the instance's id. A
//   thread's other caches sit in a per-thread list (per allocator type) found on a miss.
// - Thread exit: a thread_local table's destructor gives every cached block back to its
//   instance (if that still lives) and frees the caches; `live_bytes` is exact after join.
// - Instance destroyed while threads run: each instance has a small shared `registry`
//   (refcounted, outliving the instance while caches point to it) with the list of its live
//   caches. The destructor, under the registry's lock, marks it dead and unlinks every cache;
//   a thread's stale cache can never match again (ids are unique) and is freed by that thread
//   later (next miss, or exit) without touching the dead instance. release() retires the
//   caches the same way under a fresh id, since it invalidates every block they hold.
// - stats(): the calling thread's cache and the parked chains are given back first, so once
//   the other threads are joined the counters are exact. The stats layer (below this one)
//   counts the traffic between caches and back end: a block in a thread's cache is live to it.
// - Re-entry (a malloc replacement whose TLS setup calls malloc) and use from thread_local
//   destructors after the table is gone both fall back to the locked back end.
//
// Served from the caches: requests up to the heap's largest size class (none when the heap
// has no classes) at an alignment up to alignof(std::max_align_t) — or the heap's own, when it
// publishes `alignment`: a wrapping layer cannot see the composition's, so align<32> and above
// bypass the caches today. Everything else, the unsized free (the block's bin is unknown
// without a lookup) and reallocate of large blocks go to the locked back end.
// Cache memory (per-thread bins, registries) comes from system_pages, never from malloc.
//
// Fast path: 11 instructions to allocate and 8 to free for a size known at compile time
// (bench/threading counts them with callgrind).
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>

#include "../detail/cache_bins.hpp"
#include "../detail/heap_layer.hpp"
#include "../detail/config.hpp"
#include "../detail/reallocate.hpp"
#include "../source/system_pages.hpp"
#include "concept.hpp"
#include "locked.hpp"
#include "spin_mutex.hpp"

namespace alloy {
namespace detail {

/// Ids of allocator instances for the thread caches; never reused, 0 means "none".
inline std::atomic<std::uint64_t> next_cache_instance_id{1};

/// Objects of the thread cache's own bookkeeping, one page-rounded mapping each: never malloc.
template <class T, class... Args>
T* make_system_object(Args&&... args) noexcept {
  void* raw = policy::system_pages{}.allocate_chunk(align_up(sizeof(T), policy::system_pages::granule),
                                                    policy::system_pages::granule);
  return raw == nullptr ? nullptr : new (raw) T(static_cast<Args&&>(args)...);
}
template <class T>
void destroy_system_object(T* object) noexcept {
  object->~T();
  policy::system_pages{}.deallocate_chunk(object, align_up(sizeof(T), policy::system_pages::granule));
}

template <class Inner, std::size_t BlocksPerClass, std::size_t Batch>
class thread_cache_layer {
  using back_end_type = locked_layer<Inner, spin_mutex>;
  static constexpr std::size_t bin_count = cache_bins::count_for(Inner::max_class_size);
  static_assert(cache_bins::size_of(0) >= 2 * sizeof(void*), "a parked chain's head keeps two links");
  /// Requests above this bypass the caches: the heap's largest class (0: it has no classes).
  static constexpr std::size_t cached_max = bin_count == 0 ? 0 : Inner::max_class_size;
  /// The alignment every cached block is taken with, and the largest it serves: the heap's
  /// own minimum when it publishes one, else the composition default the facade passes.
  static constexpr std::size_t cache_alignment = [] {
    if constexpr (requires { { Inner::alignment } -> std::convertible_to<std::size_t>; }) return std::size_t{Inner::alignment};
    else return alignof(std::max_align_t);
  }();
  /// Bytes one bin may hold before it gives a batch back (small bins are capped by count).
  static constexpr std::size_t bin_byte_limit = std::size_t{32} << 10;

  /// A bin counts down the room it has left, so the free path tests one decrement.
  struct bin {
    void* head = nullptr;
    std::uint32_t room = 0;   // blocks it may still take before it gives a batch back
    std::uint32_t limit = 0;  // room when empty

    ALLOY_FAST_PATH void* pop() noexcept {
      void* b = head;
      head = *static_cast<void**>(b);
      ++room;
      return b;
    }
    ALLOY_FAST_PATH void push(void* b) noexcept {
      *static_cast<void**>(b) = head;
      head = b;
      --room;
    }
    std::uint32_t count() const noexcept { return limit - room; }
  };

  struct registry;

  /// One thread's cache for one instance. Bins first: the fast path touches only them.
  struct cache {
    std::array<bin, bin_count == 0 ? 1 : bin_count> bins{};
    std::uint64_t id = 0;              // the instance id it was made for
    registry* owner = nullptr;         // holds a reference
    cache* prev = nullptr;             // in owner->caches while live (under owner->mutex)
    cache* next = nullptr;
    cache* next_in_thread = nullptr;   // the thread's list (touched by that thread only)
  };

  /// An instance's shared part: outlives the instance while any cache refers to it.
  struct registry {
    spin_mutex mutex;
    thread_cache_layer* layer;  // null once the instance is destroyed
    std::uint64_t id;           // the instance's current id; caches with another id are dead
    cache* caches = nullptr;    // the live caches
    std::size_t references = 1; // the instance + one per cache
  };

  struct current_cache {
    std::uint64_t id;
    cache* caches;
  };

  /// Every cache of this thread; its destructor runs at thread exit and gives them back.
  struct thread_table {
    cache* first = nullptr;
    thread_table() noexcept { table_alive_ = true; }
    ~thread_table() {
      current_ = {0, nullptr};
      table_alive_ = false;
      table_gone_ = true;
      while (first != nullptr) {
        cache* c = first;
        first = c->next_in_thread;
        drop(c);
      }
    }
  };

 public:
  static constexpr bool is_thread_safe = true;
  static constexpr complexity alloc_complexity = Inner::alloc_complexity;
  static constexpr complexity free_complexity = Inner::free_complexity;
  static constexpr std::size_t max_class_size = Inner::max_class_size;

  thread_cache_layer() noexcept : registry_(make_system_object<registry>()) {
    if (registry_ != nullptr) {
      registry_->layer = this;
      registry_->id = id_;
    }
  }
  thread_cache_layer(const thread_cache_layer&) = delete;
  thread_cache_layer& operator=(const thread_cache_layer&) = delete;
  ~thread_cache_layer() { retire_caches(false); }

  ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    if (cacheable(size, align) && current_.id == id_) [[likely]] {
      bin& b = current_.caches->bins[cache_bins::bin_of(size)];
      if (b.head != nullptr) return b.pop();
    }
    return allocate_slow(size, align);
  }

  ALLOY_FAST_PATH void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    if (cacheable(size, align) && current_.id == id_) [[likely]] {
      bin& b = current_.caches->bins[cache_bins::bin_of(size)];
      b.push(p);
      if (b.room == 0) [[unlikely]] flush(b, cache_bins::bin_of(size));
      return;
    }
    deallocate_slow(p, size, align);
  }

  /// Unsized: the block's bin is unknown here, so the back end (which can tell) takes it.
  void deallocate(void* p) noexcept { back_end_.deallocate(p); }

  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    const bool old_cached = cacheable(old_size, align);
    const bool new_cached = cacheable(new_size, align);
    if (!old_cached && !new_cached) return back_end_.reallocate(p, old_size, new_size, align);
    // Same bin: the block already is the one a new request would get, and sized free with
    // new_size finds the same bin. Otherwise move it, so a block is only ever given back to
    // the heap as the size it was taken as.
    if (old_cached && new_cached && cache_bins::bin_of(old_size) == cache_bins::bin_of(new_size)) return p;
    return reallocate_by_copy(*this, p, old_size, new_size, align);
  }

  bool owns(const void* p) const noexcept { return back_end_.owns(p); }
  std::size_t usable_size(const void* p) const noexcept { return back_end_.usable_size(p); }
  /// Pre-allocation in the back end, for the very block size the caches will ask for.
  bool reserve(std::size_t size, std::size_t count) noexcept {
    return back_end_.reserve(cacheable(size, cache_alignment) && size != 0 ? cache_bins::size_of(cache_bins::bin_of(size)) : size,
                             count);
  }

  /// Every chunk back to the source; every thread's cached blocks die with them.
  void release() noexcept {
    retire_caches(true);
    back_end_.with_lock([&](Inner&) noexcept {
      for (transfer_slot& t : transfers_) t = {};  // their blocks die with the chunks
    });
    back_end_.release();
  }

  heap_metrics metrics() const noexcept { return back_end_.metrics(); }

  /// The back end is well formed, and so are the parked chains and the calling thread's cache.
  bool invariant() const noexcept {
    if (!back_end_.invariant()) return false;
    const bool parked_ok = back_end_.with_lock([&](Inner& heap) noexcept {
      for (std::size_t i = 0; i < bin_count; ++i) {
        const transfer_slot& t = transfers_[i];
        if (t.count > max_parked(i)) return false;
        std::size_t chains = 0;
        for (void* chain = t.chains; chain != nullptr && chains <= t.count; chain = transfer_slot::next_chain(chain), ++chains) {
          std::size_t n = 0;
          for (void* p = chain; p != nullptr && n <= batch_of(i); p = *static_cast<void**>(p), ++n)
            if (!heap.owns(p)) return false;
          if (n != batch_of(i)) return false;
        }
        if (chains != t.count) return false;
      }
      return true;
    });
    if (!parked_ok) return false;
    const cache* c = find_cache();
    if (c == nullptr) return true;
    for (const bin& b : c->bins) {
      std::uint32_t n = 0;
      for (void* p = b.head; p != nullptr && n <= b.limit; p = *static_cast<void**>(p), ++n)
        if (!back_end_.owns(p)) return false;
      if (n != b.count() || b.room > b.limit) return false;
    }
    return true;
  }

  /// The stats layer's reading, after the calling thread's cached blocks went back to the
  /// heap: exact once every other thread that used this instance has exited.
  auto stats() const noexcept
    requires requires(const back_end_type& b) { b.stats(); }
  {
    auto* self = const_cast<thread_cache_layer*>(this);
    if (cache* c = find_cache(); c != nullptr) self->flush_all(*c);
    back_end_.with_lock([&](Inner& heap) noexcept { self->drain_transfers(heap); });
    return back_end_.stats();
  }

  /// fork() in a process whose malloc this is (include/alloc/malloc_override.hpp registers
  /// these with pthread_atfork): the registry's lock, then the back end's (the order drop()
  /// takes them in), are held across fork so the child inherits neither taken.
  void prepare_fork() noexcept {
    if (registry_ != nullptr) registry_->mutex.lock();
    back_end_.prepare_fork();
  }
  void after_fork_parent() noexcept {
    back_end_.after_fork_parent();
    if (registry_ != nullptr) registry_->mutex.unlock();
  }
  void after_fork_child() noexcept { after_fork_parent(); }

  /// The locked heap below (tests look through it).
  back_end_type& back_end() noexcept { return back_end_; }

  /// Thread caches of this allocator type alive now, over all threads and instances: tests
  /// prove with it that exiting threads and destroyed instances leave none behind.
  static std::size_t caches_alive() noexcept { return caches_alive_.load(std::memory_order_relaxed); }

 private:
  ALLOY_FAST_PATH static constexpr bool cacheable(std::size_t size, std::size_t align) noexcept {
    return size <= cached_max && align <= cache_alignment;
  }

  static constexpr std::uint32_t limit_of(std::size_t b) noexcept {
    return static_cast<std::uint32_t>(std::clamp<std::size_t>(bin_byte_limit / cache_bins::size_of(b), 2, BlocksPerClass));
  }
  /// Blocks moved per refill or flush: a batch, at most half a bin so a bin never ping-pongs.
  static constexpr std::size_t batch_of(std::size_t b) noexcept { return std::max<std::size_t>(1, std::min<std::size_t>(Batch, limit_of(b) / 2)); }

  ALLOY_SLOW_PATH void* allocate_slow(std::size_t size, std::size_t align) noexcept {
    if (!cacheable(size, align)) return back_end_.allocate(size, align);
    const std::size_t index = cache_bins::bin_of(size);
    cache* c = current_or_new_cache();
    // Uncached, a block is still taken as its bin's size: any thread's cache may get it back.
    if (c == nullptr) return back_end_.allocate(cache_bins::size_of(index), cache_alignment);
    bin& b = c->bins[index];
    if (b.head == nullptr) refill(b, index);
    return b.head == nullptr ? nullptr : b.pop();
  }

  ALLOY_SLOW_PATH void deallocate_slow(void* p, std::size_t size, std::size_t align) noexcept {
    if (!cacheable(size, align)) return back_end_.deallocate(p, size, align);
    const std::size_t index = cache_bins::bin_of(size);
    cache* c = current_or_new_cache();
    if (c == nullptr) return back_end_.deallocate(p, cache_bins::size_of(index), cache_alignment);
    bin& b = c->bins[index];
    b.push(p);
    if (b.room == 0) flush(b, index);
  }

  /// One lock for a batch of blocks: a whole chain another thread gave back when there is
  /// one (no block touched), else carved one by one from the heap.
  void refill(bin& b, std::size_t index) noexcept {
    const std::size_t n = batch_of(index);
    back_end_.with_lock([&](Inner& heap) noexcept {
      transfer_slot& t = transfers_[index];
      if (t.count != 0) {
        b.head = t.take();
        b.room -= static_cast<std::uint32_t>(n);
        return;
      }
      for (std::size_t i = 0; i < n; ++i) {
        void* block = heap.allocate(cache_bins::size_of(index), cache_alignment);
        if (block == nullptr) break;
        b.push(block);
      }
    });
  }

  /// A full bin gives its most recent batch back as one chain (cut out of the list outside
  /// the lock); under the lock the chain is parked for the next refill of that bin, by any
  /// thread — so a producer/consumer pair trades chains, not blocks. Parking is bounded; past
  /// it the blocks go back to the heap.
  ALLOY_SLOW_PATH void flush(bin& b, std::size_t index) noexcept {
    const std::size_t n = batch_of(index);
    void* chain = b.head;
    void* last = chain;
    for (std::size_t i = 1; i < n; ++i) last = *static_cast<void**>(last);
    b.head = *static_cast<void**>(last);
    *static_cast<void**>(last) = nullptr;
    b.room += static_cast<std::uint32_t>(n);
    back_end_.with_lock([&](Inner& heap) noexcept {
      transfer_slot& t = transfers_[index];
      if (t.count < max_parked(index)) {
        t.park(chain);
        return;
      }
      for (void* p = chain; p != nullptr;) {
        void* next = *static_cast<void**>(p);
        heap.deallocate(p, cache_bins::size_of(index), cache_alignment);
        p = next;
      }
    });
  }

  void give_back(bin& b, std::size_t index, std::size_t n) noexcept {
    back_end_.with_lock([&](Inner& heap) noexcept {
      for (std::size_t i = 0; i < n && b.head != nullptr; ++i)
        heap.deallocate(b.pop(), cache_bins::size_of(index), cache_alignment);
    });
  }

  /// Parked chains back to the heap (the back end's lock held), so its counters see them free.
  void drain_transfers(Inner& heap) noexcept {
    for (std::size_t i = 0; i < bin_count; ++i) {
      transfer_slot& t = transfers_[i];
      while (t.count != 0)
        for (void* p = t.take(); p != nullptr;) {
          void* next = *static_cast<void**>(p);
          heap.deallocate(p, cache_bins::size_of(i), cache_alignment);
          p = next;
        }
    }
  }

  void flush_all(cache& c) noexcept {
    for (std::size_t i = 0; i < bin_count; ++i)
      if (c.bins[i].head != nullptr) give_back(c.bins[i], i, c.bins[i].count());
  }

  cache* find_cache() const noexcept {
    if (current_.id == id_) return current_.caches;
    if (!table_alive_) return nullptr;
    for (cache* c = table_.first; c != nullptr; c = c->next_in_thread)
      if (c->id == id_) return c;
    return nullptr;
  }

  /// This thread's cache for this instance, made on first use; null where caching cannot be
  /// set up (no registry, no memory, the thread is exiting, or a re-entrant call).
  cache* current_or_new_cache() noexcept {
    if (current_.id == id_) return current_.caches;
    if (registry_ == nullptr || table_gone_ || in_setup_) return nullptr;
    in_setup_ = true;
    cache* c = find_cache();
    if (c == nullptr) c = new_cache();
    if (c != nullptr) current_ = {id_, c};
    in_setup_ = false;
    return c;
  }

  cache* new_cache() noexcept {
    thread_table& table = table_;  // first touch registers its destructor for thread exit
    sweep_dead(table);
    cache* c = make_system_object<cache>();
    if (c == nullptr) return nullptr;
    caches_alive_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < bin_count; ++i) c->bins[i].limit = c->bins[i].room = limit_of(i);
    c->id = id_;
    c->owner = registry_;
    {
      std::lock_guard guard(registry_->mutex);
      ++registry_->references;
      c->next = registry_->caches;
      if (c->next != nullptr) c->next->prev = c;
      registry_->caches = c;
    }
    c->next_in_thread = table.first;
    table.first = c;
    return c;
  }

  /// A cache is live while its instance lives under the id it was made for.
  static bool live(const cache* c) noexcept { return c->owner->layer != nullptr && c->owner->id == c->id; }

  /// Frees this thread's caches of instances that were destroyed or released.
  static void sweep_dead(thread_table& table) noexcept {
    for (cache** link = &table.first; *link != nullptr;) {
      cache* c = *link;
      bool dead;
      {
        std::lock_guard guard(c->owner->mutex);
        dead = !live(c);
      }
      if (dead) {
        *link = c->next_in_thread;
        drop(c);
      } else {
        link = &c->next_in_thread;
      }
    }
  }

  /// Gives a cache's blocks back to its instance if it still lives, and frees the cache.
  static void drop(cache* c) noexcept {
    registry* r = c->owner;
    bool last;
    {
      std::lock_guard guard(r->mutex);
      if (live(c)) {
        r->layer->flush_all(*c);
        (c->prev != nullptr ? c->prev->next : r->caches) = c->next;
        if (c->next != nullptr) c->next->prev = c->prev;
      }
      last = --r->references == 0;
    }
    if (last) destroy_system_object(r);
    destroy_system_object(c);
    caches_alive_.fetch_sub(1, std::memory_order_relaxed);
  }

  /// Detaches every cache of this instance (their blocks are dropped, not given back: the
  /// instance is going away or releasing everything); `renew` gives the instance a fresh id.
  void retire_caches(bool renew) noexcept {
    if (registry_ == nullptr) return;
    const std::uint64_t old_id = id_;
    bool last;
    {
      std::lock_guard guard(registry_->mutex);
      for (cache* c = registry_->caches; c != nullptr; c = c->next) c->prev = nullptr;
      registry_->caches = nullptr;
      if (renew) {
        id_ = next_cache_instance_id.fetch_add(1, std::memory_order_relaxed);
        registry_->id = id_;
      } else {
        registry_->layer = nullptr;
      }
      last = !renew && --registry_->references == 0;
    }
    if (current_.id == old_id) current_ = {0, nullptr};
    // This thread's own cache of the old id can go now; other threads free theirs later.
    if (table_alive_) sweep_dead(table_);
    if (last) destroy_system_object(registry_);
    if (!renew) registry_ = nullptr;
  }

  // Per allocator type and thread. `current_` is constant-initialised and trivially
  // destructible, so the fast path reads it with one %fs-relative load, no init guard.
  static inline thread_local constinit current_cache current_{0, nullptr};
  static inline thread_local constinit bool table_alive_ = false;
  static inline thread_local constinit bool table_gone_ = false;
  static inline thread_local constinit bool in_setup_ = false;
  static inline thread_local thread_table table_;
  static inline std::atomic<std::size_t> caches_alive_{0};

  /// Chains parked by flushes for the next refill of their bin; under the back end's lock.
  /// Each chain holds batch_of(bin) blocks linked through their first word; the chains are
  /// stacked through the second word of their first block (every bin's blocks are >= 16 bytes).
  struct transfer_slot {
    void* chains = nullptr;
    std::size_t count = 0;

    static void*& next_chain(void* chain) noexcept { return static_cast<void**>(chain)[1]; }
    void park(void* chain) noexcept {
      next_chain(chain) = chains;
      chains = chain;
      ++count;
    }
    void* take() noexcept {
      void* chain = chains;
      chains = next_chain(chain);
      --count;
      return chain;
    }
  };
  /// Chains a bin may park: up to 256 KiB of blocks, and at least 8 chains.
  static constexpr std::size_t max_parked(std::size_t b) noexcept {
    return std::max<std::size_t>(8, (std::size_t{256} << 10) / (batch_of(b) * cache_bins::size_of(b)));
  }

  std::uint64_t id_ = next_cache_instance_id.fetch_add(1, std::memory_order_relaxed);
  registry* registry_;
  std::array<transfer_slot, bin_count == 0 ? 1 : bin_count> transfers_{};
  mutable back_end_type back_end_;  // mutable: stats() gives the caller's cached blocks back first
};

}  // namespace detail

namespace policy {

struct thread_local_cache {
  using axis = alloy::axis::threading;
  static constexpr std::size_t default_blocks_per_class = 64;
  static constexpr std::size_t default_batch = 32;

  /// Tuned form: a bin flushes a batch back when it holds more than `BlocksPerClass` blocks
  /// (and never more than ~32 KiB); refills and flushes move `Batch` blocks per lock.
  template <std::size_t BlocksPerClass, std::size_t Batch>
  struct with {
    static_assert(BlocksPerClass >= 2 && Batch >= 1 && Batch <= BlocksPerClass,
                  "thread_local_cache::with<BlocksPerClass, Batch>: need BlocksPerClass >= 2 and 1 <= Batch <= "
                  "BlocksPerClass");
    using axis = alloy::axis::threading;
    static constexpr bool caches_freed_blocks = true;  // plain links, out of the hardening's reach
    template <class Inner>
    using layer = detail::thread_cache_layer<Inner, BlocksPerClass, Batch>;
    static std::string name() {
      if constexpr (BlocksPerClass == default_blocks_per_class && Batch == default_batch) return "thread_local_cache";
      else return "thread_local_cache::with<" + std::to_string(BlocksPerClass) + ", " + std::to_string(Batch) + ">";
    }
  };

  /// The untuned spelling is the tuned form with the default arguments (one design, one type).
  using tuned = with<default_blocks_per_class, default_batch>;
  static constexpr bool caches_freed_blocks = tuned::caches_freed_blocks;
  template <class Inner>
  using layer = typename tuned::template layer<Inner>;
  static std::string name() { return tuned::name(); }
};

}  // namespace policy
}  // namespace alloy
