#!/usr/bin/python3
"""Alloy's report: Google Benchmark JSON from a matrix run -> summary.md and SVG plots.

    /usr/bin/python3 tools/report/report.py RESULTS.json [MORE.json ...] --out report/

Standard library only (Debian's /usr/bin/python3); plots are drawn by gnuplot when it is
installed (`--no-plots` skips them). Every figure in the tables is the JSON's own number,
formatted by `fmt` below: nothing is smoothed, rounded before ranking, or dropped.
"""
import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys

SYSTEM_ALLOCATORS = ["glibc malloc", "jemalloc", "tcmalloc", "mimalloc"]
FAST_THIRD_PARTY = ["jemalloc", "tcmalloc", "mimalloc"]
HAND_WRITTEN = "hand-written free list"
KIND_COLOUR = {"alloy": "0x1f77b4", "baseline": "0x7f7f7f", "reference": "0xff7f0e"}


def fmt(value, digits=3):
    """The one way numbers are printed: `digits` significant digits, '–' when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value == 0:
        return "0"
    magnitude = int(math.floor(math.log10(abs(value))))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}"


def fmt_bytes(value):
    if value is None:
        return "–"
    for unit in ["B", "KiB", "MiB", "GiB"]:
        if abs(value) < 1024 or unit == "GiB":
            return f"{fmt(value)} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024.0
    return "–"


def load(paths):
    """-> (context, cells by name, results: {workload: {cell: record}}, workload order)."""
    context, cells, results, order = {}, {}, {}, []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        for cell in json.loads(data.get("context", {}).get("alloy.cells", "[]")):
            cells.setdefault(cell["name"], cell)
        runs = data.get("benchmarks", [])
        has_median = {b["run_name"] for b in runs if b.get("aggregate_name") == "median"}
        turns = {}  # (workload, cell) -> this file's records: several for a cell run in turns
        for b in runs:
            name = b.get("run_name", b["name"])
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            if b.get("run_type") == "iteration" and name in has_median:
                continue
            workload = name.split("/", 1)[0]
            cell = b.get("label") or name.split("/", 1)[1].split("/min_time")[0]
            record = {"error": b.get("error_message") if b.get("error_occurred") else None}
            if record["error"] is None:
                assert b.get("time_unit", "ns") == "ns", "the matrix reports in nanoseconds"
                pairs = b.get("pairs", 1.0)
                record["ns_per_pair"] = b["real_time"] / pairs
                for key, value in b.items():
                    if isinstance(value, (int, float)) and key not in ("real_time", "cpu_time", "iterations",
                                                                       "family_index", "per_family_instance_index",
                                                                       "repetitions", "repetition_index", "threads"):
                        record[key] = float(value)
                # A system allocator that served the whole run from memory an earlier cell left it
                # grew by nothing: a retained footprint of 0 is no figure (shown as –, ranked last).
                if record.get("retained_ratio") == 0.0:
                    del record["retained_ratio"]
            if workload not in results:
                results[workload] = {}
                order.append(workload)
            turns.setdefault((workload, cell), []).append(record)
            cells.setdefault(cell, {"name": cell, "kind": "alloy", "declaration": "", "thread_safe": False})
        # Within a file a cell's turns fold into one record; a later file's record replaces it.
        for (workload, cell), records in turns.items():
            results[workload][cell] = median_turn(records)
    return context, cells, results, order


def median_turn(turns):
    """A cell run in turns (a replay of several threads: bench/matrix/runner.cpp) has one record
    per turn: the turn of median time per pair stands for it, as the matrix's own advice takes it
    (a turn that failed counts only if every turn did). A cell run once has its one record."""
    ran = sorted((t for t in turns if t["error"] is None), key=lambda t: t["ns_per_pair"])
    return ran[(len(ran) - 1) // 2] if ran else turns[0]


def comparable_memory(row):
    """Memory measured from a fresh start: a ratio below 1 means a system allocator served the
    run from memory an earlier cell left it (in one process), which is no figure to rank by."""
    return row.get("memory_ratio") is not None and row["memory_ratio"] >= 1.0


def pareto(rows):
    """Cells no other cell beats on both time and memory, among those whose memory was
    measured comparably (comparable_memory)."""
    measured = [r for r in rows if comparable_memory(r)]
    front = set()
    for r in measured:
        dominated = any(o is not r and o["ns_per_pair"] <= r["ns_per_pair"] and o["memory_ratio"] <= r["memory_ratio"]
                        and (o["ns_per_pair"] < r["ns_per_pair"] or o["memory_ratio"] < r["memory_ratio"])
                        for o in measured)
        if not dominated:
            front.add(r["cell"])
    return front


def ranked(results, workload):
    rows = []
    for cell, rec in results[workload].items():
        if rec["error"] is None:
            rows.append(dict(rec, cell=cell))
    rows.sort(key=lambda r: (r["ns_per_pair"], r["cell"]))
    return rows


CLASSES = re.compile(r" \+ (pow2|linear|geometric)_classes<[^>]*>")


def display_name(cell, cells):
    """A cell's name as the report shows it: a heap without size classes (its properties say
    max_class_size 0: tlsf, the fits, buddy) is composed with the axis default, which it ignores,
    so the report leaves that parameter out."""
    props = cells.get(cell, {}).get("properties") or {}
    return CLASSES.sub("", cell) if props.get("max_class_size", 1) == 0 else cell


def short_name(name):
    """A cell's name short enough for a plot axis."""
    s = name.replace(" + ", "+").replace("segregated_fit", "seg").replace("single_thread", "st")
    s = s.replace("thread_local_cache", "tlc")
    s = s.replace("_classes", "").replace("geometric", "geo").replace("linear", "lin").replace("align<", "a<")
    return s.replace(", ", ",")


