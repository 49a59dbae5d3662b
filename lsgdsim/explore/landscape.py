"""One run on a 2-D landscape with every worker's path recorded, drawn as a contour map, f over time and an animation.

:func:`run` simulates ``p`` workers on one of :data:`LANDSCAPES` and records every worker's position at
every step (a ``monitor``), :func:`paths_figure` draws the paths on the contour map with the leader
switches marked and each worker's f over time, :func:`animation_html` renders the workers moving as a
self-contained HTML/JS player (``FuncAnimation.to_jshtml``) that plays in Jupyter and in an exported
HTML file, and :func:`controls` builds the ipywidgets panel that drives all of it in a live notebook.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import algorithms, plotting
from ..backend import to_numpy
from ..leaders import Noisy
from ..objectives import make_objective
from ..result import Result
from ..simulate import simulate
from ..validate import check_choice, check_float, check_int

# name → (options of lsgdsim.objectives.make_objective, a learning rate that moves visibly without diverging)
LANDSCAPES: dict[str, tuple[dict, float]] = {
    "ring": ({}, 1.0),                                   # sin(r)/r: rings of minima around a maximum
    "double-well": ({"dim": 2}, 0.05),                   # (x₁² − 1)²/4-type wells at ±e₁, saddle at 0
    "rastrigin": ({}, 0.002),                            # many local minima on a grid
    "ackley": ({}, 0.05),                                # a funnel with ripples
    "rosenbrock": ({}, 0.0003),                           # a curved narrow valley
    "styblinski-tang": ({}, 0.01),                       # four minima, one global
    "indefinite": ({"dim": 2, "negative": 1, "cond": 10.0}, 0.005),  # a saddle: f is unbounded below
}
METHODS = ("lsgd", "easgd", "localsgd", "downpour", "sgd")


@dataclass
class Run:
    """A finished landscape run: the objective, the Result, and every worker's path.

    paths  (T + 1, p, 2)  positions at steps 0..T (the last ones up to a divergence, if any)
    steps  (T + 1,)       their step indices
    """

    name: str
    objective: object
    result: Result
    paths: np.ndarray
    steps: np.ndarray

    @property
    def switches(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, new leaders) of each communication where the leader changed (none for methods without one)."""
        lead, at = np.asarray(self.result.leaders), np.asarray(self.result.leader_steps)
        if lead.size < 2:
            return at[:0], lead[:0]
        changed = np.flatnonzero(lead[1:] != lead[:-1]) + 1
        return at[changed], lead[changed]


def _track(t, X, state, values):
    return {"x": to_numpy(X).copy()}


def make_algorithm(method: str, lr: float, pull: float = 0.1, period: int = 4, leader_noise: float = 0.0):
    """``method`` (one of :data:`METHODS`) with learning rate ``lr``, pull λ (EASGD: α) and period τ."""
    check_choice(method, "method", METHODS)
    if method == "sgd":
        return algorithms.SGD(lr=lr)
    if method == "lsgd":
        return algorithms.LSGD(lr=lr, pull=pull, period=period, leader=Noisy(sigma=leader_noise))
    if method == "easgd":
        return algorithms.EASGD(lr=lr, alpha=pull, period=period)
    return {"localsgd": algorithms.LocalSGD, "downpour": algorithms.Downpour}[method](lr=lr, period=period)


def run(landscape: str = "ring", method: str = "lsgd", workers: int = 4, pull: float = 0.1, period: int = 4,
        noise: float = 0.0, steps: int = 300, lr: float | None = None, leader_noise: float = 0.0,
        seed: int = 0) -> Run:
    """Simulate ``workers`` workers of ``method`` on ``landscape`` for ``steps`` steps, recording every position.

    ``noise`` is σ of the additive gradient noise, ``lr`` defaults to the landscape's (:data:`LANDSCAPES`),
    ``leader_noise`` is σ_f of LSGD's noisy leader choice. A divergence (the indefinite quadratic has no
    minimum) ends the run early instead of raising; ``result.meta["diverged"]`` says where.
    """
    check_choice(landscape, "landscape", tuple(LANDSCAPES))
    options, default_lr = LANDSCAPES[landscape]
    lr = default_lr if lr is None else check_float(lr, "lr", 0.0, lo_open=True)
    steps = check_int(steps, "steps", 1)
    obj = make_objective(landscape, **options)
    alg = make_algorithm(method, lr, pull, period, leader_noise)
    res = simulate(obj, alg, workers=workers, steps=steps, grad_noise=noise, seed=seed, record_every=1,
                   monitor=_track, on_divergence="return")
    paths = np.asarray(res.monitor["x"], dtype=float)
    return Run(landscape, obj, res, paths, np.asarray(res.steps))


