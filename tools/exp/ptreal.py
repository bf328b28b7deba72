"""tools/exp/ptreal.py: page-table designs under real programs (issue 11).

The bench workloads (user/bench.c: a 32 MiB region populated, then walked) boot under
each page-table design (pt=radix|clustered|guarded) and superpage policy, measured by the
model TLB (tools/bench_ptreal.py's boot).  Bytes: radix, the x86 table pages below the
PML4s; clustered and guarded, the design's own count (the x86 tables that cache it are
not counted).  References per miss: radix x86's 4/3/2; the others what the design's
lookup of the missing address reads.
"""
import bench_ptreal
from exp.common import bars

NAME = "ptreal"
TITLE = "Page-table designs under real programs (Talluri et al.; Liedtke)"
QUICK = [("seq", "reserve")]


def runs(quick):
    pairs = QUICK if quick else [(w, p) for w in bench_ptreal.WORKLOADS for p in bench_ptreal.POLICIES]
    return [(w, p, name, words) for (w, p) in pairs for (name, words) in bench_ptreal.DESIGNS]


def run(spec):
    return bench_ptreal.boot(spec[0], spec[1], spec[3])


def table(results, quick):
    return bench_ptreal.table(runs(quick), results)


def plot(header, rows, plt):
    groups = list(dict.fromkeys("%s/%s" % (r[0], r[1]) for r in rows))
    designs = list(dict.fromkeys(r[2] for r in rows))
    fig, axs = plt.subplots(1, 2, figsize=(12, 4.5))
    bars(axs[0], groups, designs, {("%s/%s" % (r[0], r[1]), r[2]): r[4] for r in rows}, log=True,
         ylabel="page-table bytes")
    bars(axs[1], groups, designs, {("%s/%s" % (r[0], r[1]), r[2]): float(r[8]) for r in rows},
         ylabel="memory references per model-TLB miss")
    axs[1].legend(fontsize=7)
    fig.suptitle("Page-table designs in the kernel: bench workloads over 32 MiB (pt=)")
    fig.tight_layout()
    return fig


def section(header, rows):
    at = {(r[0], r[1], r[2]): r for r in rows}
    w = rows[0][0]
    base = "base" if (w, "base", "radix") in at else rows[0][1]
    text = ("**Claim** (Talluri et al.): a clustered page table takes less memory than forward-mapped tables "
            "and, with a hash sized to what is mapped, about one memory reference per lookup; guarded tables "
            "skip levels only where the space is sparse.  **Setup**: user/bench.c's %s under pt=radix, "
            "clustered (default hash, sized for many processes, and sized to this one: pt.buckets=9) and "
            "guarded, one boot each; the model TLB's misses are the same under every design (%d here).  "
            "**Result**: under vm.policy=%s radix takes %d bytes and reads %s references a miss; clustered "
            "%d bytes (%s%%) and %s references (%s with the sized hash); guarded %d bytes (%s%%) and %s." % (
                w, at[(w, base, "radix")][6], base, at[(w, base, "radix")][4], at[(w, base, "radix")][8],
                at[(w, base, "clustered")][4], at[(w, base, "clustered")][5], at[(w, base, "clustered")][8],
                at[(w, base, "clustered, hash sized")][8], at[(w, base, "guarded")][4],
                at[(w, base, "guarded")][5], at[(w, base, "guarded")][8]))
    if (w, "reserve", "clustered") in at and base != "reserve":
        text += ("  With superpages (reserve) the clustered table keeps one node per 2 MiB page: %d bytes, %s%% "
                 "of radix's %d." % (at[(w, "reserve", "clustered")][4], at[(w, "reserve", "clustered")][5],
                                      at[(w, "reserve", "radix")][4]))
    return text
