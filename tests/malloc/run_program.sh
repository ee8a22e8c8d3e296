#!/usr/bin/env bash
# run_program.sh LIBRARY WORKDIR PROGRAM: runs a real program on generated input twice, without
# and with LIBRARY in LD_PRELOAD, and fails unless both runs succeed with identical output.
# PROGRAM: sort (external merge, 2 threads), xz (-T2 compress, then decompress), python
# (an interpreter allocating heavily from 4 threads, every object through malloc).
set -euo pipefail
lib=$1 work=$2 program=$3
mkdir -p "$work"
cd "$work"

# Deterministic text: 400k lines of pseudo-random numbers and words.
make_text() {
  awk -v n="$1" 'BEGIN { x = 12345; for (i = 0; i < n; i++) { x = (x * 1103515245 + 12345) % 2147483648;
    printf "%d item-%d %s\n", x % 1000003, int(x / 7) % 977, substr("abcdefghijklmnopqrstuvwxyz", 1 + x % 26, 1 + x % 20) } }'
}

run_both() {  # run_both OUTPUT_NAME COMMAND...: stdout of the command, plain and preloaded
  "${@:2}" > "$1.plain"
  LD_PRELOAD="$lib" "${@:2}" > "$1.alloy" 2> "$1.stderr" || { cat "$1.stderr" >&2; return 1; }
  if grep -q "cannot be preloaded" "$1.stderr"; then cat "$1.stderr" >&2; return 1; fi
  cmp "$1.plain" "$1.alloy" || { echo "output differs with $lib preloaded: ${*:2}" >&2; return 1; }
  echo "same output ($(wc -c < "$1.plain") bytes) with and without the preload: ${2##*/} ${3:0:20}"
}

case "$program" in
  sort)
    make_text 400000 > lines.txt
    run_both sorted sort --parallel=2 -S 2M -T "$work" lines.txt   # a 2 MB buffer: temp files and a merge
    ;;
  xz)
    make_text 250000 > data.txt
    run_both packed xz -T2 -3 --block-size=512KiB -c data.txt
    LD_PRELOAD="$lib" xz -T2 -d -c packed.alloy > unpacked.txt
    cmp data.txt unpacked.txt
    ;;
  python)
    py=/usr/bin/python3; [ -x "$py" ] || py=python3
    export PYTHONMALLOC=malloc   # every object through malloc, not only the large ones
    run_both py "$py" -S -c '
import threading
def work(seed, out):
    d = {}
    for i in range(60000):
        d[str((i * seed) % 20000)] = [i] * (i % 9) + [str(i) * (i % 5)]
        if i % 4 == 0: d.pop(str((i * 31) % 20000), None)
    out[seed] = sum(len(v) for v in d.values())
out = {}
ts = [threading.Thread(target=work, args=(s, out)) for s in (3, 5, 7, 11)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(out.items()))
'
    ;;
  *)
    echo "unknown program $program" >&2
    exit 2
    ;;
esac
