// The runner: options, the registry of cells and their benchmarks, and the entry point every
// matrix program calls (bench_matrix, a user's own matrix, the tests' smoke matrix).
#pragma once
#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace alloy::bench {

/// What the command line chose (see `--help`).
struct options {
  enum class depth { smoke, standard, full };
  depth mode = depth::standard;
  std::string filter;        ///< regex (extended) over "workload/cell"; empty: everything
  std::string out;           ///< Google Benchmark JSON; cells are described in <out>.cells.json
  std::vector<std::string> traces;  ///< traces replayed, one workload each (trace_<program>)
  int repetitions = 3;
  double min_time = 0.02;    ///< seconds per repetition
  workload_scale scale{};
};

/// The options of this run; set by run_matrix() before any cell is registered.
const options& current_options();

/// The most workloads one entry of the workload list may expand to (a trace suite's traces).
inline constexpr std::size_t max_instances = 1024;

/// Keeps a memory run's footprint over time for `<out>.timeline.json` (the report's plot).
void record_timeline(const std::string& workload, const std::string& cell, const std::vector<timeline_sample>& samples);

/// The trace files `spec` names: a file, or a folder (its *.trace files, sorted); an error
/// message instead when one is missing or is no readable trace.
std::vector<std::string> trace_files(const std::string& spec, std::string& error);

/// One cell as the report describes it.
struct cell_info {
  std::string name;          ///< "segregated_fit + pow2_classes<16, 4096> + single_thread + align<16>"
  std::string kind;          ///< "alloy", "baseline" or "reference"
  std::string declaration;   ///< the C++ type to paste (Alloy cells)
  std::string properties;    ///< allocator_properties as JSON (Alloy cells)
  bool thread_safe = false;
};

/// One benchmark: a workload on a cell.
struct matrix_entry {
  std::size_t workload_index;
  std::string workload;
  std::string cell;
  std::function<void(benchmark::State&)> body;
  /// Its repetitions take turns with its workload's other cells (a replay of several threads:
  /// see run_matrix) instead of running back to back.
  bool in_turns = false;
};

class registry {
 public:
  void add_cell(cell_info info) { cells_.push_back(std::move(info)); }
  void add(matrix_entry entry) { entries_.push_back(std::move(entry)); }
  const std::vector<cell_info>& cells() const { return cells_; }
  std::vector<matrix_entry>& entries() { return entries_; }

 private:
  std::vector<cell_info> cells_;
  std::vector<matrix_entry> entries_;
};

using cell_adder = void (*)(registry&);

/// One finished benchmark, as the progress line showed it (the median when repeated).
struct cell_result {
  std::string workload, cell;
  double ns_per_pair = 0;
  std::vector<std::pair<std::string, double>> counters;  ///< every counter, by name
  std::string error;                                      ///< empty when it ran

  double counter(const std::string& name, double otherwise = -1) const {
    for (const auto& [key, value] : counters)
      if (key == name) return value;
    return otherwise;
  }
};

/// The cells and results of the last run_matrix() in this process (for tools like alloy-advise).
const std::vector<cell_info>& last_cells();
const std::vector<cell_result>& last_results();

/// Parses the options, registers the baselines, the hand-written free list and every cell the
/// adders add, runs them workload by workload with progress, and writes the JSON.
int run_matrix(int argc, char** argv, const std::vector<cell_adder>& adders);

/// Adds glibc malloc, the std::pmr resources, jemalloc, tcmalloc, mimalloc (when their
/// libraries load) and the hand-written free list.
void add_reference_cells(registry& r);

}  // namespace alloy::bench
