"""Stragglers: Algorithm 1's total-iteration trigger against the bulk-synchronous per-worker trigger.

What it shows (the paper's Algorithm 1, digest §2.4: a round when the total of local steps over all
workers reaches a multiple of p·τ, so fast workers do more steps; against a round every τ of each
worker's own steps, where everyone waits for the slowest). LSGD as the authors ran it (pull after the
step, proximal pulls, window leader) with either trigger trains the small CNN on digits (:mod:`figures.timed`)
with 16 workers on the paper's network (4 nodes × 4, PCIe, 10 Gb Ethernet; CNN7 priced) and heavy-tailed
compute times: worker i's step takes m_i·u^(−1/2) seconds (Pareto, shape 2: infinite variance), m_i rising
from 4.0 ms (worker 0) to 8.0 ms (worker 15) (:func:`lsgdsim.clock.clusters.with_stragglers`). Left: test
error of the center (solid) and of the leader (dashed) against simulated time, mean over seeds on a
common grid, band = range; middle: the time breakdown; right: each worker's share of the leads against
its share of the local steps (does the leader drift toward the fast workers?).
"""
from __future__ import annotations

import numpy as np

from lsgdsim import plotting
from lsgdsim.clock.clusters import cluster_clock, with_stragglers

from .timed import LR, PARTS, algorithm, on_grid, shares, timed_run

NAME = "straggler-training"
TITLE = "Heavy-tailed stragglers: Algorithm 1's total trigger vs the per-worker trigger (16 workers)"
CLAIM = ("Algorithm 1: triggering rounds on the total of local steps lets fast workers go on, so LSGD reaches a "
         "given error sooner in wall-clock time than waiting for every worker's τ steps.")
VOLATILE = ()
TRIGGERS = ("total", "own")
WORKERS = 16
GRID = 25


def config(quick: bool = False, seed: int = 0) -> dict:
    return {"seed": seed, "seeds": 1 if quick else 2, "model": "mlp" if quick else "cnn", "workers": WORKERS,
            "budget": 0.3 if quick else 4.0, "evaluations": 6 if quick else 16, "spread": 2.0, "shape": 2.0,
            "lr": LR["lsgd-authors"]}


def tasks(cfg: dict) -> list[dict]:
    return [{"key": f"{t}-seed={s}", "trigger": t, "seed": cfg["seed"] + s, "cost": cfg["budget"] * 4}
            for t in TRIGGERS for s in range(cfg["seeds"])]


def clock(cfg: dict):
    p = cfg["workers"]
    return with_stragglers(cluster_clock("paper", p), p, cfg["spread"], cfg["shape"])


def run_task(cfg: dict, task: dict) -> dict:
    alg = algorithm("lsgd-authors", cfg["lr"], trigger=task["trigger"])
    run = timed_run(alg, cfg["workers"], clock(cfg), cfg["budget"], task["seed"], cfg["model"], cfg["evaluations"])
    run["lead_counts"] = np.bincount(run.pop("leaders").astype(int), minlength=cfg["workers"]).astype(float)
    return run


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    arrays, info = {"time": np.linspace(0.0, cfg["budget"], GRID)}, {}
    S = cfg["seeds"]
    for k, trig in enumerate(TRIGGERS):
        rows = results[k * S:(k + 1) * S]
        for err in ("center_error", "leader_error"):
            arrays[f"{trig}.{err}"] = np.stack([on_grid(r["time"], r[err], arrays["time"]) for r in rows])
        parts = [shares(r) for r in rows]
        arrays[f"{trig}.shares"] = np.array([[s[part] for part in PARTS] for s in parts]).mean(axis=0)
        leads = np.sum([r["lead_counts"] for r in rows], axis=0)
        steps = np.sum([r["worker_steps"] for r in rows], axis=0)
        arrays[f"{trig}.lead_share"] = leads / max(1.0, leads.sum())
        arrays[f"{trig}.step_share"] = steps / steps.sum()
        half = cfg["workers"] // 2
        info[trig] = {"final_center_error_mean": float(arrays[f"{trig}.center_error"][:, -1].mean()),
                      "final_leader_error_mean": float(arrays[f"{trig}.leader_error"][:, -1].mean()),
                      "rounds": int(leads.sum()), "steps_per_worker": float(steps.sum() / S / cfg["workers"]),
                      "fast_half_lead_share": float(arrays[f"{trig}.lead_share"][:half].sum()),
                      "fast_half_step_share": float(arrays[f"{trig}.step_share"][:half].sum()),
                      **{f"{part}_share": float(v) for part, v in zip(PARTS, arrays[f"{trig}.shares"], strict=True)}}
    return arrays, info


