"""Figures: the experiments behind the README gallery and the paper's figures, one module each.

Every experiment module defines (split like the theory checks: only ``run_task`` simulates)

    NAME, TITLE, CLAIM          its id (also its file names: NAME.png, NAME.pdf, NAME.json, NAME.npz),
                                a one-line title and the claim (or question) the figure tests
    VOLATILE                    names of arrays that hold wall-clock times (stored, never compared)
    config(quick, seed) -> dict the whole configuration, JSON-able; the saved data are reused only for
                                the same configuration and code
    tasks(config) -> list[dict] independent units of work (JSON-able, each with a unique "key" and a
                                rough "cost"), run in parallel and saved one by one so a killed run resumes
    run_task(config, task) -> dict[str, ndarray]   the only step that simulates; a pure function
    combine(config, results) -> (arrays, info)     the figure's data: arrays (.npz) and JSON-able numbers
    draw(data) -> Figure        the figure, drawn from the saved :class:`figures.data.FigureData` alone

``EXPERIMENTS`` lists them in gallery order; the theory checks' figures (``theory_checks.CHECKS``) are
drawn from the checks' saved records beside them (:mod:`figures.runner`). Modules import on use.
"""
from __future__ import annotations

import importlib

EXPERIMENTS: dict[str, str] = {
    "ring": "figures.ring",              # claim 6 on the paper's toy sin(r)/r: LGD vs EAGD trajectories
    "matrix": "figures.matrix",          # claim 6 on low-rank matrix completion, ranks 1–100
    "rates": "figures.rates",            # claim 2: O(1/t) on a quadratic and on logistic regression
    "leaders": "figures.leaders",        # reviewer 1 / the paper's Figure 5: who leads, and how often
    "training": "figures.training",      # test error on digits vs wall time and vs samples
    "cluster-time": "figures.cluster_time",      # the paper's plots: test error vs wall-clock time, 4/16 GPUs
    "time-breakdown": "figures.time_breakdown",  # reviewer 2: compute / communicate / wait per method
    "straggler-training": "figures.straggler_training",  # Algorithm 1's total trigger vs per-worker, heavy tails
}


def load(name: str):
    """The module of experiment ``name``; ValueError naming ``only`` if unknown."""
    if name not in EXPERIMENTS:
        raise ValueError(f"--only must be one of {', '.join(EXPERIMENTS)}; got {name!r}")
    return importlib.import_module(EXPERIMENTS[name])


__all__ = ["EXPERIMENTS", "load"]
