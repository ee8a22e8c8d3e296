// Time per allocate + free pair, composed versus hand-written, for every design in designs.hpp,
// with Google Benchmark. The loops are those callgrind counts (count.cpp), one pair per
// iteration. Run composed and hand-written interleaved, so that both see the same machine:
//   bench_zero_overhead --benchmark_enable_random_interleaving=true --benchmark_repetitions=9
//                       --benchmark_report_aggregates_only=true
// (the `zero_overhead_report` target does, and prints the medians).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "designs.hpp"

namespace zero_overhead {
namespace {

template <class Heap>
void fixed_pairs(benchmark::State& state) {
  auto heap = std::make_unique<Heap>();
  warm_up(*heap, {fixed_size});
  for (auto _ : state) {
    void* p = heap->allocate(fixed_size);
    escape(p);
    heap->deallocate(p, fixed_size);
  }
  state.SetItemsProcessed(state.iterations());
}

template <class Heap>
void varied_pairs(benchmark::State& state) {
  auto heap = std::make_unique<Heap>();
  constexpr std::size_t length = 4096;  // a power of two: the index wraps with a mask
  const auto sizes = varied_sizes(length);
  warm_up(*heap, sizes);
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t size = sizes[i++ & (length - 1)];
    void* p = heap->allocate(size);
    escape(p);
    heap->deallocate(p, size);
  }
  state.SetItemsProcessed(state.iterations());
}

void register_all() {
  for_each_design([]<class Design>(Design) {
    const std::string name = Design::name;
    benchmark::RegisterBenchmark((name + "/fixed/composed").c_str(), fixed_pairs<typename Design::composed>);
    benchmark::RegisterBenchmark((name + "/fixed/hand").c_str(), fixed_pairs<typename Design::hand>);
    benchmark::RegisterBenchmark((name + "/varied/composed").c_str(), varied_pairs<typename Design::composed>);
    benchmark::RegisterBenchmark((name + "/varied/hand").c_str(), varied_pairs<typename Design::hand>);
  });
}

}  // namespace
}  // namespace zero_overhead

int main(int argc, char** argv) {
  zero_overhead::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
