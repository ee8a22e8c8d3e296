#!/usr/bin/env bash
# Alloy's main job: installs what is missing, builds the benchmark matrix in release mode, records
# the trace suite (real programs under liballoy_trace.so: tools/trace/record-suite.sh), runs every
# valid policy combination and the system allocators on every workload and trace, checks the
# advice end to end (each suite program under the preload library built from its trace's fastest
# thread-safe composition, against the system allocators: tools/trace/end-to-end.sh), and writes
# the report: report/results.json (raw Google Benchmark JSON), report/results.end_to_end.json,
# report/summary.md (ranked tables, ratios against glibc and mimalloc, the end-to-end table),
# report/results.md (every figure, the targets) and report/plots/*.svg (a ranked bar chart per
# workload, a heat map of cell x workload).
#
# Usage: tools/bench.sh [--smoke | --full] [--filter REGEX]
#   (default)        3 repetitions of 0.02 s per cell, 3 end-to-end runs per program and allocator
#   --smoke          a few ms per cell, one end-to-end run: checks that everything runs, figures are noise
#   --full           5 longer repetitions per cell
#   --filter REGEX   only the benchmarks whose "workload/cell" matches, e.g. 'pairs_64|churn' (the end-to-end
#                    check runs the programs whose trace_<program> ran)
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
while (($#)); do
  case "$1" in
    --smoke | --full) args+=("$1") ;;
    --filter) args+=(--filter "${2:?--filter needs a regex}"); shift ;;
    --filter=*) args+=("$1") ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/bench.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# Each phase's wall time and the CPU time of its processes: on a shared machine the CPU time is the
# figure other load does not inflate (the build's can be split over the cores, the matrix's not).
start=$(date +%s)
phase_start=$start
# User + system time of the processes this script has waited for (/proc's cutime and cstime, in ticks).
cpu_seconds() { awk -v tick="$(getconf CLK_TCK)" '{ print ($16 + $17) / tick }' "/proc/$$/stat"; }
phase_cpu=$(cpu_seconds)
phases=()
phase_done() {
  local now cpu
  now=$(date +%s)
  cpu=$(cpu_seconds)
  phases+=("$(printf '%-34s %4d s wall %6.0f s CPU' "$1" $((now - phase_start)) "$(awk -v a="$cpu" -v b="$phase_cpu" 'BEGIN { print a - b }')")")
  phase_start=$now
  phase_cpu=$cpu
}

bash tools/install-deps.sh
phase_done "install-deps"
echo "alloy: [1/5] building the matrix, alloy-advise and the trace tools (release)"
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DALLOY_BUILD_TESTS=OFF -DALLOY_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/bench -j"$(nproc)" --target bench_matrix alloy-advise alloy_trace alloy_trace_dump
phase_done "build"
echo "alloy: [2/5] recording the trace suite into build/bench/traces (built in $(($(date +%s) - start)) s)"
smoke=()
[[ " ${args[*]} " == *" --smoke "* ]] && smoke+=(--smoke)
rm -rf build/bench/traces
bash tools/trace/record-suite.sh build/bench/tools/trace/liballoy_trace.so build/bench/tools/trace/alloy-trace \
  build/bench/traces "${smoke[@]}"
phase_done "trace suite"
echo "alloy: [3/5] running the matrix ($(($(date +%s) - start)) s so far)"
mkdir -p report
rm -rf report/plots report/summary.md report/results.md report/results.json report/results.timeline.json \
  report/results.end_to_end.json
# The advice is kept in build/bench/advised (its build too: the same advice next time rebuilds nothing).
rm -f build/bench/advised/advice.tsv
build/bench/bench/matrix/bench_matrix "${args[@]}" --trace tests/data/python_threads.trace --trace build/bench/traces \
  --out report/results.json --emit-preload build/bench/advised
phase_done "matrix"
if [ -f build/bench/advised/advice.tsv ]; then
  echo "alloy: [4/5] the advice end to end: the advised libraries built, the programs run ($(($(date +%s) - start)) s so far)"
  bash tools/trace/end-to-end.sh build/bench/advised report/results.end_to_end.json "${smoke[@]}"
else
  echo "alloy: [4/5] no trace ran (--filter), so no advice to check end to end"
fi
phase_done "end to end"
echo "alloy: [5/5] writing the report"
/usr/bin/python3 tools/report/report.py report/results.json --out report
phase_done "report"
elapsed=$(($(date +%s) - start))
printf 'alloy: %s\n' "${phases[@]}"
echo "alloy: done in $((elapsed / 60))m$((elapsed % 60))s, build included: report/summary.md"