def speedup(reference, value):
    return None if reference is None or value is None or value == 0 else reference / value


def systems_of(e2e, program):
    """The system allocators `program` ran under. Older files name none: every run but the
    advised library's was one."""
    return e2e.get("systems") or [name for name in program["runs"] if name != "advised"]


def end_to_end_ratios(e2e):
    """Per program of the end-to-end check: (program, fastest system allocator by CPU time, the
    advised library's CPU time over that one's)."""
    out = []
    for p in (e2e or {}).get("programs", []):
        system = {name: r["cpu_ms"] for name, r in p["runs"].items() if name in systems_of(e2e, p)}
        best = min(system, key=system.get)
        out.append((p["program"], best, p["runs"]["advised"]["cpu_ms"] / system[best]))
    return out


def runs_each(e2e, program, name):
    """`name`'s CPU time of every run and each system allocator's, one list each in repetition
    order, or None for files without each run's figures."""
    runs = program["runs"]
    systems = systems_of(e2e, program)
    if name not in runs or any("cpu_ms_each" not in runs[n] for n in [name] + systems):
        return None
    return runs[name]["cpu_ms_each"], [runs[s]["cpu_ms_each"] for s in systems]


def paired_ratio(e2e, program, name="advised"):
    """The median over repetitions of `name`'s CPU time over the fastest system allocator's in the
    same repetition: the allocators of one repetition run back to back, so a load that drifts
    between repetitions cancels. None for files without each run's figures."""
    each = runs_each(e2e, program, name)
    if each is None:
        return None
    mine, systems = each
    return statistics.median(mine[i] / min(s[i] for s in systems) for i in range(len(mine)))


def fastest_ratio(e2e, program, name="advised"):
    """`name`'s fastest run's CPU time over the fastest run of any system allocator: on a shared
    machine other load only adds time, and on this VM it comes in spells that slow every program
    by a third or a half for seconds, so a median of three can be two slowed runs of one allocator
    and none of another; the fastest runs are the least disturbed. None for files without each
    run's figures."""
    each = runs_each(e2e, program, name)
    if each is None:
        return None
    mine, systems = each
    return min(mine) / min(min(s) for s in systems)


def targets(results, cells, e2e=None):
    """The issue's targets, each computed from this run's medians: (target, figure, met)."""
    out = []
    ratios = end_to_end_ratios(e2e)
    if ratios:
        met = sum(ratio <= 1.0 for _, _, ratio in ratios)
        total = len(ratios) + len(e2e.get("not_run", {}))
        out.append(("end to end: the advised library at or under the best system allocator's CPU time on at least 4 "
                    "of the 6 programs", f"{met} of {total} (" + ", ".join(f"{p} {fmt(r)}x" for p, _, r in ratios) + ")",
                    met >= 4))

    def best(workload, kind="alloy", key="ns_per_pair"):
        rows = [r for r in ranked(results, workload) if cells.get(r["cell"], {}).get("kind") == kind
                and r.get(key) is not None] if workload in results else []
        return min(rows, key=lambda r: r[key]) if rows else None

    def time_of(workload, cell):
        rec = results.get(workload, {}).get(cell)
        return rec.get("ns_per_pair") if rec and rec["error"] is None else None

    for workload in [w for w in results if re.fullmatch(r"pairs_(\d+)", w) and 16 <= int(w.split("_")[1]) <= 512]:
        b = best(workload)
        third = [t for t in (time_of(workload, c) for c in FAST_THIRD_PARTY) if t is not None]
        hand = time_of(workload, HAND_WRITTEN)
        if b and third:
            ratio = min(third) / b["ns_per_pair"]
            out.append((f"{workload}: best Alloy >= 4x faster than fastest of jemalloc/tcmalloc/mimalloc",
                        f"{fmt(ratio)}x ({b['cell']}: {fmt(b['ns_per_pair'])} ns vs {fmt(min(third))} ns)", ratio >= 4))
        if b and hand:
            ratio = b["ns_per_pair"] / hand
            out.append((f"{workload}: best Alloy within 1.25x of the hand-written free list",
                        f"{fmt(ratio)}x ({fmt(b['ns_per_pair'])} ns vs {fmt(hand)} ns)", ratio <= 1.25))
    for workload in [w for w in results if w == "random_batch" or w.startswith("churn_")]:
        b = best(workload)
        system = {c: time_of(workload, c) for c in SYSTEM_ALLOCATORS if time_of(workload, c) is not None}
        if b and system:
            fastest = min(system, key=system.get)
            out.append((f"{workload}: best Alloy faster than every system allocator",
                        f"{fmt(b['ns_per_pair'])} ns vs {fastest} {fmt(system[fastest])} ns", b["ns_per_pair"] < system[fastest]))
    for workload, limit in (("churn_10k", 1.3), ("churn_100k", 1.15)):
        b = best(workload, key="memory_ratio")
        if b:
            glibc = results[workload].get("glibc malloc", {}).get("memory_ratio")
            out.append((f"{workload}: best Alloy memory ratio <= {limit}",
                        f"{fmt(b['memory_ratio'])} ({b['cell']}; glibc {fmt(glibc)})", b["memory_ratio"] <= limit))
    return out