def view_box(run: Run, margin: float = 0.15) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) holding every path, widened by ``margin``, clipped to 4 start scales around the start."""
    pts = run.paths.reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    center = np.asarray(getattr(run.objective, "init_center", None) if getattr(run.objective, "init_center", None)
                        is not None else np.zeros(2), dtype=float)
    reach = 4.0 * float(run.objective.init_scale)
    lo = np.maximum(pts.min(axis=0), center - reach)
    hi = np.minimum(pts.max(axis=0), center + reach)
    pad = margin * np.maximum(hi - lo, 1e-3)
    return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])


def draw_contour(ax, objective, box, n: int = 160, levels: int = 30):
    """Filled contours of ``objective`` over ``box`` = (x0, x1, y0, y1) on an n × n grid; returns them (for
    a colour bar)."""
    xs, ys = np.linspace(box[0], box[1], n), np.linspace(box[2], box[3], n)
    gx, gy = np.meshgrid(xs, ys)
    vals = to_numpy(objective.value(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(n, n)
    lo, hi = np.percentile(vals, [0.5, 97])       # a few huge values (Rosenbrock's walls) must not flatten the rest
    filled = ax.contourf(gx, gy, np.clip(vals, lo, hi), levels=levels, cmap="Greys_r", alpha=0.8)
    ax.set(xlim=box[:2], ylim=box[2:], xlabel="x₁", ylabel="x₂", aspect="equal")
    return filled


def paths_figure(run: Run):
    """Left: the contour map with its colour bar, each worker's path (○ start, ● end) and ★ where it became
    the leader. Right: each worker's f over the steps, the leader switches as grey lines. The legend sits
    under the map, never on it."""
    from matplotlib.lines import Line2D
    box = view_box(run)
    height = 1.6 + 3.4 * min(1.3, max(0.6, (box[3] - box[2]) / (box[1] - box[0])))   # follow the box's aspect
    fig, gs = plotting.grid(2, 2, width=10.0, height=height, height_ratios=(1, 0.02))
    ax, fx = plotting.panel(fig, gs[0, 0]), plotting.panel(fig, gs[0, 1])
    fig.colorbar(draw_contour(ax, run.objective, box), ax=ax, label="f(x)", shrink=0.9)
    ax.grid(False)
    for i in range(run.paths.shape[1]):
        c = plotting.worker_color(i)
        ax.plot(run.paths[:, i, 0], run.paths[:, i, 1], color=c, lw=1.0, label=f"worker {i}")
        ax.plot(*run.paths[0, i], "o", mfc="none", color=c)
        ax.plot(*run.paths[-1, i], "o", color=c)
        fx.plot(run.steps, run.result.f[:, i], color=c, lw=1.0)
    at, who = run.switches
    index = np.searchsorted(run.steps, at)
    keep = index < len(run.steps)
    for w, k in zip(who[keep], index[keep], strict=True):
        ax.plot(*run.paths[k, w], "*", color=plotting.worker_color(int(w)), mec="k", ms=9, mew=0.5)
    for t in at:
        fx.axvline(t, color="k", lw=0.4, alpha=0.4)
    meta = run.result.meta.get("algorithm", {})
    ax.set_title(f"{run.name}: {plotting.label(str(meta.get('algorithm', '')))}, p = {run.paths.shape[1]}")
    has_leader = len(run.result.leaders) > 0
    fx.set(xlabel="step", ylabel="f(xᵢ)",
           title=f"f per worker ({len(at)} leader switches: grey lines)" if has_leader else "f per worker (no leader)")
    if len(run.steps) > 1 and np.nanmin(run.result.f) > 0:
        fx.set_yscale("log")
    handles, labels = ax.get_legend_handles_labels()
    marks = [Line2D([], [], ls="none", marker="o", mfc="none", color="k"), Line2D([], [], ls="none", marker="o",
             color="k"), Line2D([], [], ls="none", marker="*", color="w", mec="k", ms=9)]
    plotting.legend_row(fig, gs[1, :], handles + marks, [*labels, "start", "end", "became the leader"],
                        ncol=min(len(handles) + 3, 8))
    return fig


def trigger_figure(run: Run, pull: float = 0.1, period: int = 4, noise: float = 0.0, steps: int = 300,
                   seed: int = 0, slow: float = 3.0):
    """LSGD on ``run``'s landscape on the virtual clock, its last worker ``slow`` times slower (10 ms a step,
    2 ms per message), once with the per-worker trigger and once with Algorithm 1's total trigger.
    Left: best f against simulated time; right: the total trigger's first second as a timeline.
    Returns (figure, {trigger: Result})."""
    import dataclasses

    from ..clock import Clock, Constant, Network
    workers = run.paths.shape[1]
    speeds = Clock(compute=Constant([0.01] * (workers - 1) + [0.01 * slow]), network=Network(latency=0.002))
    fig, gs = plotting.grid(1, 2, width=10.0, height=3.8)
    ax_f, ax_t = plotting.panel(fig, gs[0, 0]), plotting.panel(fig, gs[0, 1])
    timed = {}
    for trigger in ("own", "total"):
        alg = dataclasses.replace(make_algorithm("lsgd", LANDSCAPES[run.name][1], pull, period), trigger=trigger,
                                  order=None)
        res = timed[trigger] = simulate(run.objective, alg, workers=workers, steps=steps, grad_noise=noise,
                                        seed=seed, clock=speeds, on_divergence="return")
        ax_f.plot(res.sim_time, res.best_f, label=f"trigger = {trigger}: {res.breakdown['local_steps'].tolist()} steps")
    ax_f.set(xlabel="simulated time [s]", ylabel="best f", title=f"LSGD, the last worker {slow:g}× slower")
    ax_f.legend(fontsize=8)
    plotting.timeline(timed["total"], ax=ax_t, until=min(1.0, float(timed["total"].sim_time[-1])))
    ax_t.set_title("trigger = total (Algorithm 1): the first second", fontsize=9, pad=24)
    return fig, timed


def animation(run: Run, frames: int = 60, trail: int = 15):
    """A FuncAnimation of the workers moving on the contour map; the current leader wears a ring.

    ``frames`` frames spread evenly over the run; each worker trails its last ``trail`` frames."""
    from matplotlib.animation import FuncAnimation
    frames = check_int(frames, "frames", 2)
    index = np.unique(np.linspace(0, len(run.steps) - 1, frames).round().astype(int))
    box = view_box(run)
    height = 0.8 + 3.6 * min(1.2, max(0.5, (box[3] - box[2]) / (box[1] - box[0])))   # the box's aspect, ± a margin
    fig, axes = plotting.subplots(1, 1, width=4.2, height=height, dpi=80)   # frames are embedded: keep them small
    ax = axes[0, 0]
    draw_contour(ax, run.objective, box)
    colors = [plotting.worker_color(i) for i in range(run.paths.shape[1])]
    dots = ax.scatter(run.paths[0, :, 0], run.paths[0, :, 1], c=colors, s=30, zorder=3)
    lines = [ax.plot([], [], color=c, lw=1.0)[0] for c in colors]
    ring, = ax.plot([], [], "o", ms=14, mfc="none", mec="k", mew=1.5, zorder=4)
    lead_at, lead = np.asarray(run.result.leader_steps), np.asarray(run.result.leaders)

    def update(k):
        j = index[k]
        start = index[max(0, k - trail)]
        dots.set_offsets(run.paths[j])
        for i, line in enumerate(lines):
            line.set_data(run.paths[start:j + 1, i, 0], run.paths[start:j + 1, i, 1])
        current = np.searchsorted(lead_at, run.steps[j], side="right") - 1
        if current >= 0:
            ring.set_data([run.paths[j, lead[current], 0]], [run.paths[j, lead[current], 1]])
        ax.set_title(f"step {int(run.steps[j])}")
        return [dots, ring, *lines]

    return FuncAnimation(fig, update, frames=len(index), interval=80, blit=False)


def animation_html(run: Run, frames: int = 60) -> str:
    """The animation as a self-contained HTML/JS player (frames embedded as PNGs)."""
    return animation(run, frames).to_jshtml(default_mode="once")


def show(landscape: str = "ring", method: str = "lsgd", workers: int = 4, pull: float = 0.1, period: int = 4,
         noise: float = 0.0, steps: int = 300, frames: int = 60, seed: int = 0) -> None:
    """Run once and display the figures and the animation in the notebook (IPython.display); returns None,
    so that a widget panel shows the figures and not the run's repr."""
    from IPython.display import HTML, display
    r = run(landscape, method, workers, pull, period, noise, steps, seed=seed)
    display(paths_figure(r))
    display(HTML(animation_html(r, frames)))


def controls(steps: int = 300, frames: int = 60):
    """An ipywidgets panel (dropdowns, sliders, a Run button) driving :func:`show`; None without ipywidgets.

    The button (``interact_manual``) keeps a slider drag from starting a run per position; a plain
    execution (no frontend) never presses it, so the notebook's default run is all it computes."""
    try:
        import ipywidgets as w
    except ImportError:
        return None
    return w.interact_manual(
        lambda **kw: show(**kw),                  # ``show`` looked up when the button is pressed
        landscape=w.Dropdown(options=list(LANDSCAPES), value="ring"),
        method=w.Dropdown(options=list(METHODS), value="lsgd"),
        workers=w.IntSlider(value=4, min=1, max=8), pull=w.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.05),
        period=w.IntSlider(value=4, min=1, max=32), noise=w.FloatSlider(value=0.0, min=0.0, max=2.0, step=0.05),
        steps=w.IntSlider(value=steps, min=20, max=2000, step=20), frames=w.fixed(frames), seed=w.IntText(0))
