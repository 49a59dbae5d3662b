"""Worker-block random streams against the single-generator scheme (issue 12, item 3).

    python benchmarks/bench_rng.py [--repeats 7] [--json out.json]

For p = 512 workers and d ∈ {10, 10^5}, side by side in this process (minimum over alternating
repeats): the vectorized (p, d) draw, old scheme (one generator for the whole block) and new
(worker blocks, 1 and 2 threads); and the draw of a process that owns one worker: old scheme (draw
the whole block, keep a row) against new (its block only, ``RandomStreams.worker_normal``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lsgdsim.backend import RandomStreams, resolve
from lsgdsim.parallel import WorkerPool, block_rows

P = 512


def best_of(fns: dict, repeats: int, inner: int) -> dict:
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():  # alternating A B C A B C ...: the load hits all alike
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / inner)
    return best


def measure(d: int, repeats: int) -> dict:
    xp = resolve("numpy")
    old = np.random.Generator(np.random.PCG64(np.random.SeedSequence(0, spawn_key=(0,))))
    pool = WorkerPool(2)
    new1, new2, one = RandomStreams(0, xp), RandomStreams(0, xp, pool=pool), RandomStreams(0, xp)
    shape = (P, d)
    fns = {
        "old_vectorized": lambda: old.normal(0.0, 0.1, shape),
        "new_vectorized_1thread": lambda: new1.normal("grad_noise", shape, 0.1),
        "new_vectorized_2threads": lambda: new2.normal("grad_noise", shape, 0.1),
        "old_one_worker": lambda: old.normal(0.0, 0.1, shape)[P // 2].copy(),
        "new_one_worker": lambda: one.worker_normal("grad_noise", shape, P // 2, 0.1),
    }
    t = best_of(fns, repeats, inner=max(1, 2_000_000 // (P * d)))
    pool.close()
    return {"p": P, "d": d, "block_rows": block_rows(d), "seconds": t,
            "vectorized_new1_over_old": t["new_vectorized_1thread"] / t["old_vectorized"],
            "vectorized_new2_over_old": t["new_vectorized_2threads"] / t["old_vectorized"],
            "one_worker_speedup": t["old_one_worker"] / t["new_one_worker"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    rows = [measure(d, args.repeats) for d in (10, 10**5)]
    print(f"{'d':>7} {'B':>5} {'old vec ms':>10} {'new/old 1t':>10} {'new/old 2t':>10} "
          f"{'old 1-worker ms':>15} {'new 1-worker ms':>15} {'1-worker speed-up':>17}")
    for r in rows:
        s = r["seconds"]
        print(f"{r['d']:>7} {r['block_rows']:>5} {1e3 * s['old_vectorized']:>10.3f} "
              f"{r['vectorized_new1_over_old']:>10.2f} "
              f"{r['vectorized_new2_over_old']:>10.2f} {1e3 * s['old_one_worker']:>15.3f} "
              f"{1e3 * s['new_one_worker']:>15.4f} {r['one_worker_speedup']:>16.0f}x")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
