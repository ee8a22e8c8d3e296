// Whole programs under each process malloc, by LD_PRELOAD: glibc (nothing preloaded),
// jemalloc, tcmalloc, mimalloc and one or more Alloy libraries. Shared by bench/programs (real
// programs) and bench/process (the multi-threaded workload program).
//
// A run is one fork + exec, timed from outside: wall time, CPU time (user + system, from
// wait4's rusage — less disturbed than wall time by other load on a shared machine) and peak
// RSS. `run_interleaved` runs every job under every library once per repetition, the library
// order rotating from one repetition to the next, so a burst of noise on a shared machine does
// not land on one allocator; figures are then taken as medians.
#pragma once
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace alloy::bench {

/// A malloc to preload; an empty path is glibc's own (nothing preloaded).
struct preload_library {
  std::string name;
  std::string path;
  bool is_system = true;  ///< one of the four system allocators, not a library under test
};

/// The four system allocators that are installed (a missing one is reported and left out),
/// then the libraries under test. Each entry of `under_test` is a path, or NAME=PATH to give it
/// a name of its own (e.g. to compare two builds); a plain path is named "alloy".
inline std::vector<preload_library> preload_libraries(const std::vector<std::string>& under_test) {
  namespace fs = std::filesystem;
  std::vector<preload_library> libs{{"glibc", "", true}};
  // The same libraries bench/common/baselines.hpp dlopens for in-process comparisons.
  const char* dir = "/usr/lib/x86_64-linux-gnu/";
  for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
           {"jemalloc", "libjemalloc.so.2"}, {"tcmalloc", "libtcmalloc_minimal.so.4"}, {"mimalloc", "libmimalloc.so.2"}}) {
    if (fs::exists(std::string(dir) + file)) libs.push_back({name, std::string(dir) + file, true});
    else std::fprintf(stderr, "note: %s not found (%s%s), left out\n", name.c_str(), dir, file.c_str());
  }
  for (const std::string& spec : under_test) {
    const std::size_t eq = spec.find('=');
    const std::string name = eq == std::string::npos ? "alloy" : spec.substr(0, eq);
    const std::string path = eq == std::string::npos ? spec : spec.substr(eq + 1);
    libs.push_back({name, fs::absolute(path).string(), false});
  }
  return libs;
}

/// The libraries to compare, or an empty list after saying why there is nothing to measure
/// (no Alloy library given, or a path that does not exist).
inline std::vector<preload_library> checked_preload_libraries(const std::vector<std::string>& under_test) {
  auto libs = preload_libraries(under_test);
  if (under_test.empty() || std::any_of(libs.begin(), libs.end(), [](const preload_library& l) {
        return !l.path.empty() && !std::filesystem::exists(l.path);
      })) {
    std::fprintf(stderr, "--alloy: path to an existing liballoy_malloc.so needed\n");
    return {};
  }
  return libs;
}

struct run_result {
  int status = 0;  ///< wait status: 0 when the program exited with 0
  double wall_ms = 0;
  double cpu_ms = 0;  ///< user + system
  double peak_rss_mb = 0;
  double exit_rss_mb = 0;  ///< resident at exit, the largest of its processes (with an exit probe; else 0)
  std::string output;  ///< its stdout
};

/// Runs `argv` in `work` with `lib` preloaded and `env` (NAME=value) added; stdout is captured
/// through a file in `work`, stderr passes through. With `exit_probe` (bench/programs'
/// rss_at_exit library) preloaded too, each of its processes reports its resident bytes at exit
/// through a pipe.
inline run_result run_preloaded(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                const preload_library& lib, const std::filesystem::path& work,
                                const std::string& exit_probe = {}) {
  const std::filesystem::path out = work / "stdout";
  int report[2] = {-1, -1};
  if (!exit_probe.empty() && ::pipe(report) != 0) report[0] = report[1] = -1;
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    if (::chdir(work.c_str()) != 0) _exit(126);
    std::string preload = lib.path;
    if (report[1] >= 0) {
      ::close(report[0]);
      setenv("ALLOY_RSS_AT_EXIT_FD", std::to_string(report[1]).c_str(), 1);
      preload = exit_probe + (preload.empty() ? "" : ":" + preload);
    }
    if (preload.empty()) unsetenv("LD_PRELOAD");
    else setenv("LD_PRELOAD", preload.c_str(), 1);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  run_result r;
  if (report[1] >= 0) ::close(report[1]);
  rusage usage{};
  wait4(child, &r.status, 0, &usage);
  if (report[0] >= 0) {  // every process that held the pipe has exited: read to the end
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(report[0]);
    std::size_t most = 0;
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t end = text.find('\n', at);
      most = std::max<std::size_t>(most, std::strtoull(text.c_str() + at, nullptr, 10));
      at = end == std::string::npos ? text.size() : end + 1;
    }
    r.exit_rss_mb = static_cast<double>(most) / (1024.0 * 1024.0);
  }
  const auto end = std::chrono::steady_clock::now();
  const auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  r.wall_ms = std::chrono::duration<double, std::milli>(end - start).count();
  r.cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
  r.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::ifstream in(out, std::ios::binary);
  r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

/// Calls `run(job, library, first)` for every job under every library, `reps` times; `first`
/// is true for the first library of a job in a repetition. Progress goes to stderr.
template <class Run>
void run_interleaved(int reps, const std::vector<std::string>& jobs, const std::vector<preload_library>& libs,
                     Run&& run) {
  for (int r = 0; r < reps; ++r)
    for (std::size_t j = 0; j < jobs.size(); ++j)
      for (std::size_t k = 0; k < libs.size(); ++k) {
        const std::size_t a = (k + static_cast<std::size_t>(r)) % libs.size();
        std::fprintf(stderr, "\r[%d/%d] %-32s %-9s", r + 1, reps, jobs[j].c_str(), libs[a].name.c_str());
        run(j, a, k == 0);
      }
  std::fprintf(stderr, "\r%60s\r", "");
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

inline double geomean(const std::vector<double>& ratios) {
  double log_sum = 0;
  for (const double r : ratios) log_sum += std::log(r);
  return ratios.empty() ? 1.0 : std::exp(log_sum / static_cast<double>(ratios.size()));
}

}  // namespace alloy::bench
