#!/usr/bin/env bash
# Alloy's whole test command: installs what is missing, then builds and runs every test in
#   1. a release build (unit, model-based, compile-failure, packaging, examples, bench smoke),
#   2. an ASan+UBSan build (every runtime test),
#   3. a TSan build (the threading tests),
#   4. the fuzz targets for a bounded time (clang's libFuzzer), when any are defined.
# Usage: tools/test.sh [--quick]   (--quick: the release build only)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh

jobs=$(nproc)
quick=0; [ "${1:-}" = "--quick" ] && quick=1

run_build() {  # run_build NAME CTEST-ARGS -- CMAKE-ARGS...
  local name=$1; shift
  local ctest_args=$1; shift
  echo "=== alloy: ${name} build ==="
  # Tests on explicitly: a missing Catch2 must stop the run, not turn the tests off quietly.
  cmake -S . -B "build/${name}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DALLOY_BUILD_TESTS=ON "$@" >/dev/null
  # shellcheck disable=SC2086
  cmake --build "build/${name}" -j"${jobs}" ${BUILD_TARGETS:+--target ${BUILD_TARGETS}}
  # shellcheck disable=SC2086
  ctest --test-dir "build/${name}" -j"${jobs}" --output-on-failure --no-tests=error ${ctest_args}
}

BUILD_TYPE=Release run_build release ""
((quick)) && exit 0
# The sanitizer builds at -O1 with line tables only (-g1: file and line in every report, no types
# or variables), as the sanitizers' own documentation advises: their compile time is most of this
# command's, and the heaviest test (search_laws.cpp, every search policy's laws) took 260 s of
# CPU to compile at RelWithDebInfo's -O2 -g, 77 s this way.
sanitizer_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
BUILD_TYPE=RelWithDebInfo run_build asan "" -DALLOY_SANITIZE=address,undefined -DALLOY_BUILD_BENCH=OFF "${sanitizer_flags[@]}"
BUILD_TYPE=RelWithDebInfo run_build tsan "-L threading" -DALLOY_SANITIZE=thread -DALLOY_BUILD_BENCH=OFF \
  -DALLOY_BUILD_EXAMPLES=OFF "${sanitizer_flags[@]}"
if [ -f tests/fuzz/CMakeLists.txt ]; then
  # Only the fuzz targets are built with clang here; each runs for ALLOY_FUZZ_SECONDS (30 s).
  CXX=clang++-14 CC=clang-14 BUILD_TYPE=RelWithDebInfo BUILD_TARGETS=alloy_fuzz run_build fuzz "-L ^fuzz$" -DALLOY_FUZZ=ON \
    -DALLOY_BUILD_BENCH=OFF -DALLOY_BUILD_EXAMPLES=OFF
fi
echo "=== alloy: all tests passed ==="
