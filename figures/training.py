"""Test error on digits vs samples and vs simulated time: LSGD, EASGD, DOWNPOUR, LocalSGD and SGD (the small CNN).

What it shows (the paper's experiments, §5, at the scale of one laptop): every method trains the
trainer's small CNN on scikit-learn's digits for the same sample budget (4 workers × 32 samples per step
for 100 passes over each worker's shard, 144,000 samples; SGD is one worker that processes the same
samples), with the protocol and the learning rates that ``benchmarks/digits_table.py`` chose on a
validation split (docs/nn.md): momentum 0.9, weight decay 1e-4, the learning rate ÷ 10 after 90% of the
steps, disjoint shards, τ = 4. Lines: the test error of the *center* — the average of the workers'
parameters (EASGD: its center variable; DOWNPOUR: the server), as the paper reports — mean over seeds,
band = range over seeds; dashed: LSGD's leader. Time is the run's *simulated* time on one node of the
paper's cluster (:func:`lsgdsim.clock.clusters.cluster_clock`: each step priced as the paper's CNN7 at
batch 128, 4.0 ms, each round at CNN7's size on PCIe), without jitter, so the run is lockstep's step for
step and the panel is the same on every machine; the asynchronous forms and the 16-worker cluster are
``cluster-time``'s. This simulator's own wall time is stored with the data (``METHOD.wall_s``, volatile:
never drawn, never compared).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, plotting
from lsgdsim.clock import Clock
from lsgdsim.clock.clusters import cluster_clock
from lsgdsim.clock.compute import Constant
from lsgdsim.leaders import Window
from lsgdsim.nn.train import load_data, steps_for, train
from lsgdsim.schedules import StepDecay

NAME = "training"
TITLE = "Test error on digits vs samples and vs simulated time (LSGD, EASGD, DOWNPOUR, LocalSGD, SGD)"
CLAIM = ("The paper's experiments: LSGD reaches a lower test error than EASGD/DOWNPOUR/SGD for the same samples "
         "and time (here: a small CNN on digits, equal sample budgets).")
VOLATILE = tuple(f"{m}.wall_s" for m in ("lsgd", "easgd", "downpour", "localsgd", "sgd"))
METHODS = ("lsgd", "easgd", "downpour", "localsgd", "sgd")
# Learning rates chosen on the validation split (benchmarks/digits_table.py, table in docs/nn.md).
LR = {"lsgd": 0.05, "easgd": 0.02, "downpour": 0.005, "localsgd": 0.02, "sgd": 0.02}
WORKERS, BATCH, PERIOD, MOMENTUM, PULL = 4, 32, 4, 0.9, 0.1


def config(quick: bool = False, seed: int = 0) -> dict:
    # Quick mode is a smoke run: the MLP (much cheaper than the CNN) for 3 passes. Each evaluation also
    # computes every worker's full training loss (the run loop records f), which costs about a pass.
    return {"seed": seed, "seeds": 2 if quick else 3, "epochs": 3.0 if quick else 100.0,
            "model": "mlp" if quick else "cnn", "evaluations": 5 if quick else 12, "workers": WORKERS,
            "batch_size": BATCH, "period": PERIOD,
            "momentum": MOMENTUM, "pull": PULL, "lr": LR, "weight_decay": 1e-4, "shards": "disjoint",
            "clock": "paper cluster, one node, median step times"}


def tasks(cfg: dict) -> list[dict]:
    return [{"key": f"{m}-seed={s}", "method": m, "seed": cfg["seed"] + s, "cost": cfg["epochs"] / 12}
            for m in METHODS for s in range(cfg["seeds"])]


def algorithm(cfg: dict, method: str, steps: int):
    """The method with its learning rate, momentum and step decay (÷ 10 after 90% of the steps)."""
    kw = {"lr": StepDecay(cfg["lr"][method], 0.1, every=max(1, int(0.9 * steps))), "momentum": cfg["momentum"]}
    if method == "sgd":
        return algorithms.SGD(**kw)
    kw["period"] = cfg["period"]
    if method == "lsgd":
        return algorithms.LSGD(pull=cfg["pull"], leader=Window(10), **kw)
    return {"easgd": algorithms.EASGD, "downpour": algorithms.Downpour, "localsgd": algorithms.LocalSGD}[method](**kw)


def priced_clock(workers: int) -> Clock:
    """One node of the paper's cluster for ``workers`` workers, every step its median time (no jitter)."""
    cluster = cluster_clock("paper", workers)
    return Clock(compute=Constant(float(cluster.compute.median)), network=cluster.network,
                 model_bytes=cluster.model_bytes)


