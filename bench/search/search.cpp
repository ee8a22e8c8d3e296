// The seed's table of search algorithms, measured.
//
// scaling/<policy>/<free blocks>: one allocate(256) + free while the heap holds N free blocks
// of 32 bytes that cannot serve it (each pinned between live guards), N = 16 .. 65,536. The
// complexity column shows in how the cost grows with N: flat for O(1), slowly for O(log n),
// linearly for a list walk.
//
// churn/<policy>: a randomized workload whose live set grows, shrinks and grows again with
// mixed sizes; reports peak reserved_bytes / peak live_bytes (granted) and / peak requested
// bytes, so fragmentation and rounding show as memory the policy holds beyond what is live.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <alloc/alloy.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <policy/all.hpp>
#include <random>
#include <vector>

namespace P = alloy::policy;

namespace {

template <class Search>
using heap_of = alloy::allocator<Search, P::stats>;

template <class Search>
void scaling(benchmark::State& state) {
  using heap_type = heap_of<Search>;
  auto heap = std::make_unique<heap_type>();
  const auto free_blocks = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t hole = 32;
  constexpr std::size_t request = 256;
  std::vector<void*> holes(free_blocks);
  std::vector<void*> guards(free_blocks);
  for (std::size_t i = 0; i < free_blocks; ++i) {
    holes[i] = heap->allocate(hole);
    guards[i] = heap->allocate(hole);
  }
  // Highest address first (chunks may lie in any order): an address-ordered list then inserts
  // each at its front, so setting up does not cost N^2.
  std::sort(holes.begin(), holes.end(), std::greater<>{});
  for (void* p : holes) heap->deallocate(p, hole);
  for (auto _ : state) {
    void* p = heap->allocate(request);
    benchmark::DoNotOptimize(p);
    heap->deallocate(p, request);
  }
  const auto s = heap->stats();
  state.counters["free_blocks"] = static_cast<double>(free_blocks);
  state.counters["ext_frag"] = s.external_fragmentation();
  state.SetLabel(alloy::name_of<heap_type>());
  for (void* g : guards) heap->deallocate(g, hole);
}

/// A size mix: mostly small, some medium, a few large (log-uniform within each band).
std::size_t churn_size(std::mt19937& rng) {
  const unsigned band = rng() % 100;
  const auto [lo, hi] = band < 70 ? std::pair{4, 8} : band < 95 ? std::pair{8, 12} : std::pair{12, 16};
  const double bits = std::uniform_real_distribution<double>(lo, hi)(rng);
  return static_cast<std::size_t>(std::exp2(bits));
}

template <class Search>
void churn(benchmark::State& state) {
  using heap_type = heap_of<Search>;
  std::size_t peak_reserved = 0, peak_live = 0, peak_requested = 0, operations = 0;
  for (auto _ : state) {
    auto heap = std::make_unique<heap_type>();
    std::mt19937 rng(42);
    std::vector<std::pair<void*, std::size_t>> live;
    std::size_t requested = 0;
    // The live set's target: up to 4,000 blocks, down to 400, up again, down again.
    for (std::size_t target : {4000u, 400u, 4000u, 400u, 2000u}) {
      for (std::size_t step = 0; step < 20000; ++step, ++operations) {
        const bool grow = live.size() < target ? rng() % 4 != 0 : rng() % 4 == 0;
        if (grow || live.empty()) {
          const std::size_t size = churn_size(rng);
          void* p = heap->allocate(size);
          if (p == nullptr) continue;
          live.emplace_back(p, size);
          requested += size;
          peak_requested = std::max(peak_requested, requested);
        } else {
          const std::size_t i = rng() % live.size();
          heap->deallocate(live[i].first, live[i].second);
          requested -= live[i].second;
          live[i] = live.back();
          live.pop_back();
        }
      }
    }
    const auto s = heap->stats();
    peak_reserved = s.peak_reserved_bytes;
    peak_live = s.peak_live_bytes;
    for (auto [p, size] : live) heap->deallocate(p, size);
  }
  state.counters["peak_reserved"] = static_cast<double>(peak_reserved);
  state.counters["peak_live"] = static_cast<double>(peak_live);
  state.counters["reserved/live"] = static_cast<double>(peak_reserved) / static_cast<double>(peak_live);
  state.counters["reserved/requested"] = static_cast<double>(peak_reserved) / static_cast<double>(peak_requested);
  state.counters["ns/op"] = benchmark::Counter(static_cast<double>(operations),
                                               benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(alloy::name_of<heap_type>());
}

void free_block_counts(benchmark::internal::Benchmark* b) {
  for (long n = 16; n <= 65536; n *= 4) b->Arg(n);
}

}  // namespace

BENCHMARK_TEMPLATE(scaling, P::first_fit)->Apply(free_block_counts);
BENCHMARK_TEMPLATE(scaling, P::best_fit)->Apply(free_block_counts);
BENCHMARK_TEMPLATE(scaling, P::next_fit)->Apply(free_block_counts);
BENCHMARK_TEMPLATE(scaling, P::buddy)->Apply(free_block_counts);
BENCHMARK_TEMPLATE(scaling, P::tlsf)->Apply(free_block_counts);
BENCHMARK_TEMPLATE(scaling, P::segregated_fit)->Apply(free_block_counts);
BENCHMARK_TEMPLATE(scaling, P::segregated_fit::with<0, P::tlsf>)->Apply(free_block_counts);

BENCHMARK_TEMPLATE(churn, P::first_fit)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(churn, P::best_fit)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(churn, P::next_fit)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(churn, P::buddy)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(churn, P::tlsf)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(churn, P::segregated_fit)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(churn, P::segregated_fit::with<0, P::tlsf>)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
