// Real programs under each process malloc: wall time, CPU time, peak RSS and RSS at exit of the same
// commands with glibc, jemalloc, tcmalloc, mimalloc and Alloy's liballoy_malloc.so, via
// LD_PRELOAD (bench/common/preload.hpp runs and interleaves them).
//
//   bench_programs --alloy build/.../liballoy_malloc.so [--alloy NAME=other.so] [--reps 5]
//                  [--quick] [--filter NAME]
//
// Programs: sort and xz on two threads, sqlite3 loading and querying a database, perl on
// text, python3 (with its own small-object allocator, and with every object through malloc),
// g++. Inputs are generated (fixed seeds) into a temporary folder. Reported: medians per cell,
// ratios against glibc, and geometric means over the programs. Every run's output is compared
// with the first run's of its repetition: a difference is reported and fails the run (exit 1).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../common/preload.hpp"

namespace fs = std::filesystem;
using alloy::bench::preload_library;

namespace {

struct program {
  std::string name;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // extra NAME=value
};

/// Inputs: text lines for sort and perl, semi-compressible bytes for xz, records and queries
/// for sqlite3, a C++ source for g++.
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
  {
    // sqlite3: records imported from CSV into an in-memory database (every page through
    // malloc), indexed, aggregated, joined and sorted.
    std::ofstream csv(work / "records.csv");
    std::uint64_t x = 1181783497276652981ull;
    for (std::size_t i = 1; i <= (quick ? 40000 : 200000); ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      csv << i << ",name-" << x % 20011 << "," << (x >> 20) % 97 << "," << (x >> 32) % 100000 / 100.0 << '\n';
    }
    std::ofstream sql(work / "queries.sql");
    sql << "CREATE TABLE records(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, amount REAL);\n"
           ".import --csv records.csv records\n"
           "CREATE INDEX records_name ON records(name);\n"
           "CREATE TABLE totals AS SELECT grp, count(*) AS n, sum(amount) AS total FROM records GROUP BY grp;\n"
           "SELECT count(*), count(DISTINCT name), round(sum(amount), 2) FROM records;\n"
           "SELECT grp, n, round(total, 2) FROM totals ORDER BY total DESC LIMIT 5;\n"
           "SELECT r.name, count(*) FROM records r JOIN totals t ON r.grp = t.grp WHERE t.n > 10 "
           "GROUP BY r.name ORDER BY 2 DESC, 1 LIMIT 5;\n"
           "SELECT a.name, count(*) FROM records a JOIN records b ON a.name = b.name AND a.id < b.id "
           "GROUP BY a.name ORDER BY 2 DESC, 1 LIMIT 5;\n"
           "SELECT length(group_concat(name, ',')) FROM (SELECT name FROM records ORDER BY name, id);\n";
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
  // A text workload: words counted in hashes, lines split, sorted and joined.
  const std::string pl =
      "my $limit = shift; my (%count, %by_len);\n"
      "while (<>) { last if $. > $limit; chomp; my @f = split / /; $count{$_}++ for @f; push @{$by_len{length $f[-1]}}, uc $f[0]; }\n"
      "my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 9];\n"
      "my $lens = join ',', map { scalar @{$by_len{$_}} . ':' . length(join '', @{$by_len{$_}}) } sort { $a <=> $b } keys %by_len;\n"
      "print \"@top\\n$lens\\n\", scalar(keys %count), \"\\n\";\n";
  return {
      {"sort", {"sort", "--parallel=2", "-S", "64M", (work / "lines.txt").string()}, {}},
      {"xz -T2", {"xz", "-T2", "-3", "--block-size=1MiB", "-c", (work / "data.bin").string()}, {}},
      {"sqlite3", {"sqlite3", "-batch", ":memory:", ".read queries.sql"}, {}},
      {"perl", {"perl", "-e", pl, quick ? "20000" : "80000", (work / "lines.txt").string()}, {}},
      {"python3", {python, "-S", "-c", py, n}, {}},
      {"python3 (PYTHONMALLOC=malloc)", {python, "-S", "-c", py, n}, {"PYTHONMALLOC=malloc"}},
      {"g++ -fsyntax-only", {"g++", "-std=c++20", "-fsyntax-only", (work / "unit.cpp").string()}, {}},
  };
}

}  // namespace

