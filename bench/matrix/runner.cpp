// The runner behind every matrix program: options, registration workload by workload (so the
// cells of one workload run side by side, minutes apart at most), progress, and the JSON.
#include "runner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <iostream>
// g++ 12 warns (maybe-uninitialized) inside <regex> itself under the sanitizers: not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <sstream>

#include "matrix.hpp"

namespace alloy::bench {
namespace {

options& mutable_options() {
  static options o;
  return o;
}

std::vector<cell_info>& cells_of_last_run() {
  static std::vector<cell_info> cells;
  return cells;
}

std::vector<cell_result>& results_of_last_run() {
  static std::vector<cell_result> results;
  return results;
}

struct timeline_entry {
  std::string workload, cell;
  std::vector<timeline_sample> samples;
};
std::vector<timeline_entry>& timelines() {
  static std::vector<timeline_entry> all;
  return all;
}

/// report/results.json -> report/results.timeline.json
std::string timeline_path(const std::string& out) {
  const std::size_t dot = out.rfind(".json");
  return (dot == std::string::npos ? out : out.substr(0, dot)) + ".timeline.json";
}

void write_timelines(const std::string& path) {
  std::ofstream f(path);
  f << "[";
  bool first = true;
  for (const timeline_entry& t : timelines()) {
    f << (first ? "\n" : ",\n") << "{\"workload\": " << json_string(t.workload) << ", \"cell\": " << json_string(t.cell)
      << ", \"samples\": [";
    first = false;
    for (std::size_t i = 0; i < t.samples.size(); ++i) {
      const timeline_sample& s = t.samples[i];
      f << (i ? ", " : "") << "[" << s.ms << ", " << s.footprint << ", " << s.live << ", \"" << phase_name(s.in) << "\"]";
    }
    f << "]}";
  }
  f << "\n]\n";
}

void print_help(const char* program) {
  std::printf(
      "usage: %s [--smoke | --full] [--filter REGEX] [--out FILE.json] [--trace FILE] [--repetitions N]\n"
      "          [Google Benchmark flags]\n"
      "  --smoke          a few ms per cell: small workloads, one repetition (the tests use it)\n"
      "  --full           longer runs, 5 repetitions (default: 3 repetitions of 0.02 s)\n"
      "  --filter REGEX   only the benchmarks whose 'workload/cell' matches (extended regex)\n"
      "  --out FILE       Google Benchmark JSON with the cells described in its context\n"
      "  --trace PATH     replay this trace (a file, or a folder of *.trace files) as workload\n"
      "                   trace_<program>; repeatable (default: the shipped\n"
      "                   tests/data/python_threads.trace; 'none' for no replay)\n",
      program);
}

/// "--name=value" or "--name value"; advances i past what it consumed.
bool take(const std::vector<std::string>& args, std::size_t& i, const std::string& name, std::string& value) {
  const std::string& a = args[i];
  if (a == name && i + 1 < args.size()) {
    value = args[++i];
    return true;
  }
  if (a.rfind(name + "=", 0) == 0) {
    value = a.substr(name.size() + 1);
    return true;
  }
  return false;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string cells_json(const std::vector<cell_info>& cells) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const cell_info& c = cells[i];
    out << (i ? ", " : "") << "{\"name\": " << json_string(c.name) << ", \"kind\": " << json_string(c.kind)
        << ", \"declaration\": " << json_string(c.declaration) << ", \"thread_safe\": " << (c.thread_safe ? "true" : "false")
        << ", \"properties\": " << c.properties << '}';
  }
  out << ']';
  return out.str();
}

/// Progress on stdout, one line per finished benchmark: where the run is, how much is left,
/// and the median time per pair just measured.
class progress_reporter final : public benchmark::BenchmarkReporter {
 public:
  explicit progress_reporter(std::size_t total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    if (runs.empty()) return;
    ++done_;
    const Run* shown = &runs.front();
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") shown = &r;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double left = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_);
    std::string figure;
    const std::string name = shown->run_name.function_name;
    cell_result result{name.substr(0, name.find('/')), name.substr(name.find('/') + 1), 0, {}, ""};
    if (shown->error_occurred) {
      figure = "error: " + shown->error_message;
      result.error = shown->error_message;
    } else {
      const auto pairs = shown->counters.find("pairs");
      const double per_pair = shown->GetAdjustedRealTime() / (pairs == shown->counters.end() ? 1.0 : pairs->second.value);
      result.ns_per_pair = per_pair;
      for (const auto& [key, counter] : shown->counters) result.counters.emplace_back(key, counter.value);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f ns/pair", per_pair);
      figure = buf;
    }
    results_of_last_run().push_back(std::move(result));
    std::printf("[%4zu/%zu %3.0f%% ~%dm%02ds left] %s  %s\n", done_, total_,
                100.0 * static_cast<double>(done_) / static_cast<double>(total_), static_cast<int>(left) / 60,
                static_cast<int>(left) % 60, shown->run_name.function_name.c_str(), figure.c_str());
    std::fflush(stdout);
  }

