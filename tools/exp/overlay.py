"""tools/exp/overlay.py: page overlays' fork-checkpoint, per cow policy and write fraction
(user/ovlbench.c through tools/bench_overlay.py's boot)."""
import bench_overlay
from exp.common import ratio

NAME = "overlay"
TITLE = "Page overlays: fork-checkpoint per copy-on-write policy"
COWS = bench_overlay.POLICIES
COLS = ["writes", "copied_bytes", "used_kib", "firstwrite_insns", "firstwrite_p50", "sweep_misses4k",
        "sweep_misses2m", "sweep_omt_walks", "sweep_walkrefs", "omt_pages", "pt_pages"]


def runs(quick):
    if quick:
        return [("overlay", 100, False), ("copy2m", 100, False)]
    return [(c, f, False) for c in COWS for f in bench_overlay.PERMILLE] + [("overlay", 0, True)]


def run(spec):
    return bench_overlay.boot(*spec)


def table(results, quick):
    rows = []
    for (cow, f, nofork) in runs(quick):
        r = results[(cow, f, nofork)]
        rows.append(["nofork" if nofork else cow, f] + [r[c] for c in COLS])
    return ["cow", "permille"] + COLS, rows


def _series(header, rows, col):
    i = header.index(col)
    out = {}
    for r in rows:
        if r[0] != "nofork":
            out.setdefault(r[0], []).append((r[1] / 10.0, int(r[i])))
    return out


def plot(header, rows, plt):
    fig, axs = plt.subplots(1, 3, figsize=(13, 4))
    for ax, col, label in ((axs[0], "used_kib", "memory the writes took (KiB)"),
                           (axs[1], "firstwrite_insns", "guest instructions per first write"),
                           (axs[2], "sweep_walkrefs", "sweep page-walk references")):
        for cow, pts in _series(header, rows, col).items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=cow)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("pages written after fork (%)")
        ax.set_ylabel(label)
    axs[0].legend()
    fig.suptitle("Fork-checkpoint of 64 MiB of 2 MiB pages (log-log)")
    fig.tight_layout()
    return fig


def section(header, rows):
    mem, first = _series(header, rows, "used_kib"), _series(header, rows, "firstwrite_insns")
    refs = _series(header, rows, "sweep_walkrefs")
    fs = [p[0] for p in mem["overlay"]]
    f = 1.0 if 1.0 in fs else min(fs)
    at = {c: dict(v) for c, v in mem.items()}
    fw = {c: dict(v) for c, v in first.items()}
    rf = {c: dict(v) for c, v in refs.items()}
    text = ("**Claim** (page overlays, Seshadri et al., ISCA'15): copying only the written 4 KiB pages of a "
            "2 MiB page into an overlay at copy-on-write keeps the memory of 4 KiB copy-on-write and the TLB reach of the 2 MiB "
            "page.  **Setup**: user/ovlbench.c populates 64 MiB of 2 MiB pages (vm.policy=eager), forks a child "
            "that holds the snapshot and writes a fraction of the parent's 4 KiB pages, once per cow= policy "
            "(%s) and fraction, then sweeps the memory under the model TLB.  **Result**: at %.1f%% written, "
            "cow=overlay takes %d KiB against copy2m's %d KiB (%.3fx) at %d instructions per first write "
            "(copy2m %d), and its sweep costs %d walk references (copy2m %d)." % (
                ", ".join(sorted(mem)), f, at["overlay"][f], at["copy2m"][f],
                ratio(at["overlay"][f], at["copy2m"][f]), fw["overlay"][f], fw["copy2m"][f], rf["overlay"][f],
                rf["copy2m"][f]))
    if "split" in at:
        text += "  cow=split takes %d KiB and %d walk references." % (at["split"][f], rf["split"][f])
    return text
