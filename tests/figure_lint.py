"""What makes a figure hard to read, found mechanically: text on text, text off the canvas, legends on data.

:func:`problems` renders a figure as :func:`lsgdsim.plotting.save` does (fonts raised to the minimum, the
figure's own layout, or ``tight_layout`` when it has none, at the PNG resolution) and returns one line per
defect it finds:

- **overlap**: the boxes of two pieces of text (titles, axis labels, tick labels, texts, annotations, a
  whole legend) intersect by more than :data:`SLACK` pixels both ways; tick labels of one axis included,
  so crammed ticks ("-4-2.5-1 0.5 2") count;
- **off canvas**: a piece of text reaches outside the figure by more than :data:`SLACK` pixels (a plain
  ``fig.savefig`` would cut it off; ``bbox_inches="tight"`` would hide the defect by growing the canvas);
- **legend over data**: a legend drawn inside an axes covers more than :data:`LEGEND_SHARE` of the points
  plotted in it, or more than :data:`LINE_SHARE` of one line's (lines and scatters, resampled every
  :data:`STEP` pixels along each line so that a straight segment under the legend counts), or hides any
  of a few marked points (a start or end marker, a highlighted case: lines and scatters of at most
  :data:`FEW` points).

Used by tests/test_figure_legibility.py on every figure of ``reproduce --quick``, the check figures and
the notebooks' figures; ``python tests/figure_lint.py FOLDER`` lints the figures drawn from the data saved
in a figures folder (e.g. the full run's ``figures/``).
"""
from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.legend import Legend
from matplotlib.text import Text

SLACK = 1.0          # pixels of overlap (or of text outside the canvas) tolerated: rounding of glyph boxes
LEGEND_SHARE = 0.03  # a legend may cover at most 3 % of the points plotted in its axes ...
LINE_SHARE = 0.15    # ... and at most 15 % of any one line's
STEP = 3.0           # pixels between the samples taken along a line
FEW = 5              # a line or scatter of at most this many marked points shows single cases: none may be hidden


def render(fig, dpi: float | None = None, as_saved: bool = True):
    """Lay ``fig`` out and draw it as :func:`lsgdsim.plotting.save` would (``as_saved=False``: as a plain
    ``fig.savefig`` would, with only the figure's own layout engine); returns the renderer."""
    from lsgdsim import plotting
    with plotting.style():
        plotting.lay_out(fig, tight=as_saved)
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        fig.set_dpi(dpi or plotting.PNG_DPI)
        fig.canvas.draw()
    return fig.canvas.get_renderer()


def _ticklabels(axis) -> list[Text]:
    """The tick labels ``axis`` draws: those of the ticks inside its view (matplotlib's own selection)."""
    return [lab for tick in axis._update_ticks() for lab in (tick.label1, tick.label2)
            if lab.get_visible() and lab.get_text().strip()]


def _pieces(fig) -> list[tuple[str, object]]:
    """Every visible piece of text of ``fig``, named, with a legend as one piece."""
    out = []

    def add(what, artist):
        if isinstance(artist, Text) and not (artist.get_visible() and artist.get_text().strip()):
            return
        if isinstance(artist, Legend) and not artist.get_visible():
            return
        out.append((what, artist))

    for t in fig.texts:            # suptitle, supxlabel, supylabel and fig.text() are all here
        add("suptitle" if t is fig._suptitle else "figure text", t)
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        name = f"axes {i}"
        for loc, t in (("title", ax.title), ("left title", ax._left_title), ("right title", ax._right_title)):
            add(f"{name} {loc}", t)
        if ax.axison:
            for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
                if axis.get_visible():
                    add(f"{name} {letter} label", axis.label)
                    add(f"{name} {letter} offset", axis.get_offset_text())
                    for t in _ticklabels(axis):
                        add(f"{name} {letter} tick {t.get_text()!r}", t)
        for t in ax.texts:
            add(f"{name} text", t)
        if ax.get_legend() is not None:
            add(f"{name} legend", ax.get_legend())
    for leg in fig.legends:
        add("figure legend", leg)
    return out


def _box(artist, renderer):
    return artist.get_window_extent(renderer)


def _overlap(a, b) -> tuple[float, float]:
    return min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)


