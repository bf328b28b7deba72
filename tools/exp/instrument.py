"""tools/exp/instrument.py: the instrument itself -- the model TLB's cost per trap, and its
counts against the reference simulator tests/tlbsim for the same traces."""
import os
import re
import subprocess

import bench
from exp.common import KERNEL, ROOT, qemu

NAME = "instrument"
TITLE = "The instrument: model-TLB cost per trap and agreement with the reference simulator"
TLBSIM = os.path.join(ROOT, "obj", "tests", "tlbsim")
TLB_LINE = re.compile(r"^tlbtrace: (\w+) pages (\d+) accesses (\d+) seed (\d+) stride (\d+) backing (\w+) "
                      r"base (0x[0-9a-f]+): traps \d+ misses 4k (\d+) 2m (\d+) 1g (\d+) evictions 4k (\d+) "
                      r"2m (\d+) 1g (\d+) walkrefs (\d+)$", re.M)
REF_LINE = re.compile(r"misses 4k (\d+) 2m (\d+) 1g (\d+) evictions 4k (\d+) 2m (\d+) 1g (\d+) walkrefs (\d+)")
FIELDS = ["misses4k", "misses2m", "misses1g", "evictions4k", "evictions2m", "evictions1g", "walkrefs"]
FIFO = ("64:4:fifo", "32:4:fifo", "4:4:fifo")
# (name, pattern, pages, accesses, seed, stride, backing, geometries): traces of the grader's tlb-* tests
TRACES = [
    ("seq", "seq", 200, 1000, 1, 1, "4k", FIFO),
    ("stride17", "stride", 512, 4000, 1, 17, "4k", FIFO),
    ("cyclic", "cyclic", 80, 8000, 1, 1, "4k", FIFO),
    ("random", "random", 300, 20000, 7, 1, "4k", FIFO),
    ("random-rand", "random", 300, 20000, 11, 1, "4k", ("64:8:random:99", "32:4:fifo", "4:4:fifo")),
    ("random-clock", "random", 300, 20000, 3, 1, "4k", ("64:4:clock", "32:4:fifo", "4:4:fifo")),
    ("2m-random", "random", 8192, 20000, 5, 1, "2m", ("64:4:fifo", "8:2:fifo", "4:4:fifo")),
]
COST = [("cost", 1, ""), ("cost", 0, ""), ("cost", 1, bench.SHADOW)]


def inputs():
    return [KERNEL, TLBSIM]


def runs(quick):
    traces = [("trace",) + t[:7] + (",".join(t[7]),) for t in TRACES if not quick or t[0] == "random"]
    return (COST[:2] if quick else COST) + traces


def run(spec):
    if spec[0] == "cost":
        return bench.boot("base", "gups", spec[1], True, spec[2])
    _, name, pattern, pages, accesses, seed, stride, backing, geoms = spec
    g = geoms.split(",")
    words = "vm.policy=%s tlb.4k=%s tlb.2m=%s tlb.1g=%s run=tlbtrace,%s,%d,%d,%d,%d,%s" % (
        "base" if backing == "4k" else "reserve", g[0], g[1], g[2], pattern, pages, accesses, seed, stride, backing)
    m = TLB_LINE.search(qemu(words, timeout=120))
    if not m:
        raise RuntimeError("tlbtrace %s printed no counts" % name)
    ref = subprocess.run([TLBSIM] + list(m.group(1, 2, 3, 4, 5, 6, 7)) + g, stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    want = REF_LINE.search(ref)
    if not want:
        raise RuntimeError("tlbsim gave no answer: %r" % ref)
    return {"kernel": [int(x) for x in m.group(8, 9, 10, 11, 12, 13, 14)], "reference": [int(x) for x in want.groups()]}


def table(results, quick):
    rows = []
    off = results[("cost", 0, "")]
    for spec in runs(quick):
        r = results[spec]
        if spec[0] == "cost" and spec[1]:
            models = 2 if spec[2] else 1
            per = (r["tsc"] - off["tsc"]) / max(r["taken"], 1)
            rows.append(["cost", "gups, %d model%s" % (models, "s" if models > 1 else ""), "instructions_per_trap",
                         r["taken"], r["tsc"], off["tsc"], "%.0f" % per])
        elif spec[0] == "trace":
            for f, k, ref in zip(FIELDS, r["kernel"], r["reference"]):
                rows.append(["agreement", spec[1], f, k, ref, k - ref, spec[8]])
    # cost rows: traps, instructions on, off, per trap; agreement rows: kernel, reference, difference, geometries
    return ["kind", "case", "figure", "traps_or_kernel", "on_or_reference", "off_or_difference",
            "per_trap_or_geometries"], rows


def plot(header, rows, plt):
    fig, axs = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [1, 3]})
    cost = [r for r in rows if r[0] == "cost"]
    axs[0].bar([r[1] for r in cost], [float(r[6]) for r in cost], color="tab:purple")
    axs[0].set_ylabel("guest instructions per trap taken")
    axs[0].set_title("cost of measuring")
    agree = [r for r in rows if r[0] == "agreement" and r[2] in ("misses4k", "misses2m", "walkrefs")]
    labels = ["%s\n%s" % (r[1], r[2]) for r in agree]
    xs = range(len(agree))
    axs[1].bar([x - 0.2 for x in xs], [r[3] for r in agree], 0.4, label="kernel model")
    axs[1].bar([x + 0.2 for x in xs], [r[4] for r in agree], 0.4, label="tests/tlbsim")
    axs[1].set_xticks(list(xs))
    axs[1].set_xticklabels(labels, rotation=60, fontsize=6)
    axs[1].set_yscale("symlog", linthresh=1)
    axs[1].set_title("model counts against the reference simulator")
    axs[1].legend()
    fig.tight_layout()
    return fig


def section(header, rows):
    cost = {r[1]: r for r in rows if r[0] == "cost"}
    agree = [r for r in rows if r[0] == "agreement"]
    cases = list(dict.fromkeys(r[1] for r in agree))
    differ = [r for r in agree if r[5] != 0]
    one = cost["gups, 1 model"]
    text = ("**Claim**: the model TLB counts what a textbook TLB would, at a cost per trap that is known.  "
            "**Setup**: user/bench.c's gups under vm.policy=base with the model on and off (and with a shadow "
            "model beside it) gives guest instructions per trap taken; user/tlbtrace.c's traces (%s) are "
            "replayed in the host reference simulator tests/tlbsim with the same geometries.  **Result**: "
            "one trap costs %s guest instructions (%s traps)" % (", ".join(cases), one[6], one[3]))
    if "gups, 2 models" in cost:
        text += ", %s with two models" % cost["gups, 2 models"][6]
    text += ("; of %d counts (misses, evictions, walk references per TLB) over %d traces, %d differ from the "
             "reference simulator's." % (len(agree), len(cases), len(differ)))
    return text
