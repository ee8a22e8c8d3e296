#!/usr/bin/env bash
# record_trace.sh TRACE_LIBRARY ALLOY_TRACE WORKDIR SCRIPT: records python3 running SCRIPT with
# liballoy_trace.so, checks that the program's output is unchanged and that alloy-trace reads
# the file back as a well-formed trace with calls from more than one thread.
set -euo pipefail
lib=$1 checker=$2 work=$3 script=$4
mkdir -p "$work"
py=/usr/bin/python3; [ -x "$py" ] || py=python3
"$py" -S "$script" > "$work/plain.out"
ALLOY_TRACE_FILE="$work/run-%p.trace" LD_PRELOAD="$lib" "$py" -S "$script" > "$work/traced.out"
cmp "$work/plain.out" "$work/traced.out"
traces=("$work"/run-*.trace)
[ ${#traces[@]} -eq 1 ] || { echo "expected one trace, got: ${traces[*]}" >&2; exit 1; }
"$checker" "${traces[0]}" | tee "$work/summary.txt"
grep -Eq ' [2-9] threads' "$work/summary.txt" || { echo "expected calls from several threads" >&2; exit 1; }
rm -f "${traces[@]}"
