// bench_matrix: the default matrix against the baselines — Alloy's main job (tools/bench.sh).
//
//   bench_matrix [--emit-preload DIR] [runner options: --help]
//
// --emit-preload DIR: after the run, each trace's advised preload library (its fastest
// thread-safe composition, as alloy-advise would pick it from the same replay) in one CMake
// project, and DIR/advice.tsv (advice.hpp) — what tools/trace/end-to-end.sh runs the programs
// under, with no second replay of the traces.
#include <cstdio>
#include <string>
#include <vector>

#include "advice.hpp"
#include "default_matrix.hpp"

int main(int argc, char** argv) {
  // Before run_matrix does it with the options it is given: the re-executed process must see
  // --emit-preload too.
  alloy::bench::init_baselines(argv);
  std::string preload_dir;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--emit-preload" && i + 1 < argc) preload_dir = argv[++i];
    else args.push_back(argv[i]);
  }
  const int rc = alloy::bench::run_matrix(static_cast<int>(args.size()), args.data(), alloy::bench::defaults::slices());
  if (rc != 0 || preload_dir.empty()) return rc;
  const int advised = alloy::bench::emit_suite_preloads(preload_dir);
  if (advised < 0) {
    std::fprintf(stderr, "bench_matrix: cannot write the advised preload libraries' project into %s\n", preload_dir.c_str());
    return 1;
  }
  if (advised == 0) std::printf("bench_matrix: no trace ran, so no preload library is advised\n");
  else
    std::printf("bench_matrix: %d programs' advised preload libraries, their project in %s (advice.tsv: program, "
                "library, composition)\n", advised, preload_dir.c_str());
  return 0;
}
