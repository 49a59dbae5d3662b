"""The calibrated clock against real MPI runs (issue 19, item 5): predicted vs measured makespans.

    python benchmarks/bench_calibration.py [--ranks 2] [--repeats 3] [--json out.json]

One ``lsgdsim calibrate`` (on LSGD with τ = 5), then for several configurations the median measured
makespan of ``--repeats`` ``mpiexec -n RANKS lsgdsim mpi-run`` runs against the makespan ``lsgdsim run
--clock`` predicts with the calibrated clock. The configurations differ from the calibration's in the
communication period (τ = 1, 5, 20: from a round every step to one every 20) and the rule (EASGD,
LocalSGD), so the prediction is tested on what the calibration did not see. Target: within 30 %.

Then Algorithm 1 (LSGD, trigger="total") for real on 2 worker ranks and a server, over several seeds,
against the clock given each worker's measured seconds per step (the run's makespan over its steps): the
final error's distribution over seeds, beside a control that must differ (the same clock without the
pull). Real timing decides the order of events, so only the statistics can agree.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np

from lsgdsim import Result, RunSpec, simulate
from lsgdsim.clock import Clock, Constant

BASE = ["--objective", "quadratic", "--dim", "10", "--cond", "20", "--steps", "2000", "--lr", "0.01",
        "--grad-noise", "0.1", "--seed", "3"]
CASES = {
    "LSGD τ = 5 (the calibration's)": ["--algorithm", "lsgd", "--pull", "0.2", "--period", "5"],
    "LSGD τ = 1": ["--algorithm", "lsgd", "--pull", "0.2", "--period", "1"],
    "LSGD τ = 20": ["--algorithm", "lsgd", "--pull", "0.2", "--period", "20"],
    "EASGD τ = 4": ["--algorithm", "easgd", "--alpha", "0.1", "--period", "4"],
    "LocalSGD τ = 2": ["--algorithm", "localsgd", "--period", "2"],
}
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}


def lsgdsim(*args, cwd, ranks=None):
    cmd = [sys.executable, "-m", "lsgdsim", *args]
    if ranks:
        cmd = ["mpiexec", "-n", str(ranks), *cmd]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV, timeout=600)
    if out.returncode:
        raise SystemExit(out.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=8, help="seeds of the Algorithm 1 comparison")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    workers = ["--workers", str(args.ranks)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        lsgdsim("calibrate", "--ranks", str(args.ranks), *BASE, *workers, *CASES["LSGD τ = 5 (the calibration's)"],
                "--out", "cluster.toml", cwd=tmp)
        table = (Path(tmp) / "cluster.toml").read_text()
        for name, case in CASES.items():
            measured = []
            for i in range(args.repeats):
                lsgdsim("mpi-run", *BASE, *workers, *case, "--out", f"m{i}.npz", cwd=tmp, ranks=args.ranks)
                measured.append(float(Result.load(Path(tmp) / f"m{i}.npz").sim_time[-1]))
            lsgdsim("run", *BASE, *workers, *case, "--clock", "cluster.toml", "--out", "p.npz", cwd=tmp)
            predicted = float(Result.load(Path(tmp) / "p.npz").sim_time[-1])
            median = statistics.median(measured)
            rows.append({"case": name, "measured_s": measured, "measured_median_s": median, "predicted_s": predicted,
                         "error": predicted / median - 1})
            print(f"{name:32s} measured {', '.join(f'{m:.3f}' for m in measured)} s (median {median:.3f}), "
                  f"predicted {predicted:.3f} s: {100 * (predicted / median - 1):+.0f} %")
    algorithm_1 = compare_algorithm_1(args.seeds)
    if args.json:
        Path(args.json).write_text(json.dumps({"calibration": table, "cases": rows, "algorithm_1": algorithm_1},
                                              indent=2) + "\n")


ALG1 = ["--objective", "quadratic", "--dim", "10", "--cond", "20", "--workers", "4", "--steps", "400", "--lr", "0.02",
        "--grad-noise", "0.3", "--trigger", "total", "--period", "4"]


def compare_algorithm_1(seeds: int) -> dict:
    """log10 of the final mean gap over ``seeds`` seeds: MPI, the clock at the measured speeds, no-pull control."""
    out = {"mpi": [], "clock": [], "control": [], "mpi_steps": [], "clock_steps": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            lsgdsim("mpi-run", *ALG1, "--pull", "0.2", "--seed", str(seed), "--out", "a.npz", cwd=tmp, ranks=3)
            real = Result.load(Path(tmp) / "a.npz")
            per_step = real.sim_time[-1] / real.breakdown["local_steps"]
            fmin = real.meta["objective"]["fmin"]
            for key, pull in (("clock", 0.2), ("control", 0.0)):
                spec = RunSpec.from_meta(real.meta).replace(pull=pull)
                res = simulate(spec.build_objective(), spec.build_algorithm(), workers=4, steps=400, grad_noise=0.3,
                               seed=seed, oracle="rowwise", clock=Clock(compute=Constant(per_step.tolist())))
                out[key].append(float(np.log10(res.f[-1].mean() - fmin)))
                if key == "clock":
                    out["clock_steps"].append(res.breakdown["local_steps"].tolist())
            out["mpi"].append(float(np.log10(real.f[-1].mean() - fmin)))
            out["mpi_steps"].append(real.breakdown["local_steps"].tolist())
    for key in ("mpi", "clock", "control"):
        print(f"Algorithm 1, {key:8s}: log10 final gap mean {np.mean(out[key]):.3f}, sd {np.std(out[key], ddof=1):.3f} "
              f"over {seeds} seeds")
    return out


if __name__ == "__main__":
    main()
