"""``lsgdsim plot RESULT.npz``: look at one run without writing matplotlib code.

Panels: the workers' objective (best, mean and the band between the best and the worst worker) against the
step; the spread (mean distance to the best worker and, where the rule keeps one, to the center); the
leader chosen at each communication (for rules with a leader); and, for a run on the virtual clock, each
worker's compute / communicate / wait time. Workers are numbered from 0, as in the arrays.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .result import Result

PARTS = (("compute", "#4c78a8"), ("communicate", "#f58518"), ("wait", "#bab0ac"))


def figure(res: Result):
    """The figure of ``res`` (2–4 panels, depending on what the run recorded)."""
    from . import plotting
    draws = [_values, _spread]
    if len(res.leaders):
        draws.append(_leaders)
    if res.breakdown:
        draws.append(_breakdown)
    rows = 1 if len(draws) <= 2 else 2
    fig, axes = plotting.subplots(rows, 2, width=4.4, height=3.3, layout="constrained")
    for ax, draw in zip(axes.flat, draws, strict=False):
        draw(ax, res)
    for ax in list(axes.flat)[len(draws):]:
        ax.set_visible(False)
    algorithm = res.meta.get("algorithm", {}).get("algorithm", "?")
    objective = res.meta.get("objective", {}).get("name", "?")
    fig.suptitle(f"{algorithm} on {objective}: {res.workers} workers, d = {res.x.shape[1]}, "
                 f"{int(res.steps[-1])} steps, seed {res.meta.get('seed')}", fontsize=9)
    return fig


def _values(ax, res: Result) -> None:
    f = res.f
    shift = res.meta.get("objective", {}).get("fmin")
    gap = shift is not None and np.isfinite(shift)
    y = (f - shift) if gap else f
    ax.fill_between(res.steps, y.min(axis=1), y.max(axis=1), color="#999999", alpha=0.25, lw=0,
                    label="best … worst worker")
    ax.plot(res.steps, y.min(axis=1), color="#1b9e77", label="best worker")
    with np.errstate(over="ignore", invalid="ignore"):
        ax.plot(res.steps, y.mean(axis=1), color="#333333", lw=1.0, label="mean over workers")
    if gap and np.all(y[np.isfinite(y)] > 0):
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="f − f*" if gap else "f", title="objective")
    ax.legend(fontsize=7, loc="best")


def _spread(ax, res: Result) -> None:
    drawn = False
    for name, label in (("dist_to_leader", "to the best worker"), ("dist_to_center", "to the center")):
        arr = getattr(res, name)
        if arr is not None:
            ax.plot(res.steps, arr.mean(axis=1), label=label)
            drawn = True
    if drawn:
        ax.legend(fontsize=7, loc="best")
    else:
        ax.text(0.5, 0.5, "not recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set(xlabel="step", ylabel="mean distance ‖x_i − ·‖", title="spread")


def _leaders(ax, res: Result) -> None:
    ax.plot(res.leader_steps, res.leaders, ".", ms=3, color="#1b9e77")
    ax.set_yticks(range(res.workers) if res.workers <= 16 else np.linspace(0, res.workers - 1, 9).round())
    share = res.leader_share()
    ax.set(xlabel="step", ylabel="leader (worker, from 0)",
           title=f"leader: {len(res.leader_runs()) - 1} changes, most often {int(share.argmax())}")


def _breakdown(ax, res: Result) -> None:
    workers = np.arange(res.workers)
    left = np.zeros(res.workers)
    for part, colour in PARTS:
        seconds = np.asarray(res.breakdown[part], float)
        ax.barh(workers, seconds, left=left, color=colour, label=part)
        left += seconds
    ax.invert_yaxis()
    ax.set(xlabel="simulated seconds", ylabel="worker (from 0)", title="time per worker")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, frameon=False)


def register(sub) -> None:
    """The ``plot`` subcommand."""
    p = sub.add_parser("plot", help="draw one saved run (a result .npz of lsgdsim run / sweep)",
                       description="Draw a saved result: objective, spread, leaders and, for a clock run, the "
                       "time breakdown per worker.")
    p.add_argument("result", metavar="RESULT.npz", help="a result written by lsgdsim run --out or a sweep")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="the image to write (.png, .pdf or .svg; default RESULT.png beside the result)")
    p.set_defaults(handler=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> int:
    from .outputs import check_output_path
    source = Path(args.result)
    out = check_output_path(source.with_suffix(".png") if args.out is None else args.out, "--out")
    if out.suffix.lower() not in ("", ".png", ".pdf", ".svg"):
        raise ValueError(f"--out must end in .png, .pdf or .svg; got {out.name!r}")
    try:
        res = Result.load(source)
    except FileNotFoundError:
        raise ValueError(f"RESULT: no result file at {source}") from None
    from . import plotting
    print(f"wrote {plotting.save(figure(res), out)}")
    return 0
