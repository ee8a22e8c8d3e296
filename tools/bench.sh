#!/usr/bin/env bash
# Alloy's main job: installs what is missing, builds the benchmark matrix in release mode, records
# the trace suite (real programs under liballoy_trace.so: tools/trace/record-suite.sh), runs every
# valid policy combination and the system allocators on every workload and trace, and writes the
# report: report/results.json (raw Google Benchmark JSON), report/summary.md (ranked tables,
# ratios against glibc and mimalloc, the targets), report/results.md (every figure) and
# report/plots/*.svg (a ranked bar chart per workload, a heat map of cell x workload).
#
# Usage: tools/bench.sh [--smoke | --full] [--filter REGEX]
#   (default)        3 repetitions per cell: a few minutes on 2 cores, build included
#   --smoke          a few ms per cell: checks that everything runs, figures are noise
#   --full           5 longer repetitions per cell
#   --filter REGEX   only the benchmarks whose "workload/cell" matches, e.g. 'pairs_64|churn'
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
while (($#)); do
  case "$1" in
    --smoke | --full) args+=("$1") ;;
    --filter) args+=(--filter "${2:?--filter needs a regex}"); shift ;;
    --filter=*) args+=("$1") ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/bench.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

start=$(date +%s)
bash tools/install-deps.sh
echo "alloy: [1/4] building the matrix, alloy-advise and the trace tools (release)"
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DALLOY_BUILD_TESTS=OFF -DALLOY_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/bench -j"$(nproc)" --target bench_matrix alloy-advise alloy_trace alloy_trace_dump
echo "alloy: [2/4] recording the trace suite into build/bench/traces (built in $(($(date +%s) - start)) s)"
suite=()
[[ " ${args[*]} " == *" --smoke "* ]] && suite+=(--smoke)
rm -rf build/bench/traces
bash tools/trace/record-suite.sh build/bench/tools/trace/liballoy_trace.so build/bench/tools/trace/alloy-trace \
  build/bench/traces "${suite[@]}"
echo "alloy: [3/4] running the matrix ($(($(date +%s) - start)) s so far)"
mkdir -p report
rm -rf report/plots report/summary.md report/results.md report/results.json report/results.timeline.json
build/bench/bench/matrix/bench_matrix "${args[@]}" --trace tests/data/python_threads.trace --trace build/bench/traces \
  --out report/results.json
echo "alloy: [4/4] writing the report"
/usr/bin/python3 tools/report/report.py report/results.json --out report
elapsed=$(($(date +%s) - start))
echo "alloy: done in $((elapsed / 60))m$((elapsed % 60))s, build included: report/summary.md"
