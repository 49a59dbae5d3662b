"""Run theory checks, print a verdict table, write the JSON records and a Markdown report."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from lsgdsim.result import atomic_write_text

from . import CHECKS, load
from .record import CheckResult


def run_checks(names=None, quick: bool = False, seed: int = 0, report_dir="reports/theory",
               json_path=None, stream=sys.stdout) -> list[CheckResult]:
    """Run the named checks (all by default) in report order; write report and JSON; return results.

    A check that raises is re-raised after the finished checks' results are written.
    """
    names = list(CHECKS) if not names else list(names)
    modules = [load(n) for n in names]  # unknown names fail before any work
    report_dir = Path(report_dir) if report_dir is not None else None
    fig_dir = report_dir / "figures" if report_dir is not None else None
    results: list[CheckResult] = []
    error = None
    print(f"{'check':<22} {'verdict':<24} {'time':>7}  summary", file=stream)
    for name, mod in zip(names, modules, strict=True):
        start = time.perf_counter()
        try:
            res = mod.run(quick=quick, seed=seed, figure_dir=fig_dir)
        except Exception as exc:  # keep what finished, then report the failure
            error = (name, exc)
            print(f"{name:<22} {'ERROR':<24} {time.perf_counter() - start:6.1f}s  {type(exc).__name__}: {exc}",
                  file=stream)
            break
        res.elapsed_s = time.perf_counter() - start
        results.append(res)
        print(f"{res.name:<22} {res.verdict:<24} {res.elapsed_s:6.1f}s  {res.summary}", file=stream)
        _write(results, quick, report_dir, json_path)
    if error is not None:
        raise RuntimeError(f"check {error[0]!r} failed: {error[1]}") from error[1]
    _write(results, quick, report_dir, json_path)
    return results


def _write(results, quick, report_dir, json_path):
    records = [r.to_dict() for r in results]
    if json_path:
        atomic_write_text(json_path, json.dumps(records, indent=2) + "\n")
    if report_dir is not None:
        atomic_write_text(report_dir / "report.md", render_markdown(results, quick))


def render_markdown(results, quick: bool) -> str:
    lines = ["# LSGD theory checks", "",
             f"Mode: {'quick' if quick else 'full'}. Each verdict is computed from the measured numbers; "
             "\"fails\" is a finding about the claim under the stated reading, not an error.", "",
             "| check | verdict | summary |", "|---|---|---|"]
    lines += [f"| [{r.name}](#{r.name}) | **{r.verdict}** | {r.summary} |" for r in results]
    for r in results:
        lines += ["", f"## {r.name}", "", f"**Claim.** {r.claim}", "", f"**Reading tested.** {r.reading}", "",
                  f"**Verdict: {r.verdict}.** {r.summary}", "",
                  "**Setting.**", "", "```json", json.dumps(r.to_dict()["setting"], indent=1), "```", "",
                  "**Measured vs expected.**", "", "```json",
                  json.dumps({"measured": r.to_dict()["measured"], "expected": r.to_dict()["expected"]}, indent=1),
                  "```"]
        if r.figure:
            lines += ["", f"![{r.name}]({r.figure})"]
    return "\n".join(lines) + "\n"
