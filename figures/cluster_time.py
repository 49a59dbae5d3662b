"""Test error against simulated wall-clock time on the paper's cluster, 4 and 16 workers (the paper's plots).

What it shows (digest §4.2: "test error of the center variable versus wall-clock time", 4 GPUs on one
node and 16 on 4 nodes over Ethernet). LSGD (the synchronous theory form), LSGD as the authors ran it
(Algorithm 1's trigger, pull after the step, proximal pulls), EASGD and DOWNPOUR (asynchronous),
all-reduce SGD and SGD (one worker) train the small CNN on digits (:mod:`figures.timed`) on
``cluster_clock("paper", p)``: GeForce GTX 1080s, PCIe inside a node, 10 Gb Ethernet between nodes, each
step priced as the paper's CNN7 at batch 128 (4.0 ms, lognormal jitter σ = 0.1) and each message at
CNN7's 1.41 MB (docs/clock.md, "Modeled clusters"). Lines: the test error of the *center* (the workers'
average; EASGD's center; DOWNPOUR's server), mean over seeds on a common time grid, band = range;
dashed: the leader of each LSGD form. The same runs' time breakdown is drawn by ``time-breakdown``.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import plotting
from lsgdsim.clock.clusters import cluster_clock

from .timed import LEADS, LR, METHODS, PARTS, algorithm, on_grid, shares, timed_run

NAME = "cluster-time"
TITLE = "Test error vs simulated wall-clock time on the paper's cluster (4 and 16 workers)"
CLAIM = ("The paper's experiments: against wall-clock time on 4 GPUs and on 16 (4 nodes, Ethernet), LSGD reaches "
         "a lower test error than EASGD, DOWNPOUR and SGD (here: digits CNN, the paper's model size priced).")
VOLATILE = ()
WORKERS = (4, 16)
GRID = 25


def config(quick: bool = False, seed: int = 0) -> dict:
    # Budgets of simulated seconds: about 900 steps of 4 ms for 4 workers (80 passes over each shard), 450
    # for 16 (160 passes over their smaller shards). Quick mode: the MLP, a tenth of the time.
    return {"seed": seed, "seeds": 1 if quick else 2, "model": "mlp" if quick else "cnn", "cluster": "paper",
            "budget": {"4": 0.4 if quick else 3.6, "16": 0.2 if quick else 1.8}, "evaluations": 6 if quick else 16,
            "lr": LR, "methods": list(METHODS)}


def tasks(cfg: dict) -> list[dict]:
    return [{"key": f"{m}-p={p}-seed={s}", "method": m, "workers": p, "seed": cfg["seed"] + s,
             "cost": cfg["budget"][str(p)] * (p if m != "sgd" else 1) / 4}
            for p in WORKERS for m in cfg["methods"] for s in range(cfg["seeds"])]


def run_task(cfg: dict, task: dict) -> dict:
    p = 1 if task["method"] == "sgd" else task["workers"]     # SGD: one GPU, the same clock
    clock = cluster_clock(cfg["cluster"], p)
    alg = algorithm(task["method"], cfg["lr"][task["method"]])
    run = timed_run(alg, p, clock, cfg["budget"][str(task["workers"])], task["seed"], cfg["model"],
                    cfg["evaluations"])
    return {k: v for k, v in run.items() if k != "leaders"}


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    arrays, info = {}, {}
    S = cfg["seeds"]
    keys = [(p, m) for p in WORKERS for m in cfg["methods"]]
    for k, (p, m) in enumerate(keys):
        rows = results[k * S:(k + 1) * S]
        grid = np.linspace(0.0, cfg["budget"][str(p)], GRID)
        arrays[f"p{p}.time"] = grid
        for err in ("center_error", "leader_error"):
            arrays[f"p{p}.{m}.{err}"] = np.stack([on_grid(r["time"], r[err], grid) for r in rows])
        parts = [shares(r) for r in rows]
        arrays[f"p{p}.{m}.shares"] = np.array([[s[part] for part in PARTS]
                                               for s in parts])
        final = arrays[f"p{p}.{m}.center_error"][:, -1]
        info[f"p{p}.{m}"] = {"final_center_error_mean": float(final.mean()), "final_center_error": final.tolist(),
                             "mean_steps_per_worker": float(np.mean([r["worker_steps"].mean() for r in rows])),
                             **{f"{part}_share": float(np.mean([s[part] for s in parts]))
                                for part in PARTS}}
    return arrays, info


def _panel(ax, data, p: int) -> None:
    cfg, a = data.config, data.arrays
    t = a[f"p{p}.time"]
    for m in cfg["methods"]:
        err = a[f"p{p}.{m}.center_error"]
        final = data.info[f"p{p}.{m}"]["final_center_error_mean"]
        ax.plot(t, err.mean(axis=0), color=plotting.color(m), label=f"{plotting.label(m)}: {final:.1f}% at the end")
        plotting.band(ax, t, err.min(axis=0), err.max(axis=0), m)
        if m in LEADS:
            ax.plot(t, a[f"p{p}.{m}.leader_error"].mean(axis=0), "--", color=plotting.color(m), lw=1.1,
                    label=f"{plotting.label(m)}, its leader")
    nodes = "one node" if p <= 4 else f"{p // 4} nodes × 4, 10 Gb Ethernet"
    ax.set(xlabel="simulated wall-clock time (s)", ylabel="test error of the center (%)",
           title=f"{p} workers ({nodes})", yscale="log")
    ax.set_yticks([1, 2, 5, 10, 20, 50, 100], ["1", "2", "5", "10", "20", "50", "100"])
    ax.set_yticks([], minor=True)


def draw(data):
    cfg = data.config
    fig = plotting.row_with_legends([lambda ax, p=p: _panel(ax, data, p) for p in WORKERS], height=5.2,
                                    ncols=[2, 2], fontsize=7)
    net = "small CNN" if cfg["model"] == "cnn" else "MLP"
    fig.suptitle(f"{net} on digits on the paper's cluster (GTX 1080s; CNN7 priced: 4.0 ms a step, 1.41 MB a "
                 f"message); mean over {cfg['seeds']} seed(s), band = range; dashed: the leader", fontsize=9)
    return fig