LEGEND = [
    "- **ns/pair**: median time of one allocate + free pair (lower is better); **x glibc**, **x mimalloc**: "
    "their time over this cell's (above 1: faster).",
    "- **p99 ns**: 99th percentile of the time per operation over batches of 32 operations (the TSC read once "
    "per batch: on this kind of VM it moves in steps of about 8 ns); **max ns**: the slowest batch, whole.",
    "- **memory**: peak bytes taken from the system over peak live requested bytes; **retained**: footprint after "
    "the quiet phase over the bytes live then (memory_over_time). `–`: not measured.",
    "- ★: Pareto front of time against memory, among cells whose memory was measured from a fresh start (a system "
    "allocator reusing what an earlier cell left shows a ratio below 1: not ranked).",
    "- Kinds and plot colours: **alloy** (blue) an Alloy composition, **baseline** (grey) a system allocator or a "
    "std::pmr resource, **reference** (orange) the hand-written free list.",
    "- Plot abbreviations: seg = segregated_fit, st = single_thread, tlc = thread_local_cache, geo/lin/pow2 = "
    "geometric/linear/pow2 size classes, a<16> = align<16>; a heap without size classes (tlsf, buddy, the fits) "
    "is shown without them.",
]


def fastest(rows, cells, kinds, names=None):
    pool = [r for r in rows if cells.get(r["cell"], {}).get("kind") in kinds and (names is None or r["cell"] in names)]
    return min(pool, key=lambda r: r["ns_per_pair"]) if pool else None


def verdict(workload, rows, cells):
    """One line a user can decide from: which design, at what cost, against which system allocator."""
    best = fastest(rows, cells, ("alloy",))
    system = fastest(rows, cells, ("baseline",), SYSTEM_ALLOCATORS)
    if best is None:
        return "No Alloy composition ran this workload."
    line = f"**Verdict:** `{display_name(best['cell'], cells)}`, {fmt(best['ns_per_pair'])} ns/pair"
    if best.get("memory_ratio") is not None:
        line += f", memory {fmt(best['memory_ratio'])}x"
    if system is None:
        return line + "."
    ratio = system["ns_per_pair"] / best["ns_per_pair"]
    line += (f": {fmt(ratio)}x {'faster than' if ratio >= 1 else 'the speed of'} the fastest system allocator, "
             f"{system['cell']} ({fmt(system['ns_per_pair'])} ns/pair")
    if system.get("memory_ratio") is not None:
        line += f", memory {fmt(system['memory_ratio'])}x"
    return line + ")."


def rank_rows(workload, results):
    rows = ranked(results, workload)
    if workload == "fragmentation":
        # What it measures is the memory a fragmenting pattern costs: ranked by it, then by time.
        rows.sort(key=lambda r: (r.get("memory_ratio") if r.get("memory_ratio") is not None else math.inf,
                                 r["ns_per_pair"]))
    if workload == "memory_over_time":
        rows.sort(key=lambda r: (r.get("retained_ratio") if r.get("retained_ratio") is not None else math.inf,
                                 r["ns_per_pair"]))
    return rows


def is_trace(workload):
    return workload.startswith("trace_")


