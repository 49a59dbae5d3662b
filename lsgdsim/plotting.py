"""Shared matplotlib helpers: a headless backend, one house style, atomic saving."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

if os.environ.get("MPLBACKEND") is None:  # never open windows from a library
    matplotlib.use("Agg")

import matplotlib.pyplot as plt

from .outputs import atomic_write

STYLE = {"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
         "axes.spines.right": False, "font.size": 9, "legend.fontsize": 8, "legend.frameon": False}

# One colour per method in every figure; the leader controls of the theory checks have their own.
COLORS = {"lsgd": "#1b9e77", "easgd": "#d95f02", "eamsgd": "#e7298a", "sgd": "#7570b3", "localsgd": "#66a61e",
          "downpour": "#e6ab02", "allreduce": "#666666", "random leader": "#a6761d", "worst leader": "#d62728",
          "bound": "#000000"}


def subplots(nrows: int = 1, ncols: int = 1, width: float = 4.0, height: float = 3.0, **kw):
    """``plt.subplots`` in the house style, sized per panel."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, **kw)
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


def save(fig, path, close: bool = True) -> Path:
    """Save ``fig`` to ``path`` atomically (:func:`lsgdsim.outputs.atomic_write`: a recognisable temporary
    file, then a rename; the file gets the mode ``open(path, "w")`` would); close it unless ``close=False``
    (to save the same figure in a second format). The format comes from the suffix of ``path``."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or None
    try:
        fig.tight_layout()
        atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, bbox_inches="tight"), binary=True)
    finally:
        if close:
            plt.close(fig)
    return path
