#!/usr/bin/env python3
"""tools/bench_hugemap.py: the threshold sweep for /dev/hugemap (issue 12), measured in spos.

/dev/hugemap gives a 2 MiB block of a request one 2 MiB page when the request covers
at least HUGEMAP_THRESHOLD percent of it (kern/mm/policy.c), else 4 KiB pages.  A low
threshold buys TLB reach with memory bloat (the part of each 2 MiB page beyond the
request); a high one saves memory and pays TLB misses.

Each run boots obj/kern/kernel once with hugemap.threshold=T run=hugemap_bench,DIST,SEED,COUNT
under `-icount shift=0,sleep=off` (reproducible; rdtsc counts guest instructions), for T
from 10% to 100% in steps of 10 plus the default (HUGEMAP_THRESHOLD) and 55%, DIST in
uniform (4 KiB..8 MiB), lognormal (around 1 MiB) and trace (user/hugemap.c's sizes),
and SEEDS seeds; the runs go in parallel on the host's cores.  user/hugemap_bench.c maps COUNT requests at once,
touches them, and measures ACCESSES random 8-byte loads over the requested bytes with
the model TLB (its default geometry: 64-entry 4-way 4 KiB and 32-entry 4-way 2 MiB,
clock).  Per threshold and distribution, over the seeds together:

  bloat%    bytes of 2 MiB pages beyond the requests, percent of the requested bytes
  miss/1k   model TLB misses (4 KiB + 2 MiB) per 1000 loads of the workload
  walk/1k   page-walk memory references per 1000 loads
  cost      bloat%/max bloat% + miss/max miss, the maxima over the thresholds of that
            distribution: each side counted against its worst case in the sweep

The chosen threshold is the one of least total cost (the three distributions' costs
summed); on a tie the higher threshold, which bloats less.  Writes obj/bench/hugemap.csv.
A benchmark reports; it passes or fails nothing (a run that fails its own checks stops it).

    tools/bench_hugemap.py [--count N] [--seeds N] [--accesses N]      (make bench-hugemap)
"""
import argparse
import concurrent.futures
import csv
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(ROOT, "obj", "kern", "kernel")	# booted by QEMU -kernel (no GRUB)
OUT = os.path.join(ROOT, "obj", "bench")


def default_threshold():
    """HUGEMAP_THRESHOLD as kern/mm/policy.c defines it."""
    with open(os.path.join(ROOT, "kern", "mm", "policy.c")) as f:
        return int(re.search(r"^#define HUGEMAP_THRESHOLD\s+(\d+)", f.read(), re.M).group(1))


# 55: the host model's choice before the sweep was measured
THRESHOLDS = sorted(set(range(10, 101, 10)) | {default_threshold(), 55})
DISTS = ["uniform", "lognormal", "trace"]
LINE = re.compile(r"^hugemap_bench: (.*)$", re.M)
SUMMED = ["requested", "mapped", "bloat", "huge2m", "fallbacks", "misses4k", "misses2m", "walkrefs", "tsc",
          "accesses"]


def boot(threshold, dist, seed, count, accesses):
    cmd = ["qemu-system-x86_64", "-icount", "shift=0,sleep=off", "-cpu", "max", "-m", "256M", "-display", "none",
           "-serial", "stdio", "-monitor", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", KERNEL, "-fw_cfg",
           "name=opt/spos/cmdline,string=hugemap.threshold=%d run=hugemap_bench,,%s,,%d,,%d,,%d"
           % (threshold, dist, seed, count, accesses)]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    m = LINE.search(out)
    if not m or "run: no leak" not in out:
        sys.exit("bench-hugemap: %s seed %d at %d%% failed:\n%s" % (dist, seed, threshold, out[-2000:]))
    words = m.group(1).split()
    r = dict(zip(words[0::2], words[1::2]))
    if int(r["threshold"]) != threshold:
        sys.exit("bench-hugemap: booted with hugemap.threshold=%d, the kernel used %s" % (threshold, r["threshold"]))
    return {k: int(r[k]) for k in SUMMED}


