// per_cpu_cache: free blocks are kept per *CPU* rather than per thread, in front of one shared
// back end, so the memory cached is bounded by CPUs x limit however many threads a program
// runs; allocate and free take no lock and no atomic instruction on their fast path.
//
//   CPU 0: region [hdr 16][hdr 32]...[slots 16: x x x . .][slots 32: x . . .]...  --+
//   CPU 1: region ...                                                              --+
//                                                      batch, one lock --> heap <----+
//
// The design, and why
// -------------------
// tcmalloc's per-CPU slabs: each CPU owns a region holding, per size class, a stack of block
// pointers in a fixed slot array. Push and pop are restartable sequences (detail/rseq.hpp):
// read this CPU's number, find its region, move one pointer, and commit with one store of
// the stack's top; the kernel restarts the sequence if the thread is preempted, migrated
// or signalled before the commit, so two threads never interleave on one CPU's stacks. A
// thread cache (thread_local_cache) needs no kernel help but caches per thread: 64 threads on
// 2 cores hold 64 caches; here they share 2 regions. The stacks are arrays, not lists through
// the blocks: the fast path reads no block memory, and a region's size fixes what it caches.
//
// What is shared with thread_local_cache: the layer holds one (`threads_`), which owns the
// heap behind its lock. It is the back end: refills and flushes take its lock once per batch,
// and a whole batch travels through its transfer cache as a parcel (take_batch, give_batch),
// so a CPU whose stack overflows with another CPU's blocks (a consumer's frees) hands them to
// the next refill with no heap operation per block. And it is the fallback: a thread the
// kernel or C library gave no rseq registration — a kernel before 4.18, glibc before 2.35,
// GLIBC_TUNABLES=glibc.pthread.rseq=0, valgrind, or a ThreadSanitizer build, which has no rseq
// code at all — is served by its thread cache. `mode()` says which the calling thread gets;
// `P::per_cpu_cache::mode()` says the same before any allocator exists.
//
// Memory: a CPU's region holds at most `BytesPerCpu` bytes of blocks (each class an equal
// byte share, at most 128 blocks, what small classes leave shared among the larger; a class
// too big for one block of its share is not cached and goes to the locked heap). Regions are
// made on a CPU's first use, from the heap itself (over a static_arena nothing calls the
// system), and so is one table of the CPU numbers the kernel may report.
// Blocks a CPU caches stay there when threads exit. `metrics()` and `invariant()` stop every
// CPU's region with an rseq fence (membarrier, Linux >= 5.10) to give its blocks back or check
// them; `cached_bytes()` says what the regions hold.
//
// Fast path: 25 instructions per allocate + free pair of a size known at compile time, loop
// excluded (bench/threading counts them with callgrind; thread_local_cache 22 in the same run):
// per operation the table, the section's descriptor store, the CPU number, the region, the
// stack top, its test and the commit — docs/policies/threading.md has the figures.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "../detail/cached_classes.hpp"
#include "../detail/config.hpp"
#include "../detail/heap_layer.hpp"
#include "../detail/math.hpp"
#include "../detail/rseq.hpp"
#include "../detail/sanitizer.hpp"
#include "concept.hpp"
#include "thread_local_cache.hpp"

