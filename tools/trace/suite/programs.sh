#!/usr/bin/env bash
# The trace suite's programs, defined once: tools/trace/record-suite.sh records them under
# liballoy_trace.so, tools/trace/end-to-end.sh runs them under the advised preload libraries and
# the system allocators. Inputs are generated with fixed seeds; nothing large is stored.
#
#   programs.sh names                 the programs, one a line
#   programs.sh inputs WORK SCALE     writes the inputs into the folder WORK (SCALE 1: smoke, 2: default)
#   programs.sh run NAME WORK SCALE   runs NAME in WORK, its output on stdout; $SUITE_PRELOAD, when
#                                     set, is the LD_PRELOAD of the program only (not of this script,
#                                     nor of redis-benchmark, the server's load)
#   SUITE_WRAP="COMMAND ARGS..."     a command the program runs under, words split at spaces, after
#                                     $SUITE_PRELOAD (end_to_end.py --count: cachegrind)
#   SUITE_USAGE=FILE                  redis: the server's CPU seconds and peak RSS (KiB), read from
#                                     /proc before it shuts down, are written there (the process
#                                     that runs this script also counts redis-benchmark's)
#   programs: python3 (JSON, regular expressions, counters), sqlite3 (load, index, query),
#             gxx: g++ -fsyntax-only (<regex>, <iostream> and the containers: the cc1plus process),
#             perl (word counts), xz -T2 (two compressing threads), redis-server (I/O threads)
#             under redis-benchmark on loopback
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
names=(python3 sqlite3 gxx perl xz redis)

inputs() {
  local work=$1 scale=$2
  cd "$work"
  awk -v n=$((20000 * scale)) 'BEGIN { x = 12345; for (i = 1; i <= n; i++) { x = (x * 1103515245 + 12345) % 2147483648;
    printf "%d item-%d %s\n", x % 1000003, int(x / 65536) % 977, substr("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, x % 40) } }' > lines.txt
  awk -v n=$((10000 * scale)) 'BEGIN { x = 99; for (i = 1; i <= n; i++) { x = (x * 1103515245 + 12345) % 2147483648;
    printf "%d,name-%d,%d,%.2f\n", i, x % 20011, int(x / 1024) % 97, (int(x / 4096) % 100000) / 100 } }' > records.csv
  cat > queries.sql <<'SQL'
CREATE TABLE records(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, amount REAL);
.import --csv records.csv records
CREATE INDEX records_name ON records(name);
CREATE TABLE totals AS SELECT grp, count(*) AS n, sum(amount) AS total FROM records GROUP BY grp;
SELECT count(*), count(DISTINCT name), round(sum(amount), 2) FROM records;
SELECT r.name, count(*) FROM records r JOIN totals t ON r.grp = t.grp WHERE t.n > 10 GROUP BY r.name ORDER BY 2 DESC, 1 LIMIT 5;
SELECT length(group_concat(name, ',')) FROM (SELECT name FROM records ORDER BY name, id);
SQL
  # The front end on the standard library's heaviest headers (<regex> and the containers): about a
  # second of CPU, where all of <bits/stdc++.h> took four, run 15 times by the end-to-end check.
  printf '#include <algorithm>\n#include <iostream>\n#include <map>\n#include <regex>\n#include <string>\n#include <unordered_map>\n#include <vector>\nint main() { std::map<std::string, std::vector<int>> m; std::regex r("a+b"); return int(m.size()); }\n' > unit.cpp
  head -c $((3 << 20)) lines.txt > data.bin
  while [ "$(stat -c %s data.bin)" -lt $((scale << 20)) ]; do cat lines.txt >> data.bin; done
}

# preloaded COMMAND...: COMMAND with $SUITE_PRELOAD as its LD_PRELOAD (none when unset), under
# $SUITE_WRAP when set (the wrapper passes LD_PRELOAD on to the program: valgrind does).
preloaded() {
  local wrap=()
  [ -z "${SUITE_WRAP:-}" ] || read -ra wrap <<< "$SUITE_WRAP"
  if [ -n "${SUITE_PRELOAD:-}" ]; then LD_PRELOAD=$SUITE_PRELOAD "${wrap[@]}" "$@"; else "${wrap[@]}" "$@"; fi
}

run() {
  local name=$1 work=$2 scale=$3
  cd "$work"
  local python=/usr/bin/python3; [ -x "$python" ] || python=python3
  case "$name" in
    python3) PYTHONHASHSEED=0 preloaded "$python" "$here/interpreter.py" $((8000 * scale)) ;;  # fixed string hashes: one program for every allocator
    sqlite3) preloaded sqlite3 :memory: -init /dev/null < queries.sql ;;
    gxx) preloaded g++ -std=c++20 -fsyntax-only unit.cpp ;;
    perl) preloaded perl "$here/text.pl" 1000000 lines.txt ;;
    xz) preloaded xz -T2 -3 --block-size=256KiB -c data.bin | cksum ;;
    redis) redis "$scale" ;;
    *) echo "programs.sh: no program $name (programs.sh names)" >&2; return 2 ;;
  esac
}

# The server: redis-server with two I/O threads, the load from redis-benchmark on loopback, then a
# clean shutdown (a recorder writes its file at exit). Its output is not the program's: nothing on
# stdout (redis-benchmark's keys are random).
redis() {
  local scale=$1 port=$((20000 + RANDOM % 20000))
  preloaded redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --io-threads 2 \
    --io-threads-do-reads yes --daemonize no --logfile "$PWD/redis.$port.log" &
  local server=$!
  for _ in $(seq 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  # A recorder's limit is reached within the first test (SET) at about 2,000 requests: more than
  # that are not recorded, only spin the server's I/O threads.
  redis-benchmark -p "$port" -q -c 32 --threads 2 -n $((1000 * scale)) -d 200 -r 10000 \
    -t set,get,lpush,lpop,hset,sadd,zadd > /dev/null
  if [ -n "${SUITE_USAGE:-}" ]; then
    # utime + stime (fields 14 and 15 of /proc/PID/stat) and the peak resident set (VmHWM).
    awk -v tick="$(getconf CLK_TCK)" '{ printf "%s ", ($14 + $15) / tick }' "/proc/$server/stat" > "$SUITE_USAGE"
    awk '/^VmHWM:/ { print $2 }' "/proc/$server/status" >> "$SUITE_USAGE"
  fi
  redis-cli -p "$port" shutdown nosave > /dev/null 2>&1 || true
  wait "$server" || { echo "programs.sh: redis-server failed (see redis.$port.log)" >&2; return 1; }
}

case "${1:-}" in
  names) printf '%s\n' "${names[@]}" ;;
  inputs) inputs "${2:?programs.sh inputs WORK SCALE}" "${3:?a scale is needed}" ;;
  run) run "${2:?programs.sh run NAME WORK SCALE}" "${3:?a work folder is needed}" "${4:?a scale is needed}" ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
