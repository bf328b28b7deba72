#!/usr/bin/env python3
"""tools/layercheck.py: keep the memory-management core layered (kern/mm/README).

Reads the symbol tables of the kernel's object files (`nm`) and fails when an object
of a lower layer references a symbol defined in a higher one, or when files of the
memory-management core reference each other in a cycle.  References through function
pointers a higher layer registers at run time are not symbol references, and are
the allowed way down-calls come back up (reserv_ops.detach, the pmap's invalidation
hook).

    tools/layercheck.py [OBJDIR]      prints "layercheck: N objects, M references, OK"
                                      or one line per violation, and exits 1

The layers, lowest first (a file may use its own layer's files only if that makes no
cycle, and any lower layer):
"""
import os
import subprocess
import sys
from collections import defaultdict

# (layer, name, sources): lowest first.  Sources not listed are not checked.
LAYERS = [
    (0, "base", ["kern/console.c", "kern/printf.c", "kern/cmdline.c", "kern/qemu.c", "kern/multiboot.c",
                 "kern/backtrace.c", "lib/string.c", "lib/printfmt.c"]),
    (1, "lib", ["kern/mm/lib/buddy.c", "kern/mm/lib/popmap.c", "kern/mm/lib/reserv.c", "kern/mm/lib/vtlb.c",
                "kern/mm/failinject.c"]),
    (2, "frame, prezero", ["kern/mm/frame.c", "kern/mm/prezero.c"]),
    (3, "kmalloc, pt", ["kern/mm/kmalloc.c", "kern/mm/kpmap.c", "kern/mm/pt/walk.c", "kern/mm/pt/radix.c",
                        "kern/mm/pt/overlay.c", "kern/mm/pt/cache.c", "kern/mm/pt/design.c",
                        "kern/mm/pt/clustered.c", "kern/mm/pt/guarded.c"]),
    (4, "object", ["kern/mm/object.c"]),
    (5, "policy", ["kern/mm/policy.c"]),
    (6, "vm", ["kern/mm/vm.c"]),
    (7, "fault, daemon, tlbtrap, uaccess, invariant",
     ["kern/mm/fault.c", "kern/mm/daemon.c", "kern/mm/tlbtrap.c", "kern/mm/uaccess.c", "kern/mm/invariant.c"]),
]
DEFINED = set("TDBRCGSVW")


def symbols(obj):
    """(defined, undefined) global symbol names of one object file."""
    out = subprocess.run(["nm", "-P", obj], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind in DEFINED:
            defined.add(name)
    return defined, undefined


def find_cycle(graph):
    """One cycle in graph {node: set(nodes)} as a list, or None."""
    state = {}

    def visit(n, path):
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                c = visit(m, path)
                if c:
                    return c
        path.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n, [])
            if c:
                return c
    return None


def main():
    objdir = sys.argv[1] if len(sys.argv) > 1 else "obj"
    layer_of = {}
    for layer, _, sources in LAYERS:
        for src in sources:
            layer_of[src] = layer
    # every kernel object: the checked ones and the ones above them (proc, syscall...)
    objects = {}
    for top in ("kern", "lib"):
        for dirpath, _, files in os.walk(os.path.join(objdir, top)):
            for f in files:
                if f.endswith(".o") and not f.startswith(("ksyms", "userprogs")):
                    obj = os.path.join(dirpath, f)
                    src = os.path.relpath(obj, objdir)[:-2] + ".c"
                    if os.path.exists(src):		# not a stale object of a moved file
                        objects[src] = obj
    missing = [s for s in layer_of if s not in objects and os.path.exists(s)]
    if missing:
        print("layercheck: not built: %s (run make first)" % " ".join(missing))
        return 1
    definer, uses = {}, {}
    for src, obj in objects.items():
        defined, undefined = symbols(obj)
        for name in defined:
            definer[name] = src
        uses[src] = undefined
    problems, refs = [], 0
    graph = defaultdict(set)
    for src, undefined in sorted(uses.items()):
        if src not in layer_of:
            continue
        for name in sorted(undefined):
            to = definer.get(name)
            if to is None or to == src:
                continue
            refs += 1
            to_layer = layer_of.get(to, len(LAYERS))	# unlisted kernel files sit on top
            if to_layer > layer_of[src]:
                problems.append("%s (layer %d) uses %s from %s (layer %s)" %
                                (src, layer_of[src], name, to, to_layer if to in layer_of else "above mm"))
            if to in layer_of and to.startswith("kern/mm/"):
                graph[src].add(to)
    cycle = find_cycle(graph)
    if cycle:
        problems.append("cycle: " + " -> ".join(cycle))
    for p in problems:
        print("layercheck: " + p)
    if problems:
        print("layercheck: %d violations" % len(problems))
        return 1
    print("layercheck: %d objects, %d references, OK" % (len([s for s in uses if s in layer_of]), refs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
