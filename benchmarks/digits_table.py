"""LSGD against EASGD, DOWNPOUR and SGD on digits with the CNN, after equal sample budgets (issue 4).

    python benchmarks/digits_table.py [--jobs 2] [--json out.json] [--methods lsgd,easgd,...] [--quick]

Protocol (no hyperparameter is chosen on the test set):

1. Budget: 4 workers × 32 samples per step for 100 passes over the training set (1125 steps,
   144,000 samples); SGD is *one* worker that processes the same 144,000 samples (4500 steps over
   all the data). Every method: momentum 0.9, weight decay 1e-4, float32, the learning rate divided by
   10 after 90% of the steps, the same starting network for every worker, disjoint data shards.
   LSGD: pull 0.1 every 4 steps, leader = lowest mean of the last 10 mini-batch losses (the authors'
   rule). EASGD: α = 0.9/p every 4 steps. DOWNPOUR: push/pull every 4 steps. LocalSGD: averaging
   every 4 steps. All-reduce: the gradient averaged every step (batch 128 SGD).
2. Validation: 360 digits (stratified, split seed 0) are held out from the 1437 training digits;
   every method trains on the other 1077 with the same budget in passes (100) for each learning
   rate of the same grid and two seeds (100, 101); its learning rate is the one with the highest mean
   validation accuracy of the center. DOWNPOUR's server sums the p workers' steps, so its best
   learning rate is expected to be smaller.
3. Test: each method, with its chosen learning rate, trains on all 1437 training digits with seeds
   0, 1, 2 through :func:`lsgdsim.nn.train.train`; the table gives mean ± standard deviation
   (ddof = 1) over the seeds of the *center* test accuracy (the average of the workers' parameters;
   EASGD's center; DOWNPOUR's server), the mean worker's and the leader's test accuracy (for the
   methods without a leader: the worker with the lowest full training loss), the final training loss
   (mean over workers, weight decay included) and the floats communicated.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from lsgdsim.algorithms import EASGD, LSGD, SGD, AllReduceSGD, Downpour, LocalSGD
from lsgdsim.leaders import Window
from lsgdsim.nn.data import Dataset, load_digits
from lsgdsim.nn.train import Evaluator, build_objective, steps_for, summarize, train
from lsgdsim.schedules import StepDecay
from lsgdsim.simulate import DivergenceError, simulate

WORKERS, BATCH, EPOCHS, PERIOD, MOMENTUM, WD = 4, 32, 100.0, 4, 0.9, 1e-4
LR_GRID = (0.005, 0.01, 0.02, 0.05)
VAL_SEEDS, TEST_SEEDS = (100, 101), (0, 1, 2)
METHODS = ("lsgd", "easgd", "downpour", "sgd", "localsgd", "allreduce")
LABELS = {"lsgd": "LSGD", "easgd": "EASGD", "downpour": "DOWNPOUR", "sgd": "SGD (1 worker)",
          "localsgd": "LocalSGD", "allreduce": "all-reduce SGD"}


def algorithm(method: str, lr: float, steps: int):
    sched = StepDecay(lr, 0.1, every=max(1, int(0.9 * steps)))
    kw = {"lr": sched, "momentum": MOMENTUM}
    if method == "lsgd":
        return LSGD(pull=0.1, period=PERIOD, leader=Window(10), **kw)
    if method == "easgd":
        return EASGD(period=PERIOD, **kw)
    if method == "downpour":
        return Downpour(period=PERIOD, **kw)
    if method == "localsgd":
        return LocalSGD(period=PERIOD, **kw)
    if method == "allreduce":
        return AllReduceSGD(**kw)
    return SGD(**kw)


def budget(method: str, data: Dataset, epochs: float = EPOCHS) -> tuple[int, int]:
    """(workers, steps): the same number of samples for every method."""
    steps = steps_for(data, WORKERS, BATCH, epochs)
    return (1, WORKERS * steps) if method == "sgd" else (WORKERS, steps)


def validation_split(data: Dataset, size: int = 360, seed: int = 0) -> Dataset:
    """Hold ``size`` stratified training digits out as the "test" split; the test digits are dropped."""
    from sklearn.model_selection import train_test_split
    x_tr, x_va, y_tr, y_va = train_test_split(data.x_train, data.y_train, test_size=size,
                                              stratify=data.y_train, random_state=seed)
    return Dataset("digits-validation", x_tr, y_tr, x_va, y_va, data.classes)


def fit_on(data: Dataset, method: str, lr: float, seed: int, epochs: float = EPOCHS) -> dict:
    """What :func:`train` does, on a given Dataset (the validation split): the summary of one run."""
    workers, steps = budget(method, data, epochs)
    obj = build_objective("cnn", data, workers, "disjoint", WD, seed)
    x0 = obj.initial_point(workers, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,))))
    res = simulate(obj, algorithm(method, lr, steps), workers=workers, steps=steps,
                   x0=np.broadcast_to(x0[:1], x0.shape), batch_size=BATCH, seed=seed, dtype="float32",
                   record_every=max(1, steps // 4), monitor=Evaluator(obj))
    return summarize(res)


def job(task: tuple) -> dict:
    phase, method, lr, seed, epochs = task
    start = time.perf_counter()
    with threadpool_limits(1):  # one BLAS thread per process
        try:
            s = _run(phase, method, lr, seed, epochs)
        except DivergenceError as exc:  # a learning rate too large for the method: chance-level accuracy
            return {"phase": phase, "method": method, "lr": lr, "seed": seed, "diverged": str(exc),
                    "test_accuracy": 0.1, "seconds": time.perf_counter() - start}
    keep = ("test_accuracy", "mean_worker_test_accuracy", "leader_test_accuracy", "final_train_loss_mean",
            "samples_processed", "floats_communicated", "steps", "workers")
    return {"phase": phase, "method": method, "lr": lr, "seed": seed, **{k: s[k] for k in keep},
            "seconds": time.perf_counter() - start}


def _run(phase, method, lr, seed, epochs) -> dict:
    if phase == "validation":
        return fit_on(validation_split(load_digits()), method, lr, seed, epochs)
    data = load_digits()
    workers, steps = budget(method, data, epochs)
    return summarize(train("cnn", "digits", algorithm(method, lr, steps), workers=workers, steps=steps,
                           batch_size=BATCH, weight_decay=WD, seed=seed, evaluations=4, dtype="float32"))


def run_all(tasks, jobs):
    if jobs <= 1:
        return [job(t) for t in tasks]
    with ProcessPoolExecutor(jobs) as ex:
        return list(ex.map(job, tasks))


def mean_std(values) -> str:
    a = 100 * np.asarray(values, dtype=float)
    return f"{a.mean():.2f} ± {a.std(ddof=1):.2f}" if a.size > 1 else f"{a.mean():.2f}"


def report(methods, val, chosen, test) -> str:
    lines = ["Validation accuracy of the center (%, mean of seeds "
             f"{', '.join(map(str, VAL_SEEDS))}; 1077 training / 360 validation digits); * = chosen:", "",
             "| method | " + " | ".join(f"lr {lr:g}" for lr in LR_GRID) + " |",
             "|---|" + "---|" * len(LR_GRID)]
    for m in methods:
        cells = []
        for lr in LR_GRID:
            runs = [r for r in val if r["method"] == m and r["lr"] == lr]
            acc = np.mean([r["test_accuracy"] for r in runs])
            div = sum("diverged" in r for r in runs)
            cells.append(f"{100 * acc:.2f}{'*' if lr == chosen[m] else ''}" + (f" ({div} div.)" if div else ""))
        lines.append(f"| {LABELS[m]} | " + " | ".join(cells) + " |")
    lines += ["", "(div.: the run diverged; it counts as chance-level accuracy, 10%.)"] if any(
        "diverged" in r for r in val) else []
    lines += ["", "Test accuracy (%, mean ± std over seeds 0, 1, 2; 360 test digits) after 144,000 samples:", "",
              "| method | lr | center | mean worker | leader | final train loss | floats communicated |",
              "|---|---|---|---|---|---|---|"]
    for m in methods:
        rows = [r for r in test if r["method"] == m]
        if any("diverged" in r for r in rows):
            lines.append(f"| {LABELS[m]} | {chosen[m]:g} | diverged on {sum('diverged' in r for r in rows)} "
                         "of the seeds | | | | |")
            continue
        loss = np.asarray([r["final_train_loss_mean"] for r in rows])
        lines.append(f"| {LABELS[m]} | {chosen[m]:g} | {mean_std([r['test_accuracy'] for r in rows])} "
                     f"| {mean_std([r['mean_worker_test_accuracy'] for r in rows])} "
                     f"| {mean_std([r['leader_test_accuracy'] for r in rows])} "
                     f"| {loss.mean():.4f} ± {loss.std(ddof=1):.4f} | {rows[0]['floats_communicated']:.3g} |")
    per_seed = ", ".join(f"{LABELS[m]} " + "/".join(f"{100 * r['test_accuracy']:.2f}"
                                                     for r in test if r["method"] == m) for m in methods)
    lines += ["", f"Center test accuracy per seed (0/1/2): {per_seed}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2, help="processes, each with one BLAS thread (default 2)")
    ap.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated subset of {','.join(METHODS)}")
    ap.add_argument("--json", help="write every run's summary as JSON")
    ap.add_argument("--quick", action="store_true", help="2 passes instead of 100 (a smoke run of the script)")
    args = ap.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        ap.error(f"unknown methods: {', '.join(unknown)}")
    epochs = 2.0 if args.quick else EPOCHS
    start = time.perf_counter()
    val = run_all([("validation", m, lr, s, epochs) for m in methods for lr in LR_GRID for s in VAL_SEEDS], args.jobs)
    chosen = {m: max(LR_GRID, key=lambda lr, m=m: np.mean(
        [r["test_accuracy"] for r in val if r["method"] == m and r["lr"] == lr])) for m in methods}
    print(f"chosen learning rates: {chosen} ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    test = run_all([("test", m, chosen[m], s, epochs) for m in methods for s in TEST_SEEDS], args.jobs)
    print(report(methods, val, chosen, test))
    print(f"\n(total {time.perf_counter() - start:.0f} s with {args.jobs} processes)")
    if args.json:
        Path(args.json).write_text(json.dumps({"chosen_lr": chosen, "validation": val, "test": test,
                                               "epochs": epochs, "lr_grid": LR_GRID}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
