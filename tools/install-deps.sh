#!/usr/bin/env bash
# Installs the Debian 12 packages Alloy builds, tests and benchmarks with.
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
# Complete from a minbase Debian 12 root (nothing but apt): every tool a step runs is listed,
# even those a usual machine already has; tools/fresh-root.sh proves it. One group per line.
set -euo pipefail
packages=(
  cmake make                              # CMake and the build program of its default generator
  g++ clang-14 libclang-rt-14-dev         # compilers; clang for libFuzzer
  libboost1.81-dev                        # Boost.Hana and Boost.MP11 (conflicts with libboost-dev 1.74)
  catch2                                  # Catch2 v2.13
  libbenchmark-dev                        # Google Benchmark 1.7.1
  libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev   # baselines
  gnuplot-nox jq                          # report plots
  valgrind                                # callgrind instruction counts
  python3 xz-utils coreutils              # real programs the malloc tests preload into
  sqlite3 perl                            # real programs bench/programs times and the trace suite records
  redis-server redis-tools                # the trace suite's server, and its load (redis-benchmark)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "alloy: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    # A fresh root has no sudo, and root needs none: only a user without it must be told.
    command -v sudo >/dev/null ||
      { echo "alloy: run as root, or install sudo, to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
