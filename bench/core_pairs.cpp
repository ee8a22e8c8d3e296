// The first benchmark: one allocate + free pair of `small_objects` against glibc malloc, for
// fixed sizes, interleaved in one run so the ratio is fair.
#include <benchmark/benchmark.h>

#include <alloc/alloy.hpp>
#include <cstdlib>

namespace P = alloy::policy;
using small_objects = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::single_thread, P::align<16>>;

static void alloy_pair(benchmark::State& state) {
  small_objects heap;
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = heap.allocate(size);
    benchmark::DoNotOptimize(p);
    heap.deallocate(p, size);
  }
  state.SetLabel(alloy::name_of<small_objects>());
}

static void glibc_pair(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = std::malloc(size);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
  state.SetLabel("glibc malloc");
}

BENCHMARK(alloy_pair)->Arg(16)->Arg(64)->Arg(256);
BENCHMARK(glibc_pair)->Arg(16)->Arg(64)->Arg(256);
BENCHMARK_MAIN();