 private:
  std::size_t total_, done_ = 0;
  std::chrono::steady_clock::time_point start_;
};

/// The turns of a cell run in turns (run_matrix) as one result: the turn of median time per
/// pair, with its counters (a turn that failed counts only if every turn did). The progress
/// lines showed each turn; the JSON holds each (tools/report/report.py takes the same median).
void fold_turns(std::vector<cell_result>& results) {
  std::vector<cell_result> folded;
  for (const cell_result& r : results) {
    const auto same = [&](const cell_result& f) { return f.workload == r.workload && f.cell == r.cell; };
    if (std::find_if(folded.begin(), folded.end(), same) != folded.end()) continue;
    std::vector<const cell_result*> turns;
    for (const cell_result& t : results)
      if (same(t) && t.error.empty()) turns.push_back(&t);
    if (turns.empty()) {
      folded.push_back(r);  // every turn failed: the first one's error
      continue;
    }
    std::sort(turns.begin(), turns.end(), [](const cell_result* a, const cell_result* b) { return a->ns_per_pair < b->ns_per_pair; });
    folded.push_back(*turns[(turns.size() - 1) / 2]);
  }
  results = std::move(folded);
}

}  // namespace

const options& current_options() { return mutable_options(); }

void record_timeline(const std::string& workload, const std::string& cell, const std::vector<timeline_sample>& samples) {
  timelines().push_back({workload, cell, samples});
}

std::vector<std::string> trace_files(const std::string& spec, std::string& error) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(spec, ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(spec, ec))
      if (e.path().extension() == ".trace") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) error = "no *.trace file in the folder " + spec;
  } else {
    files.push_back(spec);
  }
  for (const std::string& f : files) {
    if (::access(f.c_str(), R_OK) != 0) {
      error = "cannot read the trace " + f + ": " + std::strerror(errno);
      break;
    }
    if (!alloy::trace::read(f)) {
      error = f + " is not a readable Alloy trace (format version " + std::to_string(alloy::trace::version) +
              "; `alloy-trace " + f + "` says which record is wrong)";
      break;
    }
  }
  return files;
}
const std::vector<cell_info>& last_cells() { return cells_of_last_run(); }
const std::vector<cell_result>& last_results() { return results_of_last_run(); }

void add_reference_cells(registry& r) {
  add_cell<hand_free_list_cell>(r);
  add_cell<system_cell<0>>(r);  // glibc malloc, jemalloc, tcmalloc, mimalloc: bench/common/baselines.hpp
  add_cell<system_cell<1>>(r);
  add_cell<system_cell<2>>(r);
  add_cell<system_cell<3>>(r);
  add_cell<pmr_cell<std::pmr::unsynchronized_pool_resource>>(r);
  add_cell<pmr_cell<std::pmr::synchronized_pool_resource>>(r);
  add_cell<pmr_cell<std::pmr::monotonic_buffer_resource>>(r);
}

int run_matrix(int argc, char** argv, const std::vector<cell_adder>& adders) {
  init_baselines(argv);  // may re-execute the program once, so jemalloc can be loaded
  options& o = mutable_options();
  bool traces_none = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> passthrough{argv[0]};
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--help" || args[i] == "-h") {
      print_help(argv[0]);
      return 0;
    } else if (args[i] == "--smoke") {
      o.mode = options::depth::smoke;
    } else if (args[i] == "--full") {
      o.mode = options::depth::full;
    } else if (take(args, i, "--filter", value)) {
      o.filter = value;
    } else if (take(args, i, "--out", value)) {
      o.out = value;
    } else if (take(args, i, "--trace", value)) {
      if (value == "none") {
        traces_none = true;
        continue;
      }
      std::string error;
      for (std::string& f : trace_files(value, error)) o.traces.push_back(std::move(f));
      if (!error.empty()) {
        std::fprintf(stderr, "%s: %s\n", argv[0], error.c_str());
        return 2;
      }
    } else if (take(args, i, "--repetitions", value)) {
      o.repetitions = std::stoi(value);
    } else {
      passthrough.push_back(args[i]);
    }
  }
#ifdef ALLOY_DEFAULT_TRACE
  if (o.traces.empty() && !traces_none) o.traces.push_back(ALLOY_DEFAULT_TRACE);
