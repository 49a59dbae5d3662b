"""Where the time goes: compute, communicate and wait per method, on the paper's cluster and a modern one.

What it shows (reviewer 2: "it is necessary to also report the breakdown of the total time into
computation and communication costs"). For every method of ``cluster-time`` (same algorithms, learning
rates, budgets and seeds), each worker's simulated time split into computing steps, communicating and
waiting (for a barrier's last worker, or in the server's queue), as a share of the run, mean over workers
and seeds; 4 and 16 workers, on ``cluster_clock("paper", p)`` (GTX 1080s, PCIe, 10 Gb Ethernet) and
``cluster_clock("modern", p)`` (H100s, NVLink, 100 Gb/s), both pricing CNN7.

A run's timing depends on the clock, the rule's communication pattern and the seed, never on the numbers
(:mod:`lsgdsim.clock.schedule`), so these runs replay the patterns on a 2-D quadratic: on the paper's
cluster the breakdowns are those of the digits-CNN runs of ``cluster-time`` (tests/test_time_figures.py
checks it).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import objectives, plotting, simulate
from lsgdsim.clock.clusters import CLUSTERS, cluster_clock

from .cluster_time import WORKERS
from .cluster_time import config as time_config
from .timed import PARTS, algorithm, shares, step_cap

NAME = "time-breakdown"
TITLE = "Compute / communicate / wait per method, paper's and modern cluster, 4 and 16 workers"
CLAIM = ("Reviewer 2: report the breakdown of the total time into computation and communication. The paper: "
         "LSGD's one broadcast makes it the more communication-efficient method.")
VOLATILE = ()


def config(quick: bool = False, seed: int = 0) -> dict:
    base = time_config(quick, seed)
    return {k: base[k] for k in ("seed", "seeds", "budget", "lr", "methods")} | {"clusters": list(CLUSTERS)}


def tasks(cfg: dict) -> list[dict]:
    return [{"key": f"{c}-{m}-p={p}-seed={s}", "cluster": c, "method": m, "workers": p, "seed": cfg["seed"] + s,
             "cost": 0.02 * p} for c in cfg["clusters"] for p in WORKERS for m in cfg["methods"]
            for s in range(cfg["seeds"])]


def schedule_run(cluster: str, method: str, workers: int, budget: float, seed: int, lr: float):
    """The run of ``cluster-time`` with the same clock, rule, budget and seed, on a 2-D quadratic."""
    p = 1 if method == "sgd" else workers
    clock = cluster_clock(cluster, p)
    cap = step_cap(clock, budget)
    return simulate(objectives.Quadratic.random(dim=2, cond=1.0, seed=0), algorithm(method, lr), workers=p,
                    steps=cap, seed=seed, clock=clock, time_budget=budget, record_every=cap)


def run_task(cfg: dict, task: dict) -> dict:
    res = schedule_run(task["cluster"], task["method"], task["workers"], cfg["budget"][str(task["workers"])],
                       task["seed"], cfg["lr"][task["method"]])
    parts = shares({part: np.asarray(res.breakdown[part], float) for part in PARTS})
    return {"shares": np.array([parts[part] for part in PARTS]),
            "steps": np.asarray(res.worker_steps[-1], float).mean(keepdims=True)}


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    arrays, info = {}, {}
    S = cfg["seeds"]
    keys = [(c, p, m) for c in cfg["clusters"] for p in WORKERS for m in cfg["methods"]]
    for k, (c, p, m) in enumerate(keys):
        rows = results[k * S:(k + 1) * S]
        mean = np.mean([r["shares"] for r in rows], axis=0)
        arrays[f"{c}.p{p}.{m}"] = mean
        info[f"{c}.p{p}.{m}"] = {**{part: float(v) for part, v in zip(PARTS, mean, strict=True)},
                                 "steps_per_worker": float(np.mean([r["steps"][0] for r in rows]))}
    return arrays, info


def draw(data):
    cfg, a = data.config, data.arrays
    methods = cfg["methods"]
    fig, axes = plotting.subplots(len(cfg["clusters"]), len(WORKERS), width=4.6, height=3.1)
    for row, c in enumerate(cfg["clusters"]):
        for col, p in enumerate(WORKERS):
            ax = axes[row, col]
            y = plotting.stacked_breakdown(ax, [a[f"{c}.p{p}.{m}"] for m in methods], height=0.7)
            for yi, m in zip(y, methods, strict=True):
                steps = data.info[f"{c}.p{p}.{m}"]["steps_per_worker"]
                ax.text(1.01, yi, f"{steps:.0f}", va="center", fontsize=7)
            ax.set_yticks(y, [plotting.label(m) for m in methods], fontsize=7.5)
            ax.set_xlim(0, 1)
            ax.set_title(f"{CLUSTERS[c].device}, {p} workers", fontsize=8.5)
    for ax in axes.flat:
        ax.set(xlabel="share of each worker's time (mean)", ylabel="method")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    plotting.legend_below(fig, handles, labels, ncol=3, fontsize=8)
    fig.suptitle("Time breakdown at equal simulated-time budgets (numbers: local steps per worker)", fontsize=9)
    return fig
