// One allocate + free pair per thread, 1, 2 and 4 threads on one shared heap, for every
// threading policy over the same design, beside glibc malloc, jemalloc, tcmalloc and mimalloc
// in the same run. Then the producer/consumer cost: an object allocated on one thread and
// freed on another — "handover" in phases (a batch allocated, then freed by a consumer thread;
// the CPU time both spent, robust on a busy machine) and "handover_concurrent" through a
// lock-free ring with both threads running (wall time; meaningful only on idle cores).
//
// The size is a compile-time constant (64 bytes), as for `new T`; the baselines are called
// through a function pointer (bench/common/baselines.hpp). Throughput is items per second of
// wall time over all threads; the summary prints the scaling ratio N threads / 1 thread.
#include <time.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "threading_bench.hpp"

namespace {

using namespace alloy::bench;
constexpr std::size_t object_size = 64;

template <class Heap>
Heap& shared_heap() {
  static Heap heap;  // one instance, shared by every thread of every run of this benchmark
  return heap;
}

template <class Heap>
void alloy_pair(benchmark::State& state) {
  Heap& heap = shared_heap<Heap>();
  for (auto _ : state) {
    void* p = heap.allocate(object_size);
    benchmark::DoNotOptimize(p);
    heap.deallocate(p, object_size);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) state.SetLabel(alloy::name_of<Heap>());
}

template <int Baseline>
void system_pair(benchmark::State& state) {
  const baseline& b = baselines()[Baseline];
  if (!b.available()) {
    state.SkipWithError(std::string(b.missing).c_str());
    return;
  }
  for (auto _ : state) {
    void* p = b.allocate(object_size);
    benchmark::DoNotOptimize(p);
    b.deallocate(p);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- producer / consumer ---------------------------------------------------------------

/// A single-producer single-consumer ring of pointers: the cheapest handover there is, so the
/// allocator's part dominates. Its own cost is the "ring only" row (no allocation at all).
class ring {
 public:
  /// Waits briefly with the CPU's pause hint, then gives the core away (2-core machines).
  static void wait(int& spins) noexcept {
    if (++spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }

  void push(void* p) noexcept {
    const std::size_t t = tail_.load(std::memory_order_relaxed);
    for (int spins = 0; t - head_cache_ >= capacity;) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t - head_cache_ >= capacity) wait(spins);
    }
    slots_[t % capacity] = p;
    tail_.store(t + 1, std::memory_order_release);
  }
  void* pop() noexcept {
    const std::size_t h = head_.load(std::memory_order_relaxed);
    for (int spins = 0; h == tail_cache_;) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h == tail_cache_) wait(spins);
    }
    void* p = slots_[h % capacity];
    head_.store(h + 1, std::memory_order_release);
    return p;
  }

 private:
  static constexpr std::size_t capacity = 1024;
  alignas(64) std::atomic<std::size_t> head_{0};
  std::size_t tail_cache_ = 0;  // consumer's view of tail
  alignas(64) std::atomic<std::size_t> tail_{0};
  std::size_t head_cache_ = 0;  // producer's view of head
  alignas(64) void* slots_[capacity];
};

constexpr std::size_t handed_per_iteration = 100000;

/// The benchmark thread produces, one consumer thread frees, concurrently through the ring;
/// items are objects handed over, timed by the wall clock (sensitive to a busy machine).
template <class Make, class Free>
void handover_concurrent(benchmark::State& state, Make make, Free release) {
  for (auto _ : state) {
    ring r;
    std::thread consumer([&] {
      for (std::size_t i = 0; i < handed_per_iteration; ++i) {
        void* p = r.pop();
        benchmark::DoNotOptimize(*static_cast<volatile std::size_t*>(p));  // the consumer reads it
        release(p);
      }
    });
    for (std::size_t i = 0; i < handed_per_iteration; ++i) {
      void* p = make();
      *static_cast<std::size_t*>(p) = i;  // the producer writes it
      r.push(p);
    }
    consumer.join();
  }
  state.SetItemsProcessed(state.iterations() * handed_per_iteration);
}

