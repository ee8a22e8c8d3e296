// The workloads: fixed seeds, the very same operations for every cell. Each one is a small
// type (they differ in state and parameters, so they live in a hana::tuple, see
// default_workloads()) with
//   name(), pairs_per_round(), memory_rounds(), and the flags below,
//   setup(driver) -> state,  round(driver, state),  teardown(driver, state).
// One round allocates and frees `pairs_per_round()` blocks; time per pair = round time / pairs.
// All sequences are drawn in the constructor, so no random number is drawn while timing.
#pragma once
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "tools/trace/trace_format.hpp"

#include "metrics.hpp"

namespace alloy::bench {

/// splitmix64: tiny, fast, and the same sequence on every compiler (std distributions are not).
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
  std::size_t between(std::size_t lo, std::size_t hi) noexcept { return lo + below(hi - lo + 1); }
  bool chance(unsigned percent) noexcept { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

/// Request sizes as small-object programs make them: mostly small, a tail up to 4 KiB
/// (75% in 8..128, 20% in 129..1024, 5% in 1025..4096).
inline std::size_t typical_size(rng& r) {
  const std::size_t band = r.below(100);
  if (band < 75) return r.between(8, 128);
  if (band < 95) return r.between(129, 1024);
  return r.between(1025, 4096);
}

/// How a workload reaches the heap: times and probes each call when asked to, and costs
/// nothing beyond the call itself in the timed loop (no_timer, no_probe).
template <class Heap, class Timer, class Probe>
class driver {
 public:
  static constexpr bool checked = !std::is_same_v<Probe, no_probe>;
  driver(Heap& heap, Timer& timer, Probe& probe) : heap_(heap), timer_(timer), probe_(probe) {}

  [[gnu::always_inline]] void* allocate(std::size_t size) {
    const std::uint64_t t0 = timer_.start();
    void* p = heap_.allocate(size);
    timer_.stop(t0);
    probe_.on_allocate(p, size);
    return p;
  }
  [[gnu::always_inline]] void deallocate(void* p, std::size_t size) {
    if constexpr (checked) {
      if (p == nullptr) return;  // a failed allocation, already counted by the probe
    }
    probe_.on_deallocate(size);
    const std::uint64_t t0 = timer_.start();
    heap_.deallocate(p, size);
    timer_.stop(t0);
  }
  void end_of_round() { heap_.end_of_round(); }
  /// A point of the memory-over-time plot: the footprint now, in phase `p` (memory runs only).
  void mark(phase p) {
    if constexpr (requires { probe_.mark(p); }) probe_.mark(p);
  }
  /// The workload is at a peak of live memory: a good moment to sample the footprint.
  void at_peak() { probe_.sample(); }
  /// The workload has just made its fragmenting pattern: read the heap's fragmentation.
  void at_fragmented() {
    if constexpr (requires { probe_.checkpoint(); }) probe_.checkpoint();
  }
  /// A workload found a block handed out twice while live (memory runs only).
  void violation() {
    if constexpr (checked) probe_.on_violation();
  }
  /// The same heap and probe without the timer: what the other threads of a threaded replay
  /// call through (the timer follows the calling thread's operations only).
  driver<Heap, no_timer, Probe> untimed() { return {heap_, no_timer::instance(), probe_}; }
  Probe& probe() { return probe_; }
  Heap& heap() { return heap_; }

 private:
  Heap& heap_;
  Timer& timer_;
  Probe& probe_;
};

/// Sizes of the workloads: the default run, a smoke run (a few ms per cell) and a full run.
struct workload_scale {
  std::size_t batch = 4096;
  std::size_t churn_steps = 4096;
  std::size_t small_live = 10000;
  std::size_t large_live = 100000;
  std::size_t frag_blocks = 2048;
  std::size_t phased_blocks = 4096;  // memory_over_time: about 7 MB at its peak
  std::size_t quiet_ms = 150;        // memory_over_time: the quiet phase of the memory run
  static workload_scale smoke() { return {256, 256, 1000, 4000, 256, 1024, 10}; }
};

// ---- same-size pairs -----------------------------------------------------------------------------

/// allocate(size), free it, again and again: the small-object fast path.
struct pairs_workload {
  std::size_t size;
  static constexpr std::size_t per_round = 256;
  static constexpr bool needs_thread_safe = false, frees_all_each_round = true, measures_memory = false;
  std::string name() const { return "pairs_" + std::to_string(size); }
  std::size_t pairs_per_round() const { return per_round; }
  std::size_t memory_rounds() const { return 1; }
  struct state {};
  template <class D> state setup(D&) const { return {}; }
  template <class D> void round(D& d, state&) const {
    for (std::size_t i = 0; i < per_round; ++i) {
      void* p = d.allocate(size);
      benchmark::DoNotOptimize(p);
      d.deallocate(p, size);
    }
    d.end_of_round();
  }
  template <class D> void teardown(D&, state&) const {}
};

// ---- random-size batch ---------------------------------------------------------------------------

/// Allocate N blocks of random sizes, then free them all in a random order.
struct batch_workload {
  std::vector<std::size_t> sizes, order;
  static constexpr bool needs_thread_safe = false, frees_all_each_round = true, measures_memory = true;
  explicit batch_workload(std::size_t n) : sizes(n), order(n) {
    rng r{0xba7c4};
    for (auto& s : sizes) s = typical_size(r);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[r.below(i + 1)]);
  }
  std::string name() const { return "random_batch"; }
  std::size_t pairs_per_round() const { return sizes.size(); }
  std::size_t memory_rounds() const { return 1; }
  struct state {
    std::vector<void*> blocks;
  };
  template <class D> state setup(D&) const { return {std::vector<void*>(sizes.size())}; }
  template <class D> void round(D& d, state& s) const {
    for (std::size_t i = 0; i < sizes.size(); ++i) s.blocks[i] = d.allocate(sizes[i]);
    d.at_peak();
    for (std::size_t i : order) d.deallocate(s.blocks[i], sizes[i]);
    d.end_of_round();
  }
  template <class D> void teardown(D&, state&) const {}
};

// ---- churn with a live working set ---------------------------------------------------------------

/// `live` blocks stay allocated; each step frees a random one and allocates a new size in
/// its place. The memory run makes as many steps as there are live blocks (about 63% of the
/// working set replaced, the footprint near its steady state).
struct churn_workload {
  std::size_t live, steps;
  std::vector<std::size_t> initial_sizes, slots, new_sizes;
  static constexpr bool needs_thread_safe = false, frees_all_each_round = false, measures_memory = true;
  churn_workload(std::size_t live_blocks, std::size_t steps_per_round)
      : live(live_blocks), steps(steps_per_round), initial_sizes(live_blocks) {
    rng r{0xc4e2 + live_blocks};
    for (auto& s : initial_sizes) s = typical_size(r);
    const std::size_t stream = std::max(steps, 2 * live);
    slots.resize(stream);
    new_sizes.resize(stream);
    for (std::size_t i = 0; i < stream; ++i) {
      slots[i] = r.below(live);
      new_sizes[i] = typical_size(r);
    }
  }
  std::string name() const { return live % 1000 == 0 ? "churn_" + std::to_string(live / 1000) + "k" : "churn_" + std::to_string(live); }
  std::size_t pairs_per_round() const { return steps; }
  std::size_t memory_rounds() const { return (live + steps - 1) / steps; }
  struct state {
    std::vector<void*> blocks;
    std::vector<std::size_t> sizes;
    std::size_t cursor = 0;
  };
  template <class D> state setup(D& d) const {
    state s{std::vector<void*>(live), initial_sizes, 0};
    for (std::size_t i = 0; i < live; ++i) s.blocks[i] = d.allocate(s.sizes[i]);
    d.at_peak();
    return s;
  }
  template <class D> void round(D& d, state& s) const {
    for (std::size_t i = 0; i < steps; ++i) {
      const std::size_t j = s.cursor;
      s.cursor = j + 1 == slots.size() ? 0 : j + 1;
      const std::size_t slot = slots[j];
      d.deallocate(s.blocks[slot], s.sizes[slot]);
      s.sizes[slot] = new_sizes[j];
      s.blocks[slot] = d.allocate(new_sizes[j]);
    }
    d.at_peak();
  }
  template <class D> void teardown(D& d, state& s) const {
    for (std::size_t i = 0; i < live; ++i) d.deallocate(s.blocks[i], s.sizes[i]);
  }
};

// ---- mixed lifetimes -----------------------------------------------------------------------------

/// Many short-lived blocks (freed a few allocations later) and some long-lived ones (a pool
/// of 2048, each replaced now and then), with an occasional large long-lived block.
struct mixed_lifetimes_workload {
  static constexpr std::size_t short_ring = 32, long_pool = 2048, per_round = 4096;
  struct event {
    std::uint32_t size;
    std::uint32_t slot;   // ring slot (short) or pool slot (long)
    bool long_lived;
  };
  std::vector<event> events;
  std::vector<std::uint32_t> initial_short, initial_long;
  static constexpr bool needs_thread_safe = false, frees_all_each_round = false, measures_memory = true;
  mixed_lifetimes_workload() : events(16 * per_round), initial_short(short_ring), initial_long(long_pool) {
    rng r{0x317ed};
    auto long_size = [&r] {
      return static_cast<std::uint32_t>(r.chance(1) ? r.between(8192, 65536) : r.between(32, 8192));
    };
    for (auto& s : initial_short) s = static_cast<std::uint32_t>(r.between(16, 256));
    for (auto& s : initial_long) s = long_size();
    std::uint32_t ring = 0;
    for (auto& e : events) {
      e.long_lived = r.chance(10);
      if (e.long_lived) {
        e.size = long_size();
        e.slot = static_cast<std::uint32_t>(r.below(long_pool));
      } else {
        e.size = static_cast<std::uint32_t>(r.between(16, 256));
        e.slot = ring;
        ring = (ring + 1) % short_ring;
      }
    }
  }
  std::string name() const { return "mixed_lifetimes"; }
  std::size_t pairs_per_round() const { return per_round; }
  std::size_t memory_rounds() const { return events.size() / per_round; }
  struct state {
    std::vector<void*> short_blocks, long_blocks;
    std::vector<std::uint32_t> short_sizes, long_sizes;
    std::size_t cursor = 0;
  };
  template <class D> state setup(D& d) const {
    state s{std::vector<void*>(short_ring), std::vector<void*>(long_pool), initial_short, initial_long, 0};
    for (std::size_t i = 0; i < long_pool; ++i) s.long_blocks[i] = d.allocate(s.long_sizes[i]);
    for (std::size_t i = 0; i < short_ring; ++i) s.short_blocks[i] = d.allocate(s.short_sizes[i]);
    return s;
  }
  template <class D> void round(D& d, state& s) const {
    for (std::size_t i = 0; i < per_round; ++i) {
      const event& e = events[s.cursor];
      s.cursor = s.cursor + 1 == events.size() ? 0 : s.cursor + 1;
      auto& blocks = e.long_lived ? s.long_blocks : s.short_blocks;
      auto& sizes = e.long_lived ? s.long_sizes : s.short_sizes;
      d.deallocate(blocks[e.slot], sizes[e.slot]);
      sizes[e.slot] = e.size;
      blocks[e.slot] = d.allocate(e.size);
    }
    d.at_peak();
  }
  template <class D> void teardown(D& d, state& s) const {
    for (std::size_t i = 0; i < long_pool; ++i) d.deallocate(s.long_blocks[i], s.long_sizes[i]);
    for (std::size_t i = 0; i < short_ring; ++i) d.deallocate(s.short_blocks[i], s.short_sizes[i]);
  }
};

// ---- producer / consumer -------------------------------------------------------------------------

/// One thread allocates, another frees what it receives through a bounded queue: blocks
/// cross threads, so only thread-safe cells run it. Single operations are timed on the
/// producer's side (allocations).
struct producer_consumer_workload {
  std::vector<std::size_t> sizes;
  static constexpr bool needs_thread_safe = true, frees_all_each_round = false, measures_memory = false;
  explicit producer_consumer_workload(std::size_t n) : sizes(n) {
    rng r{0x9c0de};
    for (auto& s : sizes) s = r.between(16, 512);
  }
  std::string name() const { return "producer_consumer"; }
  std::size_t pairs_per_round() const { return sizes.size(); }
  std::size_t memory_rounds() const { return 1; }