def _corners(artist, renderer) -> np.ndarray:
    """The four corners (display pixels) of the rectangle ``artist`` covers: its window extent, except for
    one line of rotated text, whose own rotated rectangle (same centre as its extent) is used instead, so
    that slanted tick labels side by side do not count as overlapping."""
    b = _box(artist, renderer)
    angle = artist.get_rotation() % 180 if isinstance(artist, Text) else 0.0
    if angle == 0 or "\n" in artist.get_text():
        return np.array([[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]])
    rotation = artist.get_rotation()
    artist.set_rotation(0)                   # the unrotated layout box (glyphs, line height and descent)
    flat = _box(artist, renderer)
    artist.set_rotation(rotation)
    w, h = flat.width, flat.height
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
    return np.array([(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2]) + half @ np.array([[c, s], [-s, c]])


def _depth(p: np.ndarray, q: np.ndarray) -> float:
    """How far the convex quadrilaterals ``p`` and ``q`` interpenetrate (pixels; ≤ 0 when apart): the
    smallest overlap of their projections on the four edge normals (separating axis theorem)."""
    depth = np.inf
    for quad in (p, q):
        for k in range(2):
            edge = quad[k + 1] - quad[k]
            normal = np.array([-edge[1], edge[0]]) / max(np.hypot(*edge), 1e-12)
            a, b = p @ normal, q @ normal
            depth = min(depth, min(a.max(), b.max()) - max(a.min(), b.min()))
    return depth


def text_problems(fig, renderer) -> list[str]:
    pieces = [(n, a, _box(a, renderer), _corners(a, renderer)) for n, a in _pieces(fig)]
    out = []
    for (n1, _, b1, q1), (n2, _, b2, q2) in combinations(pieces, 2):
        w, h = _overlap(b1, b2)
        if w > SLACK and h > SLACK and (depth := _depth(q1, q2)) > SLACK:
            out.append(f"overlap: {n1} and {n2} ({depth:.0f} px deep)")
    pieces = [(n, a, b) for n, a, b, _ in pieces]
    canvas = fig.bbox
    for n, _, b in pieces:
        outside = max(canvas.x0 - b.x0, canvas.y0 - b.y0, b.x1 - canvas.x1, b.y1 - canvas.y1)
        if outside > SLACK:
            out.append(f"off canvas: {n} reaches {outside:.0f} px outside the figure")
    return out


def _resample(xy: np.ndarray) -> np.ndarray:
    """Points every :data:`STEP` pixels along the polyline ``xy`` (display coordinates); a non-finite point
    breaks it (nothing is drawn across the gap)."""
    ok = np.all(np.isfinite(xy), axis=1)
    if not ok.all():                         # the finite runs between the gaps, each resampled alone
        runs = [part[np.all(np.isfinite(part), axis=1)] for part in np.split(xy, np.flatnonzero(~ok))]
        pieces = [_resample(part) for part in runs if len(part)]
        return np.vstack(pieces) if pieces else xy[:0]
    if len(xy) < 2:
        return xy
    seg = np.diff(xy, axis=0)
    n = np.maximum(1, np.ceil(np.hypot(seg[:, 0], seg[:, 1]) / STEP).astype(int))
    n = np.minimum(n, 2000)
    parts = [xy[:-1][i] + seg[i] * (np.arange(k)[:, None] / k) for i, k in enumerate(n)]
    return np.vstack([*parts, xy[-1:]])


def _plotted(ax) -> list[tuple[str, np.ndarray]]:
    """The points plotted in ``ax`` (display coordinates, inside the axes): each line resampled, each
    scatter's offsets."""
    out = []
    box = ax.bbox
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(line.get_xydata())
        drawn = line.get_linestyle() not in ("None", "none", "", " ")
        out.append((f"line {line.get_label()!r}", _resample(xy) if drawn else xy[np.all(np.isfinite(xy), axis=1)]))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and len(coll.get_offsets()):
            xy = coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), float))
            out.append((f"points {coll.get_label()!r}", xy))
    inside = []
    for name, xy in out:
        keep = xy[(xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)]
        if len(keep):
            inside.append((name, keep))
    return inside


