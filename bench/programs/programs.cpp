// Real programs under each process malloc: wall time and peak RSS of the same commands with
// glibc, jemalloc, tcmalloc, mimalloc and Alloy's liballoy_malloc.so, via LD_PRELOAD.
//
//   bench_programs --alloy build/.../liballoy_malloc.so [--reps 5] [--quick] [--filter NAME]
//
// Inputs are generated (fixed seeds) into a temporary folder. Each repetition runs every
// program under every allocator, the allocator order rotating from one repetition to the next,
// so a burst of noise on a shared machine does not land on one allocator. Reported: medians
// per cell, ratios against glibc, and geometric means over the programs. Every run's output
// is compared with glibc's run: a difference is reported and fails the run (exit 1).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct program {
  std::string name;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // extra NAME=value
};

struct allocator_lib {
  std::string name;
  std::string preload;  // empty: glibc
};

struct run_result {
  double wall_ms;
  double cpu_ms;  // user + system: less disturbed than wall time by other load on the machine
  double peak_rss_mb;
  std::string output;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Runs one program with `preload` in LD_PRELOAD; stdout is captured in a file, stderr kept.
run_result run(const program& prog, const allocator_lib& lib, const fs::path& work) {
  const fs::path out = work / "stdout";
  const auto start = std::chrono::steady_clock::now();
  const pid_t child = fork();
  if (child == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    if (::chdir(work.c_str()) != 0) _exit(126);
    if (lib.preload.empty()) unsetenv("LD_PRELOAD");
    else setenv("LD_PRELOAD", lib.preload.c_str(), 1);
    for (const std::string& e : prog.env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv;
    for (const std::string& a : prog.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(child, &status, 0, &usage);
  const auto end = std::chrono::steady_clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s under %s: exit status %d\n", prog.name.c_str(), lib.name.c_str(), status);
    std::exit(1);
  }
  const auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return {std::chrono::duration<double, std::milli>(end - start).count(), ms(usage.ru_utime) + ms(usage.ru_stime),
          usage.ru_maxrss / 1024.0, read_file(out)};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

/// Inputs: text lines for sort, semi-compressible bytes for xz, a C++ source for g++.
void make_inputs(const fs::path& work, bool quick) {
  const std::size_t lines = quick ? 50000 : 300000;
  {
    std::ofstream text(work / "lines.txt");
    std::uint64_t x = 88172645463325252ull;
    for (std::size_t i = 0; i < lines; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      text << (x % 1000003) << " item-" << (x >> 40) % 977 << " " << std::string(x % 40, 'a' + x % 26) << '\n';
    }
  }
  {
    std::ofstream bin(work / "data.bin", std::ios::binary);
    std::uint64_t x = 2463534242ull;
    const std::size_t bytes = quick ? (std::size_t{2} << 20) : (std::size_t{3} << 20);
    std::string word;
    for (std::size_t i = 0; i < bytes;) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      word = std::to_string(x % 5000) + (x % 3 ? " " : "\n");
      bin << word;
      i += word.size();
    }
  }
  std::ofstream cpp(work / "unit.cpp");
  cpp << "#include <map>\n#include <string>\n#include <vector>\n#include <regex>\n#include <iostream>\n"
         "#include <unordered_map>\n#include <algorithm>\n#include <functional>\n#include <sstream>\n"
         "int main() { std::map<std::string, std::vector<int>> m; std::regex r(\"a+b\"); std::cout << m.size(); }\n";
}

std::vector<program> programs(const fs::path& work, bool quick) {
  const std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const std::string n = quick ? "30000" : "150000";
  // An interpreter that allocates heavily: dicts of strings and lists, built and dropped.
  const std::string py =
      "import sys\n"
      "n = int(sys.argv[1])\n"
      "d = {}\n"
      "for i in range(n):\n"
      "    d[str(i * 7919 % n)] = [i] * (i % 17) + [str(i)]\n"
      "    if i % 3 == 0: d.pop(str((i * 13) % n), None)\n"
      "words = sorted(d, key=lambda k: (len(d[k]), k))\n"
      "print(len(words), sum(len(v) for v in d.values()))\n";
  return {
      {"sort", {"sort", "--parallel=2", "-S", "64M", (work / "lines.txt").string()}, {}},
      {"xz -T2", {"xz", "-T2", "-3", "--block-size=1MiB", "-c", (work / "data.bin").string()}, {}},
      {"python3", {python, "-S", "-c", py, n}, {}},
      {"python3 (PYTHONMALLOC=malloc)", {python, "-S", "-c", py, n}, {"PYTHONMALLOC=malloc"}},
      {"g++ -fsyntax-only", {"g++", "-std=c++20", "-fsyntax-only", (work / "unit.cpp").string()}, {}},
  };
}

std::vector<allocator_lib> allocators(const std::string& alloy) {
  std::vector<allocator_lib> libs{{"glibc", ""}};
  const char* dir = "/usr/lib/x86_64-linux-gnu/";
  for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
           {"jemalloc", "libjemalloc.so.2"}, {"tcmalloc", "libtcmalloc_minimal.so.4"}, {"mimalloc", "libmimalloc.so.2"}}) {
    if (fs::exists(std::string(dir) + file)) libs.push_back({name, std::string(dir) + file});
    else std::fprintf(stderr, "note: %s not found (%s%s), left out\n", name.c_str(), dir, file.c_str());
  }
  libs.push_back({"alloy", fs::absolute(alloy).string()});
  return libs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string alloy, filter;
  int reps = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--alloy" && i + 1 < argc) alloy = argv[++i];
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else if (a == "--quick") quick = true;
    else {
      std::fprintf(stderr, "usage: %s --alloy liballoy_malloc.so [--reps N] [--quick] [--filter NAME]\n", argv[0]);
      return 2;
    }
  }
  if (alloy.empty() || !fs::exists(alloy)) {
    std::fprintf(stderr, "--alloy: path to liballoy_malloc.so needed\n");
    return 2;
  }
  char pattern[] = "/tmp/alloy-programs-XXXXXX";
  const fs::path work = mkdtemp(pattern);
  make_inputs(work, quick);
  std::vector<program> progs;
  for (program& p : programs(work, quick))
    if (filter.empty() || p.name.find(filter) != std::string::npos) progs.push_back(std::move(p));
  const auto libs = allocators(alloy);

