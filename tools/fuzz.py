#!/usr/bin/env python3
"""tools/fuzz.py: long fuzzing campaigns (make fuzz).

Boots spos once per job with run=fuzz,SEED,CALLS,SLICE[,OPTS] under each configuration
(vm.policy base, eager, reserve, reserve with the model TLB measuring, base under the
most aggressive page daemon, and tagged model TLBs with 4 tags), seeds
FIRST, FIRST+1, ..., jobs in parallel on the cores, until TOTAL calls are made.  A
job passes when QEMU exits with success and the fuzzer's last line says OK; a panic,
kernel fault, invariant violation, leak, killed fuzzer or timeout fails it.  Prints
each failure with its seed and the exact command to reproduce it, then a summary.

    tools/fuzz.py [--calls 1000000] [--per-job 20000] [--slice 1000] [--seed 1]
                  [--jobs N] [--configs base,eager,reserve,tlb,daemon,tag] [--opts k] [--mem 128M]
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(ROOT, "obj", "kern", "kernel")
OUT = os.path.join(ROOT, "obj", "fuzz")
CONFIGS = {
    "base": ("vm.policy=base", ""),
    "eager": ("vm.policy=eager", ""),
    "reserve": ("vm.policy=reserve", ""),
    "tlb": ("vm.policy=reserve", "t"),
    # the daemon at its most aggressive (issue 15's livelock configuration)
    "daemon": ("vm.policy=base vm.daemon.period=1 vm.daemon.target=64 vm.daemon.low=100000", ""),
    # measured processes forking under tagged model TLBs with few tags (recycled at once)
    "tag": ("vm.policy=reserve tlb.mode=tag tlb.tags=4", "t"),
}


def qemu_command(mem, words):
    return ["qemu-system-x86_64", "-cpu", "max", "-m", mem, "-display", "none", "-serial", "stdio",
            "-monitor", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", KERNEL, "-fw_cfg", "name=opt/spos/cmdline,string=" + words.replace(",", ",,")]


def run_job(job):
    config, seed, calls, args = job
    boot, opts = CONFIGS[config]
    opts += args.opts
    words = "%s %s run=fuzz,%d,%d,%d%s" % (boot, args.extra, seed, calls, args.slice,
                                           "," + opts if opts else "")
    words = " ".join(words.split())
    cmd = qemu_command(args.mem, words)
    start = time.time()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=args.timeout)
        out, status, why = p.stdout.decode("utf-8", "replace"), p.returncode, None
    except subprocess.TimeoutExpired as e:
        out, status, why = (e.stdout or b"").decode("utf-8", "replace"), None, "timeout after %ds" % args.timeout
    ok = re.search(r"fuzz: seed %d: \d+ calls, \d+ children, 0 violations, OK" % seed, out)
    if not why:
        if re.search(r"kernel panic at|kernel fault:", out):
            why = "kernel panic or fault"
        elif re.search(r"^invariant: [1-9]\d* violations|fuzz: FAIL", out, re.M):
            why = "fuzzer failure or invariant violations"
        elif "LEAK" in out:
            why = "leak"
        elif status != 33 or not ok:
            why = "exit status %s, fuzzer %s" % (status, "OK" if ok else "not OK")
    log = os.path.join(OUT, "%s-%d.out" % (config, seed))
    with open(log, "w") as f:
        f.write(out)
    repro = "make qemu MEM=%s ARGS=\"%s\"" % (args.mem, words)
    return config, seed, calls, why, time.time() - start, log, repro, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1000000, help="total system calls (default 10^6)")
    ap.add_argument("--per-job", type=int, default=20000, help="calls per boot")
    ap.add_argument("--slice", type=int, default=1000, help="calls between invariant checks")
    ap.add_argument("--seed", type=int, default=1, help="first seed")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="QEMUs at once")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--opts", default="k", help="extra fuzzer option letters (k: kill pids that alias in 32 bits; H: keep off the heap)")
    ap.add_argument("--extra", default="", help="extra kernel command-line words")
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    configs = args.configs.split(",")
    for c in configs:
        if c not in CONFIGS:
            sys.exit("unknown config %s (have %s)" % (c, ", ".join(CONFIGS)))
    os.makedirs(OUT, exist_ok=True)
    jobs, total, seed = [], 0, args.seed
    while total < args.calls:
        for c in configs:
            n = min(args.per_job, args.calls - total)
            if n <= 0:
                break
            jobs.append((c, seed, n, args))
            total += n
        seed += 1
    print("fuzz: %d calls in %d boots (%s), %d at a time; logs in %s" %
          (total, len(jobs), ", ".join(configs), args.jobs, OUT), flush=True)
    failures, done_calls = [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for config, seed, calls, why, secs, log, repro, out in pool.map(run_job, jobs):
            if why:
                failures.append((config, seed, why, repro, log))
                tail = "\n".join("    " + l for l in out.strip().splitlines()[-6:])
                print("FAIL %s seed %d: %s (%.0fs)\n  reproduce: %s\n  log: %s\n%s" %
                      (config, seed, why, secs, repro, log, tail), flush=True)
            else:
                done_calls += calls
                print("ok   %s seed %d: %d calls (%.0fs)" % (config, seed, calls, secs), flush=True)
    print("fuzz: %d boots, %d failed; %d calls in passing boots" % (len(jobs), len(failures), done_calls))
    for config, seed, why, repro, log in failures:
        print("  failed: %s seed %d: %s: %s" % (config, seed, why, repro))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
