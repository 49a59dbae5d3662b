"""Simulator-core benchmark (issue 2), every figure a ratio measured side by side in this process.

    python benchmarks/bench_core.py [--quick] [--backend numpy|cupy] [--json out.json]

(a) speed-up of the vectorized simulator over tests/reference.py's per-worker loop (each worker calls
    the oracle on its own parameters, as a process owning one worker would), noisy LSGD on
    quadratics, p = 512, d ∈ {10, 100, 1000};
(b) the time of a simulated noisy LSGD step over its physical floor (one fused value-and-gradient
    evaluation of all workers plus the draw of its noise), on a d = 1000 quadratic (p = 512,
    matmul-bound) and on Rastrigin with p·d = 10^6 (RNG- and transcendental-bound);
(c) float32 vs float64 on the same two runs;
(d) how the step time grows with p·d (Rastrigin, p = 100, d from 10^2 to 10^5: three decades), as a
    fitted log-log exponent;
(e) the block random draw (one generator, rows = workers) against one generator per worker;
(f) a whole short run (20 steps, p = 512, d = 10, default recording, set-up and Result included) against
    a lean per-worker Python loop of the same run (issue 23, item 3: the per-call overhead).
Each timing is the minimum over ``repeats`` alternating measurements (A B A B ...), which removes
most of the noise of a shared machine; ratios are of those minima. A simulator step is timed as the
difference between runs of 2n and n steps, which removes the per-run set-up.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from lsgdsim import algorithms as A  # noqa: E402
from lsgdsim import objectives as O  # noqa: E402
from lsgdsim import simulate  # noqa: E402
from lsgdsim.backend import RandomStreams, from_numpy, resolve, xp_dtype  # noqa: E402

SIGMA = 0.1


def lsgd():
    return A.LSGD(lr=1e-4, pull=0.1, period=4)


def _run_time(obj, p, steps, backend, dtype):
    start = time.perf_counter()
    simulate(obj, lsgd(), workers=p, steps=steps, grad_noise=SIGMA, seed=0, backend=backend, dtype=dtype,
             record_every=10**9)
    _sync(backend)
    return time.perf_counter() - start


def sim_step_time(obj, p, steps, backend="numpy", dtype="float64"):
    """Seconds per step of a noisy LSGD run: (time of 2n steps − time of n steps) / n, so that the
    per-run set-up (drawing x0, the first and last records, the final evaluation) is not counted."""
    return (_run_time(obj, p, 2 * steps, backend, dtype) - _run_time(obj, p, steps, backend, dtype)) / steps


def floor_step_time(obj, p, steps, backend="numpy", dtype="float64"):
    """Seconds per fused value-and-gradient evaluation of all workers plus its noise draw."""
    xp = resolve(backend)
    X = from_numpy(obj.initial_point(p, np.random.default_rng(0)), xp, xp_dtype(xp, dtype))
    streams = RandomStreams(0, xp, dtype)
    start = time.perf_counter()
    for _ in range(steps):
        obj.value_and_grad(X)
        streams.normal("grad_noise", (p, obj.dim))
    _sync(backend)
    return (time.perf_counter() - start) / steps


def reference_step_time(obj, p, steps):
    from reference import reference_run
    x0 = obj.initial_point(p, np.random.default_rng(0))
    start = time.perf_counter()
    reference_run(obj, lsgd(), p, steps, x0, grad_noise=SIGMA, seed=0, per_worker_oracle=True)
    return (time.perf_counter() - start) / steps


def _sync(backend):
    if backend == "cupy":
        import cupy
        cupy.cuda.Device().synchronize()


def best_of(fns, repeats):
    """Run the callables in turn ``repeats`` times; the minimum time of each."""
    best = [np.inf] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], fn())
    return best


def bench_speedup(quick, repeats):
    rows = []
    for d in (10, 100, 1000):
        obj, p = O.Quadratic.random(dim=d, cond=10.0, seed=0), 512
        vec_steps = {10: 400, 100: 200, 1000: 20}[d] // (4 if quick else 1)
        ref_steps = 2 if quick else 5
        sim_step_time(obj, p, 2)  # warm the caches
        vec, ref = best_of([lambda o=obj, q=p, n=vec_steps: sim_step_time(o, q, n),
                            lambda o=obj, q=p, n=ref_steps: reference_step_time(o, q, n)], repeats)
        rows.append({"d": d, "p": p, "vectorized_ms": vec * 1e3, "reference_ms": ref * 1e3, "speedup": ref / vec})
    return rows


def floor_cases(quick):
    cases = [("quadratic d=1000, p=512", O.Quadratic.random(dim=1000, cond=10.0, seed=0), 512, 10 if quick else 30),
             ("rastrigin p*d=1e6 (p=1000, d=1000)", O.Rastrigin(dim=1000), 1000, 5 if quick else 15)]
    return cases


def bench_floor(quick, repeats, backend):
    rows = []
    for name, obj, p, steps in floor_cases(quick):
        row = {"case": name}
        for dtype in ("float64", "float32"):
            sim_step_time(obj, p, 2, backend, dtype)
            sim, fl = best_of([lambda o=obj, q=p, n=steps, dt=dtype: sim_step_time(o, q, n, backend, dt),
                               lambda o=obj, q=p, n=steps, dt=dtype: floor_step_time(o, q, n, backend, dt)], repeats)
            row[f"{dtype}_step_ms"], row[f"{dtype}_floor_ms"] = sim * 1e3, fl * 1e3
            row[f"{dtype}_ratio"] = sim / fl
        row["float32_speedup"] = row["float64_step_ms"] / row["float32_step_ms"]
        rows.append(row)
    return rows


def bench_scaling(quick, repeats, backend):
    p = 100
    dims = (100, 1000, 10_000, 100_000)
    rows = []
    for d in dims:
        obj = O.Rastrigin(dim=d)
        steps = max(6, int(4e6 / (p * d))) if not quick else max(2, int(5e5 / (p * d)))
        sim_step_time(obj, p, 2, backend)
        t, fl = best_of([lambda o=obj, n=steps: sim_step_time(o, p, n, backend),
                         lambda o=obj, n=steps: floor_step_time(o, p, n, backend)], repeats)
        rows.append({"p": p, "d": d, "pd": p * d, "step_ms": t * 1e3, "floor_ms": fl * 1e3, "ratio": t / fl})
    x = np.log([r["pd"] for r in rows])

    def fit(key):
        y = np.log([r[key] for r in rows])
        # Local exponents between consecutive decades: the asymptotic cost shows in the last ones.
        return float(np.polyfit(x, y, 1)[0]), (np.diff(y) / np.diff(x)).tolist()

    (slope, local), (floor_slope, floor_local) = fit("step_ms"), fit("floor_ms")
    ratio_slope = float(np.polyfit(x, np.log([r["ratio"] for r in rows]), 1)[0])
    return {"rows": rows, "exponent": slope, "local_exponents": local, "floor_exponent": floor_slope,
            "floor_local_exponents": floor_local, "step_over_floor_exponent": ratio_slope}


def bench_rng(repeats):
    """The block draw of RandomStreams vs one generator per worker (the alternative scheme)."""
    p, d, steps = 512, 10, 200

    def block():
        streams = RandomStreams(0, np)
        start = time.perf_counter()
        for _ in range(steps):
            streams.normal("grad_noise", (p, d), scale=SIGMA)
        return (time.perf_counter() - start) / steps

    def per_worker():
        gens = [np.random.default_rng(s) for s in np.random.SeedSequence(0).spawn(p)]
        start = time.perf_counter()
        for _ in range(steps):
            np.stack([g.normal(0.0, SIGMA, d) for g in gens])
        return (time.perf_counter() - start) / steps

    b, w = best_of([block, per_worker], repeats)
    return {"p": p, "d": d, "block_us": b * 1e6, "per_worker_us": w * 1e6, "ratio": w / b}


def lean_loop(obj, p, steps, lr=1e-4, pull=0.1, period=4):
    """Noisy LSGD on a quadratic as a user would write it in plain Python: one worker at a time."""
    rng = np.random.default_rng(0)
    x = list(obj.initial_point(p, rng))
    A_, b = obj.A, obj.b
    for t in range(1, steps + 1):
        fs = []
        for i in range(p):
            ax = A_ @ x[i]
            fs.append(float(x[i] @ (0.5 * ax - b)))
            x[i] = x[i] - lr * (ax - b + SIGMA * rng.standard_normal(obj.dim))
        if t % period == 0:
            z = x[int(np.argmin(fs))].copy()
            x = [xi - pull * (xi - z) for xi in x]
    return x


def bench_short_run(repeats, p=512, d=10, steps=20):
    """A whole short run, simulate against the lean loop (both from scratch, set-up included)."""
    obj = O.Quadratic.random(dim=d, cond=10.0, seed=0)

    def sim():
        start = time.perf_counter()
        simulate(obj, lsgd(), workers=p, steps=steps, grad_noise=SIGMA, seed=0)
        return time.perf_counter() - start

    def lean():
        start = time.perf_counter()
        lean_loop(obj, p, steps)
        return time.perf_counter() - start

    sim()
    s, loop = best_of([sim, lean], repeats)
    return {"p": p, "d": d, "steps": steps, "simulate_ms": s * 1e3, "lean_loop_ms": loop * 1e3, "ratio": loop / s}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats (a smoke run)")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--json", help="write the measurements here")
    args = ap.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    out = {"machine": {"python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform(),
                       "processor": platform.processor() or platform.machine()},
           "backend": args.backend}
    if args.backend == "numpy":
        out["speedup"] = bench_speedup(args.quick, repeats)
        out["rng"] = bench_rng(repeats)
        out["short_run"] = bench_short_run(repeats)
    out["floor"] = bench_floor(args.quick, repeats, args.backend)
    out["scaling"] = bench_scaling(args.quick, repeats, args.backend)
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
