#!/usr/bin/env python3
"""tools/bench_hugemap.py: the threshold sweep for /dev/hugemap (issue 12).

/dev/hugemap gives a 2 MiB block of a request one 2 MiB page when the request covers
at least HUGEMAP_THRESHOLD percent of it (kern/mm/policy.c), else 4 KiB pages.  A low
threshold buys TLB reach with memory bloat (the part of each 2 MiB page beyond the
request); a high one saves memory and pays TLB misses.  This sweeps the threshold from
10% to 100% over three request-size distributions and prints, per threshold:

  bloat     bytes of 2 MiB pages beyond the requests, as a percentage of the requests
  miss/1k   modelled TLB misses per 1000 accesses of a workload touching the requested
            bytes uniformly at random
  cost      bloat/bloat(10%) + miss/miss(100%): both normalised to their worst case

The model, kept small and stated so it can be argued with:
  - requests are placed as the device places them without a hint: 2 MiB aligned, so
    only the last block of a request is partial;
  - LIVE requests are mapped at once (the working set); each access picks a requested
    byte uniformly;
  - the TLB is a Skylake-like L1 dTLB: 64 entries for 4 KiB pages, 32 for 2 MiB pages,
    each fully associative LRU; under uniform random access over P pages an LRU of E
    entries misses with probability max(0, 1 - E/P), per page size.
The chosen threshold is the one of least cost over the three distributions together.

    tools/bench_hugemap.py [--seed N]      (make bench-hugemap)
"""
import argparse
import math
import random

KIB, MIB = 1024, 1024 * 1024
PG, PG2M = 4 * KIB, 2 * MIB
TLB_4K, TLB_2M = 64, 32
LIVE = 8
SAMPLES = 4000
THRESHOLDS = list(range(10, 101, 10)) + [45, 55, 65, 75]

# The request sizes of a real test program: user/hugemap.c's sizes and unaligned scenarios.
HUGEMAP_TRACE = [PG, 16 * PG, MIB - PG, MIB, MIB + PG, PG2M - PG, PG2M, PG2M + PG, PG2M + MIB - PG,
                 PG2M + MIB, 3 * PG2M + 12345, 8 * PG2M, 32 * PG2M, PG2M - 10 * PG, 4 * PG2M,
                 3 * PG2M - MIB + 100, 3 * PG2M // 4, MIB, 5 * MIB // 4]


def page_round(n):
    return (n + PG - 1) // PG * PG


def uniform(rng):
    return page_round(rng.randint(4 * KIB, 8 * MIB))


def lognormal(rng):
    """Log-normal around 1 MiB (median), sigma 1: most between 256 KiB and 4 MiB."""
    return min(page_round(int(rng.lognormvariate(math.log(MIB), 1.0))), 64 * MIB)


def trace(rng):
    return page_round(rng.choice(HUGEMAP_TRACE))


def blocks(size, threshold):
    """(bytes mapped 4 KiB, bytes requested in 2 MiB blocks, 2 MiB pages) of one request."""
    small = huge_req = nhuge = 0
    for start in range(0, size, PG2M):
        req = min(size - start, PG2M)
        if req * 100 >= threshold * PG2M:
            nhuge += 1
            huge_req += req
        else:
            small += req
    return small, huge_req, nhuge


def miss_rate(pages, entries):
    return max(0.0, 1.0 - entries / pages) if pages else 0.0


def evaluate(sizes, threshold):
    """(bloat percent, misses per 1000 accesses) of the live sets in sizes."""
    bloat = requested = 0
    misses = 0.0
    for i in range(0, len(sizes), LIVE):
        live = sizes[i:i + LIVE]
        small = huge_req = nhuge = 0
        for s in live:
            a, b, c = blocks(s, threshold)
            small += a
            huge_req += b
            nhuge += c
        total = small + huge_req
        bloat += nhuge * PG2M - huge_req
        requested += total
        misses += (small / total) * miss_rate(small // PG, TLB_4K) + (huge_req / total) * miss_rate(nhuge, TLB_2M)
    return 100.0 * bloat / requested, 1000.0 * misses / math.ceil(len(sizes) / LIVE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    dists = [("uniform 4K..8M", [uniform(rng) for _ in range(SAMPLES)]),
             ("lognormal ~1M", [lognormal(rng) for _ in range(SAMPLES)]),
             ("hugemap trace", [trace(rng) for _ in range(SAMPLES)])]
    total_cost = {t: 0.0 for t in THRESHOLDS}
    for name, sizes in dists:
        res = {t: evaluate(sizes, t) for t in sorted(THRESHOLDS)}
        worst_bloat = max(b for b, _ in res.values()) or 1.0
        worst_miss = max(m for _, m in res.values()) or 1.0
        print("%s (%d requests, %d live):" % (name, len(sizes), LIVE))
        print("  threshold  bloat%  miss/1k   cost")
        for t in sorted(THRESHOLDS):
            b, m = res[t]
            cost = b / worst_bloat + m / worst_miss
            total_cost[t] += cost
            print("  %8d%%  %6.2f  %7.1f  %5.3f" % (t, b, m, cost))
    best = min(sorted(THRESHOLDS), key=lambda t: total_cost[t])
    print("total cost: " + ", ".join("%d%% %.3f" % (t, total_cost[t]) for t in sorted(THRESHOLDS)))
    print("bench-hugemap: chosen HUGEMAP_THRESHOLD %d" % best)


if __name__ == "__main__":
    main()
