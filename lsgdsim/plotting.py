"""The house style of every lsgdsim figure: fonts, sizes, one colour per method, headless atomic saving.

Figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot-managed ones: creating or saving
one never selects a backend or opens a window, so importing this module changes nothing global
(``MPLBACKEND`` and the user's pyplot stay theirs). Saving renders with the writer the file extension
names (Agg for PNG, matplotlib's PDF backend for PDF), which works on a headless machine.

Readability rules (README column ≈ 800 px, and print):
- a figure is at most :data:`MAX_WIDTH` inches wide (wider requests are scaled down, aspect kept), so
  that 9–10 pt text stays ≥ 10 px when the PNG is shown 800 px wide;
- PNGs are written at :data:`PNG_DPI` (≈ 1300 px for a full-width figure), PDFs with embedded TrueType
  fonts; no text is smaller than :data:`MIN_FONT` points (smaller requests are raised when saving);
- one colour per method in every figure (:data:`COLORS`, :func:`color`), the same display names
  (:data:`LABELS`), and axes labelled with their units;
- the leader controls in greys with their own dashes (:func:`control`), everything that is neither a method
  nor a control (problems, landscapes, settings) in blues (:data:`SETTING_COLORS`, the default cycle);
- workers numbered from 0 (worker 0 … p − 1), as in Result arrays, tables, traces and MPI ranks;
- no text on text, no text off the canvas, no legend on the data (tests/figure_lint.py checks every
  figure of ``reproduce --quick``, the checks and the notebooks).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt  # importing pyplot selects no backend; ``plotting.plt`` is public API
from matplotlib.figure import Figure
from matplotlib.text import Text

from .outputs import atomic_write

MAX_WIDTH = 10.0   # inches
PNG_DPI = 130
MIN_FONT = 7.5     # points

STYLE = {"figure.dpi": 110, "savefig.dpi": PNG_DPI, "font.size": 9.5, "axes.titlesize": 10,
         "axes.labelsize": 9.5, "xtick.labelsize": 8.5, "ytick.labelsize": 8.5, "legend.fontsize": 8.5,
         "legend.frameon": False, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
         "axes.spines.right": False, "lines.linewidth": 1.5, "pdf.fonttype": 42, "ps.fonttype": 42,
         "image.cmap": "viridis"}

# One colour per method in every figure. The leader controls of the theory checks are greys, told apart
# by their dashes (:data:`CONTROL_DASHES`), so that a control is never mistaken for a method.
COLORS = {"lsgd": "#1b9e77", "lsgd-authors": "#2c7fb8", "easgd": "#d95f02", "eamsgd": "#e7298a", "sgd": "#7570b3",
          "localsgd": "#66a61e", "downpour": "#e6ab02", "allreduce": "#a6761d", "random leader": "#8c8c8c",
          "mid leader": "#6e6e6e", "worst leader": "#3c3c3c", "bound": "#000000"}
CONTROL_DASHES = {"random leader": "--", "mid leader": "-.", "worst leader": ":"}
# Everything that is neither a method nor a control (problems, landscapes, settings such as κ or d): blues,
# the default colour cycle, so an uncoloured line can never take a method's or a control's colour.
SETTING_COLORS = ("#08306b", "#4eb3d3", "#2171b5", "#9ecae1", "#253494", "#6baed6", "#0c7bb3", "#5e7fb8")
STYLE["axes.prop_cycle"] = matplotlib.cycler(color=list(SETTING_COLORS))
# The parts of a worker's time on the virtual clock (timelines, breakdowns), apart from methods and controls.
TIME_COLORS = {"compute": "#4a6fa5", "communicate": "#d1495b", "wait": "#c8c8c8"}
# Deterministic variants share their method's colour (LGD is LSGD without noise, EAGD is EASGD).
COLORS.update(lgd=COLORS["lsgd"], eagd=COLORS["easgd"], center=COLORS["bound"],
              **{"no communication": COLORS["sgd"]})
LABELS = {"lsgd": "LSGD", "lsgd-authors": "LSGD (authors' code)", "lgd": "LGD", "easgd": "EASGD", "eagd": "EAGD",
          "eamsgd": "EAMSGD", "sgd": "SGD", "localsgd": "LocalSGD", "downpour": "DOWNPOUR",
          "allreduce": "all-reduce SGD"}
# Workers of one run (trajectories, leader identity): a qualitative palette apart from the methods'.
# (no green, orange, grey or black: those are LSGD's, EASGD's, the controls' and the bounds'/centers')
WORKER_COLORS = ("#0072b2", "#cc79a7", "#56b4e9", "#882255", "#f0e442", "#999933", "#aa4499", "#332288")

_FIGURE_KW = ("layout", "constrained_layout", "tight_layout", "facecolor", "edgecolor", "dpi")


def color(method: str) -> str:
    """The colour of ``method`` in any spelling ("LSGD", "local SGD", "all-reduce SGD"); grey if unknown."""
    key = method.lower()
    if key in COLORS:
        return COLORS[key]
    key = key.replace("-", "").replace("_", "").replace(" ", "")
    return COLORS.get({"allreducesgd": "allreduce"}.get(key, key), "#888888")


def label(method: str) -> str:
    """The display name of ``method`` ("localsgd" → "LocalSGD")."""
    return LABELS.get(method.lower(), method)


def stacked_breakdown(ax, rows, height: float = 0.8):
    """Horizontal stacked bars, one per row of ``rows`` (n, 3: compute, communicate, wait, in
    :data:`TIME_COLORS`' order), top to bottom; returns the bars' y positions."""
    import numpy as np
    rows = np.asarray(rows, float)
    y, left = np.arange(len(rows))[::-1], np.zeros(len(rows))
    for j, (part, colour) in enumerate(TIME_COLORS.items()):
        ax.barh(y, rows[:, j], left=left, color=colour, label=part, height=height)
        left = left + rows[:, j]
    return y


def ordered_colors(n: int) -> list:
    """``n`` blues from dark to light, for the ordered values of one setting (κ, d, τ, a grid axis)."""
    cmap = matplotlib.colormaps["Blues"]
    return [cmap(0.95 - 0.55 * k / max(1, n - 1)) for k in range(n)]


def control(mode: str) -> dict:
    """Line style of a leader control ("random", "mid", "worst", with or without " leader"): its grey and
    its dashes, as keyword arguments for ``ax.plot``."""
    key = mode if mode.endswith(" leader") else f"{mode} leader"
    return {"color": COLORS[key], "ls": CONTROL_DASHES[key]}


def worker_color(i: int) -> str:
    return WORKER_COLORS[i % len(WORKER_COLORS)]


@contextlib.contextmanager
def style():
    """The house rcParams for everything created inside (legends, texts, lines added after ``subplots``)."""
    with matplotlib.rc_context(STYLE):
        yield


def subplots(nrows: int = 1, ncols: int = 1, width: float = 4.0, height: float = 3.0, **kw):
    """A figure of nrows × ncols panels in the house style, each ``width`` × ``height`` inches (scaled down
    together when the whole would exceed :data:`MAX_WIDTH`). Returns (fig, axes) with ``axes`` always 2-D.

    ``kw`` goes to ``Figure.subplots`` (sharex, sharey, subplot_kw, gridspec_kw, ...), except the figure
    options (layout, dpi, ...)."""
    fig_kw = {k: kw.pop(k) for k in _FIGURE_KW if k in kw}
    scale = min(1.0, MAX_WIDTH / (width * ncols))
    with style():
        fig = Figure(figsize=(width * ncols * scale, height * nrows * scale), **fig_kw)
        axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


def four_panels():
    """Four panels in a 2 × 2 grid (readable at 800 px): (fig, axes) with ``axes`` the four in reading order."""
    fig, axes = subplots(2, 2, width=4.6, height=3.9)
    return fig, axes.ravel()


def grid(nrows: int, ncols: int, width: float, height: float, **gridspec_kw):
    """A constrained-layout figure of ``width`` × ``height`` inches (scaled down together beyond
    :data:`MAX_WIDTH`) and its nrows × ncols GridSpec (``gridspec_kw``: height_ratios, width_ratios, ...),
    for figures whose panels span cells or have legend rows of their own. Add panels with :func:`panel`
    and legends with :func:`legend_row` / ``fig.legend(loc="outside lower center")``: constrained layout
    makes room for them, so they never cover a panel, an axis label or one another."""
    scale = min(1.0, MAX_WIDTH / width)
    with style():
        fig = Figure(figsize=(width * scale, height * scale), layout="constrained")
        gs = fig.add_gridspec(nrows, ncols, **gridspec_kw)
    return fig, gs


def panel(fig, spec, **kw):
    """One panel in the house style at the grid cell(s) ``spec`` of a :func:`grid` figure."""
    with style():
        ax = fig.add_subplot(spec, **kw)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def legend_below(fig, handles, labels, **kw):
    """One legend for the whole figure, under its panels and inside its canvas: the figure switches to
    constrained layout, which makes room for it (a legend hung below the canvas is cut off by a plain
    ``savefig``). ``kw``: ncol, fontsize, ... (``Figure.legend``)."""
    fig.set_layout_engine("constrained")
    with style():
        return fig.legend(handles, labels, loc="outside lower center", **kw)


def legend_row(fig, spec, handles, labels=None, ncol: int = 1, **kw):
    """A legend alone in the grid cell(s) ``spec`` (a thin row under the panels it explains): no axes
    drawn, the legend hanging from the cell's top edge; constrained layout grows the cell to fit it."""
    with style():
        ax = fig.add_subplot(spec, label="<legend>")
        ax.axis("off")
        if labels is None:
            labels = [h.get_label() for h in handles]
        kw.setdefault("fontsize", 8)
        return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=ncol,
                         borderaxespad=0.0, **kw)


