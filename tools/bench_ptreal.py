#!/usr/bin/env python3
"""tools/bench_ptreal.py: page-table designs on the address spaces of real programs (issue 11).

`make bench-pt` runs tests/ptbench (synthetic spaces on the host), then this: the bench
workloads (user/bench.c: a 32 MiB region populated, then walked) boot under each
page-table design (pt=radix|clustered|guarded) and superpage policy, measured by the model
TLB under `-icount shift=0,sleep=off`.  For each run it reports the bytes of the design's
table when the workload ends (radix: the x86 table pages below the PML4s, 4 KiB each;
clustered and guarded: the design's own count, the papers' measure, which excludes the
x86 tables that cache it) and the memory references per model-TLB miss (radix: x86's
4/3/2 per 4K/2M/1G miss; the others: what the design's lookup of the missing address
reads).  "clustered, hash sized" gives the base hash table one bucket per block the
workload maps (pt.buckets=9: 32 MiB / 16 pages of 4 KiB = 512 nodes), as the paper sizes
it; the default sizes it to memory for many processes.  The model's misses are the same
under every design (the designs change what a miss costs, not what misses).  Writes
obj/bench/pt_real.csv.  A benchmark reports; it passes or fails nothing.
"""
import concurrent.futures
import csv
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(ROOT, "obj", "kern", "kernel")	# booted by QEMU -kernel (no GRUB)
OUT = os.path.join(ROOT, "obj", "bench")
WORKLOADS = ["seq", "gups"]
POLICIES = ["base", "reserve"]
DESIGNS = [("radix", "pt=radix"), ("clustered", "pt=clustered"),
           ("clustered, hash sized", "pt=clustered pt.buckets=9"), ("guarded", "pt=guarded")]
LINE = re.compile(r"^bench: (\w+) measured (\d): (.*)$", re.M)


def boot(workload, policy, words):
    cmdline = "vm.policy=%s %s run=bench,,%s,,1" % (policy, words, workload)
    cmd = ["qemu-system-x86_64", "-icount", "shift=0,sleep=off", "-cpu", "max", "-m", "256M",
           "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", KERNEL,
           "-fw_cfg", "name=opt/spos/cmdline,string=" + cmdline]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=900)
    out = p.stdout.decode("utf-8", "replace")
    m = LINE.search(out)
    if not m or "run: no leak" not in out:
        sys.exit("bench_ptreal: %s under %s (%s) failed:\n%s" % (workload, policy, words, out[-2000:]))
    f = m.group(3).split()
    return {k: int(v) for k, v in zip(f[0::2], f[1::2])}


def table(runs, results):
    """(header, rows) for the runs [(workload, policy, design name, boot words)] and their figures."""
    header = ["workload", "policy", "design", "boot_words", "table_bytes", "pct_of_radix", "misses", "refs",
              "refs_per_miss"]
    rows, radix = [], {}
    for spec in runs:
        w, p, name, words = spec
        r = results[spec]
        misses = r["misses4k"] + r["misses2m"] + r["misses1g"]
        if name == "radix":
            nbytes, refs = r["x86ptpages"] * 4096, r["walkrefs"]
            radix[(w, p)] = nbytes
        else:
            nbytes, refs = r["ptbytes"], r["ptrefs"]
        rows.append([w, p, name, words, nbytes, "%.1f" % (100.0 * nbytes / max(radix[(w, p)], 1)), misses, refs,
                     "%.2f" % (refs / max(misses, 1))])
    return header, rows


def main():
    os.makedirs(OUT, exist_ok=True)
    runs = [(w, p, name, words) for w in WORKLOADS for p in POLICIES for (name, words) in DESIGNS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = dict(zip(runs, pool.map(lambda r: boot(r[0], r[1], r[3]), runs)))
    header, rows = table(runs, results)
    fmt = "%-9s %-8s %-22s %12s %12s %10s %10s"
    print(fmt % ("workload", "policy", "design", "table bytes", "% of radix", "misses", "refs/miss"))
    print("-" * 89)
    for r in rows:
        print(fmt % (r[0], r[1], r[2], r[4], r[5], r[6], r[8]))
    with open(os.path.join(OUT, "pt_real.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(header)
        wr.writerows(rows)
    print("\ntable bytes: radix counts every x86 table page below the PML4 (the program's text, stack")
    print("and 32 MiB region); the designs their own nodes and hash arrays, at the workload's end.")
    print("CSV: %s" % os.path.relpath(os.path.join(OUT, "pt_real.csv"), ROOT))


if __name__ == "__main__":
    main()
