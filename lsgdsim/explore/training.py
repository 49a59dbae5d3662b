"""Small networks on digits with several methods at an equal sample budget, and the notebook's figures of them.

:func:`compare` trains one model with each method (SGD as one worker that processes the same samples
as the p workers together), :func:`error_figure` draws the test error of the center — the average of
the workers' parameters (EASGD: its center; DOWNPOUR: the server), as the paper reports — against
samples processed and against wall time, and :func:`leader_figure` draws LSGD's leader over time and
its test accuracy beside the center's and the workers' mean.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import plotting
from ..nn.train import accuracy_curve, load_data, steps_for, train
from ..result import Result


def compare(methods, make_algorithm: Callable, model: str = "mlp", epochs: float = 10.0, workers: int = 4,
            batch_size: int = 32, evaluations: int = 10, seed: int = 0) -> dict[str, Result]:
    """Train ``model`` on digits with each of ``methods``; returns {method: Result}.

    ``make_algorithm(method, steps)`` builds each method's Algorithm for a run of ``steps`` steps (e.g.
    ``figures.training.algorithm`` with its tuned learning rates). Every method processes
    ``workers × batch_size`` samples per step for ``epochs`` passes over a worker's shard; "sgd" runs one
    worker for ``workers`` times the steps, so that every method sees the same number of samples.
    """
    steps = steps_for(load_data("digits"), workers, batch_size, epochs)
    out = {}
    for method in methods:
        p, n = (1, steps * workers) if method == "sgd" else (workers, steps)
        out[method] = train(model, "digits", make_algorithm(method, n), workers=p, steps=n, batch_size=batch_size,
                            seed=seed, evaluations=evaluations)
    return out


def samples(res: Result) -> np.ndarray:
    """(R,) samples processed by all workers together at each record."""
    return np.asarray(res.steps) * res.workers * int(res.meta["samples_per_worker_step"])


def error_figure(results: dict[str, Result]):
    """Test error (%) of the center vs samples processed (left) and vs wall time in s (right); LSGD's
    leader dashed."""
    fig, axes = plotting.subplots(1, 2, width=4.4, height=3.2)
    by_samples, by_time = axes[0]
    for method, res in results.items():
        _, acc = accuracy_curve(res, "center")
        err = 100 * (1 - np.asarray(acc, float))
        kw = {"color": plotting.color(method), "label": plotting.label(method)}
        by_samples.plot(samples(res), err, **kw)
        by_time.plot(np.asarray(res.times), err, **kw)
        if len(res.leaders):
            lead = 100 * (1 - np.asarray(accuracy_curve(res, "leader")[1], float))
            by_samples.plot(samples(res), lead, ls="--", color=kw["color"], lw=1.0, label=f"{kw['label']} leader")
    for ax in (by_samples, by_time):
        ax.set_yscale("log")
        ax.set_ylabel("test error of the center (%)")
    by_samples.set_xlabel("samples processed (all workers)")
    by_time.set_xlabel("wall time (s, this simulator)")
    by_samples.legend()
    return fig


def leader_figure(res: Result, title: str = "LSGD"):
    """Left: the leader chosen at each communication (its worker index). Right: test accuracy (%) of the
    leader, of the center (the average of the workers' parameters) and the mean of the workers'."""
    fig, axes = plotting.subplots(1, 2, width=4.4, height=3.2)
    who, acc = axes[0]
    at, leader = np.asarray(res.leader_steps), np.asarray(res.leaders).astype(int)
    who.step(at, leader, where="post", color="k", lw=0.8)
    who.scatter(at, leader, c=[plotting.worker_color(i) for i in leader], zorder=3, s=12)
    switches = int(np.count_nonzero(leader[1:] != leader[:-1]))
    who.set(xlabel="step", ylabel="leader (worker index)", yticks=range(res.workers),
            title=f"{title}: leader ({switches} switches in {len(leader)} communications)")
    steps = np.asarray(res.steps)
    for which, style in (("leader", "-"), ("center", "--"), ("mean", ":")):
        _, a = accuracy_curve(res, which)
        acc.plot(steps, 100 * np.asarray(a, float), style, label=which if which != "mean" else "worker mean")
    acc.set(xlabel="step", ylabel="test accuracy (%)", title="leader vs average")
    acc.legend()
    return fig


def final_table(results: dict[str, Result]) -> str:
    """A Markdown table: final test error of the center and of the leader (%), samples, wall time."""
    rows = ["| method | center error % | leader error % | samples | wall s |", "|---|---|---|---|---|"]
    for method, res in results.items():
        center = 100 * (1 - float(accuracy_curve(res, "center")[1][-1]))
        leader = 100 * (1 - float(accuracy_curve(res, "leader")[1][-1])) if len(res.leaders) else float("nan")
        lead = "–" if np.isnan(leader) else f"{leader:.2f}"
        rows.append(f"| {plotting.label(method)} | {center:.2f} | {lead} | {int(samples(res)[-1])} | "
                    f"{float(res.times[-1]):.1f} |")
    return "\n".join(rows)
