#!/usr/bin/python3
"""The report generator on a small stored JSON: every table and plot is produced, and every
figure in them is the JSON's own number (time per pair = real_time / pairs, exactly).

    test_report.py REPORT_PY RESULTS_JSON OUT_DIR
"""
import html
import os
import re
import shutil
import subprocess
import sys

report_py, results, out = sys.argv[1:4]
shutil.rmtree(out, ignore_errors=True)
subprocess.run(["/usr/bin/python3", report_py, results, "--out", out], check=True)
summary = open(os.path.join(out, "summary.md")).read()
full = open(os.path.join(out, "results.md")).read()
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def row(workload, cell):
    section = summary.split(f"## {workload}\n", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cols = [c.strip() for c in line.strip("|").split("|")]
        if len(cols) > 3 and cols[1].rstrip(" ★") == cell:
            return cols
    failures.append(f"{workload}: no row for {cell}")
    return [""] * 12


seg = "segregated_fit + pow2_classes<16, 4096> + single_thread + align<16>"
tlsf = "tlsf + single_thread + align<16>"

# Context: the machine and the date.
check("2026-11-25T10:00:00+00:00" in summary, "date")
check("testhost, Test CPU, 2 CPUs at 2596 MHz" in summary, "machine")

# pairs_64: ranked by time per pair; numbers are real_time / pairs (median rows, not means).
r = row("pairs_64", "hand-written free list")
check(r[0] == "1" and r[3] == "1.00", f"pairs_64 hand list rank/time {r}")
r = row("pairs_64", seg)
check(r[0] == "2" and r[2] == "alloy" and r[3] == "1.20", f"pairs_64 alloy rank/time {r}")
check(r[4] == "7.08" and r[5] == "4.75", f"pairs_64 speed-ups vs glibc and mimalloc {r}")  # 8.5/1.2, 5.7/1.2
check(r[6] == "15.5" and r[7] == "1234", f"pairs_64 tail latency {r}")
check(row("pairs_64", "glibc malloc")[3] == "8.50", "glibc time")
check(row("pairs_64", "mimalloc")[3] == "5.70", "mimalloc time")

# churn_10k: memory ratio, fragmentation, the Pareto front, the error row.
r = row("churn_10k", seg)
check(r[0] == "1" and r[3] == "4.00" and r[8] == "1.23", f"churn_10k alloy {r}")
check("4.00 ★" not in summary and f"{seg} ★" in summary, "fastest cell on the Pareto front")
r = row("churn_10k", tlsf)
check(r[8] == "1.05" and r[10] == "0.125" and r[11] == "64.0 KiB", f"churn_10k tlsf memory {r}")
check(f"{tlsf} ★" in summary, "smallest cell on the Pareto front")
check("glibc malloc ★" not in summary, "a dominated cell is not on the front")
check("broken: **allocation failed 3 times**" in summary, "error reported")

# A user's summary: a legend, a verdict per workload; the project's own targets are in results.md.
check("### Legend" in summary and "Plot abbreviations" in summary, "legend")
check(f"**Verdict:** `{seg}`, 1.20 ns/pair: 4.75x faster than the fastest system allocator, mimalloc (5.70 ns/pair)."
      in summary, "pairs_64 verdict")
check("Targets (this run)" not in summary, "targets kept out of the summary")

# Targets computed from the same numbers.
check(re.search(r"pairs_64: best Alloy >= 4x faster .*\| 4.75x .*\| yes \|", full) is not None, "4x target row")
check(re.search(r"pairs_64: best Alloy within 1.25x .*\| 1.20x .*\| yes \|", full) is not None, "1.25x target row")
check(re.search(r"churn_10k: best Alloy faster than every system allocator \| 4.00 ns vs mimalloc 18.0 ns \| yes",
                full) is not None, "churn speed target row")
check(re.search(r"churn_10k: best Alloy memory ratio <= 1.3 \| 1.05 \(tlsf.*glibc 1.09\) \| yes", full) is not None,
      "churn memory target row")

# results.md carries every counter with 6 significant digits.
check("1.23450" in full and "0.125000" in full and "9876.50" in full, "full table figures")

# Plots: one ranked bar chart per workload and the heat map, real SVG with the cells named.
for name in ["pairs_64", "churn_10k", "heatmap"]:
    path = os.path.join(out, "plots", f"{name}.svg")
    check(os.path.exists(path), f"plot {name}")
    if os.path.exists(path):
        svg = html.unescape(open(path).read())
        check("<svg" in svg and "</svg>" in svg, f"{name} is an SVG")
        check("seg+pow2<16,4096>+st+a<16>" in svg, f"{name} names the cells")

# The real-programs section and the memory-over-time plot, from the same JSON with churn_10k's
# rows renamed as a trace and a timeline file beside it.
import json
data = json.load(open(results))
data["benchmarks"] += [dict(b, name=b["name"].replace("churn_10k/", "trace_demo/"),
                            run_name=b.get("run_name", b["name"]).replace("churn_10k/", "trace_demo/"))
                       for b in data["benchmarks"] if b["name"].startswith("churn_10k/")]
extra = out + "_traces"
shutil.rmtree(extra, ignore_errors=True)
os.makedirs(extra)
with open(os.path.join(extra, "results.json"), "w") as f:
    json.dump(data, f)
samples = lambda top: [[0.0, 0, 0, "start"], [1.0, top, top, "grow"], [2.0, top, top // 10, "free"],
                       [5.0, top // 2, top // 10, "quiet"], [6.0, top, top, "regrow"]]
with open(os.path.join(extra, "results.timeline.json"), "w") as f:
    json.dump([{"workload": "memory_over_time", "cell": c, "samples": samples(1 << 20)}
               for c in ["glibc malloc", "mimalloc", seg]], f)
subprocess.run(["/usr/bin/python3", report_py, os.path.join(extra, "results.json"), "--out", extra], check=True)
traced = open(os.path.join(extra, "summary.md")).read()
check("## Real programs" in traced, "real-programs section")
check(re.search(r"\| demo \| segregated_fit \+ pow2_classes<16, 4096> \+ single_thread \+ align<16> \| 4.00 \| 1.23 \| "
                r"mimalloc \| 18.0 \| 1.25 \| 4.50 \| 1.05 \(tlsf", traced) is not None, "real-programs row")
for name in ["trace_demo_scatter", "memory_over_time_lines"]:
    check(os.path.exists(os.path.join(extra, "plots", f"{name}.svg")), f"plot {name}")
check("![memory over time](plots/memory_over_time_lines.svg)" in traced, "memory-over-time plot in the summary")

# The end-to-end table (small_results.end_to_end.json beside the stored results): per program the
# medians' ratio, the paired one and the fastest runs' one, each from the stored runs. "spelled"
# is a busy machine's: two of the advised library's three runs slowed, so its median is 1.24x
# glibc's while its fastest run is under glibc's fastest.
check(re.search(r"\| spelled \| [^|]+ \| 130 \| glibc \| 105 \| 1\.24 \| 1\.18 \| 0\.962 \| 130 / 105 \|", summary)
      is not None, "end-to-end row (spelled)")
check(re.search(r"\| steady \| [^|]+ \| 91\.0 \| glibc \| 100 \| 0\.910 \| 0\.910 \| 0\.900 \|", summary) is not None,
      "end-to-end row (steady)")
check("CPU time on 1 of 3 programs (comparing the fastest runs: 2)." in summary, "end-to-end count")

# A cell run in turns (a threaded trace: bench/matrix/runner.cpp) is one iteration per turn in the
# JSON, under one name: the report takes the turn of median time per pair, a failed turn only if
# every turn failed.
import importlib.util
spec = importlib.util.spec_from_file_location("alloy_report", report_py)
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)
turn = lambda ns, **more: dict({"name": f"trace_turns/{seg}/min_time:0.020/real_time", "run_type": "iteration",
                                "real_time": ns * 1000.0, "pairs": 1000.0, "label": seg}, **more)
failed = {"error_occurred": True, "error_message": "not timed"}
with open(os.path.join(extra, "turns.json"), "w") as f:
    json.dump({"context": {}, "benchmarks": [turn(9.0), turn(3.0), dict(turn(1.0), **failed), turn(6.0),
                                             dict(turn(2.0, name=f"trace_lost/{seg}/min_time:0.020/real_time"), **failed)]}, f)
_, _, turned, _ = report.load([os.path.join(extra, "turns.json")])
check(turned["trace_turns"][seg].get("ns_per_pair") == 6.0, "the median turn stands for a cell run in turns")
check(turned["trace_lost"][seg]["error"] == "not timed", "a cell whose every turn failed keeps the error")
# Turns fold within a file; a later file's record for the cell replaces it, as before turns.
with open(os.path.join(extra, "rerun.json"), "w") as f:
    json.dump({"context": {}, "benchmarks": [turn(12.0)]}, f)
_, _, rerun, _ = report.load([os.path.join(extra, "turns.json"), os.path.join(extra, "rerun.json")])
check(rerun["trace_turns"][seg].get("ns_per_pair") == 12.0, "a later file's record replaces a cell's turns")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    print(summary)
    sys.exit(1)
print("report test: all checks passed")
