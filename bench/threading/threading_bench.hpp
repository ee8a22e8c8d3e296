// What the threading benchmarks share: the compositions measured, and a reporter that prints
// the scaling summary (throughput with N threads over throughput with one) after the table.
#pragma once
#include <benchmark/benchmark.h>

#include <algorithm>
#include <alloc/alloy.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/baselines.hpp"

namespace alloy::bench {

namespace P = alloy::policy;

/// The one design every threading policy wraps, so only the threading axis differs.
template <class Threading>
using threading_design = alloy::allocator<P::segregated_fit, P::geometric_classes<16, 16384, 4>, Threading>;

using single_heap = threading_design<P::single_thread>;
using mutex_heap = threading_design<P::locked<std::mutex>>;
using spin_heap = threading_design<P::locked<alloy::spin_mutex>>;
using cached_heap = threading_design<P::thread_local_cache>;
/// The process-wide kind: one instance at a time, so no instance test on the fast path.
using one_instance_heap = threading_design<P::thread_local_cache::one_instance>;
using percpu_heap = threading_design<P::per_cpu_cache>;
/// The same design hardened: what hardening costs a thread cache.
using hardened_cached_heap =
    alloy::allocator<P::segregated_fit, P::geometric_classes<16, 16384, 4>, P::thread_local_cache, P::hardened>;
/// The single-threaded heap hardened: what hardening costs the heap's own lists.
using hardened_one_instance_heap =
    alloy::allocator<P::segregated_fit, P::geometric_classes<16, 16384, 4>, P::thread_local_cache::one_instance, P::hardened>;
using hardened_single_heap =
    alloy::allocator<P::segregated_fit, P::geometric_classes<16, 16384, 4>, P::single_thread, P::hardened>;

/// Console output as usual, plus every run's throughput kept for the summary.
class scaling_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      // With --benchmark_repetitions the median is kept, else the single run.
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if ((r.run_type != Run::RT_Iteration && !median) || r.error_occurred) continue;
      if (r.run_type == Run::RT_Iteration && r.repetitions > 1) continue;
      const auto it = r.counters.find("items_per_second");
      if (it == r.counters.end()) continue;
      // "pair/tlc/threads:2/real_time" -> family "pair/tlc", threads 2
      std::string family = r.run_name.str();
      for (const char* suffix : {"/threads:", "/real_time", "/manual_time"})
        if (const auto cut = family.find(suffix); cut != std::string::npos) family.erase(cut);
      results_[family][static_cast<int>(r.threads)] = it->second.value;  // handover/x/1000: one family per batch
      // CPU seconds per pair (one pair per iteration), averaged over the threads: Google
      // Benchmark sums both the threads' CPU time and their iterations.
      if (family.rfind("pair/", 0) == 0)
        cpu_per_item_[family][static_cast<int>(r.threads)] = r.cpu_accumulated_time / static_cast<double>(r.iterations);
      order_.push_back(family);
    }
    ConsoleReporter::ReportRuns(runs);
  }

  /// One line per family: ns per item at 1 thread, then throughput ratios N threads / 1 —
  /// by the wall clock, and by CPU time (N x CPU per item at 1 / CPU per item at N), which a
  /// machine busy with other work distorts less (it cannot show waiting for a descheduled
  /// lock holder, only the cost of the instructions and cache misses themselves).
  void print_summary(const char* what) const {
    std::printf("\n%s (this machine: %u hardware threads; runs above that count are oversubscribed)\n", what,
                std::thread::hardware_concurrency());
    std::printf("%-44s %10s %10s %9s %9s %9s %9s %9s %9s %9s %9s\n", "", "ns/item@1", "cpu ns@1", "wall 2/1",
                "wall 4/1", "wall 8/1", "wall 16/1", "cpu 2/1", "cpu 4/1", "cpu 8/1", "cpu 16/1");
    std::vector<std::string> seen;
    for (const std::string& f : order_) {
      if (std::find(seen.begin(), seen.end(), f) != seen.end()) continue;
      seen.push_back(f);
      const auto& by_threads = results_.at(f);
      const auto one = by_threads.find(1);
      if (one == by_threads.end()) continue;
      auto ratio = [&](int n) {
        const auto it = by_threads.find(n);
        return it == by_threads.end() ? std::string("-") : std::to_string(it->second / one->second).substr(0, 5);
      };
      const auto cpu = cpu_per_item_.find(f);
      const bool has_cpu = cpu != cpu_per_item_.end() && cpu->second.count(1) != 0;
      auto cpu_ratio = [&](int n) {
        if (!has_cpu || cpu->second.count(n) == 0) return std::string("-");
        return std::to_string(n * cpu->second.at(1) / cpu->second.at(n)).substr(0, 5);
      };
      const std::string cpu_one = has_cpu ? std::to_string(1e9 * cpu->second.at(1)).substr(0, 6) : "-";
      std::printf("%-44s %10.2f %10s %9s %9s %9s %9s %9s %9s %9s %9s\n", f.c_str(), 1e9 / one->second,
                  cpu_one.c_str(), ratio(2).c_str(), ratio(4).c_str(), ratio(8).c_str(), ratio(16).c_str(),
                  cpu_ratio(2).c_str(), cpu_ratio(4).c_str(), cpu_ratio(8).c_str(), cpu_ratio(16).c_str());
    }
  }

 private:
  std::map<std::string, std::map<int, double>> results_;
  std::map<std::string, std::map<int, double>> cpu_per_item_;
  std::vector<std::string> order_;
};

}  // namespace alloy::bench
