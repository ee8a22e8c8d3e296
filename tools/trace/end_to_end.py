#!/usr/bin/python3
"""The advice checked end to end (issue 17, item 4): each program of the trace suite run under its
advised preload library and under glibc, jemalloc, tcmalloc and mimalloc — wall and CPU time,
peak RSS, output compared — written as JSON for the report (tools/report/report.py reads
results.end_to_end.json beside results.json).

    /usr/bin/python3 tools/trace/end_to_end.py ADVICE.tsv LIBDIR OUT.json [--scale N] [--reps N]
        [--programs python3,sqlite3,...] [--also NAME=LIB.so ...] [--count] [--list-libraries]

ADVICE.tsv is bench_matrix --emit-preload's (program, library, composition), LIBDIR holds the
built lib<library>.so. The programs and their inputs are tools/trace/suite/programs.sh's, the
very commands the suite's traces were recorded from. --also runs more libraries beside them on
every program (the main job: `default`, liballoy_malloc.so, so the table shows what the advice
gains over the library a user gets without it). Each repetition runs every program under
every allocator, the allocator order rotating from one repetition to the next; the figures are
medians. CPU time (user + system of the program and its children, from wait4) is less
disturbed than wall time by other load on the machine.

--count adds one run of every program under every allocator inside cachegrind (valgrind): the
instructions executed and the first-level and last-level data cache misses of a simulated cache,
summed over the program's processes. Those do not move with the machine's load, so they settle
what CPU time on a shared machine cannot: whether one allocator's program does less work than
another's, within a percent. They are not time: a simulated miss costs what the real one would
only roughly, and page faults and system calls are not in them (the timed runs have those).
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS_SH = os.path.join(HERE, "suite", "programs.sh")
# The system allocators bench/common/preload.hpp preloads for bench_programs and bench_process.
LIB = "/usr/lib/x86_64-linux-gnu/"
SYSTEM = [("glibc", ""), ("jemalloc", LIB + "libjemalloc.so.2"), ("tcmalloc", LIB + "libtcmalloc_minimal.so.4"),
          ("mimalloc", LIB + "libmimalloc.so.2")]
# Not run end to end: redis-server's CPU time is its I/O threads spinning while redis-benchmark
# drives it (allocator-blind), its wall time the load's, and one run took 16 s on this machine.
NOT_RUN = {"redis": "its CPU time is the I/O threads' spinning under redis-benchmark, not allocation"}


# What --count reads of each process's cachegrind summary: instructions, D1 and LL data misses.
COUNTED = {"instructions": r"I\s+refs:\s+([\d,]+)", "d1_misses": r"D1\s+misses:\s+([\d,]+)",
           "ll_misses": r"LLd\s+misses:\s+([\d,]+)"}


def suite_env(preload, wrap=None):
    """The environment of one run of programs.sh: the preload (none for glibc), the wrapper."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("SUITE_WRAP", None)
    if preload:
        env["SUITE_PRELOAD"] = preload
    else:
        env.pop("SUITE_PRELOAD", None)
    if wrap:
        env["SUITE_WRAP"] = wrap
    return env


def count_once(program, work, scale, preload):
    """One run inside cachegrind: ({figure: count summed over the program's processes}, stdout)."""
    logs = tempfile.mkdtemp(prefix="alloy-e2e-count-")
    wrap = (f"valgrind --tool=cachegrind --cache-sim=yes --trace-children=yes --cachegrind-out-file=/dev/null "
            f"--log-file={logs}/%p.log")
    done = subprocess.run([PROGRAMS_SH, "run", program, work, str(scale)], capture_output=True,
                          env=suite_env(preload, wrap))
    if done.returncode != 0:
        sys.exit(f"end-to-end: {program} under {preload or 'glibc'} in cachegrind exited with {done.returncode}")
    counts = dict.fromkeys(COUNTED, 0)
    for log in glob.glob(os.path.join(logs, "*.log")):
        with open(log) as f:
            text = f.read()
        for figure, pattern in COUNTED.items():
            found = re.search(pattern, text)
            counts[figure] += int(found.group(1).replace(",", "")) if found else 0
    shutil.rmtree(logs)
    if not all(counts.values()):
        sys.exit(f"end-to-end: cachegrind counted nothing of {program} under {preload or 'glibc'}: {counts}")
    return counts, done.stdout