namespace alloy {

/// Which caches a per_cpu_cache serves the calling thread from.
enum class per_cpu_mode {
  per_cpu,        ///< the regions of the CPU the thread runs on (rseq)
  thread_caches,  ///< the thread's own bins, as thread_local_cache: no rseq for this thread
};

namespace detail {

/// CPU numbers a region table may have to cover: x86-64 Linux's largest NR_CPUS.
inline constexpr std::size_t max_cpu_ids = 8192;
/// Size classes a region may have (the idle region below must cover every header).
inline constexpr std::size_t max_region_classes = 512;

/// The region of a CPU without one: all headers zero, so every push and pop fails.
alignas(64) inline constinit slab_header idle_region[max_region_classes]{};

/// A region table with no region: what an instance's fast path reads until its first slow
/// path made the real one. Pointers cannot be constant-initialised without one relocation per
/// entry, so it is filled on first use (64 KiB, once per process).
inline void** idle_cpu_table() noexcept {
  static constinit void* table[2 + max_cpu_ids]{};
  static const bool filled = [] {
    for (void*& entry : table) entry = idle_region;
    return true;
  }();
  (void)filled;
  return table + 2;  // valid from index -2, the cpu_id of a thread without rseq
}

/// One past the highest CPU number the kernel may report (/sys/devices/system/cpu/possible,
/// "0-1" or "0-3,8-11"); 0 when it cannot be read. Read with plain system calls: this may run
/// inside malloc.
inline std::size_t possible_cpu_ids() noexcept {
  const int fd = ::open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[256];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return 0;
  std::size_t highest = 0, number = 0;
  bool digits = false;
  for (ssize_t i = 0; i < n; ++i) {
    if (text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + static_cast<std::size_t>(text[i] - '0');
      digits = true;
    } else {
      if (digits) highest = std::max(highest, number);
      number = 0;
      digits = false;
    }
  }
  if (digits) highest = std::max(highest, number);
  return highest + 1;
}

/// What the calling thread gets from a per_cpu_cache of this build, kernel and C library.
inline per_cpu_mode per_cpu_mode_of_thread() noexcept {
  if (!rseq_built || !rseq_registered_by_libc() || rseq_cpu() < 0) return per_cpu_mode::thread_caches;
  const std::size_t ids = possible_cpu_ids();
  return ids != 0 && ids <= max_cpu_ids ? per_cpu_mode::per_cpu : per_cpu_mode::thread_caches;
}

template <class Inner, std::size_t BytesPerCpu, std::size_t Batch>
class per_cpu_cache_layer : cached_classes<Inner> {
 public:
  using config = typename Inner::config;

 private:
  using cached = cached_classes<Inner>;
  using typename cached::classes;
  using cached::alignment, cached::bin_count, cached::block_size, cached::cacheable;
  using fallback_type = typename policy::thread_local_cache::template layer<Inner>;
  /// Whether the fast paths use the regions at all in this build.
  static constexpr bool per_cpu_built = rseq_built && bin_count != 0;
  static constexpr std::size_t max_blocks_per_class = 128;
  /// Bytes of a class's blocks at a share of `bytes` per class, capped at 128 blocks.
  static constexpr std::size_t held_at(std::size_t c, std::size_t bytes) noexcept {
    return std::min(max_blocks_per_class, bytes / block_size(c)) * block_size(c);
  }
  /// The share: the largest number of bytes per class such that all classes together hold at
  /// most BytesPerCpu. Small classes reach their 128 blocks below it, and what they leave goes
  /// to the larger ones (an equal split would leave most of it unused).
  static constexpr std::size_t class_share = [] {
    std::size_t low = 0, high = BytesPerCpu;  // held(low) fits; find the largest that does
    while (low < high) {
      const std::size_t mid = low + (high - low + 1) / 2;
      std::size_t held = 0;
      for (std::size_t c = 0; c < bin_count; ++c) held += held_at(c, mid);
      if (held <= BytesPerCpu) low = mid;
      else high = mid - 1;
    }
    return low;
  }();
  /// Slots of a class in a region (0: the class is not cached, its blocks go to the heap).
  static constexpr std::size_t capacity(std::size_t c) noexcept { return held_at(c, class_share) / block_size(c); }
  /// Blocks moved per refill or flush: a batch, at most half a stack so it never ping-pongs.
  static constexpr std::size_t batch_of(std::size_t c) noexcept {
    return std::max<std::size_t>(1, std::min<std::size_t>(Batch, capacity(c) / 2));
  }
  /// Word index of a class's first slot: the headers come first, then each class's slots.
  static constexpr std::size_t begin_of(std::size_t c) noexcept {
    std::size_t words = bin_count;
    for (std::size_t k = 0; k < c; ++k) words += capacity(k);
    return words;
  }
  static constexpr std::size_t region_bytes = begin_of(bin_count) * sizeof(void*);
  static constexpr std::size_t cached_bytes_limit() noexcept {
    std::size_t bytes = 0;
    for (std::size_t c = 0; c < bin_count; ++c) bytes += capacity(c) * block_size(c);
    return bytes;
  }
  static_assert(begin_of(bin_count) <= 0xffff, "per_cpu_cache: a region's word indexes must fit its 16-bit bounds");
  static_assert(bin_count <= max_region_classes, "per_cpu_cache: more size classes than a region header table covers");
  static_assert(cached_bytes_limit() <= BytesPerCpu);
  static constexpr std::size_t header_of(std::size_t c) noexcept { return c * sizeof(slab_header); }
  /// The heap can name a block's class without its lock (segregated fit's cached_lookup).
  static constexpr bool lock_free_lookup = requires(const Inner& heap, const void* p) { heap.cached_lookup(p); };

