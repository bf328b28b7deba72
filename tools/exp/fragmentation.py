"""tools/exp/fragmentation.py: the Navarro workloads when physical memory is fragmented,
with the page daemon (kern/mm/daemon.c) off and on (user/bench.c FRAGMENT WAIT)."""
import re

import bench
from exp.common import bars, qemu, ratio

NAME = "fragmentation"
TITLE = "Superpages under fragmented memory: the page daemon off and on"
WORKLOADS = ["gups", "chase"]
POLICIES = ["eager", "reserve"]
STATES = {"fresh": ("", 0, 0),
          "frag, daemon off": ("vm.daemon.period=1000000000", 1, 0),
          "frag, daemon on": ("vm.daemon.period=2 vm.daemon.target=%d" % (32 // 2 + 1), 1, 300)}
FRAG = re.compile(r"^bench: fragmented: free2m (\d+) migrated (\d+)$", re.M)


def runs(quick):
    if quick:
        return [("gups", "reserve", s) for s in STATES if s != "fresh"]
    return [(w, "base", "fresh") for w in WORKLOADS] + [(w, p, s) for w in WORKLOADS for p in POLICIES for s in STATES]


def run(spec):
    w, p, state = spec
    words, frag, wait = STATES[state]
    out = qemu("vm.policy=%s %s run=bench,%s,1,%d,%d" % (p, words, w, frag, wait), mem="256M", timeout=300)
    m = bench.LINE.search(out)
    if not m:
        raise RuntimeError("bench printed no figures:\n" + out[-2000:])
    words = m.group(3).split()
    r = {k: int(v) for k, v in zip(words[0::2], words[1::2])}
    f = FRAG.search(out)
    r["free2m"], r["migrated"] = (int(f.group(1)), int(f.group(2))) if f else (-1, 0)
    return r


def table(results, quick):
    rows = []
    for (w, p, s) in runs(quick):
        r = results[(w, p, s)]
        rows.append([w, p, s, r["free2m"], r["migrated"], r["promotions2m"] + r["eager2m"], r["faults"],
                     r["misses4k"], r["misses2m"], r["walkrefs"], r["tsc"]])
    return ["workload", "policy", "memory", "free2m_at_start", "migrated", "pages2m", "faults", "misses4k",
            "misses2m", "walkrefs", "instructions"], rows


def plot(header, rows, plt):
    groups = list(dict.fromkeys("%s/%s" % (r[0], r[1]) for r in rows if r[1] != "base"))
    states = list(STATES)
    refs = {("%s/%s" % (r[0], r[1]), r[2]): r[9] for r in rows}
    pages = {("%s/%s" % (r[0], r[1]), r[2]): r[5] for r in rows}
    fig, axs = plt.subplots(1, 2, figsize=(12, 4))
    bars(axs[0], groups, states, refs, log=True, ylabel="page-walk references (workload)")
    bars(axs[1], groups, states, pages, ylabel="2 MiB pages obtained for the 32 MiB region")
    for r in rows:
        if r[1] == "base":
            axs[0].axhline(r[9], color="grey", linestyle=":", linewidth=0.8)
    axs[0].legend(fontsize=7)
    fig.suptitle("Fragmented memory (one page pinned per free 2 MiB block); dotted: base, 4 KiB pages only")
    fig.tight_layout()
    return fig


def section(header, rows):
    at = {(r[0], r[1], r[2]): r for r in rows}
    w = rows[0][0]
    p = "reserve"
    fresh = at.get((w, p, "fresh"))
    off, on = at[(w, p, "frag, daemon off")], at[(w, p, "frag, daemon on")]
    base = at.get((w, "base", "fresh"), [None] * 9 + ["-"])
    text = ("**Claim** (Navarro et al.; FreeBSD's and Linux's compaction): superpages need free contiguous "
            "memory, and without a daemon that restores it a fragmented system falls back to base pages.  "
            "**Setup**: user/bench.c pins one page in nearly every free 2 MiB block before populating its "
            "32 MiB region (vm.policy=eager or reserve), with the page daemon off (a period of 10^9 ticks) or "
            "on (vm.daemon.target=17, up to 300 ticks to compact), next to fresh memory.  **Result**: for %s "
            "under reserve, %d 2 MiB blocks are free at the start with the daemon off and the region gets %d "
            "2 MiB pages, %d walk references (base: %s); with the daemon on it migrates %d pages, %d blocks "
            "are free, and the region gets %d 2 MiB pages and %d walk references (%.0fx fewer than off)" % (
                w, off[3], off[5], off[9], base[9], on[4], on[3], on[5], on[9], ratio(off[9], on[9])))
    text += "; fresh memory gives %d." % fresh[9] if fresh else "."
    return text