def aggregate(results, thresholds, dists):
    """From {(threshold, dist, seed): figures}: the sums per (threshold, dist) with bloat_pct,
    miss_1k, walk_1k and cost; the total cost per threshold; the chosen threshold."""
    agg = {}
    for (t, d, s), r in results.items():
        a = agg.setdefault((t, d), dict.fromkeys(SUMMED, 0))
        for k in SUMMED:
            a[k] += r[k]
    for a in agg.values():
        a["bloat_pct"] = 100.0 * a["bloat"] / a["requested"]
        a["miss_1k"] = 1000.0 * (a["misses4k"] + a["misses2m"]) / a["accesses"]
        a["walk_1k"] = 1000.0 * a["walkrefs"] / a["accesses"]
    total = dict.fromkeys(thresholds, 0.0)
    for d in dists:
        worst_bloat = max(agg[(t, d)]["bloat_pct"] for t in thresholds) or 1.0
        worst_miss = max(agg[(t, d)]["miss_1k"] for t in thresholds) or 1.0
        for t in thresholds:
            a = agg[(t, d)]
            a["cost"] = a["bloat_pct"] / worst_bloat + a["miss_1k"] / worst_miss
            total[t] += a["cost"]
    best = min(thresholds, key=lambda t: (round(total[t], 9), -t))
    return agg, total, best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=16, help="requests mapped at once per run (16)")
    ap.add_argument("--seeds", type=int, default=4, help="seeds 1..N per threshold and distribution (4)")
    ap.add_argument("--accesses", type=int, default=100000, help="loads of the measured workload (100000)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    runs = [(t, d, s) for t in THRESHOLDS for d in DISTS for s in range(1, args.seeds + 1)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = dict(zip(runs, pool.map(lambda r: boot(r[0], r[1], r[2], args.count, args.accesses), runs)))

    agg, total, best = aggregate(results, THRESHOLDS, DISTS)

    print("measured in spos: %d requests per run, seeds 1..%d, %d loads per run, model TLB 64x4 4 KiB + "
          "32x4 2 MiB\n" % (args.count, args.seeds, args.accesses))
    head = "%-10s %9s" % ("dist", "threshold") + "".join("%10s" % c for c in
                                                         ("bloat%", "miss/1k", "walk/1k", "2M pages", "fallback",
                                                          "Minstr", "cost"))
    print(head)
    print("-" * len(head))
    with open(os.path.join(OUT, "hugemap.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dist", "threshold", "seeds", "count", "requested", "mapped", "bloat", "bloat_pct", "huge2m",
                    "fallbacks", "accesses", "misses4k", "misses2m", "miss_per_1k", "walkrefs", "walk_per_1k",
                    "instructions", "cost"])
        for d in DISTS:
            for t in THRESHOLDS:
                a = agg[(t, d)]
                print("%-10s %8d%%%10.2f%10.1f%10.1f%10d%10d%10.1f%10.3f"
                      % (d, t, a["bloat_pct"], a["miss_1k"], a["walk_1k"], a["huge2m"], a["fallbacks"],
                         a["tsc"] / 1e6, a["cost"]))
                w.writerow([d, t, args.seeds, args.count, a["requested"], a["mapped"], a["bloat"],
                            "%.3f" % a["bloat_pct"], a["huge2m"], a["fallbacks"], a["accesses"], a["misses4k"],
                            a["misses2m"], "%.2f" % a["miss_1k"], a["walkrefs"], "%.2f" % a["walk_1k"], a["tsc"],
                            "%.4f" % a["cost"]])
            print()
    print("total cost: " + ", ".join("%d%% %.3f" % (t, total[t]) for t in THRESHOLDS))
    print("bench-hugemap: chosen HUGEMAP_THRESHOLD %d (least total cost; ties to the higher threshold)" % best)
    print("CSV: %s" % os.path.relpath(os.path.join(OUT, "hugemap.csv"), ROOT))


if __name__ == "__main__":
    main()