  // wall[program][allocator] = samples
  std::vector<std::vector<std::vector<double>>> wall(progs.size(), std::vector<std::vector<double>>(libs.size()));
  auto rss = wall;
  auto cpu = wall;
  bool same_output = true;
  for (int r = 0; r < reps; ++r) {
    for (std::size_t p = 0; p < progs.size(); ++p) {
      std::string reference;
      for (std::size_t k = 0; k < libs.size(); ++k) {
        const std::size_t a = (k + static_cast<std::size_t>(r)) % libs.size();
        std::fprintf(stderr, "\r[%d/%d] %-32s %-9s", r + 1, reps, progs[p].name.c_str(), libs[a].name.c_str());
        run_result res = run(progs[p], libs[a], work);
        wall[p][a].push_back(res.wall_ms);
        rss[p][a].push_back(res.peak_rss_mb);
        cpu[p][a].push_back(res.cpu_ms);
        if (k == 0) reference = std::move(res.output);
        else if (res.output != reference) {
          same_output = false;
          std::fprintf(stderr, "\n%s: output under %s differs\n", progs[p].name.c_str(), libs[a].name.c_str());
        }
      }
    }
  }
  std::fprintf(stderr, "\r%60s\r", "");

  std::printf("Real programs, median of %d runs (wall ms / peak RSS MiB; ratio to glibc in brackets)\n\n", reps);
  std::printf("| program |");
  for (const auto& l : libs) std::printf(" %s |", l.name.c_str());
  std::printf("\n|---|");
  for (std::size_t a = 0; a < libs.size(); ++a) std::printf("---|");
  std::printf("\n");
  std::vector<double> log_wall(libs.size(), 0), log_rss(libs.size(), 0), log_cpu(libs.size(), 0);
  for (std::size_t p = 0; p < progs.size(); ++p) {
    std::printf("| %s |", progs[p].name.c_str());
    const double base_w = median(wall[p][0]), base_r = median(rss[p][0]);
    for (std::size_t a = 0; a < libs.size(); ++a) {
      const double w = median(wall[p][a]), m = median(rss[p][a]);
      log_wall[a] += std::log(w / base_w);
      log_rss[a] += std::log(m / base_r);
      log_cpu[a] += std::log(median(cpu[p][a]) / median(cpu[p][0]));
      std::printf(" %.0f ms / %.1f MiB (%.2f / %.2f) |", w, m, w / base_w, m / base_r);
    }
    std::printf("\n");
  }
  std::printf("| **geomean vs glibc** |");
  for (std::size_t a = 0; a < libs.size(); ++a)
    std::printf(" wall %.3f / RSS %.3f |", std::exp(log_wall[a] / progs.size()), std::exp(log_rss[a] / progs.size()));
  std::printf("\n| geomean CPU time (user+sys) vs glibc |");
  for (std::size_t a = 0; a < libs.size(); ++a) std::printf(" %.3f |", std::exp(log_cpu[a] / progs.size()));
  std::printf("\n\n");
  const std::size_t alloy_i = libs.size() - 1;
  for (std::size_t a = 0; a < libs.size(); ++a) {
    if (libs[a].name != "mimalloc") continue;
    std::printf("alloy vs mimalloc: geomean wall %.3f, CPU %.3f, peak RSS %.3f\n",
                std::exp((log_wall[alloy_i] - log_wall[a]) / progs.size()),
                std::exp((log_cpu[alloy_i] - log_cpu[a]) / progs.size()),
                std::exp((log_rss[alloy_i] - log_rss[a]) / progs.size()));
  }
  fs::remove_all(work);
  if (!same_output) std::printf("OUTPUT DIFFERED between allocators (see above)\n");
  return same_output ? 0 : 1;
}