 public:
  static constexpr bool is_thread_safe = true;
  static constexpr complexity alloc_complexity = Inner::alloc_complexity;
  static constexpr complexity free_complexity = Inner::free_complexity;
  static constexpr std::size_t max_class_size = Inner::max_class_size;
  /// Bytes of blocks one CPU's region may hold: what `cached_bytes()` is bounded by, per CPU.
  static constexpr std::size_t per_cpu_limit = cached_bytes_limit();

  per_cpu_cache_layer() noexcept {
    // The heap, for its lock-free lookup only (the thread cache layer owns it and offers no
    // unlocked access); the address is fixed while the layer lives.
    threads_.with_lock([&](Inner& heap) noexcept { heap_ = &heap; });
  }
  per_cpu_cache_layer(const per_cpu_cache_layer&) = delete;
  per_cpu_cache_layer& operator=(const per_cpu_cache_layer&) = delete;

  ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    if constexpr (per_cpu_built) {
      if (cacheable(size, align)) [[likely]] {
        const std::size_t index = classes::class_of(size);
        void* b;
        if (slab_pop(table(), header_of(index), b)) [[likely]] {
          unpoison(b, block_size(index));
          return b;
        }
      }
      return allocate_slow(size, align);
    } else {
      return threads_.allocate(size, align);
    }
  }

  maybe_zeroed allocate_maybe_zeroed(std::size_t size, std::size_t align) noexcept
    requires layer_knows_zeroed<fallback_type>
  {
    return cached::allocate_maybe_zeroed(*this, threads_, size, align);
  }

  ALLOY_FAST_PATH void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    if constexpr (per_cpu_built) {
      if (cacheable(size, align)) [[likely]] return cache_free(p, classes::class_of(size));
    }
    threads_.deallocate(p, size, align);
  }

  /// Unsized: cached too when the heap names the block's class without its lock.
  void deallocate(void* p) noexcept {
    if constexpr (per_cpu_built && lock_free_lookup) {
      const auto found = heap_->cached_lookup(p);
      if (found.size_class < bin_count) return cache_free(found.block, found.size_class);
    }
    threads_.deallocate(p);
  }

  /// Frees `p` if this instance handed it out (one lookup where owns() and deallocate() make two);
  /// a malloc replacement's free is this, so a class block takes the fast path.
  ALLOY_FAST_PATH bool try_deallocate(void* p) noexcept {
    if constexpr (per_cpu_built && lock_free_lookup) {
      const auto found = heap_->cached_lookup(p);
      if (found.size_class < bin_count) [[likely]] {
        cache_free(found.block, found.size_class);
        return true;
      }
    }
    return try_deallocate_elsewhere(p);
  }

