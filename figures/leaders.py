"""Who leads, and how often: leader identity over time and leadership share per worker (the paper's Figure 5).

What it shows (reviewer 1's question, digest §4.2, §6 item 1: does one worker keep the lead while the
others are stranded?). Three LSGD runs of 4 workers with the authors' leader rule (lowest mean of the
last 10 observed mini-batch losses, ``leaders.Window(10)``), pull λ = 0.1 every τ = 4 steps:
- the small CNN on digits with the trainer's defaults (``lsgdsim.nn.train.default_algorithm``, 100
  passes), each worker sampling its own quarter of the data (disjoint shards, as DistributedSampler);
- the same with every worker sampling all the data (shared shards);
- Rastrigin in 10-D with Gaussian gradient noise, as the leader-stickiness check's base configuration
  (``theory_checks.stickiness``: η = 0.002, σ = 20, loss noise σ_f = 2 seen by the rule), for the
  paper's 182 communications.
Top: the leader at each communication; bottom: each worker's share of the communications, against the
fair share 1/p and the paper's counts (34, 38, 48, 62 of 182 on CIFAR-10).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, leaders, objectives, plotting, simulate
from lsgdsim.nn.train import default_algorithm, load_data, steps_for, train
from theory_checks.stickiness import LR, PAPER_COUNTS, SIGMA_F, Config

NAME = "leaders"
TITLE = "Leader identity over time and leadership share per worker (digits CNN, Rastrigin)"
CLAIM = ("Reviewer 1 / the paper's Figure 5: the leader switches; no worker keeps the lead while the others are "
         "stranded.")
VOLATILE = ()
RUNS = ("digits-disjoint", "digits-shared", "rastrigin")
RASTRIGIN_COMMS = 182


def config(quick: bool = False, seed: int = 0) -> dict:
    base = Config("rastrigin")
    return {"seed": seed, "workers": base.workers, "digits_epochs": 4.0 if quick else 100.0,
            "model": "mlp" if quick else "cnn", "batch_size": 32,
            "rastrigin": {"dim": 10, "lr": LR["rastrigin"], "pull": base.pull, "period": base.period,
                          "window": base.window, "grad_noise": base.grad_noise, "sigma_f": SIGMA_F,
                          "communications": RASTRIGIN_COMMS}}


def tasks(cfg: dict) -> list[dict]:
    return [{"key": r, "run": r, "cost": 0.2 if r == "rastrigin" else cfg["digits_epochs"] / 10} for r in RUNS]


def run_task(cfg: dict, task: dict) -> dict:
    """The leader series (C,) and the step of each communication (C,) of one run."""
    p = cfg["workers"]
    if task["run"] == "rastrigin":
        r = cfg["rastrigin"]
        alg = algorithms.LSGD(lr=r["lr"], pull=r["pull"], period=r["period"],
                              leader=leaders.Window(r["window"], sigma=r["sigma_f"]))
        steps = r["communications"] * r["period"] + r["period"] - 1
        res = simulate(objectives.Rastrigin(dim=r["dim"]), alg, workers=p, steps=steps, seed=cfg["seed"],
                       grad_noise=r["grad_noise"])
    else:
        shards = task["run"].split("-")[1]
        steps = steps_for(load_data("digits"), p, cfg["batch_size"], cfg["digits_epochs"], shards)
        res = train(cfg["model"], "digits", default_algorithm(steps), workers=p, steps=steps, shards=shards,
                    batch_size=cfg["batch_size"], seed=cfg["seed"], evaluations=1)
    return {"leaders": res.leaders, "leader_steps": res.leader_steps}


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    arrays, info = {"paper_counts": PAPER_COUNTS}, {}
    for run, res in zip(RUNS, results, strict=True):
        ids = res["leaders"].astype(int)
        share = np.bincount(ids, minlength=cfg["workers"]) / max(1, len(ids))
        change = np.flatnonzero(np.diff(ids)) + 1
        runs = np.diff(np.concatenate([[0], change, [len(ids)]]))
        arrays.update({f"{run}.leaders": ids, f"{run}.steps": res["leader_steps"], f"{run}.share": share})
        info[run] = {"communications": len(ids), "max_share": float(share.max()),
                     "switches": len(change), "longest_run": int(runs.max()) if len(ids) else 0}
    return arrays, info


def draw(data):
    a, cfg = data.arrays, data.config
    p = cfg["workers"]
    net = cfg["model"].upper()
    titles = {"digits-disjoint": f"digits {net}, disjoint shards", "digits-shared": f"digits {net}, shared data",
              "rastrigin": f"Rastrigin {cfg['rastrigin']['dim']}-D, σ = {cfg['rastrigin']['grad_noise']:g}"}
    fig, axes = plotting.subplots(2, 3, width=3.3, height=2.7)
    for col, run in enumerate(RUNS):
        ids, info = a[f"{run}.leaders"], data.info[run]
        ax = axes[0, col]
        comm = np.arange(1, len(ids) + 1)
        ax.step(comm, ids, where="post", color="#bbbbbb", lw=0.8)
        ax.scatter(comm, ids, c=[plotting.worker_color(i) for i in ids], s=9, zorder=3)
        ax.set_yticks(range(p))
        ax.set_ylim(-0.5, p - 0.5)
        ax.set(xlabel="communication", ylabel="leader (worker)",
               title=f"{titles[run]}\n{info['switches']} switches, longest run {info['longest_run']}")
        ax = axes[1, col]
        share = a[f"{run}.share"]
        ax.bar(np.arange(p), share, color=[plotting.worker_color(i) for i in range(p)], label="this run")
        paper = np.sort(a["paper_counts"]) / a["paper_counts"].sum()
        if len(paper) == p:
            ax.plot(np.arange(p), paper, "k_", ms=18, mew=2, label="paper, Fig. 5 (sorted)")
        ax.axhline(1 / p, color="k", ls=":", lw=1, label="fair share 1/p")
        ax.set_xticks(range(p))
        ax.set_ylim(0, 1)
        ax.set(xlabel="worker", ylabel="share of communications",
               title=f"max share {info['max_share']:.2f} of {info['communications']}")
    axes[1, 1].legend(loc="upper right", fontsize=7.5)
    return fig