def run_once(program, work, scale, preload):
    """One run: (wall ms, CPU ms, peak RSS MiB, stdout, minor page faults)."""
    env = suite_env(preload)
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        child = subprocess.Popen([PROGRAMS_SH, "run", program, work, str(scale)], stdout=out, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.exit(f"end-to-end: {program} under {preload or 'glibc'} exited with {child.returncode}")
        out.seek(0)
        output = out.read()
    return wall * 1e3, (usage.ru_utime + usage.ru_stime) * 1e3, usage.ru_maxrss / 1024.0, output, usage.ru_minflt


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("advice", help="advice.tsv from bench_matrix --emit-preload")
    parser.add_argument("libdir", help="the folder holding the built advised libraries")
    parser.add_argument("out", help="the JSON to write (results.end_to_end.json beside results.json)")
    parser.add_argument("--scale", type=int, default=2, help="programs.sh's input scale (the suite's: 2, smoke 1)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--programs", default="", help="comma-separated subset (default: every advised program)")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=LIB.so",
                        help="another library to run every program under, beside the advised one (repeatable)")
    parser.add_argument("--count", action="store_true",
                        help="also one run of each inside cachegrind: instructions and simulated cache misses")
    parser.add_argument("--list-libraries", action="store_true",
                        help="only print the libraries the runs need (the ones to build), one a line")
    args = parser.parse_args(argv)

    advised = {}
    with open(args.advice) as f:
        for line in f:
            program, library, cell = line.rstrip("\n").split("\t")
            advised[program] = {"library": library, "cell": cell,
                                "path": os.path.abspath(os.path.join(args.libdir, f"lib{library}.so"))}
    # The suite's programs only: a trace of another program (the shipped python_threads) has no command here.
    suite = subprocess.run([PROGRAMS_SH, "names"], check=True, capture_output=True, text=True).stdout.split()
    chosen = [p for p in (args.programs.split(",") if args.programs else suite) if p in advised and p in suite]
    skipped = {p: NOT_RUN[p] for p in chosen if p in NOT_RUN}
    programs = [p for p in chosen if p not in NOT_RUN]
    if args.list_libraries:
        print("\n".join(sorted({advised[p]["library"] for p in programs})))
        return 0
    for p in programs:
        if not os.path.exists(advised[p]["path"]):
            sys.exit(f"end-to-end: {advised[p]['path']} (the advised library of {p}) is not built")
    allocators = [(name, path) for name, path in SYSTEM if not path or os.path.exists(path)]
    also = []
    for spec in args.also:
        name, _, path = spec.partition("=")
        if not path or name in dict(allocators) or name == "advised":
            sys.exit(f"end-to-end: --also {spec}: NAME=LIB.so, NAME not a system allocator's nor 'advised'")
        if not os.path.exists(path):
            sys.exit(f"end-to-end: --also {spec}: {path} is not built")
        also.append((name, os.path.abspath(path)))
    load_start = list(os.getloadavg())

    work = tempfile.mkdtemp(prefix="alloy-e2e-")
    subprocess.run([PROGRAMS_SH, "inputs", work, str(args.scale)], check=True)
    samples = {p: {} for p in programs}  # program -> allocator -> [(wall, cpu, rss, faults)]
    first_output = {}  # program -> its first run's output, which every other run must repeat
    same_output = {p: True for p in programs}

    def compare_output(p, name, output, how=""):
        if first_output.setdefault(p, output) != output:
            same_output[p] = False
            print(f"end-to-end: {p}'s output under {name}{how} differs", file=sys.stderr)

    for rep in range(args.reps):
        for p in programs:
            under = allocators + also + [("advised", advised[p]["path"])]
            shift = rep % len(under)
            for name, path in under[shift:] + under[:shift]:
                wall, cpu, rss, output, faults = run_once(p, work, args.scale, path)
                samples[p].setdefault(name, []).append((wall, cpu, rss, faults))
                compare_output(p, name, output)
        print(f"end-to-end: repetition {rep + 1}/{args.reps} done", flush=True)
    counted = {p: {} for p in programs}  # program -> allocator -> {figure: count}
    if args.count:
        if shutil.which("valgrind") is None:
            sys.exit("end-to-end: --count needs valgrind (tools/install-deps.sh installs it)")
        for p in programs:
            for name, path in allocators + also + [("advised", advised[p]["path"])]:
                counted[p][name], output = count_once(p, work, args.scale, path)
                compare_output(p, name, output, " in cachegrind")
            print(f"end-to-end: {p} counted", flush=True)
    subprocess.run(["rm", "-rf", work], check=True)

    # The load average when the runs started and when they ended (1, 5, 15 minutes): CPU time is
    # less disturbed by other load than wall time, not undisturbed (caches and cores are shared).
    result = {"reps": args.reps, "scale": args.scale, "load_avg_start": load_start, "load_avg": list(os.getloadavg()),
              "systems": [name for name, _ in allocators], "also": {name: path for name, path in also},
              "not_run": skipped, "programs": []}
    for p in programs:
        runs = {name: {"wall_ms": statistics.median(s[0] for s in runs),
                       "cpu_ms": statistics.median(s[1] for s in runs),
                       "peak_rss_mib": statistics.median(s[2] for s in runs),
                       # Minor faults: a page touched for the first time, what a warm replay never pays.
                       "minor_faults": statistics.median(s[3] for s in runs),
                       "cpu_ms_each": [round(s[1], 1) for s in runs]} for name, runs in samples[p].items()}
        for name, counts in counted[p].items():
            runs[name]["counted"] = counts
        result["programs"].append({"program": p, "library": advised[p]["library"], "cell": advised[p]["cell"],
                                   "same_output": same_output[p], "runs": runs})
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"end-to-end: {args.out}")
    return 0 if all(same_output.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