  template <class Heap>
  class channel {
   public:
    explicit channel(Heap& heap) : heap_(heap), consumer_([this] { consume(); }) {}
    ~channel() {
      stop_.store(true, std::memory_order_release);
      consumer_.join();
    }
    void push(void* p, std::size_t size) {
      const std::size_t h = head_.load(std::memory_order_relaxed);
      while (h - tail_.load(std::memory_order_acquire) == capacity) std::this_thread::yield();
      ring_[h % capacity] = {p, size};
      head_.store(h + 1, std::memory_order_release);
    }
    void drain() {
      while (tail_.load(std::memory_order_acquire) != head_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }

   private:
    static constexpr std::size_t capacity = 1024;
    struct item {
      void* p;
      std::size_t size;
    };
    void consume() {
      std::size_t spins = 0;
      while (true) {
        const std::size_t t = tail_.load(std::memory_order_relaxed);
        if (t == head_.load(std::memory_order_acquire)) {
          if (stop_.load(std::memory_order_acquire)) return;
          if (++spins > 64) std::this_thread::yield();
          continue;
        }
        spins = 0;
        const item it = ring_[t % capacity];
        heap_.deallocate(it.p, it.size);
        tail_.store(t + 1, std::memory_order_release);
      }
    }
    Heap& heap_;
    item ring_[capacity];
    alignas(64) std::atomic<std::size_t> head_{0};
    alignas(64) std::atomic<std::size_t> tail_{0};
    std::atomic<bool> stop_{false};
    std::thread consumer_;
  };

