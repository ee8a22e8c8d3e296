// The multi-threaded process benchmark: runs each workload of bench_process_workloads
// (workloads.c) under glibc, jemalloc, tcmalloc, mimalloc and Alloy's liballoy_malloc.so by
// LD_PRELOAD, interleaved (bench/common/preload.hpp), and prints markdown tables of the
// medians: wall and CPU (user + system) time per workload, each allocator's ratio to mimalloc,
// each library under test's ratio to the fastest of the four system allocators, and geometric
// means; then the targets (geomean wall at or under mimalloc's, no workload over 1.25x
// the fastest system allocator), met or missed.
//
//   bench_process --alloy build/.../liballoy_malloc.so [--alloy NAME=other.so] [--reps 5]
//                 [--smoke] [--filter TEXT] [--program path/to/bench_process_workloads]
//
// The workload program checks its own results; a run that fails them (or crashes) is reported
// and makes the driver exit with 1 after the tables.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../common/preload.hpp"

namespace fs = std::filesystem;
using namespace alloy::bench;

namespace {

struct cell_samples {
  std::vector<double> wall, cpu;
};

/// One table: the median of `metric` per workload and allocator, with its ratios; with
/// `with_targets`, the targets under it.
void print_table(const char* title, const std::vector<std::string>& workloads, const std::vector<preload_library>& libs,
                 const std::vector<std::vector<cell_samples>>& samples,
                 const std::vector<double> cell_samples::*metric, bool with_targets) {
  std::size_t mimalloc = libs.size();
  for (std::size_t a = 0; a < libs.size(); ++a)
    if (libs[a].name == "mimalloc") mimalloc = a;
  std::printf("%s, ms (ratio to mimalloc)\n\n| workload |", title);
  for (const auto& l : libs) std::printf(" %s |", l.name.c_str());
  for (const auto& l : libs)
    if (!l.is_system) std::printf(" %s ÷ fastest system |", l.name.c_str());
  std::printf("\n|---|");
  for (const auto& l : libs) std::printf(l.is_system ? "---|" : "---|---|");
  std::printf("\n");
  std::vector<std::vector<double>> to_mimalloc(libs.size()), to_fastest(libs.size());
  for (std::size_t w = 0; w < workloads.size(); ++w) {
    std::vector<double> m(libs.size());
    std::size_t fastest = libs.size();
    for (std::size_t a = 0; a < libs.size(); ++a) {
      m[a] = median(samples[w][a].*metric);
      if (libs[a].is_system && (fastest == libs.size() || m[a] < m[fastest])) fastest = a;
    }
    std::printf("| %s |", workloads[w].c_str());
    for (std::size_t a = 0; a < libs.size(); ++a) {
      std::printf(" %.0f", m[a]);
      if (mimalloc < libs.size()) {
        to_mimalloc[a].push_back(m[a] / m[mimalloc]);
        std::printf(" (%.2f)", m[a] / m[mimalloc]);
      }
      std::printf(" |");
    }
    for (std::size_t a = 0; a < libs.size(); ++a)
      if (!libs[a].is_system) {
        to_fastest[a].push_back(m[a] / m[fastest]);
        std::printf(" %.2f (%s) |", m[a] / m[fastest], libs[fastest].name.c_str());
      }
    std::printf("\n");
  }
  std::printf("| **geomean** |");
  for (std::size_t a = 0; a < libs.size(); ++a)
    if (mimalloc < libs.size()) std::printf(" (%.2f) |", geomean(to_mimalloc[a]));
    else std::printf(" |");
  for (std::size_t a = 0; a < libs.size(); ++a)
    if (!libs[a].is_system) std::printf(" %.2f |", geomean(to_fastest[a]));
  std::printf("\n\n");
  if (!with_targets) return;
  // The targets, per library under test.
  for (std::size_t a = 0; a < libs.size(); ++a) {
    if (libs[a].is_system || to_fastest[a].empty()) continue;
    const auto worst = std::max_element(to_fastest[a].begin(), to_fastest[a].end());
    const std::size_t at = static_cast<std::size_t>(worst - to_fastest[a].begin());
    if (mimalloc < libs.size()) {
      const double g = geomean(to_mimalloc[a]);
      std::printf("- %s: geomean wall time %.2fx mimalloc's (target <= 1.00: %s)\n", libs[a].name.c_str(), g,
                  g <= 1.0 ? "met" : "missed");
    }
    std::printf("- %s: slowest workload %s at %.2fx the fastest system allocator (target <= 1.25: %s)\n",
                libs[a].name.c_str(), workloads[at].c_str(), *worst, *worst <= 1.25 ? "met" : "missed");
  }
  std::printf("\n");
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> under_test;
  std::string filter, program = ALLOY_PROCESS_WORKLOADS_PROGRAM;
  int reps = 5;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--alloy" && i + 1 < argc) under_test.push_back(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else if (a == "--program" && i + 1 < argc) program = argv[++i];
    else if (a == "--smoke") smoke = true;
    else {
      std::fprintf(stderr,
                   "usage: %s --alloy [NAME=]liballoy_malloc.so... [--reps N] [--smoke] [--filter TEXT] "
                   "[--program bench_process_workloads]\n",
                   argv[0]);
      return 2;
    }
  }
  const auto libs = checked_preload_libraries(under_test);
  if (libs.empty()) return 2;
  char pattern[] = "/tmp/alloy-process-XXXXXX";
  const fs::path work = mkdtemp(pattern);
  program = fs::absolute(program).string();

  // The workloads are the program's own list, so the two cannot disagree.
  const run_result listed = run_preloaded({program, "--list"}, {}, libs[0], work);
  if (listed.status != 0) {
    std::fprintf(stderr, "%s --list failed\n", program.c_str());
    return 2;
  }
  std::vector<std::string> workloads;
  std::istringstream names(listed.output);
  for (std::string name; std::getline(names, name);)
    if (filter.empty() || name.find(filter) != std::string::npos) workloads.push_back(name);

  const std::string load_before = load_average();
  std::vector<std::vector<cell_samples>> samples(workloads.size(), std::vector<cell_samples>(libs.size()));
  std::vector<std::string> failures;
  run_interleaved(reps, workloads, libs, [&](std::size_t w, std::size_t a, bool) {
    std::vector<std::string> args{program, workloads[w]};
    if (smoke) args.push_back("--smoke");
    const run_result r = run_preloaded(args, {}, libs[a], work);
    if (r.status != 0)
      failures.push_back(workloads[w] + " under " + libs[a].name + ": wait status " + std::to_string(r.status) +
                         "\n" + r.output);
    samples[w][a].wall.push_back(r.wall_ms);
    samples[w][a].cpu.push_back(r.cpu_ms);
  });

  std::printf("Multi-threaded process benchmark: median of %d interleaved runs%s; load average %s before, %s after\n\n",
              reps, smoke ? " (smoke size: figures are noise)" : "", load_before.c_str(), load_average().c_str());
  print_table("Wall time", workloads, libs, samples, &cell_samples::wall, true);
  print_table("CPU time (user + system)", workloads, libs, samples, &cell_samples::cpu, false);
  fs::remove_all(work);
  for (const std::string& f : failures) std::printf("FAILED: %s", f.c_str());
  return failures.empty() ? 0 : 1;
}