def row_with_legends(draws, height: float, width: float = 10.0, ncols=None, **legend_kw):
    """One row of panels, ``draws[j](ax)`` drawing panel j, each with its legend alone in a thin row
    below it (:func:`legend_row`; ``ncols[j]`` columns, default 1). Returns the figure."""
    fig, gs = grid(2, len(draws), width=width, height=height, height_ratios=(1, 0.02))
    for j, draw in enumerate(draws):
        ax = panel(fig, gs[0, j])
        draw(ax)
        legend_row(fig, gs[1, j], *ax.get_legend_handles_labels(), ncol=ncols[j] if ncols else 1, **legend_kw)
    return fig


def band(ax, x, lo, hi, method: str | None = None, alpha: float = 0.2, **kw):
    """Shade the band lo ≤ y ≤ hi over x in the method's colour (e.g. a confidence band over seeds)."""
    if method is not None:
        kw.setdefault("color", color(method))
    kw.setdefault("linewidth", 0)
    return ax.fill_between(x, lo, hi, alpha=alpha, **kw)


def _raise_small_fonts(fig) -> None:
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < MIN_FONT:
            text.set_fontsize(MIN_FONT)


def lay_out(fig, tight: bool = True) -> None:
    """What :func:`save` does to a figure before writing it: fonts raised to :data:`MIN_FONT`, and
    ``tight_layout`` for a figure without a layout engine (``tight=False``: the fonts only)."""
    _raise_small_fonts(fig)
    if tight and fig.get_layout_engine() is None:     # figures made with layout="constrained" keep it
        fig.tight_layout()