  template <class D> auto setup(D& d) const { return std::make_unique<channel<std::remove_reference_t<decltype(d.heap())>>>(d.heap()); }
  template <class D, class S> void round(D& d, S& ch) const {
    for (std::size_t s : sizes) ch->push(d.allocate(s), s);
    ch->drain();
  }
  template <class D, class S> void teardown(D&, S& ch) const { ch.reset(); }
};

// ---- fragmentation -------------------------------------------------------------------------------

/// The seed's scene at scale: small and medium blocks interleaved, every small one freed
/// (holes), then larger requests that cannot use the holes. Alloy cells report the heap's
/// external fragmentation and the largest request the free blocks could still serve at that
/// moment; every cell reports time and peak footprint over peak live bytes.
struct fragmentation_workload {
  std::vector<std::size_t> small_sizes, medium_sizes, large_sizes;
  static constexpr bool needs_thread_safe = false, frees_all_each_round = true, measures_memory = true;
  explicit fragmentation_workload(std::size_t n) : small_sizes(n), medium_sizes(n), large_sizes(n / 2) {
    rng r{0xf7a6};
    for (std::size_t i = 0; i < n; ++i) {
      small_sizes[i] = r.between(16, 128);
      medium_sizes[i] = r.between(256, 1024);
    }
    for (auto& s : large_sizes) s = r.between(1536, 4096);
  }
  std::string name() const { return "fragmentation"; }
  std::size_t pairs_per_round() const { return small_sizes.size() + medium_sizes.size() + large_sizes.size(); }
  std::size_t memory_rounds() const { return 1; }
  struct state {
    std::vector<void*> small, medium, large;
  };
  template <class D> state setup(D&) const {
    return {std::vector<void*>(small_sizes.size()), std::vector<void*>(medium_sizes.size()),
            std::vector<void*>(large_sizes.size())};
  }
  template <class D> void round(D& d, state& s) const {
    for (std::size_t i = 0; i < small_sizes.size(); ++i) {
      s.small[i] = d.allocate(small_sizes[i]);
      s.medium[i] = d.allocate(medium_sizes[i]);
    }
    for (std::size_t i = 0; i < small_sizes.size(); ++i) d.deallocate(s.small[i], small_sizes[i]);
    d.at_fragmented();
    for (std::size_t i = 0; i < large_sizes.size(); ++i) s.large[i] = d.allocate(large_sizes[i]);
    d.at_peak();
    for (std::size_t i = 0; i < medium_sizes.size(); ++i) d.deallocate(s.medium[i], medium_sizes[i]);
    for (std::size_t i = 0; i < large_sizes.size(); ++i) d.deallocate(s.large[i], large_sizes[i]);
    d.end_of_round();
  }
  template <class D> void teardown(D&, state&) const {}
};

// ---- memory over time ----------------------------------------------------------------------------

/// Memory through a program's phases (issue 16): grow to `blocks` blocks of 512 B - 3 KiB, free
/// 90% of them at random, stay lightly active (a few replacements per millisecond), then grow
/// again. The memory run sleeps through the quiet phase (`quiet_ms` of real time, so an allocator
/// that gives memory back after a delay can) and samples the footprint at every phase and every
/// few milliseconds: the report plots it per cell. Timed rounds make the same calls without
/// sleeping. `retained_ratio` is the footprint at the end of the quiet phase over the bytes
/// live then: what a user watching RSS sees after the program freed most of its memory.
struct memory_over_time_workload {
  std::size_t blocks, quiet_ms;
  static constexpr std::size_t quiet_ops_per_ms = 16;
  std::vector<std::size_t> sizes, freed, quiet_slots, quiet_sizes;
  static constexpr bool needs_thread_safe = false, frees_all_each_round = true, measures_memory = true;
  memory_over_time_workload(std::size_t block_count, std::size_t quiet_millis)
      : blocks(block_count), quiet_ms(quiet_millis), sizes(block_count) {
    rng r{0x7e3a5};
    for (auto& s : sizes) s = r.between(512, 3072);
    std::vector<std::size_t> order(block_count);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = block_count - 1; i > 0; --i) std::swap(order[i], order[r.below(i + 1)]);
    freed.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(block_count * 9 / 10));
    const std::vector<std::size_t> kept(order.begin() + static_cast<std::ptrdiff_t>(freed.size()), order.end());
    for (std::size_t i = 0; i < quiet_ms * quiet_ops_per_ms; ++i) {
      quiet_slots.push_back(kept[r.below(kept.size())]);
      quiet_sizes.push_back(r.between(512, 3072));
    }
  }
  std::string name() const { return "memory_over_time"; }
  std::size_t pairs_per_round() const { return 2 * blocks - freed.size() + quiet_slots.size(); }
  std::size_t memory_rounds() const { return 1; }
  struct state {
    std::vector<void*> blocks;
    std::vector<std::size_t> sizes;
  };
  template <class D> state setup(D&) const { return {std::vector<void*>(blocks), sizes}; }
  template <class D> void round(D& d, state& s) const {
    const std::size_t every = std::max<std::size_t>(blocks / 16, 1);
    d.mark(phase::start);
    for (std::size_t i = 0; i < blocks; ++i) {
      s.sizes[i] = sizes[i];
      s.blocks[i] = d.allocate(sizes[i]);
      if (i % every == every - 1) d.mark(phase::grow);
    }
    d.at_peak();
    for (std::size_t k = 0; k < freed.size(); ++k) {
      d.deallocate(s.blocks[freed[k]], s.sizes[freed[k]]);
      s.blocks[freed[k]] = nullptr;
      if (k % every == every - 1) d.mark(phase::free);
    }
    d.mark(phase::free);
    for (std::size_t ms = 0; ms < quiet_ms; ++ms) {
      for (std::size_t k = ms * quiet_ops_per_ms; k < (ms + 1) * quiet_ops_per_ms; ++k) {
        const std::size_t slot = quiet_slots[k];
        d.deallocate(s.blocks[slot], s.sizes[slot]);
        s.sizes[slot] = quiet_sizes[k];
        s.blocks[slot] = d.allocate(quiet_sizes[k]);
      }
      if constexpr (D::checked) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (ms % 10 == 9) d.mark(phase::quiet);
      }
    }
    d.mark(phase::quiet);
    for (std::size_t k = 0; k < freed.size(); ++k) {
      s.sizes[freed[k]] = sizes[freed[k]];
      s.blocks[freed[k]] = d.allocate(sizes[freed[k]]);
      if (k % every == every - 1) d.mark(phase::regrow);
    }
    d.at_peak();
    d.mark(phase::regrow);
    for (std::size_t i = 0; i < blocks; ++i) d.deallocate(s.blocks[i], s.sizes[i]);
    d.mark(phase::end);
    d.end_of_round();
  }
  template <class D> void teardown(D&, state&) const {}
};