int main(int argc, char** argv) {
  using namespace alloy::bench;
  std::vector<std::string> under_test;
  std::string filter;
  int reps = 5;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--alloy" && i + 1 < argc) under_test.push_back(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else if (a == "--quick") quick = true;
    else {
      std::fprintf(stderr, "usage: %s --alloy [NAME=]liballoy_malloc.so... [--reps N] [--quick] [--filter NAME]\n",
                   argv[0]);
      return 2;
    }
  }
  const auto libs = checked_preload_libraries(under_test);
  if (libs.empty()) return 2;
  char pattern[] = "/tmp/alloy-programs-XXXXXX";
  const fs::path work = mkdtemp(pattern);
  make_inputs(work, quick);
  std::vector<program> progs;
  std::vector<std::string> names;
  for (program& p : programs(work, quick))
    if (filter.empty() || p.name.find(filter) != std::string::npos) {
      names.push_back(p.name);
      progs.push_back(std::move(p));
    }

  // wall[program][allocator] = samples
  std::vector<std::vector<std::vector<double>>> wall(progs.size(), std::vector<std::vector<double>>(libs.size()));
  auto rss = wall;
  auto exit_rss = wall;
  auto cpu = wall;
  bool same_output = true;
  std::string reference;
  run_interleaved(reps, names, libs, [&](std::size_t p, std::size_t a, bool first) {
    run_result res = run_preloaded(progs[p].argv, progs[p].env, libs[a], work, ALLOY_RSS_AT_EXIT_LIBRARY);
    if (res.status != 0) {
      std::fprintf(stderr, "\n%s under %s: exit status %d\n", progs[p].name.c_str(), libs[a].name.c_str(), res.status);
      std::exit(1);
    }
    wall[p][a].push_back(res.wall_ms);
    rss[p][a].push_back(res.peak_rss_mb);
    exit_rss[p][a].push_back(res.exit_rss_mb);
    cpu[p][a].push_back(res.cpu_ms);
    if (first) reference = std::move(res.output);
    else if (res.output != reference) {
      same_output = false;
      std::fprintf(stderr, "\n%s: output under %s differs\n", progs[p].name.c_str(), libs[a].name.c_str());
    }
  });

  std::printf("Real programs, median of %d runs (wall ms / peak RSS MiB; ratio to glibc in brackets)\n\n", reps);
  std::printf("| program |");
  for (const auto& l : libs) std::printf(" %s |", l.name.c_str());
  std::printf("\n|---|");
  for (std::size_t a = 0; a < libs.size(); ++a) std::printf("---|");
  std::printf("\n");
  // ratio_*[allocator] = per-program ratios to glibc
  std::vector<std::vector<double>> ratio_wall(libs.size()), ratio_rss(libs.size()), ratio_cpu(libs.size());
  for (std::size_t p = 0; p < progs.size(); ++p) {
    std::printf("| %s |", progs[p].name.c_str());
    const double base_w = median(wall[p][0]), base_r = median(rss[p][0]), base_c = median(cpu[p][0]);
    for (std::size_t a = 0; a < libs.size(); ++a) {
      const double w = median(wall[p][a]), m = median(rss[p][a]);
      ratio_wall[a].push_back(w / base_w);
      ratio_rss[a].push_back(m / base_r);
      ratio_cpu[a].push_back(median(cpu[p][a]) / base_c);
      std::printf(" %.0f ms / %.1f MiB (%.2f / %.2f) |", w, m, w / base_w, m / base_r);
    }
    std::printf("\n");
  }
  std::printf("| **geomean vs glibc** |");
  for (std::size_t a = 0; a < libs.size(); ++a)
    std::printf(" wall %.3f / RSS %.3f |", geomean(ratio_wall[a]), geomean(ratio_rss[a]));
  std::printf("\n| geomean CPU time (user+sys) vs glibc |");
  for (std::size_t a = 0; a < libs.size(); ++a) std::printf(" %.3f |", geomean(ratio_cpu[a]));
  std::printf("\n\n");

  // What each program still held when it ended, beside its peak: memory an allocator gives back
  // (or not) once the program has freed it (issue 16).
  std::printf("Resident memory at exit, MiB (peak in brackets), median of %d runs\n\n| program |", reps);
  for (const auto& l : libs) std::printf(" %s |", l.name.c_str());
  std::printf("\n|---|");
  for (std::size_t a = 0; a < libs.size(); ++a) std::printf("---|");
  std::printf("\n");
  std::vector<std::vector<double>> ratio_exit(libs.size());
  for (std::size_t p = 0; p < progs.size(); ++p) {
    std::printf("| %s |", progs[p].name.c_str());
    for (std::size_t a = 0; a < libs.size(); ++a) {
      const double at_exit = median(exit_rss[p][a]);
      if (median(exit_rss[p][0]) > 0 && at_exit > 0) ratio_exit[a].push_back(at_exit / median(exit_rss[p][0]));
      std::printf(" %.1f (%.1f) |", at_exit, median(rss[p][a]));
    }
    std::printf("\n");
  }
  std::printf("| **geomean at exit vs glibc** |");
  for (std::size_t a = 0; a < libs.size(); ++a) std::printf(" %.3f |", ratio_exit[a].empty() ? 0.0 : geomean(ratio_exit[a]));
  std::printf("\n\n");
  for (std::size_t m = 0; m < libs.size(); ++m) {
    if (libs[m].name != "mimalloc") continue;
    for (std::size_t a = 0; a < libs.size(); ++a)
      if (!libs[a].is_system)
        std::printf("%s vs mimalloc: geomean wall %.3f, CPU %.3f, peak RSS %.3f\n", libs[a].name.c_str(),
                    geomean(ratio_wall[a]) / geomean(ratio_wall[m]), geomean(ratio_cpu[a]) / geomean(ratio_cpu[m]),
                    geomean(ratio_rss[a]) / geomean(ratio_rss[m]));
  }
  // Every further Alloy library against the first (the hardened one against the default).
  const auto first_alloy = std::find_if(libs.begin(), libs.end(), [](const auto& l) { return !l.is_system; });
  for (auto l = first_alloy; l != libs.end(); ++l) {
    const auto a = static_cast<std::size_t>(l - libs.begin()), f = static_cast<std::size_t>(first_alloy - libs.begin());
    if (l != first_alloy && !l->is_system)
      std::printf("%s vs %s: geomean wall %.3f, CPU %.3f, peak RSS %.3f\n", l->name.c_str(), first_alloy->name.c_str(),
                  geomean(ratio_wall[a]) / geomean(ratio_wall[f]), geomean(ratio_cpu[a]) / geomean(ratio_cpu[f]),
                  geomean(ratio_rss[a]) / geomean(ratio_rss[f]));
  }
  fs::remove_all(work);
  if (!same_output) std::printf("OUTPUT DIFFERED between allocators (see above)\n");
  return same_output ? 0 : 1;
}