def run_task(cfg: dict, task: dict) -> dict:
    """Test error (%) of the center and of the leader at each evaluation, samples processed, simulated
    time (s) and this process's wall time (s)."""
    steps = steps_for(load_data("digits"), cfg["workers"], cfg["batch_size"], cfg["epochs"], cfg["shards"])
    workers = cfg["workers"]
    if task["method"] == "sgd":            # one worker, the same samples
        workers, steps = 1, steps * cfg["workers"]
    res = train(cfg["model"], "digits", algorithm(cfg, task["method"], steps), workers=workers, steps=steps,
                batch_size=cfg["batch_size"], shards=cfg["shards"], weight_decay=cfg["weight_decay"],
                seed=task["seed"], evaluations=cfg["evaluations"], clock=priced_clock(workers))
    mon = res.monitor
    return {"samples": res.steps * workers * cfg["batch_size"], "sim_s": res.sim_time, "wall_s": res.times,
            "center_error": 100 * (1 - np.asarray(mon["center_test_accuracy"], float)),
            "leader_error": 100 * (1 - np.asarray(mon["leader_test_accuracy"], float))}


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    arrays, info = {}, {}
    S = cfg["seeds"]
    for k, m in enumerate(METHODS):
        rows = results[k * S:(k + 1) * S]
        arrays[f"{m}.samples"] = rows[0]["samples"]
        arrays[f"{m}.sim_s"] = rows[0]["sim_s"]                                # the same for every seed
        for key in ("wall_s", "center_error", "leader_error"):
            arrays[f"{m}.{key}"] = np.stack([r[key] for r in rows])          # (seeds, evaluations)
        final = arrays[f"{m}.center_error"][:, -1]
        info[m] = {"final_center_error_mean": float(final.mean()), "final_center_error": final.tolist(),
                   "final_leader_error_mean": float(arrays[f"{m}.leader_error"][:, -1].mean())}
    return arrays, info


def draw(data):
    cfg, a = data.config, data.arrays
    fig, axes = plotting.subplots(1, 2, width=4.9, height=3.8, sharey=True)
    for m in METHODS:
        c = plotting.color(m)
        err = a[f"{m}.center_error"]
        x_by = {"samples": a[f"{m}.samples"] / 1e3, "time": a[f"{m}.sim_s"]}
        for ax, x in zip(axes.flat, x_by.values(), strict=True):
            ax.plot(x, err.mean(axis=0), color=c,
                    label=f"{plotting.label(m)} (lr {cfg['lr'][m]:g}): {data.info[m]['final_center_error_mean']:.2f}%")
            plotting.band(ax, x, err.min(axis=0), err.max(axis=0), m)
            if m == "lsgd":
                ax.plot(x, a[f"{m}.leader_error"].mean(axis=0), "--", color=c, lw=1.2, label="LSGD leader")
    for ax in axes.flat:
        ax.set_yscale("log")
        ax.set_yticks([1, 2, 5, 10, 20, 50, 100], ["1", "2", "5", "10", "20", "50", "100"])
        ax.set_yticks([], minor=True)
    axes[0, 0].set(xlabel="samples processed (thousands, all workers)", ylabel="test error (%)",
                   title="vs samples")
    axes[0, 1].set(xlabel="simulated time on the paper's 4-GPU node (s)", ylabel="test error (%)",
                   title="vs simulated time (lockstep, priced)")
    axes[0, 1].legend(loc="upper right", fontsize=7.5, title="center, final test error (mean)", title_fontsize=7.5)
    net = "small CNN" if cfg["model"] == "cnn" else "MLP"
    fig.suptitle(f"{net} on digits, {cfg['workers']} workers (SGD: 1), {cfg['epochs']:g} passes; mean over "
                 f"{cfg['seeds']} seeds, band = range", fontsize=9)
    return fig
