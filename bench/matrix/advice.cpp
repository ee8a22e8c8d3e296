// Advice from a matrix run (advice.hpp).
#include "advice.hpp"

#include "cells.hpp"
#include "metrics.hpp"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace alloy::bench {

double program_ns_per_pair(const cell_result& r) {
  const double faults = r.counter("faults_per_pair"), fault_ns = page_fault_ns();
  const double populated = r.counter("populated_per_pair"), populated_ns = populated_page_ns();
  double ns = r.ns_per_pair;
  if (faults >= 0 && !std::isnan(fault_ns)) ns += faults * fault_ns;
  if (populated > 0 && !std::isnan(populated_ns)) ns += populated * populated_ns;
  return ns;
}

const cell_info* fastest_thread_safe(const std::string& workload) {
  const cell_info* best = nullptr;
  double best_ns = 0;
  for (const cell_result& r : last_results()) {
    if (!r.error.empty() || r.workload != workload) continue;
    for (const cell_info& c : last_cells()) {
      if (c.name != r.cell || c.kind != std::string(kind::alloy) || !c.thread_safe) continue;
      const double ns = program_ns_per_pair(r);
      if (best == nullptr || ns < best_ns) {
        best = &c;
        best_ns = ns;
      }
    }
  }
  return best;
}

namespace {
/// Writes `content` to `path` unless the file holds it already: a project emitted again with the
/// same advice keeps its files' times, so its build has nothing to redo.
bool write_if_changed(const std::string& path, const std::string& content) {
  {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    if (in && old.str() == content) return true;
  }
  std::ofstream out(path, std::ios::binary);
  out << content;
  return static_cast<bool>(out);
}
}  // namespace

bool emit_preload_project(const std::string& dir, const std::vector<preload_spec>& libraries) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ostringstream cmake;
  cmake << "# Written by Alloy's advice: cmake -S . -B build && cmake --build build -> build/lib<name>.so\n"
        << "cmake_minimum_required(VERSION 3.25)\nproject(advised_malloc CXX)\n"
        << "find_package(alloy 0.1 QUIET)\nif(NOT alloy_FOUND)\n"
        << "  add_subdirectory(\"" << ALLOY_SOURCE_DIR << "\" alloy EXCLUDE_FROM_ALL)\nendif()\n";
  bool written = true;
  for (const preload_spec& l : libraries) {
    std::ostringstream header;
    header << "// Written by Alloy's advice " << l.why << ".\n"
           << "#pragma once\n#include <alloc/allocator.hpp>\n#include <policy/all.hpp>\nnamespace P = alloy::policy;\n\n"
           << "using " << l.type << " = " << l.declaration << ";\n";
    cmake << "alloy_add_malloc_library(" << l.name << " TYPE " << l.type << " HEADER " << l.header << ")\n";
    written = write_if_changed(dir + "/" + l.header, header.str()) && written;
  }
  return write_if_changed(dir + "/CMakeLists.txt", cmake.str()) && written;
}

int emit_suite_preloads(const std::string& dir) {
  // Each program's pick, then one library per distinct composition, named after every program
  // it serves (advised_python3_gxx_xz): a name of only the first would read as that program's
  // library in the end-to-end table's rows of the others.
  std::vector<std::pair<std::string, const cell_info*>> picks;  // (program, composition), in run order
  std::set<std::string> seen;
  for (const cell_result& r : last_results()) {
    if (r.workload.rfind("trace_", 0) != 0 || !seen.insert(r.workload).second) continue;
    if (const cell_info* pick = fastest_thread_safe(r.workload)) picks.emplace_back(r.workload.substr(6), pick);
  }
  if (picks.empty()) return 0;
  struct library {
    std::string identifier = "advised";  // advised_<every program>: a C++ name and a CMake target
    std::string programs;                // the programs it serves, for its comment
  };
  std::map<std::string, library> library_of;  // declaration -> library: each built once
  std::vector<std::string> order;             // declarations, in the order of their first program
  for (const auto& [program, pick] : picks) {
    auto [it, fresh] = library_of.try_emplace(pick->declaration);
    if (fresh) order.push_back(pick->declaration);
    it->second.identifier += "_" + program;
    it->second.programs += (it->second.programs.empty() ? "" : ", ") + program;
  }
  std::vector<preload_spec> libraries;
  for (const std::string& declaration : order) {
    library& l = library_of[declaration];
    for (char& c : l.identifier)  // whatever the files were called
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    libraries.push_back({l.identifier, l.identifier + ".hpp", l.identifier + "_heap", declaration,
                         "for " + l.programs + ": the fastest thread-safe composition on each one's trace"});
  }
  std::string advice;
  for (const auto& [program, pick] : picks)
    advice += program + '\t' + library_of[pick->declaration].identifier + '\t' + pick->name + '\n';
  if (!emit_preload_project(dir, libraries) || !write_if_changed(dir + "/advice.tsv", advice)) return -1;
  return static_cast<int>(picks.size());
}

}  // namespace alloy::bench
