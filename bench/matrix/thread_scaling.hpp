// The matrix's thread-scaling workloads: threads_1, threads_2, threads_4, threads_8 and
// threads_16 (issue 15). Each runs the same total work — allocate and free pairs of 16-512 B
// blocks around a small live set of each thread's own — split between that many threads on one
// heap, so their ns per pair compare directly: ideal scaling halves the time from 1 to 2 threads
// on this 2-core machine and keeps it from there. With 4 and more threads the machine is
// oversubscribed: those figures say what survives preemption (a lock held by a descheduled
// thread, caches multiplied by threads), not what more cores would give.
#pragma once
#include <atomic>
#include <barrier>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "workloads.hpp"

namespace alloy::bench {

/// `threads` threads, one heap; the round's wall time over all threads' pairs is its ns per
/// pair (latency: thread 0's operations). The threads live from setup to teardown and meet at
/// a barrier per round, so no round pays for creating threads.
struct thread_scaling_workload {
  static constexpr bool needs_thread_safe = true, frees_all_each_round = true, measures_memory = false;
  static constexpr std::size_t live_per_thread = 64;
  std::size_t threads;
  std::size_t total_pairs;
  std::vector<std::size_t> sizes;  // one sequence; each thread reads it from an offset of its own

  thread_scaling_workload(std::size_t thread_count, std::size_t pairs)
      : threads(thread_count), total_pairs(pairs), sizes(4096) {
    rng r{0x5ca1e};
    for (auto& s : sizes) s = r.between(16, 512);
  }
  std::string name() const { return "threads_" + std::to_string(threads); }
  std::size_t pairs_per_round() const { return total_pairs; }
  std::size_t memory_rounds() const { return 1; }

  /// The other threads of a round: they wait at `start`, work through an untimed driver, and
  /// meet thread 0 at `finish`.
  template <class D>
  struct crew {
    crew(const thread_scaling_workload& w, D& d)
        : start(static_cast<std::ptrdiff_t>(w.threads)), finish(static_cast<std::ptrdiff_t>(w.threads)) {
      others.reserve(w.threads - 1);
      for (std::size_t t = 1; t < w.threads; ++t) {
        others.emplace_back([this, &w, quiet = d.untimed(), t]() mutable {
          while (true) {
            start.arrive_and_wait();
            if (stop.load(std::memory_order_acquire)) return;
            w.work(quiet, t);
            finish.arrive_and_wait();
          }
        });
      }
    }
    ~crew() {
      stop.store(true, std::memory_order_release);
      start.arrive_and_wait();
      for (std::thread& t : others) t.join();
    }
    crew(const crew&) = delete;
    crew& operator=(const crew&) = delete;

    std::barrier<> start, finish;
    std::atomic<bool> stop{false};
    std::vector<std::thread> others;
  };

  template <class D> auto setup(D& d) const { return std::make_unique<crew<D>>(*this, d); }
  template <class D, class S> void round(D& d, S& c) const {
    c->start.arrive_and_wait();
    work(d, 0);
    c->finish.arrive_and_wait();
    d.end_of_round();
  }
  template <class D, class S> void teardown(D&, S& c) const { c.reset(); }

  /// Thread `t`'s share of a round: fill a ring of live blocks, replace them one at a time,
  /// free the ring. Each thread frees only its own blocks.
  template <class D> void work(D& d, std::size_t t) const {
    void* live[live_per_thread];
    std::size_t live_size[live_per_thread];
    std::size_t k = t * 997;
    const auto next_size = [&] { return sizes[k++ % sizes.size()]; };
    for (std::size_t i = 0; i < live_per_thread; ++i) live[i] = d.allocate(live_size[i] = next_size());
    const std::size_t steps = total_pairs / threads > live_per_thread ? total_pairs / threads - live_per_thread : 0;
    for (std::size_t i = 0; i < steps; ++i) {
      const std::size_t slot = (i * 7) % live_per_thread;
      d.deallocate(live[slot], live_size[slot]);
      live[slot] = d.allocate(live_size[slot] = next_size());
    }
    for (std::size_t i = 0; i < live_per_thread; ++i) d.deallocate(live[i], live_size[i]);
  }
};

}  // namespace alloy::bench
