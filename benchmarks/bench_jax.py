"""lsgdsim against the same noisy LSGD written as a JAX user would (issue 12, item 5).

    python benchmarks/bench_jax.py [--repeats 3] [--quick] [--json out.json]

JAX side: jit + lax.scan over the steps, all workers in one (p, d) float64 array on the CPU, the
noise from jax.random, the leader pull every τ = 4 steps (x ← x − η(g + σξ) − λ·comm·(x − x_ℓ)).
Timed after a compile-and-run warm-up, with ``block_until_ready``. lsgdsim side: ``simulate`` with
the same rule, default threads. Reported: JAX time ÷ lsgdsim time (> 1: lsgdsim is faster) for
quadratic p = 512, d = 1000; Rastrigin p = 100, d = 10^4; quadratic p = 512, d = 10 (2000 steps),
each without recording (a long run) and with the default recording of a short run (lsgdsim's
default ``record_every``; JAX returns every step's f values from the scan, as a user would, and, as a
third comparison, what a lsgdsim record holds: f and both distance rows).
Then, per case, what limits it: the phases of a step timed side by side, lsgdsim's way and JAX's way of
the same work (value and gradient, the noise draw; on the quadratic the matrix product by lsgdsim's
worker blocks and as one GEMM on the default BLAS threads), beside the whole step and the step with its
record; the cost of a record both with lsgdsim's compiled kernels (numba, where installed: the same
numbers) and with NumPy's passes only (LSGDSIM_KERNELS=numpy). Skips with a message when JAX is not installed.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lsgdsim import algorithms as A
from lsgdsim import kernels, simulate
from lsgdsim import objectives as O
from lsgdsim.backend import RandomStreams, resolve
from lsgdsim.parallel import WorkerPool, blas_threads, block_bounds, default_threads

LR, PULL, PERIOD, SIGMA = 1e-4, 0.1, 4, 0.1


def _jax_oracle(obj):
    """The value-and-gradient function a JAX user writes for ``obj`` (quadratic or Rastrigin)."""
    import jax.numpy as jnp
    if isinstance(obj, O.Quadratic):
        Am, bv = jnp.asarray(obj.A), jnp.asarray(obj.b)

        def vg(X):
            AX = X @ Am
            return jnp.sum(X * (0.5 * AX - bv), axis=1), AX - bv
        return vg
    a, d = obj.A, obj.dim

    def vg(X):
        ang = 2 * jnp.pi * X
        return (jnp.sum(X * X - a * jnp.cos(ang), axis=1) + a * d, 2 * X + 2 * jnp.pi * a * jnp.sin(ang))
    return vg


def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax, jax.numpy


def jax_runner(obj, p, steps, record):
    """The JAX run; ``record``: False (nothing), True (f every step, as a user would) or "same" (what a
    lsgdsim record holds: f and the distances of every worker to the leader and to the workers' mean)."""
    jax, jnp = _jax()
    vg = _jax_oracle(obj)

    def body(carry, t):
        X, key = carry
        key, sub = jax.random.split(key)
        f, G = vg(X)
        G = G + SIGMA * jax.random.normal(sub, X.shape, dtype=jnp.float64)
        Xn = X - LR * G
        lead = X[jnp.argmin(f)]
        Xn = jnp.where(t % PERIOD == 0, Xn - PULL * (X - lead), Xn)
        if record == "same":
            rows = (f, jnp.linalg.norm(X - lead, axis=1), jnp.linalg.norm(X - X.mean(axis=0), axis=1))
        else:
            rows = f if record else None
        return (Xn, key), rows

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


@contextlib.contextmanager
def numpy_only():
    """lsgdsim without its compiled kernels (numba) inside the block: the same numbers, NumPy's time."""
    old = os.environ.get(kernels.ENV)
    os.environ[kernels.ENV] = "numpy"
    try:
        yield
    finally:
        if old is None:
            del os.environ[kernels.ENV]
        else:
            os.environ[kernels.ENV] = old


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


def phase_pairs(obj, p):
    """The phases of one step, each as (lsgdsim's way, JAX's way) of doing the same work, as callables."""
    jax, jnp = _jax()
    pool = WorkerPool(default_threads(p, obj.dim))
    streams = RandomStreams(0, resolve("numpy"), pool=pool)
    X = obj.initial_point(p, np.random.default_rng(0))
    XJ, key, vg = jnp.asarray(X), jax.random.PRNGKey(0), jax.jit(_jax_oracle(obj))
    normal = jax.jit(lambda k: jax.random.normal(k, X.shape, dtype=jnp.float64))
    ready = jax.block_until_ready
    pairs = {"value and gradient": (lambda: obj.noisy_value_and_grad(X, streams, 0.0), lambda: ready(vg(XJ))),
             "noise draw (p·d normals)": (lambda: streams.normal("grad_noise", X.shape, scale=SIGMA),
                                          lambda: ready(normal(key)))}
    if isinstance(obj, O.Quadratic):  # the matrix product alone: lsgdsim's worker blocks, one GEMM, JAX's
        A_, G = obj.A, np.empty_like(X)

        def by_blocks():
            return pool.map(lambda lo, hi: np.matmul(X[lo:hi], A_, out=G[lo:hi]), block_bounds(*X.shape))
        mm = jax.jit(lambda Z: Z @ jnp.asarray(A_))
        pairs["X·A (lsgdsim: by worker blocks)"] = (by_blocks, lambda: ready(mm(XJ)))
        # (lsgdsim's alone: OpenBLAS's threads spin after a call and would slow whatever runs next)
        pairs[f"X·A as one GEMM on {blas_threads()} BLAS threads"] = (lambda: np.matmul(X, A_, out=G), None)
    for _, fj in pairs.values():
        if fj is not None:
            fj()                                                 # compile
    return pairs, pool


def phases(obj, p, runs, repeats):
    """Milliseconds per step of each phase, lsgdsim and JAX side by side (alternating, min of repeats),
    and the whole step and the cost of a record, from the timed runs."""
    pairs, pool = phase_pairs(obj, p)
    out = {}
    try:
        for name, (fl, fj) in pairs.items():
            tl, tj = best_pair(fl, fj or (lambda: None), max(5, repeats))
            out[name] = {"lsgdsim_ms": 1e3 * tl, "jax_ms": 1e3 * tj if fj else None}
    finally:
        pool.close()
    long, short = runs["long_run"], runs["recorded_short_run"]
    recorded, ends = best_pair(lsgdsim_runner(obj, p, short["steps"], True),
                               lsgdsim_runner(obj, p, short["steps"], False), repeats)
    with numpy_only():   # the same records by NumPy's passes, timed against the same runs at the ends
        recorded_np, ends_np = best_pair(lsgdsim_runner(obj, p, short["steps"], True),
                                         lsgdsim_runner(obj, p, short["steps"], False), repeats)
    same = " (the same path: p·d below the kernels' size)" if p * obj.dim < kernels.MIN_ELEMENTS else ""
    for name, rec, base in (("record, per step (default recording − ends only)", recorded, ends),
                            (f"record, per step, NumPy's passes only (LSGDSIM_KERNELS=numpy){same}", recorded_np,
                             ends_np)):
        out[name] = {"lsgdsim_ms": 1e3 * (rec - base) / short["steps"], "jax_ms": None,
                     "over_ends_only": rec / base - 1.0}
    out["whole step (long run)"] = {"lsgdsim_ms": 1e3 * long["lsgdsim_s"] / long["steps"],
                                    "jax_ms": 1e3 * long["jax_s"] / long["steps"]}
    out["whole step with its record (short run)"] = {"lsgdsim_ms": 1e3 * short["lsgdsim_s"] / short["steps"],
                                                     "jax_ms": 1e3 * short["jax_s"] / short["steps"]}
    return out


def print_phases(label, table):
    print(f"  {label}: ms per step{'':<35} lsgdsim      JAX")
    for name, row in table.items():
        jax_ms = "       —" if row["jax_ms"] is None else f"{row['jax_ms']:8.3f}"
        extra = f"   (+{100 * row['over_ends_only']:.1f} % over records at the ends)" if "over_ends_only" in row else ""
        print(f"    {name:<60} {row['lsgdsim_ms']:8.3f} {jax_ms}{extra}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-phases", action="store_true", help="skip the per-phase breakdown")
    args = ap.parse_args(argv)
    try:
        import jax  # noqa: F401
    except ImportError:
        print("bench_jax: JAX is not installed (pip install jax jaxlib); skipped")
        return 0
    print(f"lsgdsim's compiled kernels: {kernels.status()} (records from p·d ≥ {kernels.MIN_ELEMENTS}, Rastrigin's "
          "oracle from two worker blocks; numba: pip install -e .[fast])")
    k = 10 if args.quick else 1
    cases = [("quadratic p=512 d=1000", O.Quadratic.random(dim=1000, cond=100.0, seed=0), 512, 200 // k),
             ("rastrigin p=100 d=1e4", O.Rastrigin(dim=10**4), 100, 200 // k),
             ("quadratic p=512 d=10", O.Quadratic.random(dim=10, cond=100.0, seed=0), 512, 2000 // k)]
    out = {}
    for label, obj, p, steps in cases:
        row = {"steps": steps}
        short = max(20, steps // 4)
        for key, record, n in (("long_run", False, steps), ("recorded_short_run", True, short),
                               ("same_records_short_run", "same", short)):
            tj, tl = best_pair(jax_runner(obj, p, n, record), lsgdsim_runner(obj, p, n, bool(record)), args.repeats)
            row[key] = {"steps": n, "jax_s": tj, "lsgdsim_s": tl, "jax_over_lsgdsim": tj / tl}
        out[label] = row
        print(f"{label}: JAX/lsgdsim {row['long_run']['jax_over_lsgdsim']:.2f} ({steps} steps, no records), "
              f"{row['recorded_short_run']['jax_over_lsgdsim']:.2f} ({short} steps, default records; JAX f "
              f"only), {row['same_records_short_run']['jax_over_lsgdsim']:.2f} (JAX recording what lsgdsim does)")
        if not args.no_phases:
            row["phases_ms"] = phases(obj, p, row, args.repeats)
            print_phases(label, row["phases_ms"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
