"""tools/exp/pagetables.py: page-table designs on the host (tests/ptbench.c, issue 11):
bytes and memory references per lookup for address spaces from dense to sparse."""
import os
import re
import subprocess

from exp.common import ROOT

NAME = "pagetables"
TITLE = "Page-table designs: bytes and references per lookup against sparsity"
PTBENCH = os.path.join(ROOT, "obj", "tests", "ptbench")
SPACE = re.compile(r"^(\S.*): (\d+) mappings$")
ROW = re.compile(r"^  (radix|clustered F\d+|guarded s\d+)\s+(\d+)\s+([\d.]+)%\s+([\d.]+)")
# densest first: mappings per byte of address space spanned
ORDER = ["64M of 2M pages", "dense 64M", "dense 64M, scattered frames", "1 page / 2M over 1G",
         "1 page / 1G over 512G"]


def inputs():
    return [PTBENCH]


def runs(quick):
    return [("ptbench",)]


def run(spec):
    out = subprocess.run([PTBENCH], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    rows, space, n = [], None, 0
    for line in out.splitlines():
        m = SPACE.match(line)
        if m:
            space, n = m.group(1), int(m.group(2))
            continue
        m = ROW.match(line)
        if m and space:
            rows.append([space, n, m.group(1), int(m.group(2)), m.group(3), m.group(4)])
    if not rows:
        raise RuntimeError("ptbench printed no rows:\n" + out)
    return {"rows": rows}


def table(results, quick):
    rows = sorted(results[("ptbench",)]["rows"], key=lambda r: ORDER.index(r[0]) if r[0] in ORDER else 99)
    return ["space", "mappings", "design", "bytes", "pct_of_radix", "refs_per_lookup"], rows


def plot(header, rows, plt):
    spaces = list(dict.fromkeys(r[0] for r in rows))
    designs = list(dict.fromkeys(r[2] for r in rows))
    fig, axs = plt.subplots(1, 2, figsize=(13, 4.5))
    for d in designs:
        pts = {r[0]: r for r in rows if r[2] == d}
        style = "-" if d == "radix" else "--" if d.startswith("clustered") else ":"
        axs[0].plot(range(len(spaces)), [pts[s][3] for s in spaces], style, marker="o", label=d)
        axs[1].plot(range(len(spaces)), [float(pts[s][5]) for s in spaces], style, marker="o", label=d)
    for ax, label in ((axs[0], "page-table bytes"), (axs[1], "memory references per lookup")):
        ax.set_xticks(range(len(spaces)))
        ax.set_xticklabels([s.replace(", scattered frames", "\nscattered") for s in spaces], rotation=15)
        ax.set_yscale("log")
        ax.set_ylabel(label)
    axs[1].legend(fontsize=7, ncol=2)
    fig.suptitle("Page-table designs, densest space left (host model, tests/ptbench.c)")
    fig.tight_layout()
    return fig


def section(header, rows):
    at = {(r[0], r[2]): r for r in rows}
    sparse, dense = "1 page / 2M over 1G", "dense 64M"

    def best(space, key):
        cands = [r for r in rows if r[0] == space and r[2] != "radix"]
        return min(cands, key=key)
    small = best(sparse, lambda r: (r[3], r[2]))
    fast = best(dense, lambda r: (float(r[5]), r[3]))
    return ("**Claim** (Talluri et al., SOSP'95; Liedtke's guarded page tables): for sparse address spaces "
            "clustered and guarded page tables take a small fraction of x86 radix tables' memory, and "
            "clustered tables keep lookups near one memory reference.  **Setup**: tests/ptbench.c builds "
            "synthetic address spaces on the host, from 64 MiB of 2 MiB pages to one 4 KiB page per 1 GiB, "
            "in x86 radix (analytic), clustered (kern/mm/pt/clustered.c, F 1..64) and guarded "
            "(kern/mm/pt/guarded.c, strides 1..9) tables; these are host figures, the kernel integration "
            "is in progress.  **Result**: with one page per 2 MiB, radix takes %d bytes and %s, the "
            "smallest, %d (%s%%); on dense 64 MiB, radix reads %s entries per lookup and %s reads %s at "
            "%s%% of radix's bytes." % (
                at[(sparse, "radix")][3], small[2], small[3], small[4], at[(dense, "radix")][5], fast[2], fast[5],
                fast[4]))
