#!/usr/bin/env python3
"""tools/insnprof.py: where the guest instructions of a window go, function by function.

Builds tools/insnprof.c (a QEMU 7.2 TCG plugin), boots obj/kern/kernel (QEMU -kernel, as
the grader does) under the same QEMU flags as make bench-peer (-icount shift=0,sleep=off) with the plugin counting the instructions
executed between two addresses of a user program, and prints the functions (kernel
and user) by instructions per window.

  tools/insnprof.py --prog probe --on fork_cost:rdtsc:1 --off fork_cost:rdtsc:2 \\
      --cmdline "vm.policy=base run=probe"

--on/--off name an instruction as FUNCTION:MNEMONIC:N, the N-th instruction with that
mnemonic in FUNCTION of obj/user/PROG (or a hex address).  Everything the CPU runs
between them counts, kernel and user, including other processes scheduled meanwhile.
A tool for finding slow paths; its figures are not benchmark results.
"""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.path.join(ROOT, "obj", "tools", "insnprof.so")
QEMU = ["qemu-system-x86_64", "-nodefaults", "-no-user-config", "-machine", "pc", "-accel", "tcg",
        "-cpu", "max", "-smp", "1", "-m", "1G", "-icount", "shift=0,sleep=off", "-seed", "1",
        "-rtc", "base=2024-01-01T00:00:00,clock=vm", "-display", "none", "-serial", "stdio",
        "-nic", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def build_plugin():
    src = os.path.join(ROOT, "tools", "insnprof.c")
    if os.path.exists(PLUGIN) and os.path.getmtime(PLUGIN) >= os.path.getmtime(src):
        return
    os.makedirs(os.path.dirname(PLUGIN), exist_ok=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden",
                    "-o", PLUGIN, src], check=True)


def symbols(elf):
    """Sorted (address, name) of the text symbols of elf."""
    out = subprocess.run(["nm", "-n", elf], check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    return syms


def resolve(spec, elf):
    """The address named by FUNCTION:MNEMONIC:N or hex."""
    if re.fullmatch(r"(0x)?[0-9a-fA-F]+", spec):
        return int(spec, 16)
    func, mnem, nth = spec.split(":")
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf], check=True, capture_output=True,
                         text=True).stdout
    body = re.search(r"^[0-9a-f]+ <%s>:\n(.*?)(?:\n\n|\Z)" % re.escape(func), dis, re.S | re.M)
    if not body:
        sys.exit("insnprof: no function %s in %s" % (func, elf))
    hits = [int(m.group(1), 16) for m in re.finditer(r"^\s*([0-9a-f]+):\s+(\S+)", body.group(1), re.M)
            if m.group(2) == mnem]
    if len(hits) < int(nth):
        sys.exit("insnprof: %s has %d %s instructions" % (func, len(hits), mnem))
    return hits[int(nth) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prog", required=True, help="user program whose addresses --on/--off name")
    ap.add_argument("--on", required=True)
    ap.add_argument("--off", required=True)
    ap.add_argument("--cmdline", required=True, help="spos kernel command line")
    ap.add_argument("--kernel", default=os.path.join(ROOT, "obj", "kern", "kernel"))
    ap.add_argument("--first", type=int, default=1, help="skip the windows before the K-th")
    ap.add_argument("--windows", type=int, default=0, help="count only N windows")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--out", default=os.path.join(ROOT, "obj", "tools", "insnprof.out"))
    args = ap.parse_args()
    build_plugin()
    prog = os.path.join(ROOT, "obj", "user", args.prog)
    on, off = resolve(args.on, prog), resolve(args.off, prog)
    cmd = QEMU + ["-plugin", "%s,on=0x%x,off=0x%x,out=%s%s" % (PLUGIN, on, off, args.out,
                                                                    ",first=%d" % args.first + (",windows=%d" % args.windows if args.windows else "")),
                  "-kernel", args.kernel, "-fw_cfg", "name=opt/spos/cmdline,string=" + args.cmdline]
    subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=1800)
    with open(args.out) as f:
        windows = int(f.readline().split()[1])
        counts = [(int(a, 16), int(c)) for a, c in (line.split() for line in f)]
    ksyms, usyms = symbols(os.path.join(ROOT, "obj", "kern", "kernel")), symbols(prog)
    kaddrs, uaddrs = [a for a, _ in ksyms], [a for a, _ in usyms]
    per = collections.Counter()
    for addr, count in counts:
        syms, addrs, tag = (ksyms, kaddrs, "") if addr >= 1 << 47 else (usyms, uaddrs, "user:")
        i = bisect.bisect_right(addrs, addr) - 1
        per[tag + (syms[i][1] if i >= 0 else "?")] += count
    total = sum(per.values())
    print("%d windows; %.0f instructions per window" % (windows, total / max(windows, 1)))
    for name, count in per.most_common(args.top):
        print("%12.0f  %5.1f%%  %s" % (count / max(windows, 1), 100.0 * count / total, name))


if __name__ == "__main__":
    main()
