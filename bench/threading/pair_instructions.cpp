// Instructions per allocate + free pair, counted by callgrind (count_instructions.sh runs it):
// each allocator runs `count` pairs of 64 bytes in its own never-inlined function, after a
// warm-up outside it, so a function's inclusive instruction count / count is the pair's cost.
// `measure_empty_loop` is the loop alone, to subtract.
//
//   bash bench/threading/count_instructions.sh build/release/bench/threading/bench_threading_instructions
#include <cstdio>
#include <cstdlib>

#include "threading_bench.hpp"

namespace {

using namespace alloy::bench;
constexpr std::size_t object_size = 64;

template <class Heap>
[[gnu::noinline]] void pairs(Heap& heap, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    void* p = heap.allocate(object_size);
    benchmark::DoNotOptimize(p);
    heap.deallocate(p, object_size);
  }
}

[[gnu::noinline]] void system_pairs(const baseline& b, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    void* p = b.allocate(object_size);
    benchmark::DoNotOptimize(p);
    b.deallocate(p);
  }
}

// One function per allocator, so callgrind's report names each.
[[gnu::noinline]] void measure_empty_loop(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    void* p = &count;
    benchmark::DoNotOptimize(p);
  }
}
template <class Heap>
void warm_and_measure(void (*measure)(Heap&, std::size_t), std::size_t count) {
  static Heap heap;
  pairs(heap, 1000);
  measure(heap, count);
}
[[gnu::noinline]] void measure_single_thread(single_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_locked_std_mutex(mutex_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_locked_spin_mutex(spin_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_thread_local_cache(cached_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_thread_local_cache_one_instance(one_instance_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_per_cpu_cache(percpu_heap& h, std::size_t n) { pairs(h, n); }

/// valgrind implements no rseq: glibc's registration fails there and writes -2 as the thread's
/// CPU, so per_cpu_cache would count its fallback. This program is single-threaded and never
/// migrates under valgrind (which runs one thread at a time and never delivers a restart), so
/// it may write CPU 0 into glibc's area itself: callgrind then counts the very instructions of
/// the rseq path. Outside valgrind the kernel's number stands.
void pretend_cpu_zero_if_unregistered() {
#if ALLOY_RSEQ
  if (alloy::detail::rseq_cpu() >= 0) return;
  auto* area = reinterpret_cast<struct rseq*>(static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset);
  area->cpu_id = 0;
  std::printf("no rseq registration: per_cpu_cache counted on a pretended CPU 0\n");
#endif
}
[[gnu::noinline]] void measure_hardened_single_thread(hardened_single_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_hardened_thread_local_cache(hardened_cached_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_hardened_one_instance(hardened_one_instance_heap& h, std::size_t n) { pairs(h, n); }
[[gnu::noinline]] void measure_glibc(std::size_t n) { system_pairs(baselines()[0], n); }
[[gnu::noinline]] void measure_jemalloc(std::size_t n) { system_pairs(baselines()[1], n); }
[[gnu::noinline]] void measure_tcmalloc(std::size_t n) { system_pairs(baselines()[2], n); }
[[gnu::noinline]] void measure_mimalloc(std::size_t n) { system_pairs(baselines()[3], n); }

}  // namespace

int main(int argc, char** argv) {
  alloy::bench::init_baselines(argv);
  const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000000;
  measure_empty_loop(count);
  warm_and_measure<single_heap>(measure_single_thread, count);
  warm_and_measure<mutex_heap>(measure_locked_std_mutex, count);
  warm_and_measure<spin_heap>(measure_locked_spin_mutex, count);
  warm_and_measure<cached_heap>(measure_thread_local_cache, count);
  warm_and_measure<one_instance_heap>(measure_thread_local_cache_one_instance, count);
  pretend_cpu_zero_if_unregistered();
  warm_and_measure<percpu_heap>(measure_per_cpu_cache, count);
  warm_and_measure<hardened_single_heap>(measure_hardened_single_thread, count);
  warm_and_measure<hardened_cached_heap>(measure_hardened_thread_local_cache, count);
  warm_and_measure<hardened_one_instance_heap>(measure_hardened_one_instance, count);
  void (*system[])(std::size_t) = {measure_glibc, measure_jemalloc, measure_tcmalloc, measure_mimalloc};
  for (int i = 0; i < 4; ++i) {
    if (!baselines()[i].available()) continue;
    system_pairs(baselines()[i], 1000);
    system[i](count);
  }
  std::printf("ran %zu pairs per allocator\n", count);
}
