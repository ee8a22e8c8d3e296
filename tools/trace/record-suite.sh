#!/usr/bin/env bash
# Records the trace suite: real programs of different kinds run under liballoy_trace.so, each
# trace bounded in records, written as OUT/<program>.trace for the matrix (bench_matrix --trace
# OUT) and alloy-advise. Inputs are generated with fixed seeds; nothing large is stored.
#
# Usage: tools/trace/record-suite.sh LIBALLOY_TRACE.so ALLOY-TRACE OUT [--smoke]
#   programs: python3 (JSON, regular expressions, counters), sqlite3 (load, index, query),
#             g++ -fsyntax-only (the standard library's headers), perl (word counts), xz -T2
#             (two compressing threads), redis-server (I/O threads) under redis-benchmark on loopback
#   ALLOY_SUITE_LIMIT=N   records per trace (default 40000; --smoke 15000)
set -euo pipefail
lib=$(realpath "${1:?usage: record-suite.sh LIBALLOY_TRACE.so ALLOY-TRACE OUT [--smoke]}")
dump=$(realpath "${2:?alloy-trace (the checker) is needed}")
out=${3:?an output folder is needed}
smoke=0; [ "${4:-}" = "--smoke" ] && smoke=1
limit=${ALLOY_SUITE_LIMIT:-$((smoke ? 15000 : 40000))}
scale=$((smoke ? 1 : 2))
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(realpath "$out")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Inputs, the same on every run (an LCG in awk).
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
printf '#include <bits/stdc++.h>\nint main() { std::map<std::string, std::vector<int>> m; std::regex r("a+b"); return int(m.size()); }\n' > unit.cpp
head -c $((3 << 20)) lines.txt > data.bin; while [ "$(stat -c %s data.bin)" -lt $((scale << 20)) ]; do cat lines.txt >> data.bin; done

# record NAME COMMAND...: runs COMMAND under the recorder; a program that starts others (g++
# runs cc1plus) leaves one trace per process: the one with the most records is kept.
record() {
  local name=$1; shift
  rm -f "$work/$name".*.trace
  ALLOY_TRACE_FILE="$work/$name.%p.trace" ALLOY_TRACE_LIMIT=$limit LD_PRELOAD="$lib" "$@" > "$work/$name.out"
  local best
  best=$(ls -S "$work/$name".*.trace 2>/dev/null | head -1)
  [ -n "$best" ] || { echo "record-suite: $name left no trace" >&2; return 1; }
  mv "$best" "$out/$name.trace"
  "$dump" "$out/$name.trace" | head -1
}

python=/usr/bin/python3; [ -x "$python" ] || python=python3
record python3 "$python" "$here/suite/interpreter.py" $((8000 * scale))
record sqlite3 sqlite3 :memory: -init /dev/null < queries.sql
record gxx g++ -std=c++20 -fsyntax-only unit.cpp
record perl perl "$here/suite/text.pl" 1000000 lines.txt
record xz xz -T2 -3 --block-size=256KiB -c data.bin

# The server: redis-server with two I/O threads, the load from redis-benchmark (not recorded) on
# loopback, then a clean shutdown so the recorder writes its file at exit.
port=$((20000 + RANDOM % 20000))
ALLOY_TRACE_FILE="$work/redis.%p.trace" ALLOY_TRACE_LIMIT=$limit LD_PRELOAD="$lib" \
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --io-threads 2 --io-threads-do-reads yes \
  --daemonize no --logfile "$work/redis.log" &
server=$!
for _ in $(seq 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
# The recorder's limit is reached within the first test (SET) at about 2,000 requests: more
# requests than that are not recorded, only spin the server's I/O threads (it was 30 s of CPU).
redis-benchmark -p "$port" -q -c 32 --threads 2 -n $((1000 * scale)) -d 200 -r 10000 -t set,get,lpush,lpop,hset,sadd,zadd >/dev/null
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait "$server" || true
best=$(ls -S "$work"/redis.*.trace 2>/dev/null | head -1)
[ -n "$best" ] || { echo "record-suite: redis-server left no trace (see its log)" >&2; cat "$work/redis.log" >&2; exit 1; }
mv "$best" "$out/redis.trace"
"$dump" "$out/redis.trace" | head -1
