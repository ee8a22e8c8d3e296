#!/usr/bin/env bash
# Records the trace suite: the real programs of tools/trace/suite/programs.sh, each run under
# liballoy_trace.so, each trace bounded in records, written as OUT/<program>.trace for the matrix
# (bench_matrix --trace OUT) and alloy-advise.
#
# Usage: tools/trace/record-suite.sh LIBALLOY_TRACE.so ALLOY-TRACE OUT [--smoke]
#   programs: python3, sqlite3, gxx (g++ -fsyntax-only), perl, xz (-T2), redis (programs.sh says what each does)
#   ALLOY_SUITE_LIMIT=N   records per trace (default 400000: python3, sqlite3, perl and redis whole,
#                         g++ its first 400,000 calls; --smoke 15000). Whole programs, since the
#                         advice ranks heaps by the page faults they cost (bench/matrix/advice.hpp),
#                         and a heap's faults over a program's first 40,000 calls were not its
#                         faults over the program (docs/benchmarks.md, "Page faults")
set -euo pipefail
lib=$(realpath "${1:?usage: record-suite.sh LIBALLOY_TRACE.so ALLOY-TRACE OUT [--smoke]}")
dump=$(realpath "${2:?alloy-trace (the checker) is needed}")
out=${3:?an output folder is needed}
smoke=0; [ "${4:-}" = "--smoke" ] && smoke=1
limit=${ALLOY_SUITE_LIMIT:-$((smoke ? 15000 : 400000))}
scale=$((smoke ? 1 : 2))
programs=$(cd "$(dirname "$0")" && pwd)/suite/programs.sh
mkdir -p "$out"
out=$(realpath "$out")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$programs" inputs "$work" "$scale"

# A program that starts others (g++ runs cc1plus) leaves one trace per process: the one with the
# most records is kept.
for name in $("$programs" names); do
  ALLOY_TRACE_FILE="$work/$name.%p.trace" ALLOY_TRACE_LIMIT=$limit SUITE_PRELOAD="$lib" \
    "$programs" run "$name" "$work" "$scale" > "$work/$name.out"
  best=$(ls -S "$work/$name".*.trace 2>/dev/null | head -1)
  [ -n "$best" ] || { echo "record-suite: $name left no trace" >&2; exit 1; }
  mv "$best" "$out/$name.trace"
  "$dump" "$out/$name.trace" | head -1
done
