// alloy::bench::matrix: the cartesian product of policy lists, filtered to the valid
// compositions at compile time, each measured on every workload beside the baselines.
//
//   namespace P = alloy::policy;
//   using mine = alloy::bench::matrix<mp_list<P::segregated_fit>,             // search
//                                     mp_list<P::single_thread>,              // threading
//                                     mp_list<P::pow2_classes<16, 4096>>>;    // size classes
//   int main(int argc, char** argv) { return alloy::bench::run<mine>(argc, argv); }
#pragma once
#include <algorithm>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <boost/mp11/utility.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <alloc/allocator.hpp>
#include <policy/all.hpp>

#include "cells.hpp"
#include "metrics.hpp"
#include "reflect.hpp"
#include "runner.hpp"
#include "thread_scaling.hpp"
#include "valid_composition.hpp"
#include "workloads.hpp"

namespace alloy::bench {

using boost::mp11::mp_list;

/// Every workload of the matrix, differently typed objects in one hana::tuple, built once
/// per run at the run's scale. Their order is the report's order.
inline auto make_workloads(const workload_scale& s, const std::vector<std::string>& traces) {
  return boost::hana::make_tuple(
      pairs_workload{8}, pairs_workload{16}, pairs_workload{64}, pairs_workload{256}, pairs_workload{512},
      pairs_workload{1024}, pairs_workload{4096}, batch_workload{s.batch}, churn_workload{s.small_live, s.churn_steps},
      churn_workload{s.large_live, s.churn_steps}, mixed_lifetimes_workload{}, producer_consumer_workload{s.batch},
      thread_scaling_workload{1, 32 * s.batch}, thread_scaling_workload{2, 32 * s.batch},
      thread_scaling_workload{4, 32 * s.batch}, thread_scaling_workload{8, 32 * s.batch},
      thread_scaling_workload{16, 32 * s.batch},
      fragmentation_workload{s.frag_blocks}, memory_over_time_workload{s.phased_blocks, s.quiet_ms},
      trace_suite{traces});
}

inline auto& workload_list() {
  static auto list = make_workloads(current_options().scale, current_options().traces);
  return list;
}

template <class Workload, class Cell>
inline constexpr bool runs_on = (!Workload::needs_thread_safe || Cell::thread_safe) &&
                                (!Cell::frees_nothing || Workload::frees_all_each_round);

/// Runs the workload's teardown unless the heap gives everything back when destroyed anyway
/// (freeing 100,000 blocks one by one into an O(n) heap costs minutes and measures nothing).
template <class Heap, class Workload, class Driver, class State>
void finish(const Workload& w, Driver& d, State& s) {
  if constexpr (!Heap::frees_on_destruction) w.teardown(d, s);
}

/// The memory run: a fresh heap, checked (every allocation must succeed), its footprint over
/// the workload's live bytes. Deterministic, so it runs once per benchmark, not per repetition.
/// The memory run's figures and what its checks found.
struct checked_metrics : cell_metrics {
  std::size_t failures = 0;    // allocations that returned nullptr
  std::size_t violations = 0;  // blocks handed out twice while live
  double slowest_round_seconds = 0;  // the memory run's, sleeps of the workload's quiet phases included
};

/// A cell with a round longer than this, in the memory run or as the timed heap's untimed first
/// round, is reported with that round's time per pair, not timed: timing it (the rounds that size
/// the loop, then per repetition the timed rounds and the latency round) would spend tens of
/// seconds of the main job's budget on one cell — next_fit on churn_100k, whose rounds grow from
/// 0.7 s to 2.4 s as its list fragments, took 63 s over four cells at a budget of 1 s. Half a
/// second still times memory_over_time's rounds, which sleep 150 ms in their quiet phase.
inline constexpr double round_budget_seconds = 0.5;

template <class Cell, class Workload>
const checked_metrics& memory_run(const Workload& w) {
  static std::map<std::string, checked_metrics> done;
  const auto known = done.find(w.name());
  if (known != done.end()) return known->second;
  checked_metrics m{cell_metrics::none()};
  auto heap = std::make_unique<typename Cell::memory_heap>();
  memory_probe<typename Cell::memory_heap> probe{*heap};
  no_timer timer;
  driver d{*heap, timer, probe};
  auto s = w.setup(d);
  // At most ~1 s of rounds: an O(n) heap under 100,000 live blocks would otherwise take minutes.
  // memory_rounds in the results says how many rounds the figures cover.
  const std::size_t rounds = Workload::measures_memory ? w.memory_rounds() : 1;
  // The slowest round, not the mean, is held to the budget: an O(n) heap's rounds slow down as
  // its free list fragments, and the rounds the loop would time come after these.
  const double faults_before = minor_faults(), traps_before = trapped_faults();
  const auto start = std::chrono::steady_clock::now();
  std::size_t done_rounds = 0;
  for (auto round_start = start; done_rounds < rounds;) {
    w.round(d, s);
    ++done_rounds;
    const auto now = std::chrono::steady_clock::now();
    m.slowest_round_seconds = std::max(m.slowest_round_seconds, std::chrono::duration<double>(now - round_start).count());
    round_start = now;
    if (now - start > std::chrono::seconds(1)) break;
  }
  // The pages a fresh heap had the workload touch first: what a program starting on this heap
  // pays in faults and the warm timed rounds never see. Only where the workload writes the
  // blocks it gets, as a program does (a trace replay's memory run), and only for Alloy cells:
  // a system allocator here is the process's, warm from the cells before it.
  if constexpr (requires { requires Workload::touches_blocks; }) {
    if (std::string_view{Cell::kind()} == kind::alloy) {
      const double pairs = static_cast<double>(done_rounds * w.pairs_per_round());
      const double traps = trapped_faults() - traps_before;
      m.faults_per_pair = traps / pairs;
      m.populated_per_pair = std::max(0.0, minor_faults() - faults_before - traps) / pairs;
    }
  }
  probe.sample();
  if (!probe.timeline().empty()) {
    record_timeline(w.name(), Cell::name(), probe.timeline());
    // The footprint over the live bytes at the end of the quiet phase (memory_over_time).
    for (const timeline_sample& t : probe.timeline())
      if (t.in == phase::quiet && t.live > 0) m.retained_ratio = static_cast<double>(t.footprint) / static_cast<double>(t.live);
  }
  if constexpr (Workload::measures_memory) {
    m.peak_reserved_bytes = static_cast<double>(probe.peak_reserved());
    m.peak_live_bytes = static_cast<double>(probe.peak_live());
    // A system allocator measured by the growth of its process-wide footprint may not grow at
    // all (it reuses memory an earlier cell left it): no figure rather than a false 0.
    if (probe.peak_live() > 0 && probe.peak_reserved() > 0) m.memory_ratio = m.peak_reserved_bytes / m.peak_live_bytes;
    m.external_fragmentation = probe.external_fragmentation();
    m.largest_free_block = probe.largest_free_block();
    m.memory_rounds = static_cast<double>(done_rounds);
  }
  finish<typename Cell::memory_heap>(w, d, s);
  m.pairs = static_cast<double>(w.pairs_per_round());
  m.failures = probe.failures();
  m.violations = probe.violations();
  return done.emplace(w.name(), m).first->second;
}

/// The heap a benchmark is timed on, set up and warmed once per benchmark: its first round is
/// untimed, since a fresh heap's first touch of its pages (a page fault each, about 20 us on a
/// paravirtualised VM) is not the steady state the loop measures, and the system allocators,
/// sharing this process, start warm from the cells before them.
template <class Cell, class Workload>
struct timed_heap {
  using heap_type = typename Cell::heap;
  using quiet_driver = driver<heap_type, no_timer, no_probe>;
  const Workload& w;
  std::unique_ptr<heap_type> heap = std::make_unique<heap_type>();
  no_timer quiet;
  no_probe unprobed;
  quiet_driver d{*heap, quiet, unprobed};
  decltype(std::declval<const Workload&>().setup(std::declval<quiet_driver&>())) s = w.setup(d);
  double first_round_seconds = 0;  // the untimed round's: over round_budget_seconds, not timed