def real_programs(cells, results, order):
    """The trace suite: per program, the fastest Alloy composition against the fastest system allocator."""
    traces = [w for w in order if is_trace(w)]
    if not traces:
        return []
    lines = ["## Real programs (recorded traces, replayed with their threads)", "",
             "Each trace is a real program's allocation calls (tools/trace/record-suite.sh), replayed call by call; "
             "a trace of several threads runs each thread's calls on a thread of its own, on thread-safe cells only.",
             "", "| program | fastest Alloy | ns/pair | memory | fastest system | ns/pair | memory | speed-up | "
             "smallest Alloy memory |", "|---|---|---|---|---|---|---|---|---|"]
    for w in traces:
        rows = ranked(results, w)
        best = fastest(rows, cells, ("alloy",))
        system = fastest(rows, cells, ("baseline",), SYSTEM_ALLOCATORS)
        small = [r for r in rows if cells.get(r["cell"], {}).get("kind") == "alloy" and r.get("memory_ratio") is not None]
        small = min(small, key=lambda r: r["memory_ratio"]) if small else None
        if best is None:
            continue
        lines.append(f"| {w[len('trace_'):]} | {display_name(best['cell'], cells)} | {fmt(best['ns_per_pair'])} | "
                     f"{fmt(best.get('memory_ratio'))} | {system['cell'] if system else '–'} | "
                     f"{fmt(system['ns_per_pair']) if system else '–'} | {fmt(system.get('memory_ratio')) if system else '–'} | "
                     f"{fmt(speedup(system['ns_per_pair'], best['ns_per_pair'])) if system else '–'} | "
                     f"{fmt(small['memory_ratio']) if small else '–'} ({display_name(small['cell'], cells) if small else ''}) |")
    lines += ["", "Per program, time against memory (★ line: the Pareto front):", ""]
    lines += [f"![{w}](plots/{w}_scatter.svg)" for w in traces]
    lines.append("")
    return lines


def end_to_end(e2e, cells):
    """The advice checked on the programs themselves (tools/trace/end-to-end.sh): each program under
    its advised preload library against the system allocators, CPU time first (the figure other
    load on the machine disturbs least)."""
    if not e2e or not e2e.get("programs"):
        return []
    also = "default" in e2e.get("also", {})
    lines = ["## End to end: each program under its advised library", "",
             "Each program of the trace suite run whole (tools/trace/suite/programs.sh) under the preload library "
             "built from its advice — the thread-safe composition with the least time per pair on its trace's replay "
             "above, page faults of a fresh heap included (see the header), through "
             "alloy_add_malloc_library — and under each system allocator (LD_PRELOAD; glibc: nothing preloaded). "
             f"Medians of {e2e['reps']} interleaved runs at a load average (1, 5, 15 min) of "
             + (f"{', '.join(fmt(x) for x in e2e['load_avg_start'])} when they started and "
                if e2e.get("load_avg_start") else "")
             + f"{', '.join(fmt(x) for x in e2e.get('load_avg', []))} when they ended; CPU = user + system time of "
             "the program and its children. **x best**: the advised library's CPU time over the fastest system "
             "allocator's (at or under 1: met); **paired**: the median over repetitions of the advised run's CPU "
             "time over the fastest system allocator's in the same repetition (load that drifts between "
             "repetitions cancels; the fastest of four in each is a harder bar than the fastest median); "
             "**fastest runs**: the advised library's fastest run over the fastest run of any system allocator "
             "(other load only adds time, and on a shared machine it comes in spells that can catch two of one "
             "allocator's three runs: where the medians and the fastest runs disagree, the machine was busy)"
             + ("; **default**: liballoy_malloc.so's (tools/malloc/default_heap.hpp), run beside them, over the same"
                if also else "") + ".", ""]
    lines += ["| program | advised composition | CPU ms | best system | CPU ms | x best | paired | fastest runs | "
              + ("default x best | " if also else "") + "wall ms (advised / best) | peak RSS MiB (advised / best) | "
              "output |", "|---|---|---|---|---|---|---|---|" + ("---|" if also else "") + "---|---|---|"]
    ratios = end_to_end_ratios(e2e)
    fastest = [fastest_ratio(e2e, p) for p in e2e["programs"]]
    for p, (_, best, ratio), fastest_runs in zip(e2e["programs"], ratios, fastest):
        mine, theirs = p["runs"]["advised"], p["runs"][best]
        default = p["runs"].get("default")
        lines.append(f"| {p['program']} | {display_name(p['cell'], cells)} | {fmt(mine['cpu_ms'])} | {best} | "
                     f"{fmt(theirs['cpu_ms'])} | {fmt(ratio)} | {fmt(paired_ratio(e2e, p))} | "
                     f"{fmt(fastest_runs)} | "
                     + (f"{fmt(default['cpu_ms'] / theirs['cpu_ms']) if default else '–'} | " if also else "")
                     + f"{fmt(mine['wall_ms'])} / {fmt(theirs['wall_ms'])} | "
                     f"{fmt(mine['peak_rss_mib'])} / {fmt(theirs['peak_rss_mib'])} | "
                     f"{'same' if p['same_output'] else '**differs**'} |")
    met = sum(ratio <= 1.0 for _, _, ratio in ratios)
    total = len(e2e["programs"]) + len(e2e.get("not_run", {}))
    lines += ["", f"At or under the fastest system allocator's CPU time on {met} of {total} programs"
              + (f" (comparing the fastest runs: {sum(r <= 1.0 for r in fastest)})." if None not in fastest else ".")]
    for program, why in e2e.get("not_run", {}).items():
        lines.append(f"{program}: not run end to end ({why}).")
    lines += ["", "Every allocator's figures: results.md.", ""]
    return lines