def save(fig, path, close: bool = True) -> Path:
    """Save ``fig`` to ``path`` atomically (:func:`lsgdsim.outputs.atomic_write`: a recognisable temporary
    file, then a rename; the file gets the mode ``open(path, "w")`` would), the format from the suffix
    (PNG when there is none). ``close`` releases a pyplot-managed figure (figures from :func:`subplots`
    need no closing; pass ``close=False`` to save the same figure in a second format, as before)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    try:
        with style():
            lay_out(fig)
            atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, bbox_inches="tight",
                                                      metadata=_metadata(fmt)), binary=True)
    finally:
        if close:
            plt.close(fig)
    return path


def _metadata(fmt: str) -> dict:
    """No creation date in the file (the same figure gives the same bytes)."""
    if fmt == "pdf":
        return {"CreationDate": None}
    if fmt == "png":
        return {"Software": None}
    return {}


def timeline(result, ax=None, *, workers=None, until=None):
    """A clock run's trace as a Gantt chart: one row per worker, a bar per interval coloured by its kind
    (compute blue, communicate red, wait grey: :data:`TIME_COLORS`), the leader choices as small black triangles on the
    chosen worker's row, at the simulated time of the round that chose it (``result.leader_times``).

    ``result``: a Result of ``simulate(..., clock=...)`` (ValueError for one without a trace, e.g. a
    lockstep run). ``ax``: the axes to draw on (default: a new full-width figure in the house style,
    constrained layout, about 0.3 inch per row). ``workers``: the workers to draw, one row each in the
    order given (default the first min(p, 16)). ``until``: draw the time 0 ≤ s ≤ ``until`` only
    (seconds; default the whole run). Each kind is one :class:`~matplotlib.collections.PolyCollection`
    (labelled with the kind) built without a Python loop over the intervals, so traces of millions of
    intervals draw in seconds; an interval narrower than a pixel still shows as a hairline. The rows are
    at y = 0, 1, ... (top to bottom), labelled with the worker index. Returns the axes.
    """
    import numpy as np
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D

    trace = getattr(result, "trace", None)
    if trace is None:
        raise ValueError("timeline needs a clock run's trace: this result has none (only "
                         "simulate(..., clock=lsgdsim.clock.Clock(...)) records one; a lockstep run has no time)")
    p = result.workers
    if workers is None:
        rows = np.arange(min(p, 16))
    else:
        rows = np.asarray(list(workers) if not isinstance(workers, np.ndarray) else workers)
        if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"workers must be a non-empty sequence of worker indices; got {workers!r}")
        if rows.min() < 0 or rows.max() >= p or np.unique(rows).size != rows.size:
            raise ValueError(f"workers must be distinct indices in [0, {p}) (the run has {p} workers); "
                             f"got {rows.tolist()}")
    makespan = float(result.sim_time[-1]) if result.sim_time is not None and len(result.sim_time) else 0.0
    if until is None:
        until = makespan
    else:
        try:
            until = float(until)
        except (TypeError, ValueError):
            raise ValueError(f"until must be a time in seconds > 0; got {until!r}") from None
        if not until > 0 or not np.isfinite(until):
            raise ValueError(f"until must be a finite time in seconds > 0; got {until!r}")

    row_of = np.full(p, -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    worker = np.asarray(trace["worker"], dtype=np.int64)
    kind = np.asarray(trace["kind"])
    start, end = np.asarray(trace["start"], dtype=float), np.asarray(trace["end"], dtype=float)
    keep = (row_of[worker] >= 0) & (start < until)
    y, kind, start, end = row_of[worker[keep]].astype(float), kind[keep], start[keep], np.minimum(end[keep], until)

    colors = TIME_COLORS
    half = 0.38
    with style():
        if ax is None:
            _, axes = subplots(1, 1, width=MAX_WIDTH, height=0.8 + 0.28 * rows.size, layout="constrained")
            ax = axes[0, 0]
        for k, name in ((2, "wait"), (0, "compute"), (1, "communicate")):   # communicate drawn on top
            sel = kind == k
            x0, x1, yk = start[sel], end[sel], y[sel]
            verts = np.empty((x0.size, 4, 2))
            verts[:, :, 0] = np.stack([x0, x1, x1, x0], axis=1)
            verts[:, :, 1] = np.stack([yk - half, yk - half, yk + half, yk + half], axis=1)
            # an edge in the bar's own colour keeps sub-pixel intervals visible as hairlines
            ax.add_collection(PolyCollection(verts, facecolors=colors[name], edgecolors=colors[name],
                                             linewidths=0.4 if name == "communicate" else 0.0,
                                             label=name, gid=f"timeline-{name}"), autolim=False)
        handles = [Line2D([], [], color=colors[n], lw=6, label=n) for n in ("compute", "communicate", "wait")]
        times, leaders = result.leader_times, result.leaders
        if times is not None and len(times) and leaders is not None and len(leaders):
            n = min(len(times), len(leaders))
            t, who = np.asarray(times[:n], dtype=float), np.asarray(leaders[:n]).astype(np.int64)
            shown = (who >= 0) & (who < p)
            shown[shown] &= row_of[who[shown]] >= 0
            shown &= t <= until
            ax.plot(t[shown], row_of[who[shown]] - half, linestyle="none", marker="v", markersize=4,
                    color="black", label="leader chosen", gid="timeline-leaders")
            handles.append(Line2D([], [], linestyle="none", marker="v", markersize=5, color="black",
                                  label="leader chosen"))
        ax.set_xlim(0.0, until if until > 0 else 1.0)
        ax.set_ylim(rows.size - 0.5, -0.5)
        ax.set_yticks(np.arange(rows.size), [str(int(w)) for w in rows])
        ax.grid(False, axis="y")
        ax.set_xlabel("simulated time [s]")
        ax.set_ylabel("worker")
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=len(handles),
                  borderaxespad=0.2, handlelength=1.5)
    return ax
