"""The paper's toy landscape sin(r)/r: worker trajectories of LGD vs EAGD from the poster's starts.

What it shows (claim 6, the curse of symmetry, digest §4.1b): four workers start at the poster's points
(20, 11), (17, 8), (−15, −18), (−6, −4) and run deterministic LGD (pull toward the best worker) and
EAGD (pull toward a center that averages them) with the same coefficient λ = α, τ = 1. The settings are
the curse-of-symmetry check's (``theory_checks.symmetry``: η = 2, λ = α = 0.05, 600 steps), imported,
not copied, so that the figure shows the run the check judges. Top: trajectories on the contour plot,
zoomed on the rings the workers cross; bottom: each worker's f over the iterations, with the ring
values (best ring −0.217, second −0.091) marked.
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle

from lsgdsim import algorithms, objectives, plotting, simulate
from theory_checks.symmetry import POSTER_STARTS, RING, WORKERS

NAME = "ring"
TITLE = "sin(r)/r: LGD vs EAGD worker trajectories from the poster's starts"
CLAIM = "Curse of symmetry (claim 6): averaging (EAGD) stalls on a worse ring, the leader (LGD) reaches the best one."
VOLATILE = ()
METHODS = ("eagd", "lgd")
GRID = 161


def config(quick: bool = False, seed: int = 0) -> dict:
    """Deterministic runs: ``quick`` and ``seed`` change nothing (the runs take well under a second)."""
    return {"starts": POSTER_STARTS.tolist(), "lr": RING["lr"], "pull": RING["pull"], "steps": RING["steps"],
            "workers": WORKERS, "period": 1}


def tasks(cfg: dict) -> list[dict]:
    return [{"key": m, "method": m, "cost": 1} for m in METHODS]


def _track(t, X, state, values):
    out = {"x": X}
    center = state.held_center()            # EASGD's center; None for rules without one
    if center is not None:
        out["center"] = center
    return out


def run_task(cfg: dict, task: dict) -> dict:
    obj = objectives.RingSinc()
    if task["method"] == "lgd":
        alg = algorithms.LSGD(lr=cfg["lr"], pull=cfg["pull"], period=cfg["period"])
    else:
        alg = algorithms.EASGD(lr=cfg["lr"], alpha=cfg["pull"], period=cfg["period"])
    res = simulate(obj, alg, workers=cfg["workers"], steps=cfg["steps"], x0=np.array(cfg["starts"]),
                   record_every=1, monitor=_track)
    out = {"steps": res.steps, "f": res.f, "x": res.monitor["x"]}
    if "center" in res.monitor:
        out["center"] = res.monitor["center"]
        out["center_f"] = np.asarray(obj.value(res.monitor["center"]))
    return out


def combine(cfg: dict, results: list[dict]) -> tuple[dict, dict]:
    obj = objectives.RingSinc()
    arrays = {f"{m}.{k}": v for m, r in zip(METHODS, results, strict=True) for k, v in r.items()}
    paths = np.concatenate([arrays[f"{m}.x"].reshape(-1, 2) for m in METHODS])
    half = float(np.abs(paths).max()) * 1.08                   # zoom: just the region the workers cross
    g = np.linspace(-half, half, GRID)
    gx, gy = np.meshgrid(g, g)
    arrays["grid"] = g
    arrays["landscape"] = np.asarray(obj.value(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    arrays["ring_radii"], arrays["ring_values"] = obj.ring_radii[:4], obj.ring_values[:4]
    info = {f"{m}_final_f": np.round(arrays[f"{m}.f"][-1], 4).tolist() for m in METHODS}
    info["eagd_center_final_f"] = round(float(arrays["eagd.center_f"][-1]), 4)
    return arrays, info


def draw(data):
    a = data.arrays
    fig, axes = plotting.subplots(2, 2, width=4.9, height=3.9, layout="constrained")
    levels = np.linspace(-0.22, 0.3, 14)
    for col, m in enumerate(METHODS):
        ax = axes[0, col]
        cs = ax.contourf(a["grid"], a["grid"], a["landscape"], levels=levels, cmap="bone", alpha=0.9, extend="both")
        cs.set_rasterized(True)
        for r, v in zip(a["ring_radii"], a["ring_values"], strict=True):
            if v < 0:
                ax.add_patch(Circle((0, 0), r, fill=False, lw=0.6, ls=":", ec="w"))
        x = a[f"{m}.x"]                                      # (R, p, 2)
        for i in range(x.shape[1]):
            c = plotting.worker_color(i)
            ax.plot(x[:, i, 0], x[:, i, 1], color=c, lw=1.4, label=f"worker {i}")
            ax.plot(*x[0, i], "o", color=c, ms=5)
            ax.plot(*x[-1, i], "*", color=c, ms=11, mec="k", mew=0.5)
        if f"{m}.center" in a:
            c = a[f"{m}.center"]
            ax.plot(c[:, 0], c[:, 1], "--", color="w", lw=1.2, label="center")
            ax.plot(*c[-1], "X", color="w", ms=8, mec="k", mew=0.5)
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set(xlabel="x₁", ylabel="x₂", title=f"{plotting.label(m)} on f = sin(r)/r (● start, ★ end)")
        ax = axes[1, col]
        f = a[f"{m}.f"]
        for i in range(f.shape[1]):
            ax.plot(a[f"{m}.steps"], f[:, i], color=plotting.worker_color(i), label=f"worker {i}")
        if f"{m}.center_f" in a:
            ax.plot(a[f"{m}.steps"], a[f"{m}.center_f"], "k--", lw=1.2, label="center")
        for k, v in enumerate(a["ring_values"]):
            if v < 0:
                ax.axhline(v, color="#999999", lw=0.8, ls=":")
                ax.annotate(f"ring {k // 2 + 1}: {v:.3f}", (a[f"{m}.steps"][-1], v), xytext=(-4, 3),
                            textcoords="offset points", ha="right", fontsize=7.5, color="#555555")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(0, a[f"{m}.steps"][-1])
        ax.set_ylim(-0.24, 0.16)
        final = ", ".join(f"{v:.3f}" for v in f[-1])
        ax.set(xlabel="iteration t", ylabel="f(xᵢ)", title=f"{plotting.label(m)}: the workers end at\n{final}")
    fig.colorbar(cs, ax=axes[0, :].tolist(), shrink=0.85, label="f(x)")
    handles, labels = axes[1, 0].get_legend_handles_labels()       # EAGD's: the workers and the center
    plotting.legend_below(fig, handles, labels, ncol=len(labels), fontsize=8)
    return fig