LABELS = {"total": "Algorithm 1: total trigger", "own": "per-worker trigger (bulk synchronous)"}
# Both are LSGD: Algorithm 1's trigger in the authors' colour, the per-worker one in the theory form's (as in
# cluster-time), never another method's colour.
STYLE = {"total": plotting.COLORS["lsgd-authors"], "own": plotting.COLORS["lsgd"]}


def _errors(ax, data) -> None:
    a = data.arrays
    for trig in TRIGGERS:
        err = a[f"{trig}.center_error"]
        final = data.info[trig]["final_center_error_mean"]
        ax.plot(a["time"], err.mean(axis=0), color=STYLE[trig], label=f"{LABELS[trig]}: {final:.1f}% at the end")
        plotting.band(ax, a["time"], err.min(axis=0), err.max(axis=0), color=STYLE[trig])
        ax.plot(a["time"], a[f"{trig}.leader_error"].mean(axis=0), "--", color=STYLE[trig], lw=1.1,
                label=f"its leader: {data.info[trig]['final_leader_error_mean']:.1f}%")
    ax.set(xlabel="simulated wall-clock time (s)", ylabel="test error (%)", yscale="log",
           title="center (solid) and leader (dashed)")
    ax.set_yticks([1, 2, 5, 10, 20, 50, 100], ["1", "2", "5", "10", "20", "50", "100"])
    ax.set_yticks([], minor=True)


def _breakdown(ax, data) -> None:
    y = plotting.stacked_breakdown(ax, [data.arrays[f"{t}.shares"] for t in TRIGGERS], height=0.6)
    for yi, t in zip(y, TRIGGERS, strict=True):
        ax.text(0.02, yi + 0.36, f"{data.info[t]['steps_per_worker']:.0f} steps/worker", fontsize=7)
    ax.set_yticks(y, ["total", "per-worker"])
    ax.set_ylim(min(y) - 0.5, max(y) + 0.75)          # head room above each bar for its note
    ax.set(xlim=(0, 1), xlabel="share of each worker's time (mean)", ylabel="trigger", title="time breakdown")


def _leads(ax, data) -> None:
    a, cfg = data.arrays, data.config
    workers = np.arange(cfg["workers"])
    for k, trig in enumerate(TRIGGERS):
        ax.bar(workers + (k - 0.5) * 0.4, a[f"{trig}.lead_share"], width=0.4, color=STYLE[trig],
               label=f"share of the leads, {trig}")
        ax.plot(workers, a[f"{trig}.step_share"], "o-" if trig == "total" else "s:", ms=3, color="black",
                lw=0.8, label=f"share of the steps, {trig}")
    ax.set(xlabel=f"worker (0 fastest, {cfg['workers'] - 1} slowest)", ylabel="share",
           title="who leads vs who steps")


def draw(data):
    cfg = data.config
    fig = plotting.row_with_legends([lambda ax, f=f: f(ax, data) for f in (_errors, _breakdown, _leads)],
                                    height=4.6, ncols=[1, 3, 1], fontsize=7)
    net = "small CNN" if cfg["model"] == "cnn" else "MLP"
    fig.suptitle(f"{net} on digits, {cfg['workers']} workers on the paper's network, Pareto(shape "
                 f"{cfg['shape']:g}) steps from 4 to {4 * cfg['spread']:g} ms minimum; {cfg['seeds']} seed(s)",
                 fontsize=9)
    return fig
