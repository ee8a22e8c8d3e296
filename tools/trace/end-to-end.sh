#!/usr/bin/env bash
# The advice checked end to end (issue 17, item 4): for each program of the trace suite that
# bench_programs also runs, alloy-advise replays its trace, writes its fastest thread-safe
# composition as a preload library's project (--emit-preload), the library is built, and
# bench_programs runs the program under it and under glibc, jemalloc, tcmalloc and mimalloc:
# wall and CPU time, peak RSS, output compared with every other run's.
#
# Usage: tools/trace/end-to-end.sh BUILD TRACES OUT [--quick] [PROGRAM...]
#   BUILD   a release build with alloy-advise and bench_programs (after tools/bench.sh:
#           cmake --build build/bench --target bench_programs; then BUILD=build/bench)
#   TRACES  the suite (build/bench/traces); OUT: where the projects and tables go
#   --quick smoke-sized advice and program inputs, one repetition (checks that it all runs)
#   PROGRAM python3 sqlite3 gxx perl xz (default: all five; redis has no bench_programs job)
set -euo pipefail
build=$(realpath "${1:?usage: end-to-end.sh BUILD TRACES OUT [--quick] [PROGRAM...]}")
traces=$(realpath "${2:?the trace suite folder is needed}")
out=${3:?an output folder is needed}
shift 3
quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
programs=("$@")
((${#programs[@]})) || programs=(python3 sqlite3 gxx perl xz)
# The trace's name -> bench_programs' name for the same program.
declare -A job=([python3]=python3 [sqlite3]=sqlite3 [gxx]=g++ [perl]=perl [xz]="xz -T2")
mkdir -p "$out"
out=$(realpath "$out")
for name in "${programs[@]}"; do
  [ -n "${job[$name]:-}" ] || { echo "end-to-end: no bench_programs job for $name" >&2; exit 2; }
  echo "== $name: advice, library, runs"
  advise=("$build/bench/matrix/alloy-advise" "$traces/$name.trace" --emit-preload "$out/$name")
  ((quick)) && advise+=(--smoke)
  "${advise[@]}" > "$out/$name.advice.txt"
  grep -A1 "^// preload library" "$out/$name.advice.txt" | head -1
  cmake -S "$out/$name" -B "$out/$name/build" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$out/$name/build" -j2 > /dev/null
  runs=("$build/bench/programs/bench_programs" --alloy "advised=$out/$name/build/libadvised_malloc.so"
        --filter "${job[$name]}" --reps "$((quick ? 1 : 3))")
  ((quick)) && runs+=(--quick)
  "${runs[@]}" | tee "$out/$name.programs.md"
done
