#!/usr/bin/env bash
# Instructions per malloc(64) + free pair through each preloaded allocator, with callgrind
# (repeatable on a busy machine). Usage: bench/malloc/count.sh PAIR_PROGRAM ALLOY_LIB [pairs]
# Prints one line per allocator: instructions per pair, minus the empty loop's.
set -euo pipefail
program=$1
alloy=$2
count=${3:-200000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
lib() { ldconfig -p | awk -v n="$1" '$1 == n { print $NF; exit }'; }
declare -A libs=([glibc]="" [jemalloc]="$(lib libjemalloc.so.2)" [tcmalloc]="$(lib libtcmalloc_minimal.so.4)"
                 [mimalloc]="$(lib libmimalloc.so.2)" [alloy]="$alloy")
for name in glibc jemalloc tcmalloc mimalloc alloy; do
  # valgrind hands LD_PRELOAD on to the program it runs (its own tool binary ignores it).
  LD_PRELOAD=${libs[$name]} valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$program" "$count" \
    >/dev/null 2>"$out/$name.log" || { echo "$name: callgrind failed"; cat "$out/$name.log"; continue; }
  callgrind_annotate --inclusive=yes --threshold=100 "$out/$name.cg" 2>/dev/null |
    awk -v n="$count" -v name="$name" '/measure_pairs/ { gsub(",", "", $1); pairs = $1 }
      /measure_empty_loop/ { gsub(",", "", $1); loop = $1 }
      END { printf "%-10s %8.1f instructions per malloc(64)+free\n", name, (pairs - loop) / n }'
done
