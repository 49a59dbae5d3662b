"""The curse-of-symmetry figure, drawn from its record alone (theory_checks/symmetry.py measures it).

Top row: the workers' paths from the poster's starts on f = sin(r)/r, for EAGD, LGD and LGD following
the worst worker (when that control is in the record). Bottom row: f per worker over the iterations of
those runs; matrix completion, first seed per rank; success rates with 95% Wilson intervals for LGD, its
two controls and EAGD.
"""
from __future__ import annotations

import numpy as np

from lsgdsim import objectives, plotting

COLORS = plotting.COLORS
LIMIT = 25.0          # the poster's starts lie within radius 23.4


def draw(record):
    fig, axes = plotting.subplots(2, 3, width=3.9, height=3.4)
    leader = record.setting.get("leader", "exact")
    main = "LGD" if leader == "exact" else f"LGD, {leader} leader"
    main_color = COLORS["lsgd"] if leader == "exact" else COLORS[f"{leader} leader"]
    a = record.arrays
    _ring_paths(axes[0, 0], record, a["ring.eagd.x"], COLORS["easgd"], "EAGD", center=a["ring.eagd.center"])
    _ring_paths(axes[0, 1], record, a["ring.lgd.x"], main_color, main if leader == "exact" else f"{main} (installed)")
    if "ring.lgd-worst.x" in a:
        _ring_paths(axes[0, 2], record, a["ring.lgd-worst.x"], COLORS["worst leader"], "LGD, worst leader (control)")
    else:
        axes[0, 2].set_axis_off()
        axes[0, 2].text(0.5, 0.5, f"no controls in this run\n(leader installed: {leader})", ha="center",
                        va="center", transform=axes[0, 2].transAxes, fontsize=9, color="#555555")
    _ring_values(axes[1, 0], record, main, main_color)
    _matrix_curves(axes[1, 1], record, main, main_color)
    _success(axes[1, 2], record, main, main_color)
    return fig


def _ring_paths(ax, record, path, color, label, center=None):
    """Paths (R, p, 2) over f with the rings of minima dashed; the colour scale is clipped to the rings' range
    (f = 1 at the origin would wash them out)."""
    ring = record.setting["ring"]
    g = np.linspace(-LIMIT, LIMIT, 241)
    GX, GY = np.meshgrid(g, g)
    F = np.asarray(objectives.RingSinc().value(np.c_[GX.ravel(), GY.ravel()])).reshape(GX.shape)
    ax.pcolormesh(GX, GY, F, cmap="Greys_r", vmin=ring["best"], vmax=0.15, shading="auto", rasterized=True)
    t = np.linspace(0, 2 * np.pi, 200)
    for r in ring["minimum_radii"]:
        ax.plot(r * np.cos(t), r * np.sin(t), color="white", lw=0.6, ls="--")
    for i in range(path.shape[1]):
        ax.plot(path[:, i, 0], path[:, i, 1], color=color, lw=1.2)
        ax.plot(path[0, i, 0], path[0, i, 1], "o", color=color, ms=4, mec="white", mew=0.5)
        ax.plot(path[-1, i, 0], path[-1, i, 1], "*", color=color, ms=9, mec="white", mew=0.5)
    if center is not None:
        ax.plot(center[:, 0], center[:, 1], color="#ffd92f", lw=1.2, ls="--")
        ax.plot(center[-1, 0], center[-1, 1], "X", color="#ffd92f", ms=7, mec="black", mew=0.5)
    ax.set(xlim=(-LIMIT, LIMIT), ylim=(-LIMIT, LIMIT), aspect="equal", xlabel="x₁", ylabel="x₂",
           title=f"{label}\n(o start, ★ end{', yellow: center' if center is not None else ''})")
    ax.grid(False)


