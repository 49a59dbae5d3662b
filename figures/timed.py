"""Training runs on a modeled cluster, read against simulated time: the shared part of the time figures.

Every run trains the trainer's small CNN on scikit-learn's digits (4 or 16 workers, disjoint shards,
mini-batches of 32, momentum 0.9, weight decay 1e-4, τ = 4, a constant learning rate as in the authors'
2019 code, digest §5.7) on a :func:`lsgdsim.clock.clusters.cluster_clock`, which prices every step as
the paper's CNN7 at its batch of 128 and every message at CNN7's size. It stops at a simulated-time
budget; the records (about ``evaluations`` of them) are read on a common time grid (linear interpolation
between records) so that seeds can be averaged. Learning rates are those the validation split chose for
the training figure (docs/nn.md); LSGD as the authors ran it takes LSGD's.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms
from lsgdsim.clock.clusters import fastest_step
from lsgdsim.leaders import Window
from lsgdsim.nn.train import train

METHODS = ("lsgd", "lsgd-authors", "easgd", "downpour", "allreduce", "sgd")
LR = {"lsgd": 0.05, "lsgd-authors": 0.05, "easgd": 0.02, "downpour": 0.005, "allreduce": 0.05, "sgd": 0.02}
PERIOD, MOMENTUM, PULL, BATCH = 4, 0.9, 0.1, 32
LEADS = ("lsgd", "lsgd-authors")            # the methods with a leader (dashed: its test error)
PARTS = ("compute", "communicate", "wait")   # the parts of a worker's time (Result.breakdown)


def algorithm(method: str, lr: float, **kw):
    """The method as the time figures run it: EASGD and DOWNPOUR asynchronous (each worker exchanges with
    the server on its own, as in their papers and in the authors' EASGD), LSGD in its synchronous theory
    form (a round every τ of each worker's steps), LSGD as the authors ran it with Algorithm 1's trigger
    (``lsgd_authors``; ``kw`` overrides its fields, e.g. ``trigger="own"``)."""
    base = {"lr": lr, "momentum": MOMENTUM}
    if method == "sgd":
        return algorithms.SGD(**base)
    if method == "allreduce":
        return algorithms.AllReduceSGD(**base)
    if method == "lsgd":
        return algorithms.LSGD(pull=PULL, period=PERIOD, leader=Window(10), **base)
    if method == "lsgd-authors":
        return algorithms.lsgd_authors(lr=lr, period=PERIOD, **kw)
    cls = {"easgd": algorithms.EASGD, "downpour": algorithms.Downpour}[method]
    return cls(period=PERIOD, asynchronous=True, **base)


def step_cap(clock, budget: float) -> int:
    """More steps than any worker can do in ``budget`` simulated seconds (the run's nominal steps)."""
    fastest = fastest_step(clock)
    return int(np.ceil(1.05 * budget / fastest)) + 1


def timed_run(alg, workers: int, clock, budget: float, seed: int, model: str, evaluations: int) -> dict:
    """One training run stopped at ``budget`` simulated seconds: its records and time breakdown."""
    res = train(model, "digits", alg, workers=workers, steps=step_cap(clock, budget), batch_size=BATCH, seed=seed,
                evaluations=evaluations, clock=clock, time_budget=budget)
    mon = res.monitor
    return {"time": np.asarray(res.sim_time, float),
            "center_error": 100 * (1 - np.asarray(mon["center_test_accuracy"], float)),
            "leader_error": 100 * (1 - np.asarray(mon["leader_test_accuracy"], float)),
            **{part: np.asarray(res.breakdown[part], float) for part in PARTS},
            "worker_steps": np.asarray(res.worker_steps[-1], float),
            "leaders": np.asarray(res.leaders if res.leaders is not None else [], float)}


def on_grid(time, values, grid):
    """``values`` at the records' times, read at ``grid`` (linear between records, held after the last)."""
    return np.interp(grid, time, values)


def shares(run: dict) -> dict:
    """Mean over workers of each part of the time, as a share of the run's end."""
    total = sum(run[part] for part in PARTS)
    return {part: float(np.mean(run[part] / total)) for part in PARTS}

