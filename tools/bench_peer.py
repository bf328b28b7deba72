#!/usr/bin/env python3
"""tools/bench_peer.py: `make bench-peer` -- spos next to Linux, operation by operation.

user/probe.c measures each operation in guest instructions (rdtsc under QEMU
-icount shift=0,sleep=off).  It is built for spos (obj/user/probe, in the ISO) and
statically for Linux (gcc -static with user/probe_linux.h), packed with busybox-static
into an initramfs, and Debian's kernel (/boot/vmlinuz-*, the linux-image-amd64 package;
tools/install-bench-deps.sh installs what is missing) boots it.  Both kernels boot under
the same QEMU flags (QEMU below), each twice:
  4k:  4 KiB pages only   -- spos vm.policy=base,  Linux transparent_hugepage=never
  2m:  2 MiB pages first  -- spos vm.policy=eager, Linux transparent_hugepage=always
Linux also gets init_on_alloc=0: Debian turns it on, and a THP is then zeroed twice
(once by the allocator, once by clear_huge_page); spos zeroes each page once.

QEMU counts each iteration of a rep-string instruction as one instruction, so the zeroing
and copying inside faults are reported apart: the probe times each kernel's own page
primitive (Linux: rep stosb / rep movsq, as clear_page_erms and copy_page run; spos:
lib/string.c's memset / memcpy, the code its kernel runs), and "handling" is the total
minus that many of them; for a 2 MiB page, Linux's 512 clear_page calls but spos's one
memset of 2 MiB (262,144 rep stosq iterations and one call's overhead).  The table goes to stdout and obj/bench/peer.csv.
--runs N boots everything N times and reports any figure that differs between runs.
A benchmark reports; it passes or fails nothing.
"""
import argparse
import concurrent.futures
import csv
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ISO = os.path.join(ROOT, "obj", "spos.iso")
OUT = os.path.join(ROOT, "obj", "bench")
WORK = os.path.join(OUT, "peer")
QEMU = ["qemu-system-x86_64", "-nodefaults", "-no-user-config", "-machine", "pc", "-accel", "tcg",
        "-cpu", "max", "-smp", "1", "-m", "1G", "-icount", "shift=0,sleep=off", "-seed", "1",
        "-rtc", "base=2024-01-01T00:00:00,clock=vm", "-display", "none", "-serial", "stdio",
        "-nic", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
MODES = {"4k": ("base", "never"), "2m": ("eager", "always")}
KEY = re.compile(r"^probe\.([\w.]+)=(\d+)\s*$", re.M)

INIT = """#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
if [ ! -c /dev/console ]; then
	mount -t devtmpfs devtmpfs /dev
	exec </dev/console >/dev/console 2>&1
fi
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	transparent_hugepage=*) echo "${arg#transparent_hugepage=}" > /sys/kernel/mm/transparent_hugepage/enabled ;;
	esac
done
/probe
poweroff -f
"""

# (operation, mode, probe key, pages zeroed, pages copied): the zeroing/copying rows
# and the handling row follow an operation that zeroes or copies pages.
ROWS = [
    ("rdtsc back to back", "4k", "cal.rdtsc", 0, 0),
    ("rep stosb, 4096 bytes", "4k", "cal.rep_stosb_4k", 0, 0),
    ("rep stosq, 512 qwords", "4k", "cal.rep_stosq_4k", 0, 0),
    ("rep movsq, 512 qwords", "4k", "cal.rep_movsq_4k", 0, 0),
    ("rep movsb, 4096 bytes", "4k", "cal.rep_movsb_4k", 0, 0),
    ("kernel's zeroing of a 4 KiB page", "4k", "cal.kernel_zero_4k", 0, 0),
    ("kernel's copy of a 4 KiB page", "4k", "cal.kernel_copy_4k", 0, 0),
    ("getpid", "4k", "getpid", 0, 0),
    ("4 KiB fault, p50", "4k", "touch.p50", 1, 0),
    ("4 KiB fault, mean", "4k", "touch.mean", 1, 0),
    ("4 KiB fault after idling, p50", "4k", "touch_prezeroed.p50", 0, 0),
    ("4 KiB fault after idling, mean", "4k", "touch_prezeroed.mean", 0, 0),
    ("2 MiB fault, p50", "2m", "touch.slow_p50", 512, 0),
    ("2 MiB fault after idling", "2m", "touch_prezeroed.2m", 0, 0),
    ("fork, small process", "4k", "fork_small", 0, 0),
    ("fork holding 512 x 4 KiB", "4k", "fork_2m_region", 0, 0),
    ("fork holding one 2 MiB page", "2m", "fork_2m_region", 0, 0),
    ("COW write 1, 4 KiB pages", "4k", "cow_write1", 0, 1),
    ("COW write 2, 4 KiB pages", "4k", "cow_write2", 0, 1),
    ("COW write 1 into a 2 MiB page", "2m", "cow_write1", 0, 1),
    ("COW write 2 into a 2 MiB page", "2m", "cow_write2", 0, 1),
    ("parent write after child exit, 4 KiB", "4k", "parent_write_after_child_exit", 0, 0),
    ("parent write after child exit, 2 MiB", "2m", "parent_write_after_child_exit", 0, 0),
    ("munmap 64 MiB of 4 KiB pages", "4k", "munmap_64m", 0, 0),
    ("munmap 64 MiB of 2 MiB pages", "2m", "munmap_64m", 0, 0),
    ("munmap 2 MiB of 512 x 4 KiB", "4k", "munmap_2m", 0, 0),
    ("munmap one 2 MiB page", "2m", "munmap_2m", 0, 0),
    ("mprotect 4 KiB inside 512 x 4 KiB", "4k", "mprotect_4k_in_2m", 0, 0),
    ("mprotect 4 KiB inside a 2 MiB page", "2m", "mprotect_4k_in_2m", 0, 0),
]


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def linux_kernel():
    kernels = sorted(glob.glob("/boot/vmlinuz-*"),
                     key=lambda k: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", k)])
    if not kernels:
        sys.exit("bench-peer: no /boot/vmlinuz-* (sh tools/install-bench-deps.sh)")
    return kernels[-1]


def build_initramfs():
    """The static Linux probe and an initramfs with it; byte-identical for the same inputs."""
    root = os.path.join(WORK, "root")
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "proc", "sys", "dev"):
        os.makedirs(os.path.join(root, d))
    sh(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-DPROBE_LINUX", "-I", ROOT,
        "-o", os.path.join(root, "probe"), os.path.join(ROOT, "user", "probe.c")])
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    for a in ("sh", "mount", "cat", "poweroff"):
        os.symlink("busybox", os.path.join(root, "bin", a))
    with open(os.path.join(root, "init"), "w") as f:
        f.write(INIT)
    os.chmod(os.path.join(root, "init"), 0o755)
    subprocess.run(["mknod", os.path.join(root, "dev", "console"), "c", "5", "1"],
                   stderr=subprocess.DEVNULL)
    sh(["find", root, "-exec", "touch", "-h", "-d", "@0", "{}", "+"])
    img = os.path.join(WORK, "initramfs.cpio.gz")
    with open(img, "wb") as f:
        sh(["sh", "-c", "find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 --reproducible | gzip -9 -n"],
           cwd=root, stdout=f)
    return img


