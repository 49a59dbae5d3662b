"""``lsgdsim plot RESULT.npz [MORE.npz …]`` and ``Result.plot()``: look at runs without writing matplotlib code.

Panels: the objective (one run: every worker's f, the best and the mean; several: each run's best worker,
the band between its best and worst worker, one colour per method); the spread (mean distance to the best
worker, dashed to the center where the rule keeps one); the leader chosen at each communication (rules with
a leader); and, for runs on the virtual clock, the compute / communicate / wait time (one run: per worker;
several: each run's mean worker). When every run is on the clock, the curves are against simulated time,
else against the step. Workers are numbered from 0, as in the arrays.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .result import Result

LINESTYLES = ("-", "--", "-.", (0, (6, 2, 1, 2, 1, 2)))   # ":" is the distance to the center


def figure(results):
    """The figure of one Result or a list of them (2–4 panels, depending on what the runs recorded)."""
    from . import plotting
    runs = [results] if isinstance(results, Result) else list(results)
    if not runs or not all(isinstance(r, Result) for r in runs):
        raise ValueError("results must be a Result or a non-empty list of Results")
    draws = [_values, _spread]
    if any(len(r.leaders) for r in runs):
        draws.append(_leaders)
    if any(r.breakdown for r in runs):
        draws.append(_breakdown)
    fig, gs = plotting.grid(2 * (1 + (len(draws) > 2)), 2, width=10.0, height=3.9 * (1 + (len(draws) > 2)),
                            height_ratios=[1, 0.02] * (1 + (len(draws) > 2)))
    styles = _styles(runs, plotting)
    for k, draw in enumerate(draws):
        row, col = 2 * (k // 2), k % 2
        ax = plotting.panel(fig, gs[row, col])
        draw(ax, runs, styles)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            plotting.legend_row(fig, gs[row + 1, col], handles, labels, ncol=min(2, len(handles)), fontsize=7.5)
    fig.suptitle(_title(runs), fontsize=9)
    return fig


def _name(res: Result) -> str:
    return str(res.meta.get("algorithm", {}).get("algorithm", "?"))


def _styles(runs, plotting) -> list[dict]:
    """Colour by method (its house colour), line style by the run's order among those of its method."""
    seen: dict[str, int] = {}
    out = []
    for n, r in enumerate(runs):
        k = seen[_name(r)] = seen.get(_name(r), -1) + 1
        label = plotting.label(_name(r))
        same = [q for q in runs if _name(q) == _name(r)]
        if len(same) > 1:                      # the seed tells them apart, else their order on the command line
            seeds = [q.meta.get("seed") for q in same]
            label += f" (seed {r.meta.get('seed')})" if len(set(seeds)) == len(seeds) else f" (run {n + 1})"
        out.append({"color": plotting.color(_name(r)), "ls": LINESTYLES[k % len(LINESTYLES)], "label": label})
    return out


def _title(runs) -> str:
    objective = {str(r.meta.get("objective", {}).get("name", "?")) for r in runs}
    r = runs[0]
    if len(runs) == 1:
        return (f"{_name(r)} on {r.meta.get('objective', {}).get('name', '?')}: {r.workers} workers, "
                f"d = {r.x.shape[1]}, {int(r.steps[-1])} steps, seed {r.meta.get('seed')}")
    return f"{len(runs)} runs on {', '.join(sorted(objective))}"


def _x(runs):
    """(x of each run, its label): simulated time when every run has it, else the step."""
    if all(r.sim_time is not None for r in runs):
        return [np.asarray(r.sim_time, float) for r in runs], "simulated time (s)"
    return [np.asarray(r.steps, float) for r in runs], "step"


def _fmin(res: Result):
    fmin = res.meta.get("objective", {}).get("fmin")
    return fmin if fmin is not None and np.isfinite(fmin) else None


