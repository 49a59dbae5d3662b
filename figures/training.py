"""Test error on digits vs samples and vs wall time: LSGD, EASGD, DOWNPOUR, LocalSGD and SGD (the small CNN).

What it shows (the paper's experiments, §5, at the scale of one laptop): every method trains the
trainer's small CNN on scikit-learn's digits for the same sample budget (4 workers × 32 samples per step
for 100 passes over each worker's shard, 144,000 samples; SGD is one worker that processes the same
samples), with the protocol and the learning rates that ``benchmarks/digits_table.py`` chose on a
validation split (docs/nn.md): momentum 0.9, weight decay 1e-4, the learning rate ÷ 10 after 90% of the
steps, disjoint shards, τ = 4. Lines: the test error of the *center* — the average of the workers'
parameters (EASGD: its center variable; DOWNPOUR: the server), as the paper reports — mean over seeds,
band = range over seeds; dashed: LSGD's leader. Wall time is this simulator's (all workers in one
process), stored with the data but not part of the reproducibility guarantee.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, plotting
from lsgdsim.leaders import Window
from lsgdsim.nn.train import load_data, steps_for, train
from lsgdsim.schedules import StepDecay

NAME = "training"
TITLE = "Test error on digits vs samples and vs wall time (LSGD, EASGD, DOWNPOUR, LocalSGD, SGD)"
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
            "momentum": MOMENTUM, "pull": PULL, "lr": LR, "weight_decay": 1e-4, "shards": "disjoint"}


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


def run_task(cfg: dict, task: dict) -> dict:
    """Test error (%) of the center and of the leader at each evaluation, samples processed, wall time."""
    steps = steps_for(load_data("digits"), cfg["workers"], cfg["batch_size"], cfg["epochs"], cfg["shards"])
    workers = cfg["workers"]
    if task["method"] == "sgd":            # one worker, the same samples
        workers, steps = 1, steps * cfg["workers"]
    res = train(cfg["model"], "digits", algorithm(cfg, task["method"], steps), workers=workers, steps=steps,
                batch_size=cfg["batch_size"], shards=cfg["shards"], weight_decay=cfg["weight_decay"],
                seed=task["seed"], evaluations=cfg["evaluations"])
    mon = res.monitor
    return {"samples": res.steps * workers * cfg["batch_size"], "wall_s": res.times,
            "center_error": 100 * (1 - np.asarray(mon["center_test_accuracy"], float)),
            "leader_error": 100 * (1 - np.asarray(mon["leader_test_accuracy"], float))}


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    arrays, info = {}, {}
    S = cfg["seeds"]
    for k, m in enumerate(METHODS):
        rows = results[k * S:(k + 1) * S]
        arrays[f"{m}.samples"] = rows[0]["samples"]
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
        x_by = {"samples": a[f"{m}.samples"] / 1e3, "wall": a[f"{m}.wall_s"].mean(axis=0)}
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
    axes[0, 1].set(xlabel="wall time of this simulator (s)", ylabel="test error (%)", title="vs wall time")
    axes[0, 1].legend(loc="upper right", fontsize=7.5, title="center, final test error (mean)", title_fontsize=7.5)
    net = "small CNN" if cfg["model"] == "cnn" else "MLP"
    fig.suptitle(f"{net} on digits, {cfg['workers']} workers (SGD: 1), {cfg['epochs']:g} passes; mean over "
                 f"{cfg['seeds']} seeds, band = range", fontsize=9)
    return fig
