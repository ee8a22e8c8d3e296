// The cost of each hardening mitigation, alone and all together, against the same composition
// unhardened, on the matrix's workloads (bench/matrix/workloads.hpp: same-size pairs, churn
// with 10k live blocks) plus two that show where guard pages and shuffling are paid: pairs of
// 64 KiB blocks (each one a chunk of its own) and a fresh heap filled with 4096 blocks.
//
// Every composition runs in the same process, repetitions randomly interleaved, and the
// summary gives medians and the cost relative to the unhardened composition.
//   bench_hardening [--benchmark_repetitions=N] [--benchmark_min_time=S]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <alloc/allocator.hpp>
#include <boost/mp11/algorithm.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <policy/all.hpp>
#include <policy/hardening.hpp>
#include <string>
#include <vector>

#include "bench/matrix/cells.hpp"
#include "bench/matrix/metrics.hpp"
#include "bench/matrix/workloads.hpp"

namespace {

namespace P = alloy::policy;
namespace B = alloy::bench;

template <class Hardening>
using composed = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 4096>, P::single_thread, P::align<16>, Hardening>;

/// The baseline first: the summary measures everything against it.
using hardenings = boost::mp11::mp_list<P::no_hardening, P::hardened::with<P::encoded_links>,
                                        P::hardened::with<P::guard_pages>, P::hardened::with<P::randomized_placement>,
                                        P::hardened::with<P::double_free_check>, P::hardened,
                                        // P::hardened with the double-free scan instead of the head check
                                        P::hardened::with<P::encoded_links, P::guard_pages, P::randomized_placement,
                                                          P::double_free_scan>>;

template <class Hardening>
std::string label() {
  return std::is_same_v<Hardening, P::no_hardening> ? "no_hardening" : Hardening::name();
}

/// One matrix workload on a warm heap: ns per allocate+free pair.
template <class Hardening, class Workload>
void run_workload(benchmark::State& state, const Workload& w) {
  auto heap = std::make_unique<B::alloy_heap<composed<Hardening>>>();
  B::no_timer timer;
  B::no_probe probe;
  B::driver d{*heap, timer, probe};
  auto s = w.setup(d);
  for (auto _ : state) w.round(d, s);
  w.teardown(d, s);
  state.counters["ns_per_pair"] = benchmark::Counter(
      static_cast<double>(state.iterations() * w.pairs_per_round()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// A fresh heap takes its chunks, carves 4096 blocks of 64 bytes, and gives everything back.
template <class Hardening>
void run_fresh_heap(benchmark::State& state) {
  constexpr std::size_t blocks = 4096;
  std::vector<void*> held(blocks);
  for (auto _ : state) {
    composed<Hardening> heap;
    for (auto& p : held) p = heap.allocate(64);
    benchmark::DoNotOptimize(held.data());
    for (void* p : held) heap.deallocate(p, 64);
  }
  state.counters["ns_per_pair"] = benchmark::Counter(static_cast<double>(state.iterations() * blocks),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Collects every repetition's ns_per_pair and prints medians and relative cost at the end.
class summary_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      const std::string name = r.benchmark_name();
      const auto slash = name.find('/');
      const auto end = name.find('/', slash + 1);
      // The counter is an inverted rate: seconds per pair.
      samples_[name.substr(0, slash)][name.substr(slash + 1, end - slash - 1)].push_back(1e9 * r.counters.at("ns_per_pair"));
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void print_summary(const std::vector<std::string>& workloads, const std::vector<std::string>& columns) const {
    std::printf("\nmedian ns per allocate+free pair, and cost against no_hardening (same run)\n%-18s", "workload");
    for (const auto& c : columns) std::printf(" | %-28s", c.c_str());
    std::printf("\n");
    for (const auto& w : workloads) {
      const auto found = samples_.find(w);
      if (found == samples_.end()) continue;
      std::printf("%-18s", w.c_str());
      const double base = median(found->second, columns.front());
      for (const auto& c : columns) {
        const double m = median(found->second, c);
        if (c == columns.front()) std::printf(" | %8.2f ns %17s", m, "");
        else std::printf(" | %8.2f ns (%+6.1f%%)        ", m, 100.0 * (m / base - 1.0));
      }
      std::printf("\n");
    }
  }

 private:
  static double median(const std::map<std::string, std::vector<double>>& by_column, const std::string& c) {
    auto it = by_column.find(c);
    if (it == by_column.end() || it->second.empty()) return 0.0 / 0.0;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  std::map<std::string, std::map<std::string, std::vector<double>>> samples_;  // workload -> column -> runs
};

}  // namespace

int main(int argc, char** argv) {
  // Defaults for a fair comparison on a noisy machine; the command line may override them.
  std::vector<char*> args(argv, argv + argc);
  std::string reps = "--benchmark_repetitions=9", interleave = "--benchmark_enable_random_interleaving=true",
              min_time = "--benchmark_min_time=0.05";
  args.insert(args.begin() + 1, {reps.data(), interleave.data(), min_time.data()});
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());

  static const auto pairs = std::vector<B::pairs_workload>{{16}, {64}, {256}, {65536}};
  static const B::churn_workload churn{10000, 4096};
  std::vector<std::string> workloads, columns;
  for (const auto& w : pairs) workloads.push_back(w.size == 65536 ? "large_pairs_64k" : w.name());
  workloads.push_back(churn.name());
  workloads.push_back("fresh_heap_4096");

  boost::mp11::mp_for_each<hardenings>([&]<class H>(H) {
    const std::string column = label<H>();
    columns.push_back(column);
    for (std::size_t i = 0; i < pairs.size(); ++i)
      benchmark::RegisterBenchmark((workloads[i] + "/" + column).c_str(),
                                   [i](benchmark::State& s) { run_workload<H>(s, pairs[i]); });
    benchmark::RegisterBenchmark((churn.name() + "/" + column).c_str(),
                                 [](benchmark::State& s) { run_workload<H>(s, churn); });
    benchmark::RegisterBenchmark(("fresh_heap_4096/" + column).c_str(), run_fresh_heap<H>);
  });

  summary_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary(workloads, columns);
  benchmark::Shutdown();
  return 0;
}
