"""The theory checks' figures in the figures folder: drawn from their saved records, never measured again.

For check NAME the figures folder holds a copy of its record (NAME.json, NAME.npz: the data of the
figure) and the figure drawn from it (NAME.png, NAME.pdf) in the house style. Checks that are not yet
split into measure/verdict/figure (``theory_checks.pipeline.is_split``) drew their figure while they
ran; their PNG is copied from the report folder (no PDF: there is nothing to redraw it from).
"""
from __future__ import annotations

from pathlib import Path

import theory_checks
from lsgdsim import plotting
from lsgdsim.result import atomic_write_bytes
from theory_checks import pipeline as check_pipeline
from theory_checks.record import CheckRecord

from .pipeline import FORMATS


def record_path(name: str, out, report_dir, from_data: bool) -> Path:
    """Where check ``name``'s record is read: the report's records, or (``from_data``) the copy in ``out``."""
    return Path(out) / f"{name}.json" if from_data else Path(report_dir) / check_pipeline.RECORDS / f"{name}.json"


def export(name: str, out, report_dir, from_data: bool = False) -> dict:
    """Draw check ``name``'s figure into ``out`` from its record (and copy the record there).

    With ``from_data`` the record is the copy in ``out``, re-judged first: a verdict that differs from the
    saved one raises ValueError (a verdict is a pure function of the record). Returns the verdict, the
    summary, the claim and whether the check is legacy (not split)."""
    out = Path(out)
    rec = CheckRecord.load(record_path(name, out, report_dir, from_data))
    split = check_pipeline.is_split(theory_checks.load(name))
    if from_data and split:
        again = check_pipeline.judge(rec)
        if again.verdict != rec.verdict:
            raise ValueError(f"check {name}: verdict recomputed as {again.verdict!r}, saved {rec.verdict!r}")
    if split:
        with plotting.style():
            check_pipeline.draw(rec, out, FORMATS)
    elif not from_data and rec.figure and (Path(report_dir) / rec.figure).is_file():
        atomic_write_bytes(out / f"{name}.png", (Path(report_dir) / rec.figure).read_bytes())
    if not from_data:
        rec.save(out)
    return {"verdict": rec.verdict, "summary": rec.summary, "claim": rec.claim, "legacy": not split}
