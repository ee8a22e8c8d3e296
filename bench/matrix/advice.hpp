// Advice from a matrix run: which composition a preload library for a recorded program should
// have, and the CMake project that builds it (alloy_add_malloc_library). alloy-advise asks it for
// one trace; bench_matrix --emit-preload for every trace of the main job's suite, whose programs
// tools/trace/end-to-end.sh then runs under those libraries.
#pragma once
#include <string>
#include <vector>

#include "runner.hpp"

namespace alloy::bench {

/// What a run of the program costs per pair on this heap: the warm replay's time per pair plus
/// the pages a fresh heap made resident over the same trace (its memory run), each at what it
/// costs on this machine: a first touch that trapped (faults_per_pair) at page_fault_ns, a page
/// the heap populated ahead (populated_per_pair) at populated_page_ns, about half of it. The
/// warm rounds alone rank a heap by its calls, and a short program pays more for the pages its
/// heap first touches: 15-17 us a fault on this project's VM, a few hundred more faults
/// outweighing every call of a 40,000-record trace. The time per pair alone where faults were
/// not measured (system allocators).
double program_ns_per_pair(const cell_result& r);

/// The composition a preload library for `workload` (a trace) should have: the thread-safe
/// Alloy cell of the last run_matrix() with the least program_ns_per_pair on it, since a preload
/// library serves every thread of the process. nullptr when none ran it.
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
/// distinct composition, named advised_<every program with it>, in one project in `dir`, and
/// `dir`/advice.tsv: a line per program — program, library, composition. The programs advised
/// (0 when no trace ran: nothing is written), or -1 when a file could not be written.
int emit_suite_preloads(const std::string& dir);

}  // namespace alloy::bench
