"""lsgdsim against the same noisy LSGD written as a JAX user would (issue 12, item 5).

    python benchmarks/bench_jax.py [--repeats 3] [--quick] [--json out.json]

JAX side: jit + lax.scan over the steps, all workers in one (p, d) float64 array on the CPU, the
noise from jax.random, the leader pull every τ = 4 steps (x ← x − η(g + σξ) − λ·comm·(x − x_ℓ)).
Timed after a compile-and-run warm-up, with ``block_until_ready``. lsgdsim side: ``simulate`` with
the same rule, default threads. Reported: JAX time ÷ lsgdsim time (> 1: lsgdsim is faster) for
quadratic p = 512, d = 1000; Rastrigin p = 100, d = 10^4; quadratic p = 512, d = 10 (2000 steps),
each without recording (a long run) and with the default recording of a short run (lsgdsim's
default ``record_every``; JAX returns every step's f values from the scan, as a user would).
Also the per-phase breakdown of one lsgdsim step (noisy oracle, local step + pull) against the
floor (the noisy oracle alone). Skips with a message when JAX is not installed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lsgdsim import algorithms as A
from lsgdsim import objectives as O
from lsgdsim import simulate
from lsgdsim.backend import RandomStreams, resolve
from lsgdsim.parallel import WorkerPool, default_threads

LR, PULL, PERIOD, SIGMA = 1e-4, 0.1, 4, 0.1


def jax_runner(obj, p, steps, record):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    if isinstance(obj, O.Quadratic):
        Am, bv = jnp.asarray(obj.A), jnp.asarray(obj.b)

        def vg(X):
            AX = X @ Am
            return jnp.sum(X * (0.5 * AX - bv), axis=1), AX - bv
    else:
        a, d = obj.A, obj.dim

        def vg(X):
            ang = 2 * jnp.pi * X
            return (jnp.sum(X * X - a * jnp.cos(ang), axis=1) + a * d, 2 * X + 2 * jnp.pi * a * jnp.sin(ang))

    def body(carry, t):
        X, key = carry
        key, sub = jax.random.split(key)
        f, G = vg(X)
        G = G + SIGMA * jax.random.normal(sub, X.shape, dtype=jnp.float64)
        Xn = X - LR * G
        lead = X[jnp.argmin(f)]
        Xn = jnp.where(t % PERIOD == 0, Xn - PULL * (X - lead), Xn)
        return (Xn, key), (f if record else None)

    @jax.jit
    def run(X0):
        (X, _), fs = jax.lax.scan(body, (X0, jax.random.PRNGKey(0)), jnp.arange(1, steps + 1))
        return X, fs

    X0 = jnp.asarray(obj.initial_point(p, np.random.default_rng(0)))
    jax.block_until_ready(run(X0))  # compile + one run
    return lambda: jax.block_until_ready(run(X0))


def lsgdsim_runner(obj, p, steps, record):
    kw = {} if record else {"record_every": 10**9}
    return lambda: simulate(obj, A.LSGD(lr=LR, pull=PULL, period=PERIOD), workers=p, steps=steps, grad_noise=SIGMA,
                            seed=0, **kw)


def best_pair(fa, fb, repeats):
    ta = tb = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fa()
        ta = min(ta, time.perf_counter() - t0)
        t0 = time.perf_counter()
        fb()
        tb = min(tb, time.perf_counter() - t0)
    return ta, tb


def phases(obj, p, n=10):
    """Seconds per step of each phase of a lsgdsim step (default threads): noisy oracle (the floor)
    and the rest (local step, leader pull, run loop)."""
    pool = WorkerPool(default_threads(p, obj.dim))
    streams = RandomStreams(0, resolve("numpy"), pool=pool)
    X = obj.initial_point(p, np.random.default_rng(0))
    t0 = time.perf_counter()
    for _ in range(n):
        obj.noisy_value_and_grad(X, streams, SIGMA)
    oracle = (time.perf_counter() - t0) / n
    pool.close()
    run = lsgdsim_runner(obj, p, n, False)
    t0 = time.perf_counter()
    run()
    t1 = time.perf_counter()
    lsgdsim_runner(obj, p, 2 * n, False)()
    step = (time.perf_counter() - t1 - (t1 - t0)) / n
    return {"noisy_oracle_floor_s": oracle, "step_s": step, "step_over_floor": step / oracle}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    try:
        import jax  # noqa: F401
    except ImportError:
        print("bench_jax: JAX is not installed (pip install jax jaxlib); skipped")
        return 0
    k = 10 if args.quick else 1
    cases = [("quadratic p=512 d=1000", O.Quadratic.random(dim=1000, cond=100.0, seed=0), 512, 200 // k),
             ("rastrigin p=100 d=1e4", O.Rastrigin(dim=10**4), 100, 200 // k),
             ("quadratic p=512 d=10", O.Quadratic.random(dim=10, cond=100.0, seed=0), 512, 2000 // k)]
    out = {}
    for label, obj, p, steps in cases:
        row = {"steps": steps}
        for record, short in ((False, steps), (True, max(20, steps // 4))):
            tj, tl = best_pair(jax_runner(obj, p, short, record), lsgdsim_runner(obj, p, short, record), args.repeats)
            key = "recorded_short_run" if record else "long_run"
            row[key] = {"steps": short, "jax_s": tj, "lsgdsim_s": tl, "jax_over_lsgdsim": tj / tl}
        row["phases"] = phases(obj, p)
        out[label] = row
        print(f"{label}: JAX/lsgdsim {row['long_run']['jax_over_lsgdsim']:.2f} ({steps} steps, no records), "
              f"{row['recorded_short_run']['jax_over_lsgdsim']:.2f} ({row['recorded_short_run']['steps']} steps, "
              f"default records); lsgdsim step {1e3 * row['phases']['step_s']:.2f} ms = "
              f"{row['phases']['step_over_floor']:.2f} x the noisy-oracle floor "
              f"({1e3 * row['phases']['noisy_oracle_floor_s']:.2f} ms)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