// ---- trace replay --------------------------------------------------------------------------------

/// A recorded program (tools/trace/trace_format.hpp) replayed call by call: a realloc becomes the
/// free of the old block and the allocation of the new one (no copy), calloc and aligned calls
/// become plain allocations of their size. Blocks still live at the end of the trace are freed,
/// so every round is the whole program again.
///
/// Threads: each recorded thread's calls run, in their recorded order, on a replay thread of
/// their own (the trace's thread 0 on the calling thread, the only one timed for latency). The
/// order that matters across threads is kept: a block allocated by one thread and freed by
/// another is freed only once its allocation has completed (the freeing thread waits on the
/// block's slot, published with release ordering). Each wait is on an earlier record, so the
/// replay cannot deadlock. A trace of several threads runs on thread-safe cells only.
///
/// Checks (memory runs): each block of 8 bytes or more carries its object number while live, and
/// its free finds it there, so a block handed out twice while live is reported (probe
/// violations, the benchmark fails).
struct trace_replay_workload {
  struct step {
    std::uint64_t size;    // the block's size: to allocate, or (with `release`) the size it was asked with
    std::uint32_t object;  // the block's number in the trace
    std::uint16_t thread;  // the recorded thread that made the call
    bool release;          // free `object` instead of allocating it
    bool crosses;          // the other end of this object's life is on another thread
  };
  std::string program;                                // "python3": the trace's file name, less ".trace"
  std::vector<step> steps;                            // in recorded order
  std::vector<std::vector<std::uint32_t>> by_thread;  // indices into steps, per recorded thread
  /// The blocks the program never freed, with their sizes: what each round frees at its end.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> survivors;
  std::size_t objects = 0, allocations = 0;
  static constexpr bool needs_thread_safe = false;  // decided per trace: threaded()
  static constexpr bool frees_all_each_round = true, measures_memory = true;
  /// Its memory run writes every block it gets (the stamp below), as the program wrote it: the
  /// page faults a fresh heap takes there are the program's (faults_per_pair).
  static constexpr bool touches_blocks = true;

