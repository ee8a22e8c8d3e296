#!/usr/bin/env bash
# Alloy's main job: installs what is missing, builds the benchmarks in release mode, runs them
# and writes the report to report/ (raw Google Benchmark JSON and a summary).
# Usage: tools/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DALLOY_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench -j"$(nproc)"
mkdir -p report
build/bench/bench/bench_core_pairs --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out=report/core_pairs.json --benchmark_out_format=json
echo "alloy: report written to report/"