def _ring_values(ax, record, main, main_color):
    a = record.arrays
    steps = a["ring.steps"]
    curves = [(a["ring.lgd.f"], main_color, "-", main), (a["ring.eagd.f"], COLORS["easgd"], "-", "EAGD workers")]
    if "ring.lgd-worst.f" in a:
        curves.append((a["ring.lgd-worst.f"], COLORS["worst leader"], plotting.CONTROL_DASHES["worst leader"],
                       "LGD, worst leader"))
    for f, color, ls, label in curves:
        for i in range(f.shape[1]):
            ax.plot(steps, f[:, i], color=color, ls=ls, lw=0.9, alpha=0.75, label=label if i == 0 else None)
    center = a["ring.eagd.center"]
    ax.plot(steps, np.asarray(objectives.RingSinc().value(center)), color=COLORS["easgd"], ls="--", lw=1,
            label="EAGD center")
    for v in record.setting["ring"]["minimum_values"][:3]:
        ax.axhline(v, color=COLORS["bound"], lw=0.6, ls=":")
    ax.set(xscale="symlog", xlim=(0, steps[-1]), ylim=(-0.24, 0.16), xlabel="iterations",
           ylabel="f(x_i) (dotted: ring minima)", title="sin(r)/r from the poster's starts")
    ax.set_xscale("symlog", linthresh=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.26), ncol=2, fontsize=7)


def _matrix_curves(ax, record, main, main_color):
    """Colour: the method; line style: the rank (legend entries for each, not for each pair)."""
    from matplotlib.lines import Line2D
    a = record.arrays
    styles = ("-", "--", ":")
    methods = [("lgd", main, main_color), ("eagd", "EAGD", COLORS["easgd"]),
               ("lgd-worst", "LGD, worst leader", COLORS["worst leader"])]
    methods = [mth for mth in methods if f"matrix.r{record.setting['matrix']['ranks'][0]}.{mth[0]}" in a]
    ranks = record.setting["matrix"]["ranks"]
    for k, rank in enumerate(ranks):
        steps = a[f"matrix.r{rank}.steps"]
        for key, _, color in methods:
            ax.plot(steps, np.maximum(a[f"matrix.r{rank}.{key}"], 1e-30), color=color, ls=styles[k % 3], lw=1.2)
    ax.axhline(record.setting["matrix"]["tol"], color=COLORS["bound"], lw=0.7, ls=":")
    ax.set(yscale="log", ylim=(1e-16, None), xlabel="iterations", ylabel="F(U) of the best worker (dotted: 1e-8)",
           title="matrix completion (first seed)")
    handles = [Line2D([], [], color=color, label=label) for _, label, color in methods] + \
        [Line2D([], [], color="#333333", ls=styles[k % 3], label=f"rank {r}") for k, r in enumerate(ranks)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.26), ncol=2, fontsize=7)


def _success(ax, record, main, main_color):
    m, c = record.measured, record.controls
    labels = ["ring"] + [f"matrix\nrank {r['rank']}" for r in m["matrix"]]
    bars = [(main, main_color, [m["ring"]["lgd_leader"]] + [r["lgd_leader"] for r in m["matrix"]])]
    for mode in c:
        bars.append((f"LGD, {mode} leader", COLORS[f"{mode} leader"],
                     [c[mode]["ring"]["lgd_leader"]] + [r["lgd_leader"] for r in c[mode]["matrix"]]))
    bars.append(("EAGD (center or best worker)", COLORS["easgd"],
                 [m["ring"]["eagd_either"]] + [r["eagd_either"] for r in m["matrix"]]))
    x, width = np.arange(len(labels)), 0.8 / len(bars)
    for k, (name, color, rows) in enumerate(bars):
        vals = np.array([r["rate"] for r in rows])
        err = np.array([[r["rate"] - r["ci95"][0], r["ci95"][1] - r["rate"]] for r in rows]).T
        ax.bar(x + (k - (len(bars) - 1) / 2) * width, vals, width=width, color=color, yerr=err, capsize=2,
               label=name)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set(ylim=(0, 1.05), ylabel="success rate over seeds (95% CI)", title="reaching the best ring / f ≤ 1e-8")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.26), ncol=2, fontsize=7)