  trace_replay_workload() = default;
  /// Loads `path`; an unreadable file leaves the workload disabled (the runner checks the files
  /// it is given first, with a message that says why).
  explicit trace_replay_workload(const std::string& path) {
    if (path.empty()) return;
    const auto file = alloy::trace::read(path);
    if (!file) return;
    program = path.substr(path.find_last_of('/') + 1);
    if (program.size() > 6 && program.compare(program.size() - 6, 6, ".trace") == 0) program.resize(program.size() - 6);
    objects = file->head.object_count;
    by_thread.resize(std::max<std::uint32_t>(file->head.thread_count, 1));
    // What the replay would otherwise look up while timed is decided here, once: the size each
    // free passes, whether a block crosses threads, which blocks outlive the trace.
    std::vector<std::uint16_t> owner(objects + 1);
    std::vector<std::uint64_t> size(objects + 1);
    std::vector<char> live(objects + 1, 0), crosses(objects + 1, 0);
    steps.reserve(file->records.size());
    for (const alloy::trace::record& r : file->records) {
      const bool release = r.kind == alloy::trace::op::deallocate || r.kind == alloy::trace::op::reallocate_from;
      if (release) {
        crosses[r.object] |= owner[r.object] != r.thread;
        live[r.object] = 0;
      } else {
        owner[r.object] = r.thread;
        size[r.object] = r.size;
        live[r.object] = 1;
        ++allocations;
      }
      by_thread[r.thread].push_back(static_cast<std::uint32_t>(steps.size()));
      steps.push_back({size[r.object], r.object, r.thread, release, false});
    }
    // Mark both ends of every block whose free is on another thread than its allocation.
    for (step& st : steps) st.crosses = crosses[st.object] != 0;
    for (std::uint32_t i = 1; i <= objects; ++i) {
      if (live[i]) survivors.emplace_back(i, size[i]);
    }
  }
  bool enabled() const { return allocations > 0; }
  /// More than one recorded thread: thread-safe cells only.
  bool threaded() const { return by_thread.size() > 1; }
  std::string name() const { return "trace_" + program; }
  std::size_t pairs_per_round() const { return allocations; }
  std::size_t memory_rounds() const { return 1; }

