#!/usr/bin/env bash
# The advice checked end to end (issue 17, item 4), the main job's last measuring step: builds the
# advised preload libraries bench_matrix --emit-preload wrote (one per distinct composition, with
# alloy_add_malloc_library), then runs each program of the trace suite under its advised library
# and under glibc, jemalloc, tcmalloc and mimalloc (tools/trace/end_to_end.py): wall and CPU time,
# peak RSS, page faults, output compared; liballoy_malloc.so (the default composition, built in the
# same project) runs beside them as `default`. The report's "End to end" table is made from OUT.json.
#
# Usage: tools/trace/end-to-end.sh ADVISED OUT.json [--smoke]
#   ADVISED  the project bench_matrix --emit-preload ADVISED wrote (CMakeLists.txt, advice.tsv)
#   --smoke  the smoke inputs, one repetition (checks that it all runs; figures are noise)
#   ALLOY_E2E_REPS=N  interleaved repetitions (default 3)
#   ALLOY_E2E_COUNT=1 also one run of each inside cachegrind: instructions and simulated cache
#                     misses, which the machine's load does not move (about 15 min more)
set -euo pipefail
advised=$(realpath "${1:?usage: end-to-end.sh ADVISED OUT.json [--smoke]}")
out=${2:?an output file is needed}
smoke=0; [ "${3:-}" = "--smoke" ] && smoke=1
here=$(cd "$(dirname "$0")" && pwd)
# This source tree's Alloy, as the main job built it, not one installed elsewhere; no tests, no
# benchmarks: only the libraries (its tools too, for liballoy_malloc.so).
cmake -S "$advised" -B "$advised/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_alloy=ON \
  -DALLOY_INSTALL_BENCH=OFF -DALLOY_BUILD_TOOLS=ON > /dev/null
# Only the libraries of the programs the check runs (not the shipped python_threads trace's).
libraries=$(/usr/bin/python3 "$here/end_to_end.py" "$advised/advice.tsv" "$advised/build" "$out" --list-libraries)
cmake --build "$advised/build" -j"$(nproc)" --target $libraries alloy_malloc
count=(); [ "${ALLOY_E2E_COUNT:-0}" != 1 ] || count=(--count)
/usr/bin/python3 "$here/end_to_end.py" "$advised/advice.tsv" "$advised/build" "$out" "${count[@]}" \
  --scale $((smoke ? 1 : 2)) --reps $((smoke ? 1 : ${ALLOY_E2E_REPS:-3})) \
  --also default="$advised/build/alloy/tools/malloc/liballoy_malloc.so"
