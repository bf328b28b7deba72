"""tools/exp/peer.py: spos next to Debian's Linux, operation by operation (user/probe.c through
tools/bench_peer.py's initramfs, boot and table); needs tools/install-bench-deps.sh."""
import os

import bench_peer
from exp.common import ISO, gmean

NAME = "peer"
TITLE = "Linux peer: spos's fast paths against Linux 6.1"
_state = {}


def prepare():
    os.makedirs(bench_peer.WORK, exist_ok=True)
    _state["kernel"] = bench_peer.linux_kernel()
    _state["initrd"] = bench_peer.build_initramfs()


def inputs():
    return [ISO, _state["kernel"], _state["initrd"]]


def runs(quick):
    return [(k, m) for k in ("linux", "spos") for m in bench_peer.MODES]


def run(spec):
    return bench_peer.boot("spos" if spec[0] == "spos" else _state["kernel"], spec[1], _state["initrd"], 0)


def table(results, quick):
    rows = bench_peer.table(results)
    return ["operation", "part", "linux", "spos", "ratio"], [
        [op, part, lx, sp, bench_peer.ratio(lx, sp)] for op, part, lx, sp in rows]


def _ops(rows):
    return [r for r in rows if r[1] in ("total", "handling") and not r[0].startswith(("rdtsc", "rep ", "kernel's"))
            and r[4] != "-" and float(r[4]) > 0]


def plot(header, rows, plt):
    ops = _ops(rows)
    fig, ax = plt.subplots(figsize=(10, 0.28 * len(ops) + 1.5))
    labels = ["%s%s" % (r[0], "" if r[1] == "total" else " (handling)") for r in ops]
    vals = [float(r[4]) for r in ops]
    ax.barh(range(len(ops)), vals, color=["tab:green" if v <= 1 else "tab:red" for v in vals])
    ax.set_yticks(range(len(ops)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=0.8)
    ax.set_xlabel("spos / Linux guest instructions (log; < 1: spos is cheaper)")
    ax.set_title("spos against Linux 6.1, operation by operation")
    fig.tight_layout()
    return fig


def section(header, rows):
    ops = [r for r in _ops(rows) if r[1] == "total"]
    vals = [(float(r[4]), r[0]) for r in ops]
    cheaper = sum(1 for v, _ in vals if v < 1)
    lo, hi = min(vals), max(vals)
    return ("**Claim**: spos's paths for faults, fork, copy-on-write, munmap and mprotect are as short as a "
            "production kernel's.  **Setup**: user/probe.c, built for both, counts guest instructions per "
            "operation under the same QEMU flags; spos with vm.policy=base/eager, Debian's Linux 6.1 with "
            "transparent_hugepage=never/always and init_on_alloc=0.  **Result**: spos takes fewer "
            "instructions in %d of %d operations (geometric mean ratio spos/Linux %.2f); best %s at %.2fx, "
            "worst %s at %.2fx." % (cheaper, len(vals), gmean([v for v, _ in vals]), lo[1], lo[0], hi[1], hi[0]))