#endif
  if (traces_none) o.traces.clear();
  if (o.mode == options::depth::smoke) {
    o.scale = workload_scale::smoke();
    o.repetitions = 1;
    o.min_time = 0.0005;
  } else if (o.mode == options::depth::full) {
    o.repetitions = std::max(o.repetitions, 5);
    o.min_time = 0.1;
  }

  registry r;
  add_reference_cells(r);
  for (cell_adder add : adders) add(r);

  // Workload by workload, each cell in turn: the figures one table compares are taken together.
  auto& entries = r.entries();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const matrix_entry& a, const matrix_entry& b) { return a.workload_index < b.workload_index; });
  const std::regex filter(o.filter.empty() ? std::string(".*") : o.filter, std::regex::extended);
  std::size_t total = 0;
  const auto add = [&](matrix_entry& e, int repetitions) {
    auto* b = benchmark::RegisterBenchmark((e.workload + "/" + e.cell).c_str(), e.body);
    b->Unit(benchmark::kNanosecond)->UseRealTime()->MinTime(o.min_time)->Repetitions(repetitions);
    if (repetitions > 1) b->ReportAggregatesOnly(true);
    ++total;
  };
  // A replay of several threads takes turns: its cells run once each, then once each again, and
  // their figures are the medians of those turns (fold_turns). Its wall time swings with how its
  // threads meet — the redis trace replayed at 22 or at 60 ns per pair for every allocator,
  // for seconds at a time — and with its cells back to back a swing between the first cells
  // and the last decided the ranking (2026-11-30: the system allocators at 33, every Alloy
  // cell at 60; run again, 62 all). In turns, a swing reaches every cell alike.
  for (std::size_t first = 0; first < entries.size();) {
    std::size_t end = first;
    while (end < entries.size() && entries[end].workload_index == entries[first].workload_index) ++end;
    std::vector<matrix_entry*> chosen;
    for (std::size_t i = first; i < end; ++i)
      if (std::regex_search(entries[i].workload + "/" + entries[i].cell, filter)) chosen.push_back(&entries[i]);
    const bool in_turns = o.repetitions > 1 && !chosen.empty() && chosen.front()->in_turns;
    for (int turn = 0; turn < (in_turns ? o.repetitions : 1); ++turn)
      for (matrix_entry* e : chosen) add(*e, in_turns ? 1 : o.repetitions);
    first = end;
  }

  if (!o.out.empty()) {
    passthrough.push_back("--benchmark_out=" + o.out);
    passthrough.push_back("--benchmark_out_format=json");
  }
  std::vector<char*> gb_argv;
  for (std::string& a : passthrough) gb_argv.push_back(a.data());
  int gb_argc = static_cast<int>(gb_argv.size());
  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data())) return 1;

  std::ostringstream step;
  step.precision(3);
  step << timer_step_ns();
  static const char* const mode_names[] = {"smoke", "standard", "full"};
  benchmark::AddCustomContext("alloy.mode", mode_names[static_cast<int>(o.mode)]);
  benchmark::AddCustomContext("alloy.cpu", cpu_model());
  benchmark::AddCustomContext("alloy.compiler", __VERSION__);
  // Google Benchmark's own context says how *its* library was built (Debian's package: debug);
  // what is measured is this program, whose build is said here.
#ifdef NDEBUG
  benchmark::AddCustomContext("alloy.build", "optimised, assertions off (NDEBUG)");
#else
  benchmark::AddCustomContext("alloy.build", "assertions on (no NDEBUG): figures not representative");
#endif
  // Measured before any cell runs, on a process with nothing else to do yet; the advice prices
  // each fresh heap's page faults at it (advice.hpp, program_ns_per_pair).
  benchmark::AddCustomContext("alloy.page_fault_ns", std::to_string(page_fault_ns()));
  benchmark::AddCustomContext("alloy.populated_page_ns", std::to_string(populated_page_ns()));
  (void)trapped_faults();  // opened now, before any replay thread: they inherit it
  benchmark::AddCustomContext("alloy.cells", cells_json(r.cells()));
  benchmark::AddCustomContext("alloy.note",
                              "time per pair = median real time per round / pairs per round; p99_ns: 99th "
                              "percentile of the time per operation over batches of " +
                                  std::to_string(op_timer::batch) +
                                  " operations timed with the TSC, max_ns: the slowest such batch (timer step " +
                                  step.str() +
                                  " ns); memory_ratio = peak reserved from the system / peak live requested bytes");

  std::printf("alloy: %zu benchmarks (%zu cells), %d repetition(s) each\n", total, r.cells().size(), o.repetitions);
  cells_of_last_run() = r.cells();
  results_of_last_run().clear();
  progress_reporter progress{total};
  benchmark::RunSpecifiedBenchmarks(&progress);
  release_timed_heap();  // the last benchmark's heap, while this thread's caches still exist
  fold_turns(results_of_last_run());
  benchmark::Shutdown();
  if (!o.out.empty() && !timelines().empty()) write_timelines(timeline_path(o.out));
  return 0;
}

}  // namespace alloy::bench
