"""One check, end to end: measure → record → verdict(record) → figure(record), and redrawing from a saved record.

Files of one check in a report folder::

    records/NAME.json, records/NAME.npz    the record (see theory_checks.record)
    figures/NAME.png                       its figure, drawn from the record alone
"""
from __future__ import annotations

import time
from pathlib import Path

from lsgdsim import __version__

from . import load
from .controls import check_mode
from .progress import Progress
from .record import CheckRecord

RECORDS, FIGURES = "records", "figures"


def is_split(mod) -> bool:
    """Whether a check module follows the measure/verdict/summary/figure protocol (theory_checks/__init__.py)."""
    return all(callable(getattr(mod, f, None)) for f in ("measure", "verdict", "summary", "figure"))


def judge(record: CheckRecord) -> CheckRecord:
    """The record with its verdict and summary computed from its round-tripped (reloadable) form."""
    rec = record.normalized()
    mod = load(rec.name)
    if not is_split(mod):                      # a check not yet split: its run() judged in place
        return rec
    rec.verdict = mod.verdict(rec)
    rec.summary = mod.summary(rec)
    return rec


def draw(record: CheckRecord, folder, formats=("png",)) -> list[Path]:
    """Draw ``record``'s figure with its module's ``figure(record)`` and save it as ``folder/NAME.<fmt>``.

    Nothing is simulated: the figure is a function of the record. Returns the files written (none if the
    check has no figure)."""
    from lsgdsim import plotting
    mod = load(record.name)
    fig = mod.figure(record) if is_split(mod) else None
    if fig is None:
        return []
    folder = Path(folder)
    out = []
    for k, fmt in enumerate(formats):
        out.append(plotting.save(fig, folder / f"{record.name}.{fmt}", close=k == len(formats) - 1))
    return out


def run_check(name: str, quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
              report_dir=None, progress: Progress | None = None) -> CheckRecord:
    """Measure check ``name``, judge it, and (with ``report_dir``) save its record and draw its figure.

    ``leader`` installs a control leader ("random", "worst") in every LSGD run of a leader-dependent
    check; ``controls`` also measures both controls beside the right leader.
    """
    mod = load(name)
    check_mode(leader)
    progress = progress or Progress()
    start = time.perf_counter()
    figure_dir = Path(report_dir) / FIGURES if report_dir is not None else None
    if is_split(mod):
        record = mod.measure(quick=quick, seed=seed, leader=leader, controls=controls, progress=progress)
    else:   # legacy: run() measured, judged and drew at once
        record = mod.run(quick=quick, seed=seed, figure_dir=figure_dir)
    record.elapsed_s = time.perf_counter() - start
    record.meta = {**record.meta, "version": __version__, "mode": "quick" if quick else "full", "seed": seed,
                   "leader": leader or "right", "controls": bool(controls)}
    record = judge(record)
    if report_dir is not None:
        if is_split(mod) and draw(record, figure_dir):
            record.figure = f"{FIGURES}/{name}.png"
        record.save(Path(report_dir) / RECORDS)
    return record


def redraw(report_dir, names=None, formats=("png",)) -> list[CheckRecord]:
    """Reload the saved records of ``report_dir`` (all, or ``names``), re-judge them and redraw their figures.

    Returns the records as re-judged; a verdict that differs from the saved one raises ``ValueError``
    (the verdict is a pure function of the record, so it never should)."""
    report_dir = Path(report_dir)
    paths = sorted((report_dir / RECORDS).glob("*.json")) if names is None else \
        [report_dir / RECORDS / f"{n}.json" for n in names]
    out = []
    for path in paths:
        saved = CheckRecord.load(path)
        rec = judge(saved)
        if rec.verdict != saved.verdict:
            raise ValueError(f"record {path.name}: verdict recomputed as {rec.verdict!r}, saved {saved.verdict!r}")
        draw(rec, report_dir / FIGURES, formats)
        out.append(rec)
    return out