  /// A block that changes class moves through this layer: to a CPU's region, not a thread's cache.
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    return cached::reallocate(*this, threads_, p, old_size, new_size, align);
  }

  bool owns(const void* p) const noexcept { return threads_.owns(p); }
  std::size_t usable_size(const void* p) const noexcept { return threads_.usable_size(p); }
  bool reserve(std::size_t size, std::size_t count) noexcept { return threads_.reserve(size, count); }

  /// Every chunk back to the source; the regions and the blocks they hold die with them.
  void release() noexcept {
    threads_.with_lock([&](Inner&) noexcept {
      table_.store(idle_cpu_table(), std::memory_order_release);
      regions_ = nullptr;
      cpu_ids_ = 0;
      setup_ = setup::not_yet;
    });
    threads_.release();
  }

  /// The heap's figures after every CPU's region gave its blocks back (and, as for
  /// thread_local_cache, the calling thread's cache): exact once no other thread allocates.
  /// Without the kernel's rseq fence the regions keep their blocks, counted as in use.
  heap_metrics metrics() const noexcept {
    auto* self = const_cast<per_cpu_cache_layer*>(this);
    self->with_regions_stopped([&](Inner& heap, void* region) noexcept { self->empty_region(heap, region); });
    return threads_.metrics();
  }

  /// The back end and every CPU's region are well formed: each stack within its slots, each
  /// block one the heap handed out.
  bool invariant() const noexcept {
    if (!threads_.invariant()) return false;
    bool ok = true;
    const_cast<per_cpu_cache_layer*>(this)->with_regions_stopped([&](Inner& heap, void* region) noexcept {
      const auto* words = static_cast<void* const*>(region);
      const auto* headers = static_cast<const slab_header*>(region);
      for (std::size_t c = 0; c < bin_count; ++c) {
        const slab_header& h = headers[c];
        if (h.begin != begin_of(c) || h.end != begin_of(c) + capacity(c) || h.current < h.begin || h.current > h.end)
          ok = false;
        else
          for (std::size_t w = h.begin; w < h.current; ++w)
            if (!heap.owns(words[w])) ok = false;
      }
    });
    return ok;
  }

  /// Which caches serve the calling thread: its CPU's region, or (no rseq registration, a
  /// build without rseq, or an instance that could not set its regions up) its thread cache.
  per_cpu_mode mode() const noexcept {
    if constexpr (!per_cpu_built) {
      return per_cpu_mode::thread_caches;
    } else {
      if (setup_ == setup::impossible) return per_cpu_mode::thread_caches;
      return per_cpu_mode_of_thread();
    }
  }

  /// Bytes of blocks the CPUs' regions hold now (a snapshot while threads run), at most
  /// per_cpu_limit per CPU used. Blocks in fallback thread caches are not counted.
  std::size_t cached_bytes() const noexcept {
    if constexpr (!per_cpu_built) {
      return 0;
    } else {
      std::size_t bytes = 0;
      threads_.with_lock([&](Inner&) noexcept {
        for (std::size_t cpu = 0; cpu < cpu_ids_; ++cpu) {
          if (regions_[cpu] == nullptr) continue;
          auto* headers = static_cast<slab_header*>(regions_[cpu]);
          for (std::size_t c = 0; c < bin_count; ++c) {
            // Another CPU may be committing to it: one read of a value it stores whole.
            const std::uint32_t top =
                std::atomic_ref<std::uint32_t>(headers[c].current).load(std::memory_order_relaxed);
            bytes += static_cast<std::size_t>(top - headers[c].begin) * block_size(c);
          }
        }
      });
      return bytes;
    }
  }

  /// Parcels parked for blocks of `size` bytes in the transfer cache behind the regions, where
  /// a full stack's batch waits for the next refill (a CPU's or a fallback thread cache's).
  std::size_t parcels_parked(std::size_t size) noexcept { return threads_.parcels_parked(size); }

  /// Fallback thread caches of this allocator type alive now (over all threads and
  /// instances): none while every thread has its CPU's region; tests prove it with this.
  static std::size_t thread_caches_alive() noexcept { return fallback_type::caches_alive(); }

  /// Locked access to the heap below: `f(heap)` runs with the back end's lock held.
  template <class F>
  decltype(auto) with_lock(F&& f) noexcept(noexcept(f(std::declval<Inner&>()))) {
    return threads_.with_lock(static_cast<F&&>(f));
  }
  /// The heap below behind a lock held while the returned handle lives.
  auto lock() noexcept { return threads_.lock(); }

  /// fork() in a process whose malloc this is: the fallback's locks are held across fork.
  void prepare_fork() noexcept { threads_.prepare_fork(); }
  void after_fork_parent() noexcept { threads_.after_fork_parent(); }
  void after_fork_child() noexcept { threads_.after_fork_child(); }

 private:
  ALLOY_FAST_PATH void* const* table() const noexcept { return table_.load(std::memory_order_relaxed); }

  ALLOY_FAST_PATH void cache_free(void* p, std::size_t index) noexcept {
    // Poisoned before the push publishes it: after the commit another thread may pop it.
    poison(p, block_size(index));
    if (slab_push(table(), header_of(index), p)) [[likely]] return;
    free_slow(p, index);
  }

  /// Out of line, so the fast path above needs no saved registers.
  ALLOY_SLOW_PATH bool try_deallocate_elsewhere(void* p) noexcept { return threads_.try_deallocate(p); }

  ALLOY_SLOW_PATH void* allocate_slow(std::size_t size, std::size_t align) noexcept {
    if constexpr (!per_cpu_built) {
      return threads_.allocate(size, align);
    } else {
      if (!cacheable(size, align)) return threads_.allocate(size, align);
      const std::size_t index = classes::class_of(size);
      void* const* t = ready_table();
      if (t == nullptr) return threads_.allocate(size, align);  // no rseq here: the thread cache
      // The stack may have been refilled since (another thread on this CPU, or a migration).
      if (void* b; slab_pop(t, header_of(index), b)) {
        unpoison(b, block_size(index));
        return b;
      }
      std::array<void*, Batch> blocks;
      const std::size_t n = threads_.take_batch(index, home(), blocks.data(), batch_of(index));
      if (n == 0) return nullptr;
      // Keep the rest in whichever CPU's region the thread runs on now; what does not fit
      // (a full stack, a CPU without a region) goes straight back.
      std::size_t kept = 1;
      for (; kept < n; ++kept) {
        poison(blocks[kept], block_size(index));
        if (!slab_push(t, header_of(index), blocks[kept])) {
          unpoison(blocks[kept], block_size(index));
          break;
        }
      }
      if (kept < n) give_back(blocks.data() + kept, n - kept, index);
      return blocks[0];
    }
  }

  ALLOY_SLOW_PATH void free_slow(void* p, std::size_t index) noexcept {
    unpoison(p, block_size(index));
    void* const* t = ready_table();
    // No rseq here: the thread cache takes it (size_of(index) is a size of that very class).
    if (t == nullptr) return threads_.deallocate(p, classes::size_of(index), alignment);
    if (capacity(index) != 0) {
      poison(p, block_size(index));
      if (slab_push(t, header_of(index), p)) return;  // the region was new, or room was made
      unpoison(p, block_size(index));
    }
    // Full: this block and a batch from the top of the stack go back under one lock.
    std::array<void*, Batch> blocks;
    blocks[0] = p;
    std::size_t n = 1;
    for (; n < batch_of(index); ++n) {
      void* b;
      if (!slab_pop(t, header_of(index), b)) break;
      unpoison(b, block_size(index));
      blocks[n] = b;
    }
    give_back(blocks.data(), n, index);
  }

  /// Accessible blocks back through the thread cache layer's transfer cache: a whole batch
  /// parked there for the next refill (a CPU's or a thread's), else to the heap.
  void give_back(void* const* blocks, std::size_t n, std::size_t index) noexcept {
    threads_.give_batch(index, home(), blocks, n);
  }
  /// The calling thread's CPU: where its batches are parked in the transfer cache, and taken
  /// from first (a hint: the thread may have moved since).
  static std::size_t home() noexcept { return static_cast<std::size_t>(std::max(rseq_cpu(), 0)); }

  /// The region table, with a region for the calling thread's CPU; null when this thread is
  /// to use its thread cache (no rseq registration, or no table or region could be made).
  void* const* ready_table() noexcept {
    // glibc writes -2 here for a thread it did not register, so the sign alone says.
    const int cpu = rseq_cpu();
    if (cpu < 0 || setup_ == setup::impossible) return nullptr;
    void* const* t = table_.load(std::memory_order_acquire);
    if (setup_ == setup::done &&
        std::atomic_ref<void*>(const_cast<void*&>(t[cpu])).load(std::memory_order_acquire) != idle_region)
      return t;
    const bool ready = threads_.with_lock([&](Inner& heap) noexcept {
      if (setup_ == setup::not_yet) make_table(heap);
      if (setup_ != setup::done || static_cast<std::size_t>(cpu) >= cpu_ids_) return false;
      if (regions_[cpu] == nullptr) {
        void* region = heap.allocate(region_bytes, std::max<std::size_t>(64, alignment));  // a line of its own
        if (region == nullptr) return false;
        auto* headers = static_cast<slab_header*>(region);
        for (std::size_t c = 0; c < bin_count; ++c) {
          const auto begin = static_cast<std::uint16_t>(begin_of(c));
          headers[c] = {begin, begin, static_cast<std::uint16_t>(begin + capacity(c))};
        }
        regions_[cpu] = region;
      }
      // Published after its headers: a fast path that finds it finds them written.
      void** table = table_.load(std::memory_order_relaxed);
      std::atomic_ref<void*>(table[cpu]).store(regions_[cpu], std::memory_order_release);
      return true;
    });
    return ready ? table_.load(std::memory_order_acquire) : nullptr;
  }

  /// The table of regions, from the heap (the back end's lock held): entries -2 and -1, one
  /// per CPU number the kernel may report, then each CPU's region again (`regions_`: kept while
  /// its table entry is unpublished, and null until the region is made).
  void make_table(Inner& heap) noexcept {
    const std::size_t ids = possible_cpu_ids();
    const bool usable = ids != 0 && ids <= max_cpu_ids;
    void** words = usable ? static_cast<void**>(heap.allocate((2 + 2 * ids) * sizeof(void*), alignment)) : nullptr;
    if (words == nullptr) {
      setup_ = setup::impossible;
      return;
    }
    std::fill(words, words + 2 + ids, static_cast<void*>(idle_region));
    std::fill(words + 2 + ids, words + 2 + 2 * ids, nullptr);
    cpu_ids_ = ids;
    regions_ = words + 2 + ids;
    table_.store(words + 2, std::memory_order_release);
    setup_ = setup::done;
  }

  /// Runs `f(heap, region)` on every CPU's region with none of them in use: unpublished, then
  /// the kernel's rseq fence moves any thread still inside a section on one to its abort
  /// address, where it finds the idle region and takes its slow path (which waits for the
  /// back end's lock, held throughout). Without the fence, nothing runs.
  template <class F>
  void with_regions_stopped(F f) noexcept {
    if constexpr (per_cpu_built) {
      threads_.with_lock([&](Inner& heap) noexcept {
        if (setup_ != setup::done) return;
        void** t = table_.load(std::memory_order_relaxed);
        for (std::size_t cpu = 0; cpu < cpu_ids_; ++cpu)
          if (regions_[cpu] != nullptr) std::atomic_ref<void*>(t[cpu]).store(idle_region, std::memory_order_relaxed);
        const bool stopped = rseq_fence();
        for (std::size_t cpu = 0; cpu < cpu_ids_; ++cpu) {
          if (regions_[cpu] == nullptr) continue;
          if (stopped) f(heap, regions_[cpu]);
          std::atomic_ref<void*>(t[cpu]).store(regions_[cpu], std::memory_order_release);
        }
      });
    }
  }

  /// Every block of a stopped region back to the heap.
  void empty_region(Inner& heap, void* region) noexcept {
    auto* words = static_cast<void**>(region);
    auto* headers = static_cast<slab_header*>(region);
    for (std::size_t c = 0; c < bin_count; ++c) {
      for (std::size_t w = headers[c].begin; w < headers[c].current; ++w) {
        unpoison(words[w], block_size(c));
        heap.deallocate(words[w], block_size(c), alignment);
      }
      headers[c].current = headers[c].begin;
    }
  }

  enum class setup : unsigned char { not_yet, done, impossible };

  // The fast path reads table_ alone; it starts as the idle table (every push and pop fails)
  // and is replaced once by the instance's own, under the back end's lock, as are the rest.
  std::atomic<void**> table_{idle_cpu_table()};
  void** regions_ = nullptr;  // per CPU number: its region, or null
  std::size_t cpu_ids_ = 0;
  std::atomic<setup> setup_{setup::not_yet};
  const Inner* heap_ = nullptr;
  mutable fallback_type threads_;
};

}  // namespace detail

