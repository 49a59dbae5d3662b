"""One check, end to end: measure → record → verdict(record) → figure(record), and redrawing from a saved record.

Files of one check in a report folder::

    records/NAME.json, records/NAME.npz    the record (see theory_checks.record)
    figures/NAME.png                       its figure, drawn from the record alone
"""
from __future__ import annotations

import functools
import hashlib
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from lsgdsim import __version__
from lsgdsim.digest import DamagedFile

from . import load
from .controls import check_mode
from .progress import Progress
from .record import CheckRecord

RECORDS, FIGURES = "records", "figures"


@functools.cache
def code_fingerprint() -> str:
    """A hash of the source of lsgdsim/ and theory_checks/: a saved record is reused only by the same code."""
    import lsgdsim
    digest = hashlib.sha256()
    for package in (Path(lsgdsim.__file__).parent, Path(__file__).parent):
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_meta(quick: bool, seed: int, leader: str | None, controls: bool) -> dict:
    """What identifies a check's run: a saved record with the same meta can stand for a new run."""
    return {"version": __version__, "code": code_fingerprint(), "mode": "quick" if quick else "full", "seed": seed,
            "leader": leader or "right", "controls": bool(controls)}


def saved_record(name: str, report_dir, meta: dict) -> CheckRecord | None:
    """The record of ``name`` saved in ``report_dir`` by a run with the same ``meta``, re-judged (its figure
    redrawn if missing, ``meta["reused"]`` set); None if there is none."""
    report_dir = Path(report_dir)
    try:
        rec = CheckRecord.load(report_dir / RECORDS / f"{name}.json")
    except DamagedFile as exc:                 # never reused, never a traceback: measured again, said once
        print(f"lsgdsim: {exc}; measuring {name} again", file=sys.stderr)
        return None
    except ValueError:                         # none saved
        return None
    if any(rec.meta.get(k) != v for k, v in meta.items()):
        return None
    rec = judge(rec)
    if rec.figure and not (report_dir / rec.figure).exists():
        draw(rec, report_dir / FIGURES)
    rec.meta = {**rec.meta, "reused": True}
    return rec


def is_split(mod) -> bool:
    """Whether a check module follows the measure/verdict/summary/figure protocol (theory_checks/__init__.py)."""
    return all(callable(getattr(mod, f, None)) for f in ("measure", "verdict", "summary", "figure"))


def judge(record: CheckRecord) -> CheckRecord:
    """The record with its verdict and summary computed from its round-tripped (reloadable) form."""
    rec = record.normalized()
    mod = load(rec.name)
    rec.verdict = mod.verdict(rec)
    rec.summary = mod.summary(rec)
    return rec


def draw(record: CheckRecord, folder, formats=("png",)) -> list[Path]:
    """Draw ``record``'s figure with its module's ``figure(record)`` and save it as ``folder/NAME.<fmt>``.

    Nothing is simulated: the figure is a function of the record. Returns the files written (none if the
    check has no figure)."""
    from lsgdsim import plotting
    mod = load(record.name)
    fig = mod.figure(record)
    if fig is None:
        return []
    folder = Path(folder)
    out = []
    for k, fmt in enumerate(formats):
        out.append(plotting.save(fig, folder / f"{record.name}.{fmt}", close=k == len(formats) - 1))
    return out


def run_check(name: str, quick: bool = False, seed: int = 0, leader: str | None = None, controls: bool = True,
              report_dir=None, progress: Progress | None = None, reuse: bool = False) -> CheckRecord:
    """Measure check ``name``, judge it, and (with ``report_dir``) save its record and draw its figure.

    ``leader`` installs a control leader ("random", "worst") in every LSGD run of a leader-dependent
    check; ``controls`` also measures both controls beside the right leader. With ``reuse``, a record
    saved in ``report_dir`` by the same code and configuration is returned instead (its figure redrawn
    if missing), so an interrupted or repeated run does not measure again.
    """
    mod = load(name)
    check_mode(leader)
    meta = run_meta(quick, seed, leader, controls)
    if reuse and report_dir is not None:
        rec = saved_record(name, report_dir, meta)
        if rec is not None:
            return rec
    progress = progress or Progress()
    start = time.perf_counter()
    figure_dir = Path(report_dir) / FIGURES if report_dir is not None else None
    if not is_split(mod):   # every check is on the protocol; a module without it is a bug, not a legacy path
        raise TypeError(f"check {name!r} lacks measure/verdict/summary/figure (theory_checks/__init__.py)")
    with threadpool_limits(1):   # one BLAS thread wherever it runs: jobs = 1 gives the records of jobs = 2
        record = mod.measure(quick=quick, seed=seed, leader=leader, controls=controls, progress=progress)
    record.elapsed_s = time.perf_counter() - start
    record.meta = {**record.meta, **meta, "elapsed_s": record.elapsed_s}
    record = judge(record)
    if report_dir is not None:
        if draw(record, figure_dir):
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
