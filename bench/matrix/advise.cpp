// alloy-advise TRACE: replays a recorded program (liballoy_trace.so) on every cell of the
// default matrix and prints the compositions that suit it best — fastest, smallest, best tail
// latency — as C++ declarations ready to paste, with their figures beside the system allocators'.
//
//   alloy-advise my_program.trace            (--smoke: a quick pass; other options: bench_matrix --help)
#include <cstdio>
#include <string>
#include <vector>

#include "default_matrix.hpp"

namespace {

using alloy::bench::cell_result;

const cell_result* best_by(const std::vector<const cell_result*>& cells, double (*key)(const cell_result&)) {
  const cell_result* best = nullptr;
  for (const cell_result* c : cells) {
    if (key(*c) < 0) continue;  // not measured
    if (best == nullptr || key(*c) < key(*best)) best = c;
  }
  return best;
}

std::string figures(const cell_result& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.2f ns per pair, p99 %.0f ns, max %.0f ns, memory %.3fx peak live", r.ns_per_pair,
                r.counter("p99_ns"), r.counter("max_ns"), r.counter("memory_ratio"));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  alloy::bench::init_baselines(argv);  // re-executes with this command line (see bench/common/baselines.hpp)
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0) {
    std::fprintf(stderr,
                 "usage: %s TRACE [--smoke] [bench_matrix options]\n"
                 "  TRACE: a trace recorded with liballoy_trace.so (README: recording a trace)\n",
                 argv[0]);
    return 2;
  }
  std::vector<std::string> args{argv[0], "--trace", argv[1], "--filter", "^trace_replay/"};
  for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> raw;
  for (std::string& a : args) raw.push_back(a.data());
  const int rc = alloy::bench::run_matrix(static_cast<int>(raw.size()), raw.data(), alloy::bench::defaults::slices());
  if (rc != 0) return rc;

  std::vector<const cell_result*> alloy_cells;
  std::vector<const cell_result*> system_cells;
  for (const cell_result& r : alloy::bench::last_results()) {
    if (!r.error.empty() || r.workload != "trace_replay") continue;
    for (const alloy::bench::cell_info& c : alloy::bench::last_cells()) {
      if (c.name != r.cell) continue;
      if (c.kind == std::string(alloy::bench::kind::alloy)) alloy_cells.push_back(&r);
      else if (c.kind == std::string(alloy::bench::kind::baseline)) system_cells.push_back(&r);
    }
  }
  if (alloy_cells.empty()) {
    std::fprintf(stderr, "alloy-advise: no cell replayed %s (is it a trace? see alloy-trace)\n", argv[1]);
    return 1;
  }
  const struct {
    const char* title;
    const char* alias;
    double (*key)(const cell_result&);
  } choices[] = {
      {"fastest", "fastest_for_trace", [](const cell_result& r) { return r.ns_per_pair; }},
      {"smallest footprint", "smallest_for_trace", [](const cell_result& r) { return r.counter("memory_ratio"); }},
      {"best tail latency (p99, then max)", "steadiest_for_trace",
       [](const cell_result& r) { return r.counter("p99_ns") * 1e9 + r.counter("max_ns"); }},
  };
  std::printf("\n// alloy-advise %s: %zu compositions replayed the trace (one thread, calls in recorded order)\n",
              argv[1], alloy_cells.size());
  std::printf("#include <alloc/allocator.hpp>\n#include <policy/all.hpp>\nnamespace P = alloy::policy;\n");
  for (const auto& choice : choices) {
    const cell_result* best = best_by(alloy_cells, choice.key);
    if (best == nullptr) continue;
    std::string declaration;
    for (const alloy::bench::cell_info& c : alloy::bench::last_cells())
      if (c.name == best->cell) declaration = c.declaration;
    std::printf("\n// %s: %s\nusing %s = %s;\n", choice.title, figures(*best).c_str(), choice.alias, declaration.c_str());
  }
  std::printf("\n// the system allocators on the same trace:\n");
  for (const cell_result* s : system_cells) std::printf("//   %-26s %s\n", s->cell.c_str(), figures(*s).c_str());
  return 0;
}
