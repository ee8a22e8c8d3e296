#!/usr/bin/env bash
# Instructions per allocate + free pair of each threading policy and system allocator, counted
# with callgrind (repeatable on a busy machine, unlike time).
# Usage: bench/threading/count_instructions.sh path/to/bench_threading_instructions [pairs]
set -euo pipefail
program=$1
count=${2:-200000}
out=$(mktemp -d)
# Set here, since valgrind would not follow the program's own re-exec (see baselines.hpp).
GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 \
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$program" "$count" >/dev/null 2>"$out/log"
callgrind_annotate --inclusive=yes --threshold=100 "$out/cg.out" 2>/dev/null |
  awk -v n="$count" '/measure_/ {
      gsub(",", "", $1); name = $0; sub(/.*measure_/, "", name); sub(/\(.*/, "", name);
      ir[name] = $1 / n }
    END {
      loop = ir["empty_loop"];
      printf "%-22s %14s %14s\n", "allocator", "instr/pair", "minus loop";
      for (k in ir) if (k != "empty_loop") printf "%-22s %14.1f %14.1f\n", k, ir[k], ir[k] - loop;
      printf "%-22s %14.1f\n", "(empty loop)", loop }' | sort
rm -rf "$out"
