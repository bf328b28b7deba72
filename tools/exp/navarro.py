"""tools/exp/navarro.py: the Navarro/FreeBSD experiment -- workloads x superpage policies.

One boot of user/bench.c per workload and policy (tools/bench.py's boot): a 32 MiB region
is populated page by page under the policy, then the workload runs over it, measured by
the model TLB (64x4 4 KiB, 32x4 2 MiB entries by default).
"""
import bench
from exp.common import bars, gmean, ratio

NAME = "navarro"
TITLE = "Superpage policies (Navarro et al., OSDI'02; FreeBSD)"
WORKLOADS = ["seq", "stride", "gups", "transpose", "chase", "hashjoin", "fragalloc"]
POLICIES = ["base", "eager", "reserve", "ingens"]
# Ingens's utilization threshold (Kwon et al., OSDI'16, 90% by default): reservations
# whose 2 MiB block is 90% populated are filled and promoted (kern/mm/policy.c)
INGENS = ("reserve", "vm.promote.util=90")
QUICK = ["gups"]


def runs(quick):
    return [(w, p) for w in (QUICK if quick else WORKLOADS) for p in POLICIES]


def run(spec):
    if spec[1] == "ingens":
        return bench.boot(INGENS[0], spec[0], 1, True, INGENS[1])
    return bench.boot(spec[1], spec[0])


COLS = ["misses4k", "misses2m", "walkrefs", "faults", "promotions2m", "eager2m", "usedkib", "wfaults",
        "wpromotions2m", "wdemotions", "tsc"]


def table(results, quick):
    header = ["workload", "policy"] + COLS[:-1] + ["instructions", "bloat_kib"]
    rows = []
    for (w, p) in runs(quick):
        r = results[(w, p)]
        rows.append([w, p] + [r[c] for c in COLS] + [r["usedkib"] - results[(w, "base")]["usedkib"]])
    return header, rows


def _values(header, rows, col):
    i = header.index(col)
    return {(r[0], r[1]): int(r[i]) for r in rows}


def plot(header, rows, plt):
    workloads = list(dict.fromkeys(r[0] for r in rows))
    fig, axs = plt.subplots(2, 2, figsize=(11, 7))
    misses = {k: v + _values(header, rows, "misses2m")[k] for k, v in _values(header, rows, "misses4k").items()}
    bars(axs[0][0], workloads, POLICIES, misses, log=True, ylabel="model TLB misses (4K + 2M)")
    bars(axs[0][1], workloads, POLICIES, _values(header, rows, "walkrefs"), log=True, ylabel="page-walk references")
    bars(axs[1][0], workloads, POLICIES, _values(header, rows, "instructions"), log=True,
         ylabel="guest instructions (workload)")
    faults = {k: v + _values(header, rows, "wfaults")[k] for k, v in _values(header, rows, "faults").items()}
    bars(axs[1][1], workloads, POLICIES, faults, log=True, ylabel="page faults (populate + workload)")
    axs[0][0].legend()
    fig.suptitle("Workloads x policies over a 32 MiB region (log scale)")
    fig.tight_layout()
    return fig


def section(header, rows):
    workloads = list(dict.fromkeys(r[0] for r in rows))
    refs, ins = _values(header, rows, "walkrefs"), _values(header, rows, "instructions")
    faults, bloat = _values(header, rows, "faults"), _values(header, rows, "bloat_kib")
    demo = _values(header, rows, "wdemotions")

    def cut(p, v):
        return gmean([ratio(v[(w, "base")], v[(w, p)]) for w in workloads])
    frag = [w for w in workloads if demo[(w, "reserve")] > 0]
    text = ("**Claim** (Navarro et al.): reservation-based superpages give most of the TLB benefit of "
            "eager 2 MiB pages while populating memory one 4 KiB page at a time.  **Setup**: user/bench.c "
            "populates a 32 MiB region under vm.policy=base, eager or reserve, then runs %s over it, "
            "measured by the model TLB (one boot each).  **Result**: against base, reserve cuts page-walk "
            "references by %.0fx and guest instructions by %.1fx (geometric means over the workloads), eager "
            "by %.0fx and %.1fx; reserve takes %d faults to populate the region like base (%d), eager %d; "
            "memory bloat against base is at most %d KiB." % (
                ", ".join(workloads), cut("reserve", refs), cut("reserve", ins), cut("eager", refs),
                cut("eager", ins), faults[(workloads[0], "reserve")], faults[(workloads[0], "base")],
                faults[(workloads[0], "eager")], max(bloat.values())))
    for w in frag:
        text += ("  Under %s's churn reserve demotes and re-promotes (%d demotions) and runs %.1fx the "
                 "instructions of base, while eager's broken pages stay 4 KiB (%.1fx base's walk references)."
                 % (w, demo[(w, "reserve")], ratio(ins[(w, "reserve")], ins[(w, "base")]),
                    ratio(refs[(w, "eager")], refs[(w, "base")])))
    text += ("  Ingens's utilization threshold (vm.promote.util=90, on top of reserve) populates a block's last "
             "tenth at once: %d faults to populate the region against reserve's %d, %d KiB of bloat at most; "
             "fragmented memory is the next experiment's." % (
                 faults[(workloads[0], "ingens")], faults[(workloads[0], "reserve")],
                 max(v for (w, p), v in bloat.items() if p == "ingens")))
    return text
