// alloy-advise TRACE: replays a recorded program (liballoy_trace.so) on every cell of the
// default matrix and prints the compositions that suit it best — fastest, smallest, balanced,
// best tail latency — as C++ declarations ready to paste, with the system allocators' figures on
// the same replay. A trace of several threads is replayed with its threads (bench/matrix/
// workloads.hpp, trace_replay_workload) on thread-safe compositions only.
//
//   alloy-advise my_program.trace [--smoke] [--emit-preload DIR] [bench_matrix options]
//
// --emit-preload DIR writes a CMake project that builds the fastest thread-safe composition as a
// preload library (alloy_add_malloc_library): cmake -S DIR -B DIR/build && cmake --build DIR/build.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "advice.hpp"
#include "default_matrix.hpp"

namespace {

using alloy::bench::cell_info;
using alloy::bench::cell_result;

struct candidate {
  const cell_result* result;
  const cell_info* info;
};

using key_fn = double (*)(const cell_result&);

const candidate* best_by(const std::vector<candidate>& cells, key_fn key) {
  const candidate* best = nullptr;
  for (const candidate& c : cells) {
    if (key(*c.result) < 0) continue;  // not measured
    if (best == nullptr || key(*c.result) < key(*best->result)) best = &c;
  }
  return best;
}

std::string figures(const cell_result& r) {
  char buf[256];
  char faults[160] = "";
  if (r.counter("faults_per_pair") >= 0)
    std::snprintf(faults, sizeof faults, " (%.2f warm + %.3f page faults per pair at %.1f us + %.3f pages populated at %.1f us),",
                  r.ns_per_pair, r.counter("faults_per_pair"), alloy::bench::page_fault_ns() / 1e3,
                  std::max(0.0, r.counter("populated_per_pair")), alloy::bench::populated_page_ns() / 1e3);
  std::snprintf(buf, sizeof buf, "%.2f ns per op pair%s p99 %.1f ns per op, max %.0f ns, memory %.3fx peak live",
                alloy::bench::program_ns_per_pair(r), faults[0] != 0 ? faults : ",", r.counter("p99_ns"),
                r.counter("max_ns"), r.counter("memory_ratio"));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fprintf(stderr,
                 "usage: %s TRACE [--smoke] [--emit-preload DIR] [bench_matrix options]\n"
                 "  TRACE: a trace recorded with liballoy_trace.so (README: recording a trace)\n",
                 argv[0]);
    return 2;
  }
  // Before anything runs: a missing or unreadable trace is said plainly (exit 2).
  std::string error;
  const std::vector<std::string> files = alloy::bench::trace_files(argv[1], error);
  if (!error.empty() || files.size() != 1) {
    std::fprintf(stderr, "alloy-advise: %s\n", error.empty() ? "give one trace file, not a folder" : error.c_str());
    return 2;
  }
  const alloy::bench::trace_replay_workload trace{files.front()};
  if (!trace.enabled()) {
    std::fprintf(stderr, "alloy-advise: %s holds no allocation to replay\n", argv[1]);
    return 2;
  }
  alloy::bench::init_baselines(argv);  // re-executes with this command line (see bench/common/baselines.hpp)