  struct state {
    std::unique_ptr<std::atomic<void*>[]> blocks;
  };
  template <class D> state setup(D&) const {
    state s{std::make_unique<std::atomic<void*>[]>(objects + 1)};
    for (std::size_t i = 0; i <= objects; ++i) s.blocks[i].store(nullptr, std::memory_order_relaxed);
    return s;
  }
  template <class D> void round(D& d, state& s) const {
    if (!threaded()) {
      replay_thread(d, s, 0);
    } else {
      std::vector<std::thread> others;
      others.reserve(by_thread.size() - 1);
      for (std::size_t t = 1; t < by_thread.size(); ++t) {
        others.emplace_back([this, &d, &s, t] {
          auto quiet = d.untimed();
          replay_thread(quiet, s, t);
        });
      }
      replay_thread(d, s, 0);
      for (std::thread& t : others) t.join();
    }
    d.at_peak();
    // The replay threads have joined: plain loads and stores (an exchange per block would be a
    // locked instruction each, timed with the heap's work).
    for (const auto& [object, size] : survivors) {
      std::atomic<void*>& slot = s.blocks[object];
      void* p = slot.load(std::memory_order_relaxed);
      slot.store(nullptr, std::memory_order_relaxed);
      if (p != nullptr) release(d, p, object, size);
    }
    d.end_of_round();
  }
  template <class D> void teardown(D&, state&) const {}

