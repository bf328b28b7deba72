"""tools/exp/hugemap.py: the /dev/hugemap threshold sweep (user/hugemap_bench.c through
tools/bench_hugemap.py's boot and aggregate)."""
import bench_hugemap

NAME = "hugemap"
TITLE = "The mmap device: /dev/hugemap threshold sweep"
COUNT, ACCESSES, SEEDS = 16, 100000, 4


def _matrix(quick):
    if quick:
        return [10, 100], ["uniform"], [1]
    return bench_hugemap.THRESHOLDS, bench_hugemap.DISTS, list(range(1, SEEDS + 1))


def runs(quick):
    ts, ds, ss = _matrix(quick)
    return [(t, d, s) for t in ts for d in ds for s in ss]


def run(spec):
    return bench_hugemap.boot(spec[0], spec[1], spec[2], COUNT, ACCESSES)


def table(results, quick):
    ts, ds, ss = _matrix(quick)
    agg, total, best = bench_hugemap.aggregate(results, ts, ds)
    rows = []
    for d in ds:
        for t in ts:
            a = agg[(t, d)]
            rows.append([d, t, len(ss), a["requested"], a["bloat"], "%.3f" % a["bloat_pct"], a["huge2m"],
                         a["fallbacks"], a["misses4k"], a["misses2m"], "%.2f" % a["miss_1k"],
                         "%.2f" % a["walk_1k"], a["tsc"], "%.4f" % a["cost"], "%.4f" % total[t],
                         int(t == best)])
    return ["dist", "threshold", "seeds", "requested", "bloat", "bloat_pct", "huge2m", "fallbacks", "misses4k",
            "misses2m", "miss_per_1k", "walk_per_1k", "instructions", "cost", "total_cost", "chosen"], rows


def plot(header, rows, plt):
    fig, axs = plt.subplots(1, 3, figsize=(13, 4))
    col = {c: header.index(c) for c in header}
    for d in dict.fromkeys(r[0] for r in rows):
        pts = [r for r in rows if r[0] == d]
        ts = [r[1] for r in pts]
        axs[0].plot(ts, [float(r[col["bloat_pct"]]) for r in pts], marker="o", label=d)
        axs[1].plot(ts, [float(r[col["miss_per_1k"]]) for r in pts], marker="o", label=d)
        axs[2].plot(ts, [float(r[col["cost"]]) for r in pts], marker="o", label=d)
    best = [r[1] for r in rows if r[col["chosen"]] == 1][0]
    for ax, label in zip(axs, ("memory bloat (% of requested)", "model TLB misses per 1000 loads",
                               "cost (bloat/max + misses/max)")):
        ax.axvline(best, color="grey", linestyle=":")
        ax.set_xlabel("threshold (% of a 2 MiB block requested)")
        ax.set_ylabel(label)
    axs[0].legend()
    fig.suptitle("/dev/hugemap: bloat against TLB misses per threshold (dotted: least total cost)")
    fig.tight_layout()
    return fig


def section(header, rows):
    col = {c: header.index(c) for c in header}
    best = [r for r in rows if r[col["chosen"]] == 1][0][1]
    ts = sorted(set(r[1] for r in rows))
    lo, hi = ts[0], ts[-1]

    def mean(t, c):
        pts = [float(r[col[c]]) for r in rows if r[1] == t]
        return sum(pts) / len(pts)
    return ("**Claim** (the mmap-device seed): a per-mapping threshold trades memory bloat for TLB reach, "
            "and one threshold serves the request-size distributions well.  **Setup**: user/hugemap_bench.c "
            "maps %d requests per boot from /dev/hugemap (distributions %s), touches them and makes %d random "
            "loads under the model TLB, for thresholds %s%% (seeds summed).  **Result**: from %d%% to %d%% the "
            "bloat falls from %.1f%% to %.1f%% of the requested bytes while misses rise from %.1f to %.1f per "
            "1000 loads (means over the distributions); the least total cost is at %d%% "
            "(kern/mm/policy.c HUGEMAP_THRESHOLD is %d)." % (
                COUNT, ", ".join(dict.fromkeys(r[0] for r in rows)), ACCESSES, ", ".join(str(t) for t in ts),
                lo, hi, mean(lo, "bloat_pct"), mean(hi, "bloat_pct"), mean(lo, "miss_per_1k"),
                mean(hi, "miss_per_1k"), best, bench_hugemap.default_threshold()))
