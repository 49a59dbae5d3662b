"""The cost of a record (issue 23, item 1), timed around ``Recorder.record`` inside runs, side by side.

    python benchmarks/bench_records.py [--repeats 9] [--steps 50] [--json out.json]

(a) Default recording (a record every step in these short runs): the record's time, and its share of the rest
    of the run, with lsgdsim's compiled kernels and with NumPy's passes (``LSGDSIM_KERNELS=numpy``), alternating,
    on the quadratic p = 512, d = 1000, Rastrigin p·d = 10^6 and the quadratic p = 512, d = 10.
(b) A record by column slabs against by rows (the mean, then the row kernel), each forced, on shapes on both
    sides of ``kernels._by_slabs``' limits: the measurements those limits come from.
Each figure is the minimum over the repeats. The same bits either way (tests/test_kernels.py).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_jax import numpy_only

from lsgdsim import algorithms as A
from lsgdsim import kernels, simulate
from lsgdsim import objectives as O
from lsgdsim.execution.recording import Recorder


@contextlib.contextmanager
def timed_records():
    """Inside the block, every ``Recorder.record`` adds its seconds to the yielded list [seconds, count]."""
    acc, real = [0.0, 0], Recorder.record

    def record(self, snap):
        t0 = time.perf_counter()
        real(self, snap)
        acc[0] += time.perf_counter() - t0
        acc[1] += 1
    Recorder.record = record
    try:
        yield acc
    finally:
        Recorder.record = real


@contextlib.contextmanager
def slab_limits(by_slabs):
    """Records by column slabs (True) or by rows (False) whatever the shape, inside the block."""
    saved = kernels.SLABS_FROM_X_BYTES, kernels.SLAB_MAX_BYTES
    kernels.SLABS_FROM_X_BYTES, kernels.SLAB_MAX_BYTES = (0, 2**62) if by_slabs else (2**62, 0)
    try:
        yield
    finally:
        kernels.SLABS_FROM_X_BYTES, kernels.SLAB_MAX_BYTES = saved


def record_cost(obj, p, steps):
    """(ms a record, record time in % of the rest of the run) of one run with default recording."""
    with timed_records() as acc:
        t0 = time.perf_counter()
        simulate(obj, A.LSGD(lr=1e-4, pull=0.1, period=4), workers=p, steps=steps, grad_noise=0.1, seed=0)
        total = time.perf_counter() - t0
    return 1e3 * acc[0] / acc[1], 100 * acc[0] / (total - acc[0])


def best(fns, repeats):
    """{name: the minimum (by the first number) over ``repeats`` alternating calls of fns[name]}."""
    out = {}
    for _ in range(repeats):
        for name, fn in fns.items():
            got = fn()
            out[name] = min(out.get(name, got), got)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    print(f"lsgdsim's compiled kernels: {kernels.status()}")
    out = {"default_recording": {}, "slabs_vs_rows": {}}
    for label, obj, p in (("quadratic p=512 d=1000", O.Quadratic.random(dim=1000, cond=100.0, seed=0), 512),
                          ("rastrigin p=100 d=1e4", O.Rastrigin(dim=10**4), 100),
                          ("quadratic p=512 d=10", O.Quadratic.random(dim=10, cond=100.0, seed=0), 512)):
        def numpy_passes(o=obj, p=p):
            with numpy_only():
                return record_cost(o, p, args.steps)
        row = best({"kernels": lambda o=obj, p=p: record_cost(o, p, args.steps), "numpy": numpy_passes}, args.repeats)
        out["default_recording"][label] = row
        print(f"{label}: a record {row['kernels'][0]:.3f} ms ({row['kernels'][1]:.1f} % of the rest of the run); "
              f"NumPy's passes {row['numpy'][0]:.3f} ms ({row['numpy'][1]:.1f} %)")
    for label, obj, p in (("rastrigin p=100 d=1e4", O.Rastrigin(dim=10**4), 100),
                          ("rastrigin p=400 d=2500", O.Rastrigin(dim=2500), 400),
                          ("rastrigin p=1000 d=1000", O.Rastrigin(dim=1000), 1000),
                          ("quadratic p=512 d=1000", O.Quadratic.random(dim=1000, cond=100.0, seed=0), 512),
                          ("quadratic p=256 d=1000", O.Quadratic.random(dim=1000, cond=100.0, seed=0), 256),
                          ("quadratic p=2000 d=300", O.Quadratic.random(dim=300, cond=100.0, seed=0), 2000)):
        def forced(by_slabs, o=obj, p=p):
            with slab_limits(by_slabs):
                return record_cost(o, p, 30)
        row = best({"slabs": lambda: forced(True), "rows": lambda: forced(False)}, max(3, args.repeats // 2))
        row["taken"] = "slabs" if kernels._by_slabs(p, obj.dim) else "rows"
        out["slabs_vs_rows"][label] = row
        print(f"{label} (X {p * obj.dim * 8 / 2**20:.1f} MiB): a record by slabs {row['slabs'][0]:.3f} ms, by rows "
              f"{row['rows'][0]:.3f} ms; a run takes {row['taken']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
