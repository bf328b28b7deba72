#!/usr/bin/env python3
"""tools/bench_overlay.py: `make bench-overlay` (also run by `make bench`) -- the
fork-checkpoint benchmark of page overlays (issue 10), one QEMU boot per point.

A process populates 64 MiB of 2 MiB pages (vm.policy=eager), forks a child that holds
the snapshot, writes one byte into a fraction f of its 4 KiB pages, and sweeps its memory
once under the model TLB (user/ovlbench.c).  For each copy-on-write policy (cow=overlay,
copy2m, split) and f in 0.1%, 1%, 10%, 50%, and once without fork (the baseline sweep),
it reports bytes copied, memory the writes took, guest instructions per first write
(mean and median, the copy included: -icount shift=0 makes rdtsc count instructions),
the sweep's modelled misses and walk references, and the table pages (the OMT's and the
MMU's).  overlay-folded is cow=overlay with omt=folded (no separate OMT).  Writes obj/bench/overlay.csv.  Reports only.
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
POLICIES = ["overlay", "overlay-folded", "copy2m", "split"]
PERMILLE = [1, 10, 100, 500]
LINE = re.compile(r"^ovlbench: (.*)$", re.M)


def boot(cow, permille, nofork=False):
    run = "run=ovlbench,,%d%s" % (permille, ",,nofork" if nofork else "")
    cmd = ["qemu-system-x86_64", "-icount", "shift=0,sleep=off", "-cpu", "max", "-m", "256M", "-display", "none",
           "-serial", "stdio", "-monitor", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", KERNEL, "-fw_cfg",
           "name=opt/spos/cmdline,string=vm.policy=eager cow=%s %s %s"
           % (cow.split("-")[0], "omt=folded" if cow.endswith("folded") else "", run)]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=900)
    out = p.stdout.decode("utf-8", "replace")
    m = LINE.search(out)
    if not m or "run: no leak" not in out:
        sys.exit("bench_overlay: cow=%s permille %d failed:\n%s" % (cow, permille, out[-2000:]))
    words = m.group(1).split()
    return {k: int(v) for k, v in zip(words[0::2], words[1::2])}


def main():
    os.makedirs(OUT, exist_ok=True)
    runs = [(c, f) for c in POLICIES for f in PERMILLE]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        base = pool.submit(boot, "overlay", 0, True)
        results = dict(zip(runs, pool.map(lambda r: boot(*r), runs)))
        base = base.result()
    cols = ["writes", "copied_bytes", "used_kib", "firstwrite_insns", "firstwrite_p50", "sweep_misses4k",
            "sweep_misses2m", "sweep_omt_walks", "sweep_walkrefs", "omt_pages", "pt_pages"]
    head = "%-15s %6s" % ("cow", "f") + "".join("%16s" % c for c in cols) + "%14s" % "mem/copy2m"
    print("fork-checkpoint: 64 MiB of 2 MiB pages, the child holds the snapshot, the parent writes f of its pages")
    print(head)
    print("-" * len(head))
    with open(os.path.join(OUT, "overlay.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cow", "permille"] + cols + ["mem_vs_copy2m"])
        for (cow, f) in runs:
            r = results[(cow, f)]
            ref = results[("copy2m", f)]["used_kib"]
            ratio = r["used_kib"] / ref if ref else 0.0
            print("%-15s %5.1f%%" % (cow, f / 10.0) + "".join("%16d" % r[c] for c in cols) + "%14.3f" % ratio)
            w.writerow([cow, f] + [r[c] for c in cols] + ["%.4f" % ratio])
        print("%-15s %6s" % ("no fork", "-") + "".join("%16d" % base[c] for c in cols))
        w.writerow(["nofork", 0] + [base[c] for c in cols] + [""])
    print("\nused_kib: memory the writes took; firstwrite: guest instructions per first write, copy included;")
    print("sweep: one load per 4 KiB page of the 64 MiB, counted by the model TLB (the parent's view).")
    print("CSV: %s" % os.path.relpath(os.path.join(OUT, "overlay.csv"), ROOT))


if __name__ == "__main__":
    main()