def end_to_end_counted(e2e):
    """The end-to-end check's counted runs (end_to_end.py --count), when it made them: per program,
    the instructions and simulated data cache misses under the advised library (and the default
    one) over the fewest of any system allocator's — figures no load on the machine moves."""
    programs = [p for p in (e2e or {}).get("programs", []) if all("counted" in r for r in p["runs"].values())]
    if not programs:
        return []
    also = "default" in e2e.get("also", {})
    lines = ["### Counted: instructions and simulated cache misses", "",
             "Each program once more under each allocator, inside cachegrind (`ALLOY_E2E_COUNT=1`; "
             "tools/trace/end_to_end.py --count): instructions executed and first-level (D1) and last-level (LL) "
             "data cache misses of a simulated cache, summed over the program's processes. No load moves them, so "
             "they show what a difference of a few percent in CPU time above cannot: which program does less "
             "work. They are not time (page faults and system calls are not in them). Each figure: the advised "
             "library's over the fewest of any system allocator's (which one in brackets)"
             + ("; **default**: liballoy_malloc.so's instructions over the same" if also else "") + ".", "",
             "| program | instructions | x fewest | D1 misses x fewest | LL misses x fewest |"
             + (" default instructions x fewest |" if also else ""),
             "|---|---|---|---|---|" + ("---|" if also else "")]
    fewer = 0
    for p in programs:
        systems = {name: r["counted"] for name, r in p["runs"].items() if name in systems_of(e2e, p)}

        def over_fewest(mine, figure):
            best = min(systems, key=lambda name: systems[name][figure])
            return f"{fmt(mine[figure] / systems[best][figure])} ({best})"

        mine = p["runs"]["advised"]["counted"]
        fewest = min(c["instructions"] for c in systems.values())
        fewer += mine["instructions"] <= fewest
        default = p["runs"].get("default", {}).get("counted")
        lines.append(f"| {p['program']} | {mine['instructions'] / 1e6:.1f} M | {over_fewest(mine, 'instructions')} | "
                     f"{over_fewest(mine, 'd1_misses')} | {over_fewest(mine, 'll_misses')} |"
                     + (f" {over_fewest(default, 'instructions') if default else '–'} |" if also else ""))
    lines += ["", f"The fewest instructions of all on {fewer} of {len(programs)} programs.", ""]
    return lines