  explicit timed_heap(const Workload& workload) : w(workload) {
    const auto start = std::chrono::steady_clock::now();
    w.round(d, s);
    first_round_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  ~timed_heap() { finish<heap_type>(w, d, s); }
  timed_heap(const timed_heap&) = delete;
  timed_heap& operator=(const timed_heap&) = delete;
};

/// The timed heap of the benchmark running now, kept from one of Google Benchmark's calls of
/// that benchmark to the next (the calls that size its iteration count, then one per
/// repetition): setting up a fresh heap per call (100,000 live blocks for churn_100k) and its
/// untimed round was most of the main job's time. Benchmarks run one after another, so one heap
/// is kept; the next benchmark's first call, or release_timed_heap(), drops it.
inline std::pair<std::string, std::shared_ptr<void>>& current_timed_heap() {
  static std::pair<std::string, std::shared_ptr<void>> current;
  return current;
}
inline void release_timed_heap() { current_timed_heap() = {}; }

template <class Cell, class Workload>
timed_heap<Cell, Workload>& timed_heap_for(const Workload& w) {
  auto& [key, heap] = current_timed_heap();
  const std::string benchmark = w.name() + "/" + Cell::name();
  if (key != benchmark || heap == nullptr) {
    release_timed_heap();  // the previous benchmark's heap goes before this one is built
    heap = std::make_shared<timed_heap<Cell, Workload>>(w);
    key = benchmark;
  }
  return *static_cast<timed_heap<Cell, Workload>*>(heap.get());
}

/// A cell whose round is over round_budget_seconds is reported, not timed; `what` says which
/// round, with a %.2f for its seconds.
inline void skip_over_budget(benchmark::State& state, const char* what, double seconds, double pairs) {
  char round[96], why[192];
  std::snprintf(round, sizeof round, what, seconds);
  std::snprintf(why, sizeof why, "not timed: %s (%.0f ns per pair), over the %.1f s budget", round, seconds * 1e9 / pairs,
                round_budget_seconds);
  state.SkipWithError(why);
}

/// One benchmark: the memory run (first call only), the timed rounds on the benchmark's warm
/// heap, then one round with every operation timed (tail latency) on it.
template <class Cell, class Workload>
void run_cell(benchmark::State& state, const Workload& w) {
  const checked_metrics& checked = memory_run<Cell>(w);
  if (checked.failures > 0) {
    state.SkipWithError(("allocation failed " + std::to_string(checked.failures) + " times").c_str());
    return;
  }
  if (checked.violations > 0) {
    state.SkipWithError(("a block was handed out twice while live (" + std::to_string(checked.violations) + " times)").c_str());
    return;
  }
  if (checked.slowest_round_seconds > round_budget_seconds)
    return skip_over_budget(state, "a round took %.2f s in the memory run", checked.slowest_round_seconds, checked.pairs);
  cell_metrics m = checked;
  timed_heap<Cell, Workload>& t = timed_heap_for<Cell>(w);
  // The memory run's first rounds can be quick where the timed heap, set up and past a round,
  // is not (a first-fit list at 100,000 live blocks: 0.3 ms per pair there, 1.7 ms here): the
  // same budget applies to the round the loop would repeat.
  if (t.first_round_seconds > round_budget_seconds)
    return skip_over_budget(state, "its first round on the timed heap took %.2f s", t.first_round_seconds, checked.pairs);
  for (auto _ : state) w.round(t.d, t.s);
  op_timer timer{4 * w.pairs_per_round()};
  driver timed{*t.heap, timer, t.unprobed};
  w.round(timed, t.s);
  m.p99_ns = timer.percentile_ns(0.99);
  m.max_ns = timer.max_ns();

  for_each_field(m, [&](std::string_view name, double value) {
    if (value == value) state.counters[std::string(name)] = value;  // NaN: not measured
  });
  state.SetLabel(Cell::name());
}

/// Registers the benchmark of `Cell` on `w` when the cell can run it. Workloads of one family
/// (the traces of a suite) are numbered `instance`, so each one's cells still run side by side.
template <class Cell, class Workload>
void add_benchmark(registry& r, const Workload& w, std::size_t index, std::size_t instance) {
  if constexpr (runs_on<Workload, Cell>) {
    if constexpr (requires { w.enabled(); }) {
      if (!w.enabled()) return;
    }
    bool threaded = false;
    if constexpr (requires { w.threaded(); }) {
      threaded = w.threaded();
      if (threaded && !Cell::thread_safe) return;  // a multi-thread trace: thread-safe cells only
    }
    r.add({index * max_instances + instance, w.name(), Cell::name(), [&w](benchmark::State& state) { run_cell<Cell>(state, w); },
           threaded});
  }
}

/// Registers `Cell` and its benchmark on every workload it can run.
template <class Cell>
void add_cell(registry& r) {
  if constexpr (requires { Cell::available(); }) {
    if (!Cell::available()) {
      // Under AddressSanitizer the system allocators are not even loaded (see system_cell).
      if (!ALLOY_ASAN) std::printf("alloy: %s is not available, left out\n", Cell::name().c_str());
      return;
    }
  }
  r.add_cell({Cell::name(), Cell::kind(), Cell::declaration(), Cell::properties(), Cell::thread_safe});
  std::size_t index = 0;
  boost::hana::for_each(workload_list(), [&](const auto& w) {
    if constexpr (requires { w.instances(); }) {
      std::size_t instance = 0;
      for (const auto& one : w.instances()) add_benchmark<Cell>(r, one, index, instance++);
    } else {
      add_benchmark<Cell>(r, w, index, 0);
    }
    ++index;
  });
}

namespace detail {
/// The allocator a valid policy list composes. A heap without size classes (its
/// max_class_size is 0: first_fit, tlsf, ...) ignores that axis, so the size classes are set
/// to the axis default there and mp_unique keeps one cell instead of one per class map.
struct to_allocator {
  template <class PolicyList>
  using fn = boost::mp11::mp_eval_if_c<
      (boost::mp11::mp_apply<alloy::allocator, PolicyList>::properties.max_class_size != 0),
      boost::mp11::mp_apply<alloy::allocator, PolicyList>, boost::mp11::mp_apply_q, boost::mp11::mp_quote<alloy::allocator>,
      boost::mp11::mp_replace_if_q<PolicyList, alloy::detail::on_axis<axis::size_classes>,
                                   default_policy_t<axis::size_classes>>>;
};
}  // namespace detail

/// The matrix of `Search x Threading x Classes x Alignment x Source x Hardening x Checks x Reclaim` (each
/// an mp_list of policies; all but the first default to the axis default). Invalid compositions
/// are dropped by valid_composition; two spellings of one design count once.
template <class Search, class Threading = mp_list<default_policy_t<axis::threading>>,
          class Classes = mp_list<default_policy_t<axis::size_classes>>,
          class Alignment = mp_list<default_policy_t<axis::alignment>>,
          class Source = mp_list<default_policy_t<axis::source>>,
          class Hardening = mp_list<default_policy_t<axis::hardening>>,
          class Checks = mp_list<default_policy_t<axis::checks>>,
          class Reclaim = mp_list<default_policy_t<axis::reclaim>>>
struct matrix {
  using product = matrix_product<Search, Threading, Classes, Alignment, Source, Hardening, Checks, Reclaim>;
  using valid = boost::mp11::mp_copy_if_q<product, is_valid_composition>;
  using allocators = boost::mp11::mp_unique<boost::mp11::mp_transform_q<detail::to_allocator, valid>>;
  static constexpr std::size_t size = boost::mp11::mp_size<allocators>::value;

  static void add_to(registry& r) {
    boost::mp11::mp_for_each<boost::mp11::mp_transform<boost::mp11::mp_identity, allocators>>(
        [&](auto a) { add_cell<alloy_cell<typename decltype(a)::type>>(r); });
  }
};

/// A group of given compositions, each measured as it is declared: for a type declared elsewhere
/// (a preload library's heap), which a matrix would have to copy policy by policy.
template <class... Allocators>
struct compositions {
  using allocators = boost::mp11::mp_unique<mp_list<Allocators...>>;
  static constexpr std::size_t size = boost::mp11::mp_size<allocators>::value;

  static void add_to(registry& r) {
    boost::mp11::mp_for_each<boost::mp11::mp_transform<boost::mp11::mp_identity, allocators>>(
        [&](auto a) { add_cell<alloy_cell<typename decltype(a)::type>>(r); });
  }
};

/// The whole program of a matrix benchmark: `int main(int c, char** v) { return run<M>(c, v); }`.
template <class... Matrices>
int run(int argc, char** argv) {
  return run_matrix(argc, argv, {&Matrices::add_to...});
}

}  // namespace alloy::bench