def legend_problems(fig, renderer) -> list[str]:
    """Every legend (of an axes or of the figure) against the data of every axes it overlaps."""
    legends = [(f"axes {i}'s legend", ax.get_legend()) for i, ax in enumerate(fig.axes) if ax.get_visible()]
    legends += [("a figure legend", leg) for leg in fig.legends]
    out = []
    for name, leg in legends:
        if leg is None or not leg.get_visible():
            continue
        b = leg.get_window_extent(renderer)
        for i, ax in enumerate(fig.axes):
            w, h = _overlap(b, ax.bbox)
            if ax.get_visible() and w > 0 and h > 0:   # a legend off this axes covers nothing of it
                out += _covered(name, b, i, ax)
    return out


def _covered(name: str, b, i: int, ax) -> list[str]:
    """What the legend box ``b`` hides of axes ``i``'s plotted points and single markers."""
    def covered(xy):
        return (xy[:, 0] > b.x0) & (xy[:, 0] < b.x1) & (xy[:, 1] > b.y0) & (xy[:, 1] < b.y1)

    out = []
    plotted = _plotted(ax)
    total = sum(len(xy) for _, xy in plotted)
    hidden = sum(int(covered(xy).sum()) for _, xy in plotted)
    if total and hidden / total > LEGEND_SHARE:
        out.append(f"legend over data: {name} covers {100 * hidden / total:.0f}% of axes {i}'s points")
    for line, xy in plotted:
        share = covered(xy).mean()
        if len(xy) >= 10 and share > LINE_SHARE:
            out.append(f"legend over data: {name} covers {100 * share:.0f}% of axes {i}'s {line}")
    for marks, xy in _markers(ax):
        if covered(xy).any():
            out.append(f"legend over data: {name} hides a marker of axes {i}'s {marks}")
    return out


def _markers(ax) -> list[tuple[str, np.ndarray]]:
    """Marked points that stand alone (a start, an end, a highlighted case): lines with a marker and at
    most :data:`FEW` points, scatters of at most :data:`FEW` points. Any of them under a legend is hidden."""
    out = []
    for line in ax.get_lines():
        if line.get_visible() and line.get_marker() not in (None, "", " ", "None") and len(line.get_xydata()) <= FEW:
            out.append((f"line {line.get_label()!r}", line.get_transform().transform(line.get_xydata())))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and 0 < len(coll.get_offsets()) <= FEW:
            xy = coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), float))
            out.append((f"points {coll.get_label()!r}", xy))
    return out


def problems(fig, as_saved: bool = True) -> list[str]:
    """Every legibility defect of ``fig`` (module docstring), one line each; [] for a clean figure.
    ``as_saved=False``: without the layout :func:`lsgdsim.plotting.save` adds (``tight_layout`` for a
    figure with no layout engine), as a plain ``fig.savefig`` lays out a figure a library returns to a
    user (still at the house resolution and minimum font sizes). Like saving, this lays ``fig`` out: its
    fonts are raised to the minimum and its layout computed."""
    from lsgdsim import plotting
    with plotting.style():          # tick placement reads the tick label size from the rcParams
        renderer = render(fig, as_saved=as_saved)
        return text_problems(fig, renderer) + legend_problems(fig, renderer)


def _lint_folder(folder: Path) -> int:
    """Redraw every figure whose data ``folder`` holds and print its problems; the number of figures with any."""
    import theory_checks
    from figures import EXPERIMENTS
    from figures import load as load_experiment
    from figures.data import FigureData
    from theory_checks.record import CheckRecord
    bad = 0
    for name in [*EXPERIMENTS, *theory_checks.CHECKS]:
        path = folder / f"{name}.json"
        if not path.is_file():
            continue
        if name in EXPERIMENTS:
            fig = load_experiment(name).draw(FigureData.load(path))
        else:
            fig = theory_checks.load(name).figure(CheckRecord.load(path))
        found = problems(fig) if fig is not None else []
        bad += bool(found)
        print(f"{name}: {'ok' if not found else f'{len(found)} problems'}")
        for line in found:
            print(f"    {line}")
    return bad


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(min(1, _lint_folder(Path(sys.argv[1] if len(sys.argv) > 1 else "figures"))))
