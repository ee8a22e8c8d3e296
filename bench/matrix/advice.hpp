// Advice from a matrix run: which composition a preload library for a recorded program should
// have, and the CMake project that builds it (alloy_add_malloc_library). alloy-advise asks it for
// one trace; bench_matrix --emit-preload for every trace of the main job's suite, whose programs
// tools/trace/end-to-end.sh then runs under those libraries.
#pragma once
#include <string>
#include <vector>

#include "runner.hpp"

namespace alloy::bench {

/// The composition a preload library for `workload` (a trace) should have: the fastest
/// thread-safe Alloy cell of the last run_matrix() on it, since a preload library serves every
/// thread of the process. nullptr when none ran it.
const cell_info* fastest_thread_safe(const std::string& workload);

/// One library of an emitted project: lib<name>.so replacing malloc with `type`, which `header`
/// declares as `declaration`; `why` opens the header's comment.
struct preload_spec {
  std::string name, header, type, declaration, why;
};

/// Writes `dir`/CMakeLists.txt, which builds each library with alloy_add_malloc_library (from an
/// installed Alloy when find_package finds one, else from this source tree), and each header.
/// false when a file cannot be written.
bool emit_preload_project(const std::string& dir, const std::vector<preload_spec>& libraries);

/// For every trace workload of the last run: its advised library (fastest_thread_safe), one per
/// distinct composition, named advised_<first program with it>, in one project in `dir`, and
/// `dir`/advice.tsv: a line per program — program, library, composition. The programs advised
/// (0 when no trace ran: nothing is written), or -1 when a file could not be written.
int emit_suite_preloads(const std::string& dir);

}  // namespace alloy::bench
