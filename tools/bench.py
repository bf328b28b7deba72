#!/usr/bin/env python3
"""tools/bench.py: `make bench` -- workloads x superpage policies, one QEMU boot each.

Each run boots obj/kern/kernel with vm.policy=POLICY run=bench,WORKLOAD under
`-icount shift=0,sleep=off`, so the guest's rdtsc counts guest instructions exactly and
the run is reproducible.  It prints a table and writes obj/bench/results.csv with the
model TLB's misses per TLB, page-walk references, the populate phase's page faults,
promotions and memory used, and guest instructions of the workload phase.  Two more
runs of gups under vm.policy=base give the cost of measuring: guest instructions with
the model on vs off (a ratio from one build, and guest instructions per trap taken),
and traps per second of host time (without -icount, where the 100 Hz timer follows the
host clock).  One more run measures with a shadow model beside the default one
(SHADOW): the cost per trap with two models; obj/bench/cost.csv has both.
A benchmark reports; it passes or fails nothing.
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
WORKLOADS = ["seq", "stride", "gups", "transpose"]
POLICIES = ["base", "eager", "reserve"]
LINE = re.compile(r"^bench: (\w+) measured (\d): (.*)$", re.M)
SHADOW = "tlb.shadow.4k=1536:12:clock tlb.shadow.2m=32:4:fifo"


def boot(policy, workload, measure=1, icount=True, words=""):
    cmd = ["qemu-system-x86_64", "-cpu", "max", "-m", "256M", "-display", "none", "-serial", "stdio",
           "-monitor", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", KERNEL, "-fw_cfg",
           "name=opt/spos/cmdline,string=vm.policy=%s %s run=bench,,%s,,%d" % (policy, words, workload, measure)]
    if icount:
        cmd[1:1] = ["-icount", "shift=0,sleep=off"]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=600)
    out = p.stdout.decode("utf-8", "replace")
    m = LINE.search(out)
    if not m or "run: no leak" not in out:
        sys.exit("bench: %s under %s failed:\n%s" % (workload, policy, out[-2000:]))
    words = m.group(3).split()
    return {k: int(v) for k, v in zip(words[0::2], words[1::2])}


def main():
    os.makedirs(OUT, exist_ok=True)
    runs = [(w, p) for w in WORKLOADS for p in POLICIES]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = dict(zip(runs, pool.map(lambda r: boot(r[1], r[0]), runs)))
        on = pool.submit(boot, "base", "gups", 1)
        off = pool.submit(boot, "base", "gups", 0)
        timed = pool.submit(boot, "base", "gups", 1, False)
        two = pool.submit(boot, "base", "gups", 1, True, SHADOW)
        on, off, timed, two = on.result(), off.result(), timed.result(), two.result()

    cols = ["misses4k", "misses2m", "misses1g", "walkrefs", "faults", "promotions2m", "eager2m",
            "usedkib", "tsc"]
    head = "%-10s %-8s" % ("workload", "policy") + "".join("%13s" % c for c in cols[:-1]) + "%15s" % "instructions"
    print(head)
    print("-" * len(head))
    with open(os.path.join(OUT, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "policy"] + cols[:-1] + ["instructions"])
        for (workload, policy) in runs:
            r = results[(workload, policy)]
            row = [r[c] for c in cols]
            print("%-10s %-8s" % (workload, policy) + "".join("%13d" % v for v in row[:-1]) + "%15d" % row[-1])
            w.writerow([workload, policy] + row)
    print("\nmisses, walkrefs and instructions: the workload phase, measured by the model TLB;")
    print("faults, promotions, eager2m, usedkib: populating the 32 MiB region first.")
    ratio = on["tsc"] / max(off["tsc"], 1)
    print("\ncost of measuring (gups, vm.policy=base): %d guest instructions with the model, %d without: "
          "%.1fx" % (on["tsc"], off["tsc"], ratio))
    with open(os.path.join(OUT, "cost.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["models", "boot_words", "traps_taken", "instructions_on", "instructions_off",
                    "instructions_per_trap"])
        for models, words, r in ((1, "", on), (2, SHADOW, two)):
            per_trap = (r["tsc"] - off["tsc"]) / max(r["taken"], 1)
            print("guest instructions per trap, %s: (%d - %d) / %d traps = %.0f"
                  % ("one model" if models == 1 else "two models (" + words + ")", r["tsc"], off["tsc"],
                     r["taken"], per_trap))
            w.writerow([models, words, r["taken"], r["tsc"], off["tsc"], "%.0f" % per_trap])
    secs = timed["ticks"] / 100.0
    if secs > 0:
        print("traps per second of host time (no -icount): %d traps in %.2f s = %.0f/s"
              % (timed["traps"], secs, timed["traps"] / secs))
    print("\nCSV: %s" % os.path.relpath(os.path.join(OUT, "results.csv"), ROOT))


if __name__ == "__main__":
    main()