def boot(kernel, mode, initrd, run):
    """One boot of kernel ("spos" or a Linux image) in mode; the probe's figures."""
    policy, thp = MODES[mode]
    if kernel == "spos":
        cmd = QEMU + ["-cdrom", ISO, "-boot", "d", "-fw_cfg",
                      "name=opt/spos/cmdline,string=vm.policy=%s run=probe" % policy]
    else:
        cmd = QEMU + ["-kernel", kernel, "-initrd", initrd, "-append",
                      "console=ttyS0 quiet panic=-1 init_on_alloc=0 transparent_hugepage=%s" % thp]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=900)
    out = p.stdout.decode("utf-8", "replace").replace("\r", "")
    name = "%s-%s-%d.log" % ("spos" if kernel == "spos" else "linux", mode, run + 1)
    with open(os.path.join(WORK, name), "w") as f:
        f.write(out)
    figures = {k: int(v) for k, v in KEY.findall(out)}
    if figures.get("done") != 1 or figures.get("cow_child_status") != 0:
        sys.exit("bench-peer: the probe failed on %s (%s):\n%s" % (kernel, mode, out[-2000:]))
    return figures


def ratio(linux, spos):
    return "%.2f" % (spos / linux) if linux > 0 else "-"


def table(res):
    """Rows of (operation, part, linux, spos) from the figures of each boot."""
    rows = []
    for op, mode, key, nzero, ncopy in ROWS:
        lx, sp = res[("linux", mode)][key], res[("spos", mode)][key]
        rows.append((op, "total", lx, sp))
        if nzero or ncopy:
            prim, n = ("cal.kernel_zero_4k", nzero) if nzero else ("cal.kernel_copy_4k", ncopy)
            lz, sz = n * res[("linux", "4k")][prim], n * res[("spos", "4k")][prim]
            if nzero > 1:
                # Linux clears a huge page 4 KiB at a time (clear_huge_page): n calls.  spos
                # zeroes it in one call: one rep stosq of n * 512 iterations (QEMU counts
                # each) plus the one call's other instructions, as calibrated on 4 KiB.
                cal = res[("spos", "4k")]
                sz = nzero * 512 + (cal["cal.kernel_zero_4k"] - 512)
            rows.append((op, "zeroing" if nzero else "copying", lz, sz))
            rows.append((op, "handling", lx - lz, sp - sz))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1, help="boot everything this many times (determinism)")
    args = ap.parse_args()
    t0 = time.time()
    os.makedirs(WORK, exist_ok=True)
    kernel = linux_kernel()
    initrd = build_initramfs()
    boots = [(k, m, r) for r in range(args.runs) for k in ("linux", "spos") for m in MODES]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        got = dict(zip(boots, pool.map(
            lambda b: boot("spos" if b[0] == "spos" else kernel, b[1], initrd, b[2]), boots)))
    res = {(k, m): got[(k, m, 0)] for k, m, r in boots if r == 0}
    rows = table(res)
    wrong = ["%s %s: %s holds %d-byte pages" % (k, m, key, v) for (k, m), f in sorted(res.items())
             for key, v in sorted(f.items())
             if key.endswith("page_size") and v != {"4k": 4096, "2m": 2 << 20}[m]]

    print("spos vs Linux, guest instructions (QEMU TCG -icount shift=0,sleep=off, -m 1G, one CPU)")
    print("Linux: %s, init_on_alloc=0; 4 KiB rows: transparent_hugepage=never, 2 MiB rows: =always"
          % os.path.basename(kernel))
    print("spos: 4 KiB rows vm.policy=base, 2 MiB rows vm.policy=eager\n")
    head = "%-38s %-9s %12s %12s %8s" % ("operation", "part", "Linux", "spos", "spos/Lx")
    print(head)
    print("-" * len(head))
    with open(os.path.join(OUT, "peer.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["operation", "part", "linux", "spos", "ratio"])
        for op, part, lx, sp in rows:
            print("%-38s %-9s %12d %12d %8s" % (op if part == "total" else "", part, lx, sp, ratio(lx, sp)))
            w.writerow([op, part, lx, sp, ratio(lx, sp)])
    print("\nzeroing/copying: the pages the operation zeroes or copies times the kernel's own page")
    print("primitive measured in user space (Linux: rep stosb / rep movsq; spos: lib/string.c;")
    print("a 2 MiB page: Linux 512 page clears, spos one 2 MiB memset);")
    print("handling: the total minus that.  Other rows (fork, munmap) include any page-table")
    print("zeroing, which the probe cannot see from user space.")
    print("after idling: the CPU idled first; spos then takes pre-zeroed pages (kern/mm/prezero.c),")
    print("Linux zeroes at fault time: totals only.")
    print("page sizes held: %s" % ("as each mode says" if not wrong else "NOT as the mode says:\n  "
                                   + "\n  ".join(wrong)))
    if args.runs > 1:
        diffs = ["%s %s %s: run 1 %d, run %d %d" % (k, m, key, v, r + 1, got[(k, m, r)].get(key, -1))
                 for (k, m, r) in boots if r > 0 for key, v in sorted(got[(k, m, 0)].items())
                 if got[(k, m, r)].get(key) != v]
        print("\ndeterminism over %d runs: %s" % (args.runs, "every figure identical" if not diffs else
                                                   "%d figures differ:\n  " % len(diffs) + "\n  ".join(diffs)))
    print("\nCSV: %s  (logs: %s; %.0f s)" % (os.path.relpath(os.path.join(OUT, "peer.csv"), ROOT),
                                           os.path.relpath(WORK, ROOT), time.time() - t0))


if __name__ == "__main__":
    main()
