"""Plots of a sweep's table: the mean over seeds with a quantile band, one line per value of a chosen axis.

Works on the table of :func:`lsgdsim.sweep.load` (or any frame with its columns). The statistics at a
record are taken over the seeds, so every other spec column must be constant along a line: a column
that varies inside one is an error naming it (filter the table, or give it to ``hue`` or ``col``).
"""
from __future__ import annotations

import numpy as np

from .plotting import COLORS, legend_below, ordered_colors, subplots
from .sweep.table import RECORD_COLUMNS, RUN_COLUMNS

NOT_SPEC = {"run", *RUN_COLUMNS, *RECORD_COLUMNS}


def plot_sweep(df, y: str = "gap", x: str = "step", hue: str | None = None, col: str | None = None,
               quantiles: tuple[float, float] = (0.25, 0.75), over: str = "seed", logy: bool | None = None,
               width: float = 4.0, height: float = 3.0):
    """Mean of ``y`` over ``over`` (the seeds) against ``x``, with the ``quantiles`` band; one line per
    value of ``hue``, one panel per value of ``col``. Returns ``(fig, axes)``.

    ``x``: "step", "samples" or "wall_time" (or any record column); at each record, x is the mean over
    the seeds (equal for steps and samples; wall time differs from seed to seed). ``logy``: log scale
    (default: when ``y`` is positive and spans more than two decades).
    """
    for name in (y, x, hue, col, over):
        if name is not None and name not in df.columns:
            raise ValueError(f"{name!r} is not a column of the table (columns: {', '.join(df.columns)})")
    lo, hi = _check_quantiles(quantiles)
    panels = [None] if col is None else sorted(df[col].dropna().unique())
    # constrained layout: the labels fit the canvas even on a plain fig.savefig
    fig, axes = subplots(1, len(panels), width=width, height=height, sharey=True, layout="constrained")
    for ax, panel in zip(axes[0], panels, strict=True):
        part = df if col is None else df[df[col] == panel]
        lines = [None] if hue is None else sorted(part[hue].dropna().unique())
        for i, value in enumerate(lines):
            sub = part if hue is None else part[part[hue] == value]
            _check_constant(sub, {x, y, hue, col, over})
            stats = sub.groupby("step").agg(x=(x, "mean"), mean=(y, "mean"), lo=(y, lambda v: v.quantile(lo)),
                                            hi=(y, lambda v: v.quantile(hi)), n=(y, "size"))
            color = _color(hue, value, i, len(lines))
            label = None if hue is None else f"{hue} = {value}"
            ax.plot(stats["x"], stats["mean"], color=color, lw=1.4, label=label)
            ax.fill_between(stats["x"], stats["lo"], stats["hi"], color=color, alpha=0.2, lw=0)
        if _wants_log(df[y], logy):
            ax.set_yscale("log")
        ax.set_xlabel(x.replace("_", " "))
        ax.set_title(None if col is None else f"{col} = {panel}", fontsize=9)
    axes[0][0].set_ylabel(f"{y.replace('_', ' ')}\n(mean over {over}s, {lo:.0%}–{hi:.0%} band)")
    if hue is not None:                                   # under the panels, never on the lines
        legend_below(fig, *axes[0][-1].get_legend_handles_labels(), ncol=min(len(lines), 5))
    return fig, axes


def _check_quantiles(quantiles) -> tuple[float, float]:
    lo, hi = (float(q) for q in quantiles)
    if not 0 <= lo <= hi <= 1:
        raise ValueError(f"quantiles must be two numbers 0 <= lo <= hi <= 1; got {quantiles!r}")
    return lo, hi


def _check_constant(sub, used: set) -> None:
    """Along one line only the seeds may vary: another varying spec column would be averaged in silently."""
    spec = [c for c in sub.columns if c not in NOT_SPEC and c not in used]
    varying = [c for c in spec if sub[c].nunique(dropna=False) > 1]
    if varying:
        verb = "vary" if len(varying) > 1 else "varies"
        raise ValueError(f"{', '.join(varying)} {verb} within a line: filter the table, or give it as hue= or col=")


def _color(hue, value, i: int, n: int):
    if hue == "algorithm" and value in COLORS:
        return COLORS[value]
    return ordered_colors(n)[i]            # a setting, not a method: blues, dark to light in the values' order


def _wants_log(column, logy) -> bool:
    if logy is not None:
        return bool(logy)
    values = np.asarray(column.dropna(), dtype=float)
    values = values[np.isfinite(values)]
    return bool(values.size and values.min() > 0 and values.max() / values.min() > 100)
