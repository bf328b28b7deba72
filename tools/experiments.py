#!/usr/bin/env python3
"""tools/experiments.py: `make bench` -- every experiment of tools/exp/ as a matrix of runs,
with a CSV, a plot and a report section each (issue 14).

    tools/experiments.py [--quick] [--jobs N] [--fresh] [--skip NAME,...] [NAME ...]

The runs of the chosen experiments (all of tools/exp.ORDER by default) go into one queue
served by --jobs workers (default: the host's cores); each run is a QEMU boot under
`-icount shift=0,sleep=off` (the guest's rdtsc counts instructions, so a run is
deterministic) or a host program.  One progress line per finished run: done/total,
elapsed, ETA.  A finished run is cached in obj/bench/cache/NAME/ under the sha256 of its
spec and of its inputs' bytes (the kernel, or the host program), so an interrupted `make bench`
resumes where it stopped and a rebuilt kernel reruns everything; --fresh ignores the cache.
Then, per experiment, obj/bench/NAME.csv, obj/bench/NAME.png and obj/bench/NAME.md, and
obj/bench/report.md gathers the sections present.  --quick runs a small matrix of each
(the smoke run of `make bench QUICK=1`, which `make test` runs) into obj/bench/quick/
instead, so that it never replaces a full report, and then checks that every CSV and PNG
it made exists and is not empty.
"""
import argparse
import concurrent.futures
import csv
import hashlib
import importlib
import json
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import exp  # noqa: E402
from exp import common  # noqa: E402

OUT = common.OUT
CACHE = os.path.join(OUT, "cache")


def sha256(path, memo={}):
    """The file's sha256, read once per run of the driver."""
    if path not in memo:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        memo[path] = h.hexdigest()
    return memo[path]


def cache_path(mod, spec):
    inputs = getattr(mod, "inputs", lambda: [common.KERNEL])()
    key = json.dumps([mod.NAME, list(spec), [sha256(p) for p in inputs]])
    return os.path.join(CACHE, mod.NAME, hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")


def hms(secs):
    secs = int(secs + 0.5)
    return "%d:%02d" % (secs // 60, secs % 60)


def run_all(mods, quick, jobs, fresh):
    """Every run of mods, cached ones first; {name: {spec: figures}}."""
    todo, results = [], {m.NAME: {} for m in mods}
    for m in mods:
        if hasattr(m, "prepare"):
            m.prepare()
        for spec in m.runs(quick):
            todo.append((m, tuple(spec)))
    total, done, lock = len(todo), [0], threading.Lock()
    t0, fresh_secs, fresh_done = time.time(), [0.0], [0]
    pending = []

    def report(m, spec, secs, cached):
        with lock:
            done[0] += 1
            if not cached:
                fresh_done[0] += 1
                fresh_secs[0] += secs
            left = sum(1 for _m, _s in pending if _s not in results[_m.NAME])
            rate = fresh_secs[0] / fresh_done[0] / jobs if fresh_done[0] else 0.0
            print("[%3d/%d] %-10s %-40s %s  elapsed %s  ETA %s" % (
                done[0], total, m.NAME, ",".join(str(x) for x in spec)[:40],
                "cached" if cached else "%5.1f s" % secs, hms(time.time() - t0), hms(rate * left)), flush=True)

    for m, spec in todo:
        path = cache_path(m, spec)
        if not fresh and os.path.exists(path):
            with open(path) as f:
                results[m.NAME][spec] = json.load(f)
            report(m, spec, 0, True)
        else:
            pending.append((m, spec))

    failed = []

    def one(item):
        """A run, tried twice: a boot killed from outside (a shared machine) is not its result."""
        m, spec = item
        t = time.time()
        for attempt in (1, 2):
            try:
                r = m.run(spec)
                break
            except BaseException as e:	# the old scripts' boots sys.exit on failure
                print("experiments: %s %s failed (attempt %d): %s" % (m.NAME, spec, attempt, str(e)[-800:]),
                      flush=True)
        else:
            failed.append((m.NAME, spec))
            return
        path = cache_path(m, spec)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump(r, f, sort_keys=True)
        os.replace(path + ".tmp", path)
        results[m.NAME][spec] = r
        report(m, spec, time.time() - t, False)

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for fut in [pool.submit(one, item) for item in pending]:
            fut.result()
    if failed:
        sys.exit("experiments: %d runs failed (the others are cached; run again to resume): %s"
                 % (len(failed), ", ".join("%s %s" % f for f in failed)))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="experiments (default: all of %s)" % ", ".join(exp.ORDER))
    ap.add_argument("--quick", action="store_true", help="a small matrix of each: the smoke run")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at once (the host's cores)")
    ap.add_argument("--fresh", action="store_true", help="ignore the cache (it is still written)")
    ap.add_argument("--skip", default="", help="experiments to leave out, comma-separated")
    args = ap.parse_args()
    names = [n for n in (args.names or exp.ORDER) if n not in args.skip.split(",")]
    unknown = [n for n in names if n not in exp.ORDER]
    if unknown:
        sys.exit("experiments: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(exp.ORDER)))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = time.time()
    out = os.path.join(OUT, "quick") if args.quick else OUT
    os.makedirs(out, exist_ok=True)
    mods = [importlib.import_module("exp." + n) for n in names]
    results = run_all(mods, args.quick, max(args.jobs, 1), args.fresh)
    made = []
    for m in mods:
        header, rows = m.table(results[m.NAME], args.quick)
        csv_path, png_path = (os.path.join(out, m.NAME + ext) for ext in (".csv", ".png"))
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        plt.rcParams.update({"svg.hashsalt": "spos", "font.size": 9})
        fig = m.plot(header, rows, plt)
        fig.savefig(png_path, dpi=90, metadata={"Software": None})
        plt.close(fig)
        text = m.section(header, rows)
        print("\n%s:\n%s\n" % (m.TITLE, text.strip()))
        with open(os.path.join(out, m.NAME + ".md"), "w") as f:
            f.write("## %s%s\n\n![%s](%s.png)\n\n%s\n\nData: [%s.csv](%s.csv).\n" % (
                m.TITLE, " (QUICK smoke run: a reduced matrix)" if args.quick else "", m.NAME, m.NAME,
                text.strip(), m.NAME, m.NAME))
        made += [csv_path, png_path]
    write_report(out)
    print("experiments: %s in %s; report: %s" % (", ".join(names), hms(time.time() - t0),
                                                 os.path.relpath(os.path.join(out, "report.md"), ROOT)))
    if args.quick:
        empty = [p for p in made if not os.path.exists(p) or os.path.getsize(p) == 0]
        if empty:
            sys.exit("experiments: empty or missing: %s" % ", ".join(empty))
        print("experiments: QUICK smoke OK: %d CSVs and PNGs, none empty" % len(made))


def write_report(out):
    """out/report.md: the sections present in out, in the order of tools/exp."""
    parts = ["# spos measured\n",
             "Generated by `make bench` (tools/experiments.py) from runs of the kernel with sha256 `%s`: every "
             "figure below comes from obj/bench/NAME.csv of this build.  Guest figures are counted under "
             "QEMU `-icount shift=0,sleep=off` (rdtsc counts guest instructions) and by the kernel's model "
             "TLB, so they are exact and repeatable, not timings.\n" % sha256(common.KERNEL)[:16]]
    for n in exp.ORDER:
        p = os.path.join(out, n + ".md")
        if os.path.exists(p):
            with open(p) as f:
                parts.append(f.read())
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