  std::string preload_dir;
  std::string filter = "^";  // built in steps: g++ 12 warns falsely (-Wrestrict) on "^" + name + "/"
  filter += trace.name();
  filter += '/';
  std::vector<std::string> args{argv[0], "--trace", argv[1], "--filter", filter};
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--emit-preload" && i + 1 < argc) preload_dir = argv[++i];
    else args.emplace_back(argv[i]);
  }
  std::vector<char*> raw;
  for (std::string& a : args) raw.push_back(a.data());
  const int rc = alloy::bench::run_matrix(static_cast<int>(raw.size()), raw.data(), alloy::bench::defaults::slices());
  if (rc != 0) return rc;

  std::vector<candidate> alloy_cells, system_cells;
  for (const cell_result& r : alloy::bench::last_results()) {
    if (!r.error.empty() || r.workload != trace.name()) continue;
    for (const cell_info& c : alloy::bench::last_cells()) {
      if (c.name != r.cell) continue;
      if (c.kind == std::string(alloy::bench::kind::alloy)) alloy_cells.push_back({&r, &c});
      else if (c.kind == std::string(alloy::bench::kind::baseline) && c.thread_safe) system_cells.push_back({&r, &c});
    }
  }
  if (alloy_cells.empty()) {
    std::fprintf(stderr, "alloy-advise: no composition replayed %s\n", argv[1]);
    return 1;
  }
  // Balanced: the least product of time and memory, each over the best of all compositions.
  static double fastest_time = 0, smallest_memory = 0;
  fastest_time = alloy::bench::program_ns_per_pair(*best_by(alloy_cells, alloy::bench::program_ns_per_pair)->result);
  const candidate* smallest = best_by(alloy_cells, [](const cell_result& r) { return r.counter("memory_ratio"); });
  smallest_memory = smallest != nullptr ? smallest->result->counter("memory_ratio") : 1;
  const struct {
    const char* title;
    const char* alias;
    key_fn key;
  } choices[] = {
      {"fastest (a program's time per pair: the warm replay's plus its fresh heap's page faults)", "fastest_for_trace",
       alloy::bench::program_ns_per_pair},
      {"smallest footprint", "smallest_for_trace", [](const cell_result& r) { return r.counter("memory_ratio"); }},
      {"balanced (least time x memory, each over the best)", "balanced_for_trace",
       [](const cell_result& r) {
         const double memory = r.counter("memory_ratio");
         return memory < 0 ? -1 : (alloy::bench::program_ns_per_pair(r) / fastest_time) * (memory / smallest_memory);
       }},
      {"best tail latency (p99, then max)", "steadiest_for_trace",
       [](const cell_result& r) { return r.counter("p99_ns") * 1e9 + r.counter("max_ns"); }},
  };
  const std::size_t threads = trace.by_thread.size();
  std::printf("\n// alloy-advise %s: %zu records on %zu thread(s); %zu compositions replayed it%s\n", argv[1],
              trace.steps.size(), threads, alloy_cells.size(),
              threads > 1 ? " (thread-safe ones only: each thread's calls on a thread of their own)" : " (one thread)");
  std::printf("// p99: 99th percentile of the time per operation over batches of %zu operations (timer step %.1f ns)\n",
              alloy::bench::op_timer::batch, alloy::bench::timer_step_ns());
  std::printf("#include <alloc/allocator.hpp>\n#include <policy/all.hpp>\nnamespace P = alloy::policy;\n");
  for (const auto& choice : choices) {
    const candidate* best = best_by(alloy_cells, choice.key);
    if (best == nullptr) continue;
    std::printf("\n// %s: %s\nusing %s = %s;\n", choice.title, figures(*best->result).c_str(), choice.alias,
                best->info->declaration.c_str());
  }
  std::printf("\n// the system allocators on the same replay (warm replay only: each is this process's malloc, its\n"
              "// first-touch page faults spent before the replay, so compare them with the warm figures above):\n");
  for (const candidate& s : system_cells) std::printf("//   %-14s %s\n", s.info->name.c_str(), figures(*s.result).c_str());

  if (!preload_dir.empty()) {
    const cell_info* pick = alloy::bench::fastest_thread_safe(trace.name());
    if (pick == nullptr ||
        !alloy::bench::emit_preload_project(
            preload_dir, {{"advised_malloc", "advised_heap.hpp", "advised_heap", pick->declaration,
                           std::string("for ") + argv[1] + ": its fastest thread-safe composition"}})) {
      std::fprintf(stderr, "alloy-advise: could not write the preload library's project into %s\n", preload_dir.c_str());
      return 1;
    }
    std::printf("\n// preload library (%s): %s/advised_heap.hpp\n//   cmake -S %s -B %s/build && cmake --build %s/build\n"
                "//   LD_PRELOAD=%s/build/libadvised_malloc.so program args...\n",
                pick->name.c_str(), preload_dir.c_str(), preload_dir.c_str(), preload_dir.c_str(),
                preload_dir.c_str(), preload_dir.c_str());
  }
  return 0;
}
