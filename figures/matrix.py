"""Low-rank matrix completion, ranks 1, 10, 50, 100 (the poster's panel): F(X) over iterations, EAGD vs LGD.

What it shows (claim 6, the curse of symmetry on matrix completion, digest §4.1a): F(U) = ¼‖P_Ω(UUᵀ − M)‖²
is invariant under U → UQ for every orthogonal Q, so workers that converge toward different copies of a
solution average to a worse point. Four workers, deterministic gradients, τ = 1, the same coefficient
λ = α = 0.05 for LGD and EAGD (as ``theory_checks.symmetry``), η = 0.3, a new problem and start per seed
(``MatrixFactorization(n, rank, observed, seed)`` and its default start, N(0, 0.25/n) per entry). n = 200,
90% of the entries observed: for rank 100 that is 18,090 observed entries for 15,050 degrees of freedom
(n·r − r(r − 1)/2), so the completion problem is still determined. The paper's sizes and step sizes
are not known; these are our choices. Lines: median over seeds; bands: the full range over seeds.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import algorithms, objectives, plotting, simulate
from theory_checks._convex import derive_seed
from theory_checks.symmetry import WORKERS

NAME = "matrix"
TITLE = "Low-rank matrix completion, ranks 1–100: F(X) vs iterations, EAGD vs LGD"
CLAIM = ("Curse of symmetry (claim 6): on matrix completion EAGD plateaus while LGD converges linearly "
         "(poster: ranks 1, 10, 50, 100).")
VOLATILE = ()
FLOOR = 1e-30                               # F below this is drawn at it (exact zero on a log axis)
CURVES = ("lgd_leader", "eagd_center", "eagd_best")


def config(quick: bool = False, seed: int = 0) -> dict:
    base = {"observed": 0.9, "lr": 0.3, "pull": 0.05, "workers": WORKERS, "period": 1, "seed": seed}
    if quick:
        return {**base, "n": 40, "ranks": [1, 3, 10, 20], "seeds": 2, "steps": 300, "record_every": 5}
    return {**base, "n": 200, "ranks": [1, 10, 50, 100], "seeds": 5, "steps": 1000, "record_every": 5}


def tasks(cfg: dict) -> list[dict]:
    return [{"key": f"rank={r}-seed={s}", "rank": r, "seed": s, "cost": cfg["n"] ** 2 * cfg["steps"] / 4e7}
            for r in cfg["ranks"] for s in range(cfg["seeds"])]


def run_task(cfg: dict, task: dict) -> dict:
    """LGD and EAGD from one start on one problem: F of the leader, the EAGD center and best EAGD worker."""
    problem_seed = derive_seed(cfg["seed"], 8, task["rank"], task["seed"]) % 2**31
    obj = objectives.MatrixFactorization(n=cfg["n"], rank=task["rank"], observed=cfg["observed"], seed=problem_seed)
    x0 = obj.initial_point(cfg["workers"], np.random.default_rng(derive_seed(problem_seed, 7)))
    kw = {"workers": cfg["workers"], "steps": cfg["steps"], "x0": x0, "record_every": cfg["record_every"]}
    lgd = simulate(obj, algorithms.LSGD(lr=cfg["lr"], pull=cfg["pull"], period=cfg["period"]), **kw)

    def center_value(t, X, state, values):
        return {"center_f": obj.value(state.held_center()[None, :])[0]}
    eagd = simulate(obj, algorithms.EASGD(lr=cfg["lr"], alpha=cfg["pull"], period=cfg["period"]),
                    monitor=center_value, **kw)
    return {"steps": lgd.steps, "lgd_leader": lgd.best_f, "eagd_center": eagd.monitor["center_f"],
            "eagd_best": eagd.best_f}


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    arrays, info = {"steps": results[0]["steps"]}, {}
    S = cfg["seeds"]
    for k, r in enumerate(cfg["ranks"]):
        rows = results[k * S:(k + 1) * S]
        for c in CURVES:
            arrays[f"rank{r}.{c}"] = np.stack([row[c] for row in rows])              # (seeds, records)
        info[f"rank{r}"] = {c: float(np.median(arrays[f"rank{r}.{c}"][:, -1])) for c in CURVES}
    return arrays, info


def draw(data):
    cfg, a = data.config, data.arrays
    fig, axes = plotting.subplots(2, 2, width=4.6, height=3.2)
    t = a["steps"]
    styles = {"lgd_leader": ("lgd", "-", "LGD leader"), "eagd_center": ("eagd", "-", "EAGD center"),
              "eagd_best": ("eagd", "--", "EAGD best worker")}
    for ax, r in zip(axes.flat, cfg["ranks"], strict=True):
        for c, (method, ls, lab) in styles.items():
            y = np.maximum(a[f"rank{r}.{c}"], FLOOR)
            ax.semilogy(t, np.median(y, axis=0), ls, color=plotting.color(method), label=lab)
            if c != "eagd_best":
                plotting.band(ax, t, y.min(axis=0), y.max(axis=0), method)
        ax.set_ylim(FLOOR / 10, None)
        ax.set(title=f"rank {r} (n = {cfg['n']}, {cfg['observed']:.0%} observed)", xlabel="iteration t",
               ylabel="F(X)")
    plotting.legend_below(fig, *axes[0, 0].get_legend_handles_labels(), ncol=3, fontsize=8)   # off the curves
    fig.suptitle(f"F(X) = ¼‖P_Ω(XXᵀ − M)‖²: median over {cfg['seeds']} seeds, band = range over seeds; "
                 f"λ = α = {cfg['pull']}, η = {cfg['lr']}, {cfg['workers']} workers", fontsize=9)
    return fig
