"""tools/exp: the experiments of `make bench` (tools/experiments.py), one module each.

Each module names an experiment (NAME, TITLE, CLAIM) and gives the driver:
  runs(quick)            the matrix of runs: a list of specs, tuples of plain values
  inputs()               files whose bytes key the cache besides the spec (default: the kernel)
  run(spec)              one run (a QEMU boot or a host program): a dict of figures
  table(results, quick)  (header, rows) for NAME.csv from {spec: figures}; values are
                         ints or strings, so that a second run writes the same bytes
  plot(header, rows, plt, path)  NAME.png
  section(header, rows)  the report's markdown paragraph: claim, setup, result, with
                         numbers computed from rows
"""
# the order of the report and of `make bench`
ORDER = ["navarro", "fragmentation", "overlay", "pagetables", "ptreal", "hugemap", "instrument", "peer"]
