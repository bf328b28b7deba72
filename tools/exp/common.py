"""tools/exp/common.py: paths and small helpers shared by the experiments."""
import math
import subprocess
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ISO = os.path.join(ROOT, "obj", "spos.iso")
KERNEL = os.path.join(ROOT, "obj", "kern", "kernel")
OUT = os.path.join(ROOT, "obj", "bench")


def gmean(xs):
    """Geometric mean of positive numbers (1.0 for none)."""
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else 1.0


def ratio(a, b):
    """a / b, with b of 0 counted as 1 (a count that is zero on both sides is no change)."""
    return a / max(b, 1)


def bars(ax, groups, series, values, log=False, ylabel=""):
    """Grouped bars: values[(group, series)] for each group on the x axis."""
    width = 0.8 / max(len(series), 1)
    for i, s in enumerate(series):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [values.get((g, s), 0) for g in groups], width, label=s)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=20)
    if log:
        ax.set_yscale("symlog", linthresh=1)
    ax.set_ylabel(ylabel)


def qemu(words, mem="128M", timeout=120):
    """One deterministic boot of the kernel (QEMU -kernel, no GRUB) with kernel command line words;
    its serial output.
    A run that does not end with "run: no leak" stops the experiment."""
    cmd = ["qemu-system-x86_64", "-icount", "shift=0,sleep=off", "-cpu", "max", "-m", mem, "-display", "none",
           "-serial", "stdio", "-monitor", "none", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", KERNEL, "-fw_cfg", "name=opt/spos/cmdline,string=" + words.replace(",", ",,")]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace").replace("\r", "")
    if "run: no leak" not in out:
        raise RuntimeError("boot %r failed:\n%s" % (words, out[-2000:]))
    return out
