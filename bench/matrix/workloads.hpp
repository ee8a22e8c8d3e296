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
#include <atomic>
#include <cstddef>
#include <cstdint>
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
  /// The workload is at a peak of live memory: a good moment to sample the footprint.
  void at_peak() { probe_.sample(); }
  /// The workload has just made its fragmenting pattern: read the heap's fragmentation.
  void at_fragmented() {
    if constexpr (requires { probe_.checkpoint(); }) probe_.checkpoint();
  }
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
  static workload_scale smoke() { return {256, 256, 1000, 4000, 256}; }
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

// ---- trace replay --------------------------------------------------------------------------------

/// A recorded program (tools/trace/trace_format.hpp) replayed call by call, in the order the
/// calls happened, on one thread: a realloc becomes the free of the old block and the
/// allocation of the new one (no copy), calloc and aligned calls become plain allocations of
/// their size. Blocks still live at the end of the trace are freed, so every round is the
/// whole program again.
struct trace_replay_workload {
  struct step {
    std::uint64_t size;    // bytes to allocate; 0 with `release`
    std::uint32_t object;  // the block's number in the trace
    bool release;          // free `object` instead of allocating it
  };
  std::vector<step> steps;
  std::size_t objects = 0, allocations = 0;
  static constexpr bool needs_thread_safe = false, frees_all_each_round = true, measures_memory = true;

  explicit trace_replay_workload(const std::string& path) {
    if (path.empty()) return;
    const auto file = alloy::trace::read(path);
    if (!file) return;
    objects = file->head.object_count;
    steps.reserve(file->records.size());
    for (const alloy::trace::record& r : file->records) {
      const bool release = r.kind == alloy::trace::op::deallocate || r.kind == alloy::trace::op::reallocate_from;
      steps.push_back({release ? 0 : r.size, r.object, release});
      allocations += release ? 0 : 1;
    }
  }
  bool enabled() const { return allocations > 0; }
  std::string name() const { return "trace_replay"; }
  std::size_t pairs_per_round() const { return allocations; }
  std::size_t memory_rounds() const { return 1; }
  struct state {
    std::vector<void*> blocks;
    std::vector<std::uint64_t> sizes;
  };
  template <class D> state setup(D&) const { return {std::vector<void*>(objects + 1), std::vector<std::uint64_t>(objects + 1)}; }
  template <class D> void round(D& d, state& s) const {
    for (const step& st : steps) {
      if (st.release) {
        d.deallocate(s.blocks[st.object], s.sizes[st.object]);
        s.blocks[st.object] = nullptr;
      } else {
        s.sizes[st.object] = st.size;
        s.blocks[st.object] = d.allocate(st.size);
      }
    }
    d.at_peak();
    for (std::size_t i = 1; i <= objects; ++i) {
      if (s.blocks[i] != nullptr) d.deallocate(s.blocks[i], s.sizes[i]);
      s.blocks[i] = nullptr;
    }
    d.end_of_round();
  }
  template <class D> void teardown(D&, state&) const {}
};

}  // namespace alloy::bench