double thread_cpu_seconds() noexcept {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

/// A thread that runs one job at a time for the benchmark thread and reports its CPU time.
class consumer_thread {
 public:
  consumer_thread() : thread_([this] { serve(); }) {}
  ~consumer_thread() {
    run({});
    thread_.join();
  }
  /// Runs `job` there, waits for it, returns the CPU seconds it took (0 for an empty job).
  double run(std::function<void()> job) {
    std::unique_lock guard(mutex_);
    job_ = std::move(job);
    posted_ = true;
    changed_.notify_all();
    changed_.wait(guard, [&] { return !posted_; });
    return seconds_;
  }

 private:
  void serve() {
    for (;;) {
      std::unique_lock guard(mutex_);
      changed_.wait(guard, [&] { return posted_; });
      if (!job_) {
        posted_ = false;
        changed_.notify_all();
        return;
      }
      const double start = thread_cpu_seconds();
      job_();
      seconds_ = thread_cpu_seconds() - start;
      posted_ = false;
      changed_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;
  bool posted_ = false;
  double seconds_ = 0;
  std::thread thread_;
};

/// The same handover in phases: the benchmark thread allocates a batch (state.range(0)
/// objects: 1000, about the ring's depth, and 10000), the consumer thread frees it; the time is
/// the CPU time the two spent, so a busy machine's waiting is left out.
template <class Make, class Free>
void handover_phased(benchmark::State& state, Make make, Free release) {
  const auto handed_per_batch = static_cast<std::size_t>(state.range(0));
  consumer_thread consumer;
  std::vector<void*> batch(handed_per_batch);
  for (auto _ : state) {
    const double start = thread_cpu_seconds();
    for (std::size_t i = 0; i < handed_per_batch; ++i) {
      void* p = make();
      *static_cast<std::size_t*>(p) = i;  // the producer writes it
      batch[i] = p;
    }
    const double produced = thread_cpu_seconds() - start;
    const double consumed = consumer.run([&] {
      for (void* p : batch) {
        benchmark::DoNotOptimize(*static_cast<volatile std::size_t*>(p));  // the consumer reads it
        release(p);
      }
    });
    state.SetIterationTime(produced + consumed);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * handed_per_batch));
}

/// The handover: sizes 16-128 B (one of eight, cycling) and an unsized free, the way a
/// program's free() meets them: the consumer's allocator must find each block's class itself.
constexpr std::size_t mixed_size(std::size_t i) noexcept { return 16 * (1 + i % 8); }

/// Ping-pong: the benchmark thread allocates a batch, the other thread frees it and allocates
/// one back, which the benchmark thread frees: blocks flow both ways, so each side's bins fill
/// from remote frees and drain into local allocations. Objects: both batches.
template <class Make, class Free>
void ping_pong_phased(benchmark::State& state, Make make, Free release) {
  const auto n = static_cast<std::size_t>(state.range(0));
  consumer_thread other;
  std::vector<void*> there(n), back(n);
  for (auto _ : state) {
    double start = thread_cpu_seconds();
    for (std::size_t i = 0; i < n; ++i) there[i] = make(i);
    double spent = thread_cpu_seconds() - start;
    spent += other.run([&] {
      for (void* p : there) release(p);
      for (std::size_t i = 0; i < n; ++i) back[i] = make(i);
    });
    start = thread_cpu_seconds();
    for (void* p : back) release(p);
    state.SetIterationTime(spent + thread_cpu_seconds() - start);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 2 * n));
}

/// One producer, three consumers: the batch is split three ways, each part freed by its own
/// thread (one after another: the CPU time is what is compared, not the overlap).
template <class Make, class Free>
void fan_out_phased(benchmark::State& state, Make make, Free release) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::array<consumer_thread, 3> consumers;
  std::vector<void*> batch(n);
  for (auto _ : state) {
    const double start = thread_cpu_seconds();
    for (std::size_t i = 0; i < n; ++i) batch[i] = make(i);
    double spent = thread_cpu_seconds() - start;
    for (std::size_t c = 0; c < consumers.size(); ++c)
      spent += consumers[c].run([&, c] {
        for (std::size_t i = c; i < n; i += consumers.size()) release(batch[i]);
      });
    state.SetIterationTime(spent);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

/// A pattern over an Alloy heap or a system allocator, 16-128 B objects, unsized frees.
template <class Heap, auto Pattern>
void alloy_pattern(benchmark::State& state) {
  Heap& heap = shared_heap<Heap>();
  Pattern(state, [&](std::size_t i) { return heap.allocate(mixed_size(i)); }, [&](void* p) { heap.deallocate(p); });
  state.SetLabel(alloy::name_of<Heap>());
}
template <int Baseline, auto Pattern>
void system_pattern(benchmark::State& state) {
  const baseline& b = baselines()[Baseline];
  if (!b.available()) return state.SkipWithError(std::string(b.missing).c_str());
  Pattern(state, [&](std::size_t i) { return b.allocate(mixed_size(i)); }, [&](void* p) { b.deallocate(p); });
}
/// The one-way handover of handover_phased with mixed sizes and unsized frees.
template <class Make, class Free>
void handover_mixed_phased(benchmark::State& state, Make make, Free release) {
  std::size_t i = 0;
  handover_phased(state, [&] { return make(i++); }, release);
}

// The patterns as values, so one template per allocator kind runs each of them.
constexpr auto pattern_handover_mixed_phased = [](benchmark::State& s, auto make, auto release) { handover_mixed_phased(s, make, release); };
constexpr auto pattern_ping_pong_phased = [](benchmark::State& s, auto make, auto release) { ping_pong_phased(s, make, release); };
constexpr auto pattern_fan_out_phased = [](benchmark::State& s, auto make, auto release) { fan_out_phased(s, make, release); };

void ring_only_concurrent(benchmark::State& state) {
  static std::size_t objects[handed_per_iteration][object_size / sizeof(std::size_t)];
  std::size_t next = 0;
  handover_concurrent(state, [&] { return static_cast<void*>(objects[next++ % handed_per_iteration]); }, [](void*) {});
}

template <class Heap>
void alloy_handover(benchmark::State& state) {
  Heap& heap = shared_heap<Heap>();
  handover_phased(state, [&] { return heap.allocate(object_size); }, [&](void* p) { heap.deallocate(p, object_size); });
  state.SetLabel(alloy::name_of<Heap>());
}
template <class Heap>
void alloy_handover_concurrent(benchmark::State& state) {
  Heap& heap = shared_heap<Heap>();
  handover_concurrent(state, [&] { return heap.allocate(object_size); }, [&](void* p) { heap.deallocate(p, object_size); });
  state.SetLabel(alloy::name_of<Heap>());
}

template <int Baseline>
void system_handover(benchmark::State& state) {
  const baseline& b = baselines()[Baseline];
  if (!b.available()) return state.SkipWithError(std::string(b.missing).c_str());
  handover_phased(state, [&] { return b.allocate(object_size); }, [&](void* p) { b.deallocate(p); });
}
template <int Baseline>
void system_handover_concurrent(benchmark::State& state) {
  const baseline& b = baselines()[Baseline];
  if (!b.available()) return state.SkipWithError(std::string(b.missing).c_str());
  handover_concurrent(state, [&] { return b.allocate(object_size); }, [&](void* p) { b.deallocate(p); });
}

void pair_threads(benchmark::internal::Benchmark* b) { b->Threads(1)->Threads(2)->Threads(4)->UseRealTime(); }
/// The caches also at 8 and 16 threads: more threads than this machine's cores, where a thread
/// cache per thread and a cache per CPU part ways.
void pair_threads_wide(benchmark::internal::Benchmark* b) { pair_threads(b->Threads(8)->Threads(16)); }

/// per_cpu_cache's pair, and after each run the bytes its CPUs' regions hold.
void percpu_pair(benchmark::State& state) {
  alloy_pair<percpu_heap>(state);
  if (state.thread_index() == 0) {
    state.counters["cached_bytes"] = static_cast<double>(shared_heap<percpu_heap>().layers().cached_bytes());
    state.SetLabel(alloy::name_of<percpu_heap>() + (shared_heap<percpu_heap>().layers().mode() == alloy::per_cpu_mode::per_cpu
                                                        ? " (rseq)"
                                                        : " (fallback: thread caches)"));
  }
}
void phased_batches(benchmark::internal::Benchmark* b) { b->Arg(1000)->Arg(10000)->UseManualTime(); }

}  // namespace

BENCHMARK_TEMPLATE(alloy_pair, single_heap)->Name("pair/single_thread")->Threads(1)->UseRealTime();
BENCHMARK_TEMPLATE(alloy_pair, mutex_heap)->Name("pair/locked<std::mutex>")->Apply(pair_threads);
BENCHMARK_TEMPLATE(alloy_pair, spin_heap)->Name("pair/locked<alloy::spin_mutex>")->Apply(pair_threads);
BENCHMARK_TEMPLATE(alloy_pair, cached_heap)->Name("pair/thread_local_cache")->Apply(pair_threads_wide);
BENCHMARK_TEMPLATE(alloy_pair, one_instance_heap)->Name("pair/thread_local_cache::one_instance")->Apply(pair_threads);
BENCHMARK(percpu_pair)->Name("pair/per_cpu_cache")->Apply(pair_threads_wide);
BENCHMARK_TEMPLATE(system_pair, 0)->Name("pair/glibc malloc")->Apply(pair_threads);
BENCHMARK_TEMPLATE(system_pair, 1)->Name("pair/jemalloc")->Apply(pair_threads);
BENCHMARK_TEMPLATE(system_pair, 2)->Name("pair/tcmalloc")->Apply(pair_threads);
BENCHMARK_TEMPLATE(system_pair, 3)->Name("pair/mimalloc")->Apply(pair_threads);

BENCHMARK_TEMPLATE(alloy_handover, mutex_heap)->Name("handover/locked<std::mutex>")->Apply(phased_batches);
BENCHMARK_TEMPLATE(alloy_handover, spin_heap)->Name("handover/locked<alloy::spin_mutex>")->Apply(phased_batches);
BENCHMARK_TEMPLATE(alloy_handover, cached_heap)->Name("handover/thread_local_cache")->Apply(phased_batches);
BENCHMARK_TEMPLATE(alloy_handover, percpu_heap)->Name("handover/per_cpu_cache")->Apply(phased_batches);
BENCHMARK_TEMPLATE(system_handover, 0)->Name("handover/glibc malloc")->Apply(phased_batches);
BENCHMARK_TEMPLATE(system_handover, 1)->Name("handover/jemalloc")->Apply(phased_batches);
BENCHMARK_TEMPLATE(system_handover, 2)->Name("handover/tcmalloc")->Apply(phased_batches);
BENCHMARK_TEMPLATE(system_handover, 3)->Name("handover/mimalloc")->Apply(phased_batches);

// The three patterns of remote frees, 16-128 B objects, unsized frees (docs/policies/threading.md).
BENCHMARK(alloy_pattern<spin_heap, pattern_handover_mixed_phased>)->Name("handover_unsized/locked<alloy::spin_mutex>")->Apply(phased_batches);
BENCHMARK(alloy_pattern<cached_heap, pattern_handover_mixed_phased>)->Name("handover_unsized/thread_local_cache")->Apply(phased_batches);
BENCHMARK(alloy_pattern<percpu_heap, pattern_handover_mixed_phased>)->Name("handover_unsized/per_cpu_cache")->Apply(phased_batches);
BENCHMARK(system_pattern<0, pattern_handover_mixed_phased>)->Name("handover_unsized/glibc malloc")->Apply(phased_batches);
BENCHMARK(system_pattern<1, pattern_handover_mixed_phased>)->Name("handover_unsized/jemalloc")->Apply(phased_batches);
BENCHMARK(system_pattern<2, pattern_handover_mixed_phased>)->Name("handover_unsized/tcmalloc")->Apply(phased_batches);
BENCHMARK(system_pattern<3, pattern_handover_mixed_phased>)->Name("handover_unsized/mimalloc")->Apply(phased_batches);
BENCHMARK(alloy_pattern<spin_heap, pattern_ping_pong_phased>)->Name("ping_pong/locked<alloy::spin_mutex>")->Apply(phased_batches);
BENCHMARK(alloy_pattern<cached_heap, pattern_ping_pong_phased>)->Name("ping_pong/thread_local_cache")->Apply(phased_batches);
BENCHMARK(alloy_pattern<percpu_heap, pattern_ping_pong_phased>)->Name("ping_pong/per_cpu_cache")->Apply(phased_batches);
BENCHMARK(system_pattern<0, pattern_ping_pong_phased>)->Name("ping_pong/glibc malloc")->Apply(phased_batches);
BENCHMARK(system_pattern<1, pattern_ping_pong_phased>)->Name("ping_pong/jemalloc")->Apply(phased_batches);
BENCHMARK(system_pattern<2, pattern_ping_pong_phased>)->Name("ping_pong/tcmalloc")->Apply(phased_batches);
BENCHMARK(system_pattern<3, pattern_ping_pong_phased>)->Name("ping_pong/mimalloc")->Apply(phased_batches);
BENCHMARK(alloy_pattern<spin_heap, pattern_fan_out_phased>)->Name("fan_out/locked<alloy::spin_mutex>")->Apply(phased_batches);
BENCHMARK(alloy_pattern<cached_heap, pattern_fan_out_phased>)->Name("fan_out/thread_local_cache")->Apply(phased_batches);
BENCHMARK(alloy_pattern<percpu_heap, pattern_fan_out_phased>)->Name("fan_out/per_cpu_cache")->Apply(phased_batches);
BENCHMARK(system_pattern<0, pattern_fan_out_phased>)->Name("fan_out/glibc malloc")->Apply(phased_batches);
BENCHMARK(system_pattern<1, pattern_fan_out_phased>)->Name("fan_out/jemalloc")->Apply(phased_batches);
BENCHMARK(system_pattern<2, pattern_fan_out_phased>)->Name("fan_out/tcmalloc")->Apply(phased_batches);
BENCHMARK(system_pattern<3, pattern_fan_out_phased>)->Name("fan_out/mimalloc")->Apply(phased_batches);

BENCHMARK(ring_only_concurrent)->Name("handover_concurrent/ring only (no allocation)")->UseRealTime();
BENCHMARK_TEMPLATE(alloy_handover_concurrent, mutex_heap)->Name("handover_concurrent/locked<std::mutex>")->UseRealTime();
BENCHMARK_TEMPLATE(alloy_handover_concurrent, spin_heap)->Name("handover_concurrent/locked<alloy::spin_mutex>")->UseRealTime();
BENCHMARK_TEMPLATE(alloy_handover_concurrent, cached_heap)->Name("handover_concurrent/thread_local_cache")->UseRealTime();
BENCHMARK_TEMPLATE(alloy_handover_concurrent, percpu_heap)->Name("handover_concurrent/per_cpu_cache")->UseRealTime();
BENCHMARK_TEMPLATE(system_handover_concurrent, 0)->Name("handover_concurrent/glibc malloc")->UseRealTime();
BENCHMARK_TEMPLATE(system_handover_concurrent, 1)->Name("handover_concurrent/jemalloc")->UseRealTime();
BENCHMARK_TEMPLATE(system_handover_concurrent, 2)->Name("handover_concurrent/tcmalloc")->UseRealTime();
BENCHMARK_TEMPLATE(system_handover_concurrent, 3)->Name("handover_concurrent/mimalloc")->UseRealTime();

int main(int argc, char** argv) {
  alloy::bench::init_baselines(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  alloy::bench::scaling_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary("Summary: pairs are items; handover items are objects handed to another thread and freed there");
  benchmark::Shutdown();
}
