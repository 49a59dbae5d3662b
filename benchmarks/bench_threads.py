"""Both cores (issue 12, item 4): a noisy LSGD step with 1 and 2 threads, side by side.

    python benchmarks/bench_threads.py [--repeats 5] [--steps 20] [--json out.json]

Cases: Rastrigin p·d = 10^6 (p = 100, d = 10^4) and the d = 1000 quadratic (p = 512). For the
quadratic, also the alternative of letting BLAS thread the whole GEMM: the unblocked oracle
(``value_and_grad`` of all rows, BLAS at 2 threads) plus the noise, against the blocked oracle.
Then the objectives evaluated by row blocks through ``Objective._rows_into`` (Ackley, Styblinski–Tang,
Rosenbrock, double well; p = 100, d = 10^4): a step with the objective evaluated whole (as before it had a
block oracle) against by blocks, 1 and 2 threads, and the same final iterate either way; Styblinski–Tang's
blocks also without its compiled kernel (``LSGDSIM_KERNELS=numpy``).
A step is timed as (time of 2n steps − time of n steps) / n; each figure is a minimum over
alternating repeats.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_jax import numpy_only  # (the kernels off inside a block)

from lsgdsim import algorithms as A
from lsgdsim import objectives as O
from lsgdsim import simulate
from lsgdsim.backend import RandomStreams, resolve
from lsgdsim.parallel import WorkerPool

SIGMA = 0.1


def step_time(obj, p, steps, threads):
    def run(n):
        t0 = time.perf_counter()
        simulate(obj, A.LSGD(lr=1e-4, pull=0.1, period=4), workers=p, steps=n, grad_noise=SIGMA, seed=0,
                 record_every=10**9, threads=threads)
        return time.perf_counter() - t0
    return (run(2 * steps) - run(steps)) / steps


def oracle_time(obj, p, steps, mode):
    """Seconds per noisy oracle call: 'whole' (one GEMM, BLAS 2 threads) or 'blocks1'/'blocks2'."""
    xp = resolve("numpy")
    X = obj.initial_point(p, np.random.default_rng(0))
    pool = WorkerPool(2 if mode == "blocks2" else 1)
    streams = RandomStreams(0, xp, pool=pool)
    t0 = time.perf_counter()
    for _ in range(steps):
        if mode == "whole":
            with threadpool_limits(2, user_api="blas"):
                _, G = obj.value_and_grad(X)
            G += streams.normal("grad_noise", X.shape, scale=SIGMA)
        else:
            obj.noisy_value_and_grad(X, streams, SIGMA)
    pool.close()
    return (time.perf_counter() - t0) / steps


class evaluated_whole:
    """Inside the block, ``obj``'s class has no block oracle (its value_and_grad on all rows at once)."""

    def __init__(self, obj):
        self.cls, self.saved = type(obj), type(obj).__dict__["_value_and_grad_into"]

    def __enter__(self):
        self.cls._value_and_grad_into = None

    def __exit__(self, *exc):
        self.cls._value_and_grad_into = self.saved


def row_blocks(repeats, steps):
    out = {}
    for name in ("ackley", "styblinski-tang", "rosenbrock", "double-well"):
        obj = O.make_objective(name, dim=10**4)

        def final(o=obj):
            return simulate(o, A.LSGD(lr=1e-5, pull=0.1, period=4), workers=100, steps=3, grad_noise=SIGMA, seed=0,
                            threads=2).x
        with evaluated_whole(obj):
            want = final()
        compiled = type(obj)._value_and_grad_into is not O.Objective._rows_into   # (Styblinski–Tang's kernel)
        best = {}

        def keep(key, t, best=best):
            best[key] = min(best.get(key, float("inf")), t)
        for _ in range(repeats):
            for threads in (1, 2):
                with evaluated_whole(obj):
                    keep(f"whole_{threads}", step_time(obj, 100, steps, threads))
                keep(f"blocks_{threads}", step_time(obj, 100, steps, threads))
                if compiled:
                    with numpy_only():
                        keep(f"blocks_numpy_{threads}", step_time(obj, 100, steps, threads))
        best["same_bits"] = bool(np.array_equal(final(), want))
        out[name] = best
        numpy_path = (f", by blocks with NumPy's passes {1e3 * best['blocks_numpy_1']:.2f} / "
                      f"{1e3 * best['blocks_numpy_2']:.2f}") if compiled else ""
        print(f"{name} p=100 d=1e4, ms a step: whole {1e3 * best['whole_1']:.2f} (1 thread) / "
              f"{1e3 * best['whole_2']:.2f} (2), by blocks {1e3 * best['blocks_1']:.2f} / "
              f"{1e3 * best['blocks_2']:.2f}{numpy_path}: "
              f"{best['whole_2'] / best['blocks_2']:.2f}x at 2 threads; same bits: {best['same_bits']}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    cases = {"rastrigin p=100 d=1e4": (O.Rastrigin(dim=10**4), 100),
             "quadratic p=512 d=1000": (O.Quadratic.random(dim=1000, cond=100.0, seed=0), 512)}
    out = {}
    for label, (obj, p) in cases.items():
        fns = {"step_1thread": lambda o=obj, p=p: step_time(o, p, args.steps, 1),
               "step_2threads": lambda o=obj, p=p: step_time(o, p, args.steps, 2),
               "oracle_whole_blas2": lambda o=obj, p=p: oracle_time(o, p, args.steps, "whole"),
               "oracle_blocks_1thread": lambda o=obj, p=p: oracle_time(o, p, args.steps, "blocks1"),
               "oracle_blocks_2threads": lambda o=obj, p=p: oracle_time(o, p, args.steps, "blocks2")}
        best = {}
        for _ in range(args.repeats):
            for key, fn in fns.items():
                best[key] = min(best.get(key, float("inf")), fn())
        best["speedup_2threads"] = best["step_1thread"] / best["step_2threads"]
        out[label] = best
        print(f"{label}: step 1 thread {1e3 * best['step_1thread']:.2f} ms, 2 threads "
              f"{1e3 * best['step_2threads']:.2f} ms, speed-up {best['speedup_2threads']:.2f}x; noisy oracle: "
              f"whole (BLAS 2 threads) {1e3 * best['oracle_whole_blas2']:.2f} ms, blocks 1 thread "
              f"{1e3 * best['oracle_blocks_1thread']:.2f} ms, "
              f"blocks 2 threads {1e3 * best['oracle_blocks_2threads']:.2f} ms")
    out["row_blocks"] = row_blocks(args.repeats, args.steps)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