namespace policy {

struct per_cpu_cache {
  using axis = alloy::axis::threading;
  /// 1.5 MiB: with an equal byte share per class, 512 KiB left the 1-4 KiB classes 4-17 slots
  /// (batches of 2-8), and a program churning such blocks took the back end's lock every few
  /// frees: the python_threads trace replayed at 56-93 ns per pair against 39-40 with 1.5 MiB
  /// (batches of 6-24), producer_consumer 108 -> 81 ns, the same runs. The order of what a
  /// thread cache may hold (1.29 MiB of the preload library's classes), per CPU instead.
  static constexpr std::size_t default_bytes_per_cpu = std::size_t{1536} << 10;
  static constexpr std::size_t default_batch = 32;

  /// Tuned form: each CPU's region holds at most `BytesPerCpu` bytes of blocks (an equal byte
  /// share per size class, at most 128 blocks each); refills and flushes move `Batch` blocks per lock.
  template <std::size_t BytesPerCpu, std::size_t Batch>
  struct with {
    static_assert(BytesPerCpu >= 1024 && Batch >= 1 && Batch <= 64,
                  "per_cpu_cache::with<BytesPerCpu, Batch>: need BytesPerCpu >= 1024 and 1 <= Batch <= 64");
    using axis = alloy::axis::threading;
    static constexpr bool holds_bare_pointers = true;  // block pointers out of the hardening's reach
    template <class Inner>
    using layer = detail::per_cpu_cache_layer<Inner, BytesPerCpu, Batch>;
    static std::string name() {
      if constexpr (BytesPerCpu == default_bytes_per_cpu && Batch == default_batch) return "per_cpu_cache";
      else return "per_cpu_cache::with<" + std::to_string(BytesPerCpu) + ", " + std::to_string(Batch) + ">";
    }
    static per_cpu_mode mode() noexcept { return detail::per_cpu_mode_of_thread(); }
  };

  /// The untuned spelling is the tuned form with the default arguments (one design, one type).
  using tuned = with<default_bytes_per_cpu, default_batch>;
  static constexpr bool holds_bare_pointers = tuned::holds_bare_pointers;
  template <class Inner>
  using layer = typename tuned::template layer<Inner>;
  static std::string name() { return tuned::name(); }

  /// Which caches a per_cpu_cache serves the calling thread from in this process, before any
  /// allocator exists: `per_cpu` where this build has rseq, the C library registered the
  /// thread and the kernel's CPU numbers are known; else `thread_caches`.
  static per_cpu_mode mode() noexcept { return detail::per_cpu_mode_of_thread(); }
};

}  // namespace policy
}  // namespace alloy