 private:
  /// Stands for a failed allocation in a slot (memory runs count it; it has nothing to free).
  static void* failed() noexcept {
    static char marker;
    return &marker;
  }
  template <class D> void release(D& d, void* p, std::size_t object, std::uint64_t size) const {
    if (p == failed()) return;
    if constexpr (D::checked) {
      std::uint64_t stamp = 0;
      if (size >= sizeof stamp) {
        std::memcpy(&stamp, p, sizeof stamp);
        if (stamp != object) d.violation();
      }
    }
    d.deallocate(p, size);
  }
  template <class D> void replay_thread(D& d, state& s, std::size_t thread) const {
    for (const std::uint32_t index : by_thread[thread]) {
      const step& st = steps[index];
      std::atomic<void*>& slot = s.blocks[st.object];
      // Each access names its ordering as a constant: a memory order known only at run time is
      // compiled as seq_cst, and a seq_cst store on x86 is a locked exchange, timed with the heap.
      if (st.release) {
        void* p = st.crosses ? slot.load(std::memory_order_acquire) : slot.load(std::memory_order_relaxed);
        // Freed on another thread than it was allocated on: wait until that allocation is done.
        for (unsigned spins = 0; p == nullptr; p = slot.load(std::memory_order_acquire)) {
          if (++spins < 64) __builtin_ia32_pause();
          else std::this_thread::yield();
        }
        slot.store(nullptr, std::memory_order_relaxed);
        release(d, p, st.object, st.size);
      } else {
        void* p = d.allocate(st.size);
        if constexpr (D::checked) {
          const std::uint64_t stamp = st.object;
          if (p != nullptr && st.size >= sizeof stamp) std::memcpy(p, &stamp, sizeof stamp);
          else if (p != nullptr && st.size > 0) *static_cast<volatile char*>(p) = 0;  // touched all the same
          // And a byte of every further page it spans: the program wrote what it asked for (a
          // realloc's copy included), so the pages a heap gives it fresh are faults it paid.
          if (p != nullptr) {
            const auto start = reinterpret_cast<std::uintptr_t>(p), end = start + st.size;
            for (std::uintptr_t page = (start | (page_bytes - 1)) + 1; page < end; page += page_bytes)
              *reinterpret_cast<volatile char*>(page) = 0;
          }
        }
        if (p == nullptr) p = failed();
        if (st.crosses) slot.store(p, std::memory_order_release);
        else slot.store(p, std::memory_order_relaxed);
      }
    }
  }
};

/// Every trace the run was given (--trace), each a workload of its own: `instances()` lets the
/// matrix register one benchmark per trace, named trace_<program>.
struct trace_suite {
  std::vector<trace_replay_workload> traces;
  explicit trace_suite(const std::vector<std::string>& paths) {
    for (const std::string& p : paths) {
      trace_replay_workload w{p};
      if (w.enabled()) traces.push_back(std::move(w));
    }
  }
  const std::vector<trace_replay_workload>& instances() const { return traces; }
};

}  // namespace alloy::bench