def _values(ax, runs, styles) -> None:
    from . import plotting
    xs, xlabel = _x(runs)
    is_gap = all(_fmin(r) is not None for r in runs)          # f − f* only when every run knows its f*
    ys = [r.f - _fmin(r) if is_gap else r.f for r in runs]
    for x, y, st, r in zip(xs, ys, styles, runs, strict=True):
        if len(runs) == 1 and r.workers <= 8:          # one run: every worker
            for i in range(r.workers):
                ax.plot(x, y[:, i], color=plotting.worker_color(i), lw=0.8, alpha=0.8, label=f"worker {i}")
        else:
            ax.fill_between(x, y.min(axis=1), y.max(axis=1), color=st["color"], alpha=0.15, lw=0)
        ax.plot(x, y.min(axis=1), color=st["color"], ls=st["ls"], lw=1.6,
                label="best worker" if len(runs) == 1 else st["label"])
        if len(runs) == 1:
            with np.errstate(over="ignore", invalid="ignore"):
                ax.plot(x, y.mean(axis=1), color="k", lw=1.0, ls="--", label="mean over workers")
    if is_gap and all(np.all(y[np.isfinite(y)] > 0) for y in ys):
        ax.set_yscale("log")
    title = "objective" if len(runs) == 1 else "objective: best worker (band: best … worst)"
    ax.set(xlabel=xlabel, ylabel="f − f*" if is_gap else "f", title=title)


def _spread(ax, runs, styles) -> None:
    xs, xlabel = _x(runs)
    drawn = False
    for x, st, r in zip(xs, styles, runs, strict=True):
        for name, ls, what in (("dist_to_leader", st["ls"], "to the best worker"), ("dist_to_center", ":",
                                                                                   "to the center")):
            arr = getattr(r, name)
            if arr is not None:
                label = what if len(runs) == 1 else f"{st['label']}, {what}"
                ax.plot(x, arr.mean(axis=1), color=st["color"], ls=ls, label=label)
                drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "not recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set(xlabel=xlabel, ylabel="mean distance ‖x_i − ·‖", title="spread")


def _leaders(ax, runs, styles) -> None:
    led = [(r, st) for r, st in zip(runs, styles, strict=True) if len(r.leaders)]
    timed = all(r.leader_times is not None and len(r.leader_times) == len(r.leaders) for r, _ in led) and \
        all(r.sim_time is not None for r in runs)              # on the clock: when each choice was made
    for k, (r, st) in enumerate(led):
        offset = 0.0 if len(led) == 1 else 0.3 * (k / (len(led) - 1) - 0.5)     # side by side, not on top
        ax.plot(r.leader_times if timed else r.leader_steps, np.asarray(r.leaders) + offset, ".", ms=3,
                color=st["color"], label=f"{st['label']}: {len(r.leader_runs()) - 1} changes")
    p = max(r.workers for r, _ in led)
    ax.set_yticks(range(p) if p <= 16 else np.linspace(0, p - 1, 9).round())
    ax.set(xlabel="simulated time (s)" if timed else "step", ylabel="leader (worker, from 0)",
           title="leader at each communication")


def _breakdown(ax, runs, styles) -> None:
    from . import plotting
    clocked = [(r, st) for r, st in zip(runs, styles, strict=True) if r.breakdown]
    if len(runs) == 1:                                   # (workers, parts)
        names = [str(w) for w in range(runs[0].workers)]
        rows = np.asarray([runs[0].breakdown[p] for p in plotting.TIME_COLORS], float).T
        ylabel, title = "worker (from 0)", "time per worker"
    else:
        names = [st["label"] for _, st in clocked]
        rows = [[np.mean(r.breakdown[p]) for p in plotting.TIME_COLORS] for r, _ in clocked]
        ylabel, title = "run", "time of the mean worker"
    ax.set_yticks(plotting.stacked_breakdown(ax, rows), names)
    ax.set(xlabel="simulated seconds", ylabel=ylabel, title=title)


def register(sub) -> None:
    """The ``plot`` subcommand."""
    p = sub.add_parser("plot", help="draw saved runs (result .npz files of lsgdsim run / sweep)",
                       description="Draw saved results: objective, spread, leaders and, for clock runs, the time "
                       "breakdown; several results are overlaid, one colour per method.")
    p.add_argument("results", nargs="+", metavar="RESULT.npz", help="results written by lsgdsim run --out or a sweep")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="the image to write (.png, .pdf or .svg; default: the first RESULT with .png)")
    p.set_defaults(handler=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> int:
    from .outputs import check_output_path
    sources = [Path(s) for s in args.results]
    out = check_output_path(sources[0].with_suffix(".png") if args.out is None else args.out, "--out")
    if out.suffix.lower() not in ("", ".png", ".pdf", ".svg"):
        raise ValueError(f"--out must end in .png, .pdf or .svg; got {out.name!r}")
    runs = []
    for source in sources:
        try:
            runs.append(Result.load(source))
        except FileNotFoundError:
            raise ValueError(f"RESULT: no result file at {source}") from None
    from . import plotting
    print(f"wrote {plotting.save(figure(runs), out)}")
    return 0
