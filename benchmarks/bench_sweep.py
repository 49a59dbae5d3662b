"""Sweep benchmark (issue 11, item 5): runs/s of one grid on 1 and 2 local processes and on a Dask
LocalCluster of 2 workers, side by side in this script, and the per-run overhead of the sweep machinery.

    python benchmarks/bench_sweep.py [--quick] [--repeats N] [--json out.json]

(a) throughput: a grid of CPU-bound runs (noisy LSGD on a d = 60 quadratic, p = 16; every run the same
    size, seeds and pulls varying) swept with ``run_sweep(..., force=True)`` into a fresh folder, result
    files written as in a real sweep, on ``process_pool(1)``, ``process_pool(2)`` and
    ``dask_executor(local_workers=2)``. The executors are started before the clock (their start-up is
    printed on its own line) and warmed with one run. Targets: 2 processes ≥ 1.8× of 1; Dask within
    10 % of 2 local processes.
(b) overhead: a grid of tiny runs (1 step, p = 2, d = 2) through ``run_sweep`` in this process
    (``jobs=1``) against ``spec.run()`` in a plain loop: the difference per run is what the machinery
    costs (spec hashing, the result file, the bar); the same grid on 2 processes and on Dask adds the
    per-run cost of shipping a spec out and a Result back.
Each figure is the minimum time over ``repeats`` alternating measurements (A B C A B C ...), which
removes most of the noise of a shared machine. Every executor's Results are checked to be identical.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

from lsgdsim import Result
from lsgdsim.sweep import dask_executor, expand_grid, process_pool, result_path, run_sweep

HEAVY = {"objective": "quadratic", "dim": 60, "cond": 50, "workers": 16, "steps": 3000, "lr": 0.01,
         "grad_noise": 0.1, "record_every": 30}
TINY = {"objective": "quadratic", "dim": 2, "cond": 2, "workers": 2, "steps": 1}


def quiet(line):
    pass


def sweep_time(grid, executor, folder: Path, jobs=None) -> float:
    """Seconds to sweep ``grid`` into an emptied ``folder`` on ``executor`` (None: ``jobs`` here)."""
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    report = run_sweep(grid, folder, executor=executor, jobs=jobs, force=True, progress=False, log=quiet)
    elapsed = time.perf_counter() - t0
    if report.failed or report.ran != len(grid):
        raise RuntimeError(f"the benchmark sweep did not run cleanly: {report}")
    return elapsed


def start(name: str, stack: contextlib.ExitStack, grid, folder: Path):
    t0 = time.perf_counter()
    if name == "dask, 2 workers":
        ex = stack.enter_context(dask_executor(local_workers=2))
    else:
        ex = stack.enter_context(process_pool(int(name[0])))
    sweep_time(grid.specs[:2], ex, folder)          # warm: imports done in every worker
    return ex, time.perf_counter() - t0


def same_results(grid, folders: list[Path]) -> bool:
    return all(Result.load(result_path(folders[0], s)) == Result.load(result_path(f, s))
               for s in grid.specs for f in folders[1:])


def throughput(runs: int, repeats: int, tmp: Path) -> dict:
    grid = expand_grid({"base": HEAVY, "grid": {"pull": [0.05, 0.2], "seeds": runs // 2}})
    names = ["1 process", "2 processes", "dask, 2 workers"]
    best = dict.fromkeys(names, float("inf"))
    with contextlib.ExitStack() as stack:
        executors = {}
        for name in names:
            executors[name], startup = start(name, stack, grid, tmp / "warm")
            print(f"  start-up of {name}: {startup:.2f} s (not in the timings)")
        for _ in range(repeats):
            for name in names:
                best[name] = min(best[name], sweep_time(grid, executors[name], tmp / name))
    rate = {name: len(grid) / t for name, t in best.items()}
    out = {"runs": len(grid), "seconds": best, "runs_per_s": rate,
           "ratio_2_vs_1": rate["2 processes"] / rate["1 process"],
           "ratio_dask_vs_2": rate["dask, 2 workers"] / rate["2 processes"],
           "identical": same_results(grid, [tmp / n for n in names])}
    for name in names:
        print(f"  {name:<16} {rate[name]:6.2f} runs/s  ({best[name]:.2f} s for {len(grid)} runs)")
    print(f"  2 processes / 1 process:       {out['ratio_2_vs_1']:.2f}x   (target >= 1.8x)")
    print(f"  Dask (2 workers) / 2 processes: {out['ratio_dask_vs_2']:.2f}x   (target >= 0.90x)")
    print(f"  Results identical on every executor: {out['identical']}")
    return out


def overhead(runs: int, repeats: int, tmp: Path) -> dict:
    grid = expand_grid({"base": TINY, "grid": {"seeds": runs}})
    best = {"plain loop": float("inf"), "run_sweep, this process": float("inf"),
            "run_sweep, 2 processes": float("inf"), "run_sweep, dask 2 workers": float("inf")}
    with contextlib.ExitStack() as stack:
        pool, _ = start("2 processes", stack, grid, tmp / "warm")
        dask, _ = start("dask, 2 workers", stack, grid, tmp / "warm")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for spec in grid.specs:
                spec.run()
            best["plain loop"] = min(best["plain loop"], time.perf_counter() - t0)
            best["run_sweep, this process"] = min(best["run_sweep, this process"],
                                                  sweep_time(grid, None, tmp / "tiny-here", jobs=1))
            best["run_sweep, 2 processes"] = min(best["run_sweep, 2 processes"], sweep_time(grid, pool, tmp / "t2"))
            best["run_sweep, dask 2 workers"] = min(best["run_sweep, dask 2 workers"],
                                                    sweep_time(grid, dask, tmp / "td"))
    per_run = {name: 1e3 * t / runs for name, t in best.items()}
    for name, ms in per_run.items():
        print(f"  {name:<26} {ms:7.2f} ms per tiny run")
    print(f"  machinery overhead in this process: {per_run['run_sweep, this process'] - per_run['plain loop']:.2f} "
          "ms per run")
    return {"runs": runs, "ms_per_run": per_run}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smaller grid and fewer repeats (a smoke run)")
    ap.add_argument("--repeats", type=int, default=None, help="alternating repeats (default 3, quick 1)")
    ap.add_argument("--json", help="also write the numbers here")
    args = ap.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    try:
        print(f"(a) throughput, CPU-bound runs (d={HEAVY['dim']}, p={HEAVY['workers']}, T={HEAVY['steps']}):")
        heavy = throughput(8 if args.quick else 16, repeats, tmp)
        print("(b) per-run overhead, tiny runs (T=1, p=2, d=2):")
        tiny = overhead(50 if args.quick else 200, repeats, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": platform.platform(), "throughput": heavy,
                                               "overhead": tiny}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
