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
  (:data:`LABELS`), and axes labelled with their units.
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

# One colour per method in every figure; the leader controls of the theory checks have their own.
COLORS = {"lsgd": "#1b9e77", "easgd": "#d95f02", "eamsgd": "#e7298a", "sgd": "#7570b3", "localsgd": "#66a61e",
          "downpour": "#e6ab02", "allreduce": "#666666", "random leader": "#a6761d", "worst leader": "#d62728",
          "bound": "#000000"}
# Deterministic variants share their method's colour (LGD is LSGD without noise, EAGD is EASGD).
COLORS.update(lgd=COLORS["lsgd"], eagd=COLORS["easgd"], center=COLORS["bound"],
              **{"no communication": COLORS["sgd"]})
LABELS = {"lsgd": "LSGD", "lgd": "LGD", "easgd": "EASGD", "eagd": "EAGD", "eamsgd": "EAMSGD", "sgd": "SGD",
          "localsgd": "LocalSGD", "downpour": "DOWNPOUR", "allreduce": "all-reduce SGD"}
# Workers of one run (trajectories, leader identity): a qualitative palette apart from the methods'.
WORKER_COLORS = ("#0072b2", "#cc79a7", "#56b4e9", "#009e73", "#f0e442", "#d55e00", "#999999", "#000000")

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


def legend_row(fig, spec, handles, labels=None, ncol: int = 1, **kw):
    """A legend alone in the grid cell(s) ``spec`` (a thin row under the panels it explains): no axes
    drawn, the legend hanging from the cell's top edge; constrained layout grows the cell to fit it."""
    with style():
        ax = fig.add_subplot(spec)
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


def save(fig, path, close: bool = True) -> Path:
    """Save ``fig`` to ``path`` atomically (:func:`lsgdsim.outputs.atomic_write`: a recognisable temporary
    file, then a rename; the file gets the mode ``open(path, "w")`` would), the format from the suffix
    (PNG when there is none). ``close`` releases a pyplot-managed figure (figures from :func:`subplots`
    need no closing; pass ``close=False`` to save the same figure in a second format, as before)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    try:
        with style():
            _raise_small_fonts(fig)
            if fig.get_layout_engine() is None:     # figures made with layout="constrained" keep it
                fig.tight_layout()
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