def end_to_end_figures(e2e):
    """Every run of the end-to-end check, for results.md."""
    if not e2e or not e2e.get("programs"):
        return []
    names = [n for n, _ in sorted(e2e["programs"][0]["runs"].items(), key=lambda kv: kv[0] in ("default", "advised"))]
    lines = ["## End to end (CPU ms / wall ms / peak RSS MiB / minor page faults, medians)", "",
             "| program | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for p in e2e["programs"]:
        cells_ = [p["runs"].get(n) for n in names]
        lines.append(f"| {p['program']} | " + " | ".join(
            f"{fmt(r['cpu_ms'])} / {fmt(r['wall_ms'])} / {fmt(r['peak_rss_mib'])} / {fmt(r.get('minor_faults'), 4)}"
            if r else "–" for r in cells_) + " |")
    lines.append("")
    return lines


def thread_scaling(cells, results, order):
    """threads_1 ... threads_16: ns per pair of each thread-safe cell at each thread count, fastest at 1 thread first."""
    counts = sorted((int(w.split("_")[1]), w) for w in order if re.fullmatch(r"threads_\d+", w))
    if len(counts) < 2:
        return []
    first = counts[0][1]
    rows = [r for r in ranked(results, first) if r.get("ns_per_pair") is not None]
    lines = ["## Thread scaling", "",
             "The same total work (allocate/free pairs of 16-512 B around 64 live blocks per thread) split between "
             f"{', '.join(str(n) for n, _ in counts)} threads on one heap: ns per pair over all threads (wall time). "
             f"This machine has {{cpus}} cores, so from {{over}} threads it is oversubscribed: those columns show what "
             "survives preemption, not parallel speed-up. Last column: the most threads over one thread.", "",
             "| cell | kind | " + " | ".join(f"{n} thr." for n, _ in counts) + f" | {counts[-1][0]} / {counts[0][0]} |",
             "|---|---|" + "---|" * (len(counts) + 1)]
    for r in rows:
        cell = r["cell"]
        figures = [results.get(w, {}).get(cell, {}).get("ns_per_pair") for _, w in counts]
        ratio = figures[-1] / figures[0] if figures[0] and figures[-1] else None
        lines.append(f"| {display_name(cell, cells)} | {cells.get(cell, {}).get('kind', '?')} | "
                     + " | ".join(fmt(f) for f in figures) + f" | {fmt(ratio)} |")
    lines.append("")
    return lines


def summary(context, cells, results, order, top, timelines, e2e=None):
    lines = ["# Alloy benchmark matrix", ""]
    lines.append(f"- date: {context.get('date', '?')}")
    lines.append(f"- machine: {context.get('host_name', '?')}, {context.get('alloy.cpu', '?')}, "
                 f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
                 f"load average {context.get('load_avg', '?')}")
    built = f"measured code: {context['alloy.build']}; " if "alloy.build" in context else ""
    lines.append(f"- compiler: {context.get('alloy.compiler', '?')}; mode: {context.get('alloy.mode', '?')}; {built}"
                 f"Google Benchmark's own library: {context.get('library_build_type', '?')} build (it times, it is not timed)")
    lines.append(f"- cells: {len(cells)} ({sum(1 for c in cells.values() if c.get('kind') == 'alloy')} Alloy "
                 f"compositions); workloads: {len(order)}")
    if context.get("alloy.note"):
        lines.append(f"- {context['alloy.note']}")
    if context.get("alloy.page_fault_ns"):
        populated = (f", a page populated ahead {fmt(float(context['alloy.populated_page_ns']) / 1e3)} us"
                     if context.get("alloy.populated_page_ns") not in (None, "nan", "-nan") else "")
        lines.append(f"- a minor page fault: {fmt(float(context['alloy.page_fault_ns']) / 1e3)} us of CPU{populated} "
                     "(measured at the start); the advice adds the pages each Alloy composition's fresh heap made "
                     "resident (a trace's memory run: faults_per_pair, populated_per_pair) at those prices to its "
                     "replay time")
    lines += ["", "### Legend", ""] + LEGEND + ["", "Every figure, and the project's own targets: results.md.", ""]
    lines += real_programs(cells, results, order)
    lines += end_to_end(e2e, cells)
    lines += end_to_end_counted(e2e)
    cpus = context.get("num_cpus", "?")
    lines += [l.replace("{cpus}", str(cpus)).replace("{over}", str(2 * cpus) if isinstance(cpus, int) else "?")
              for l in thread_scaling(cells, results, order)]
    if timelines:
        lines += ["## Memory over time", "",
                  "memory_over_time: grow, free 90% at random, stay lightly active, grow again; the footprint sampled "
                  "through the memory run (system allocators: the resident bytes their own statistics report, grown "
                  "since the cell began; Alloy cells: what the heap holds from its source).", "",
                  "![memory over time](plots/memory_over_time_lines.svg)", ""]
    for workload in order:
        rows = rank_rows(workload, results)
        front = pareto(rows)
        glibc = results[workload].get("glibc malloc", {}).get("ns_per_pair")
        mimalloc = results[workload].get("mimalloc", {}).get("ns_per_pair")
        rank_note = {"fragmentation": " (ranked by memory, what the pattern costs)",
                     "memory_over_time": " (ranked by retained memory after the quiet phase)"}.get(workload, "")
        lines += [f"## {workload}", "", verdict(workload, rows, cells) + rank_note, "",
                  f"![{workload}](plots/{workload}.svg)", "",
                  "| # | cell | kind | ns/pair | x glibc | x mimalloc | p99 ns | max ns | memory | retained | ext. frag. | largest free |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        shown = rows if top <= 0 else rows[:top]
        for i, r in enumerate(shown, 1):
            mark = " ★" if r["cell"] in front else ""
            lines.append(f"| {i} | {display_name(r['cell'], cells)}{mark} | {cells.get(r['cell'], {}).get('kind', '?')} | "
                         f"{fmt(r['ns_per_pair'])} | "
                         f"{fmt(speedup(glibc, r['ns_per_pair']))} | {fmt(speedup(mimalloc, r['ns_per_pair']))} | "
                         f"{fmt(r.get('p99_ns'))} | {fmt(r.get('max_ns'))} | {fmt(r.get('memory_ratio'))} | "
                         f"{fmt(r.get('retained_ratio'))} | "
                         f"{fmt(r.get('external_fragmentation'))} | {fmt_bytes(r.get('largest_free_block'))} |")
        if len(rows) > len(shown):
            lines.append(f"| … | {len(rows) - len(shown)} more cells in results.md | | | | | | | | | | |")
        errors = [(c, rec["error"]) for c, rec in results[workload].items() if rec["error"]]
        for cell, message in errors:
            lines.append(f"\n- {display_name(cell, cells)}: **{message}**")
        lines.append("")
    return "\n".join(lines)


def full_tables(results, order, cells, e2e=None):
    """Every counter of every cell, and the project's own targets: the figures behind the summary."""
    lines = ["# All figures", ""]
    goals = targets(results, cells, e2e)
    if goals:
        lines += ["## Targets (this run)", "", "| target | figure | met |", "|---|---|---|"]
        for name, figure, met in goals:
            lines.append(f"| {name} | {figure} | {'yes' if met else '**no**'} |")
        lines.append("")
    lines += end_to_end_figures(e2e)
    for workload in order:
        rows = ranked(results, workload)
        keys = sorted({k for r in rows for k in r if k not in ("cell", "error")})
        lines += [f"## {workload}", "", "| cell | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        for r in rows:
            lines.append(f"| {r['cell']} | " + " | ".join(fmt(r.get(k), 6) for k in keys) + " |")
        lines.append("")
    return "\n".join(lines)


def gnuplot(script, cwd):
    subprocess.run(["gnuplot"], input=script, text=True, cwd=cwd, check=True)


def plots(cells, results, order, out_dir):
    plot_dir = os.path.join(out_dir, "plots")
    os.makedirs(plot_dir, exist_ok=True)
    for workload in order:
        rows = ranked(results, workload)
        if not rows:
            continue
        data = os.path.join(plot_dir, f"{workload}.dat")
        with open(data, "w") as f:
            for i, r in enumerate(rows):
                colour = int(KIND_COLOUR.get(cells.get(r["cell"], {}).get("kind"), "0x000000"), 16)
                f.write(f"{i} {r['ns_per_pair']!r} {colour} \"{short_name(display_name(r['cell'], cells))}\"\n")
        height = 360 + 14 * len(rows)
        floor = min(r["ns_per_pair"] for r in rows) / 2
        gnuplot(f"""
set terminal svg size 900,{height} dynamic noenhanced font 'sans,10' background '#ffffff'
set output '{workload}.svg'
set title '{workload}: time per allocate+free pair (median; lower is better)'
set style fill solid 0.85 border -1
set boxwidth 0.7
set logscale x
set xrange [{floor!r}:*]
set xlabel 'ns per pair (log scale)'
set ytics nomirror font ',8'
set yrange [{len(rows)}:-1]
set grid xtics
unset key
plot '{workload}.dat' using 2:1:({floor!r}):2:($1-0.35):($1+0.35):3:ytic(4) with boxxyerror lc rgb variable
""", plot_dir)
        os.remove(data)
    # Heat map: every cell (row) on every workload (column), coloured by log2 of its time over
    # the fastest cell of that workload; blank where the cell cannot run the workload.
    cell_names = sorted({c for w in order for c in results[w]}, key=lambda c: (cells.get(c, {}).get("kind", ""), c))
    data = os.path.join(plot_dir, "heatmap.dat")
    with open(data, "w") as f:
        for x, workload in enumerate(order):
            rows = ranked(results, workload)
            best = rows[0]["ns_per_pair"] if rows else None
            for y, cell in enumerate(cell_names):
                rec = results[workload].get(cell)
                if rec and rec["error"] is None and best:
                    f.write(f"{x} {y} {math.log2(rec['ns_per_pair'] / best)!r}\n")
    xtics = ", ".join(f"'{w}' {i}" for i, w in enumerate(order))
    ytics = ", ".join(f"'{short_name(display_name(c, cells))}' {i}" for i, c in enumerate(cell_names))
    gnuplot(f"""
set terminal svg size {420 + 60 * len(order)},{260 + 16 * len(cell_names)} dynamic noenhanced font 'sans,9' background '#ffffff'
set output 'heatmap.svg'
set title 'time relative to the fastest cell of each workload (log2; 0 = fastest)'
set xtics ({xtics}) rotate by -40 left
set ytics ({ytics})
set xrange [-0.5:{len(order) - 0.5}]
set yrange [-0.5:{len(cell_names) - 0.5}] reverse
set cbrange [0:8]
set palette defined (0 '#1a9850', 2 '#fee08b', 5 '#d73027', 8 '#67001f')
set cblabel 'log2(time / fastest)'
set style fill solid 1.0 noborder
unset key
plot 'heatmap.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fc palette
""", plot_dir)
    os.remove(data)


def load_timelines(paths):
    """results.json -> results.timeline.json beside it (written by the runner when a workload
    samples memory over time): [{workload, cell, samples: [[ms, footprint, live, phase]]}]."""
    out = []
    for path in paths:
        side = re.sub(r"\.json$", "", path) + ".timeline.json"
        if os.path.exists(side):
            with open(side) as f:
                out += json.load(f)
    return out


def load_end_to_end(paths):
    """results.json -> results.end_to_end.json beside it (tools/trace/end-to-end.sh), or None."""
    for path in paths:
        side = re.sub(r"\.json$", "", path) + ".end_to_end.json"
        if os.path.exists(side):
            with open(side) as f:
                return json.load(f)
    return None


def trace_scatters(cells, results, order, out_dir):
    """Per trace: time against memory, one point per cell, coloured by kind, the Pareto front a line."""
    plot_dir = os.path.join(out_dir, "plots")
    for workload in [w for w in order if is_trace(w)]:
        rows = [r for r in ranked(results, workload) if comparable_memory(r)]
        if not rows:
            continue
        front = sorted((r for r in rows if r["cell"] in pareto(rows)), key=lambda r: r["ns_per_pair"])
        with open(os.path.join(plot_dir, f"{workload}_points.dat"), "w") as f:
            for r in rows:
                colour = int(KIND_COLOUR.get(cells.get(r["cell"], {}).get("kind"), "0x000000"), 16)
                f.write(f"{r['ns_per_pair']!r} {r['memory_ratio']!r} {colour} \"{short_name(display_name(r['cell'], cells))}\"\n")
        with open(os.path.join(plot_dir, f"{workload}_front.dat"), "w") as f:
            for r in front:
                f.write(f"{r['ns_per_pair']!r} {r['memory_ratio']!r}\n")
        gnuplot(f"""
set terminal svg size 900,600 dynamic noenhanced font 'sans,9' background '#ffffff'
set output '{workload}_scatter.svg'
set title '{workload}: time against memory (lower left is better; line: Pareto front)'
set xlabel 'ns per allocate+free pair (log scale)'
set ylabel 'peak memory / peak live bytes (log scale)'
set logscale xy
set grid
unset key
plot '{workload}_front.dat' using 1:2 with linespoints lc rgb '#d62728' lw 2 pt 7 ps 0.6, \\
     '{workload}_points.dat' using 1:2:3 with points pt 7 ps 0.9 lc rgb variable, \\
     '{workload}_points.dat' using 1:2:4 with labels offset 0.6,0.4 left font ',7' tc rgb '#555555'
""", plot_dir)
        os.remove(os.path.join(plot_dir, f"{workload}_points.dat"))
        os.remove(os.path.join(plot_dir, f"{workload}_front.dat"))


def timeline_plot(cells, timelines, out_dir, alloy_lines=6):
    """memory_over_time: the footprint through the phases, a line per cell — the four system
    allocators and the Alloy compositions that kept the least at the end of the quiet phase —
    and the live bytes (dashed)."""
    plot_dir = os.path.join(out_dir, "plots")
    series = [t for t in timelines if t["workload"] == "memory_over_time" and t["samples"]]
    if not series:
        return

    def retained(t):
        quiet = [s for s in t["samples"] if s[3] == "quiet" and s[2] > 0]
        return quiet[-1][1] / quiet[-1][2] if quiet else math.inf

    alloy = sorted((t for t in series if cells.get(t["cell"], {}).get("kind") == "alloy"), key=retained)[:alloy_lines]
    system = [t for t in series if t["cell"] in SYSTEM_ALLOCATORS]
    chosen = system + alloy
    plot_lines = []
    for i, t in enumerate(chosen):
        name = f"timeline_{i}.dat"
        with open(os.path.join(plot_dir, name), "w") as f:
            for ms, footprint, live, _ in t["samples"]:
                f.write(f"{ms!r} {footprint / 1048576.0!r} {live / 1048576.0!r}\n")
        style = "dt 1 lw 2" if t in system else "dt 1 lw 1.5"
        title = short_name(display_name(t["cell"], cells)).replace("'", "")
        plot_lines.append(f"'{name}' using 1:2 with lines {style} title '{title}'")
    plot_lines.append("'timeline_0.dat' using 1:3 with lines dt 2 lw 2 lc rgb '#000000' title 'live bytes'")
    gnuplot(f"""
set terminal svg size 1000,560 dynamic noenhanced font 'sans,9' background '#ffffff'
set output 'memory_over_time_lines.svg'
set title 'memory over time: grow, free 90%, quiet, grow again (footprint in MiB)'
set xlabel 'ms since the cell began'
set ylabel 'MiB'
set grid
set key outside right top
plot {', '.join(plot_lines)}
""", plot_dir)
    for i in range(len(chosen)):
        os.remove(os.path.join(plot_dir, f"timeline_{i}.dat"))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", help="Google Benchmark JSON from bench_matrix or a user matrix")
    parser.add_argument("--out", default="report", help="report folder (default: report)")
    parser.add_argument("--top", type=int, default=15, help="rows per workload in summary.md (0: all)")
    parser.add_argument("--no-plots", action="store_true", help="skip the gnuplot SVGs")
    args = parser.parse_args(argv)
    context, cells, results, order = load(args.results)
    timelines = load_timelines(args.results)
    e2e = load_end_to_end(args.results)
    if not order:
        sys.exit("alloy report: no benchmark results in " + ", ".join(args.results))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(summary(context, cells, results, order, args.top, timelines, e2e) + "\n")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(full_tables(results, order, cells, e2e) + "\n")
    if not args.no_plots:
        if shutil.which("gnuplot") is None:
            print("alloy report: gnuplot not found, plots skipped (tools/install-deps.sh installs gnuplot-nox)")
        else:
            plots(cells, results, order, args.out)
            trace_scatters(cells, results, order, args.out)
            if timelines:
                timeline_plot(cells, timelines, args.out)
    print(f"alloy report: {args.out}/summary.md ({len(order)} workloads, {len(cells)} cells)")


if __name__ == "__main__":
    main(sys.argv[1:])
