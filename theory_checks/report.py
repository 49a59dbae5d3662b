"""The report a person reads: report.md (verdict table, then per check its reading, verdict, key numbers
and figure) and the verdict table for the terminal, fitted to its width. Everything else is in the
records (records/NAME.json), which the report links to.
"""
from __future__ import annotations

import shutil
from datetime import UTC, datetime

from . import load
from .record import CheckRecord

COLUMNS = (("measured", "measured"), ("random", "random leader"), ("worst", "worst leader"), ("expected", "expected"))
SHORT = {"random leader": "random", "worst leader": "worst"}


def key_rows(record: CheckRecord) -> list[dict]:
    """The check's key numbers (its ``key_numbers(record)``), or none for a check that has not defined them."""
    mod = load(record.name)
    return list(mod.key_numbers(record)) if callable(getattr(mod, "key_numbers", None)) else []


def caption(record: CheckRecord) -> str:
    mod = load(record.name)
    return getattr(mod, "CAPTION", "")


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def key_table(rows: list[dict]) -> list[str]:
    """A Markdown table of key numbers with the columns some row fills (quantity first)."""
    if not rows:
        return []
    cols = [(k, title) for k, title in COLUMNS if any(k in r for r in rows)]
    lines = ["| quantity | " + " | ".join(SHORT.get(t, t) for _, t in cols) + " |", "|-" * (len(cols) + 1) + "|"]
    for r in rows:
        cells = [_cell(r["quantity"])] + [_cell(r.get(k, "")) for k, _ in cols]
        lines.append("|" + "|".join(f" {c} " if c else " " for c in cells) + "|")   # an empty cell is "| |"
    return lines


def render_markdown(records: list[CheckRecord], header: dict, errors: dict | None = None,
                    partial: str | None = None) -> str:
    """report.md. ``header``: mode, seed, leader, jobs, elapsed; ``partial``: why the report is incomplete."""
    errors = errors or {}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    leader = header.get("leader") or "right"
    lines = ["# LSGD theory checks", ""]
    if partial:
        lines += [f"> **PARTIAL REPORT** — {partial}. The checks below finished; the others did not run.", ""]
    lines += [f"Mode: **{header['mode']}** · seed {header['seed']} · leader: **{leader}**"
              + (" (a control is installed in every LSGD run)" if leader != "right" else "")
              + f" · {header.get('jobs', 1)} job(s) · {header.get('elapsed_s', 0.0):.0f} s · lsgdsim "
              f"{header.get('version', '?')} · {when}", "",
              "Each verdict follows its check's stated rule; \"fails\" is a finding, not an error. *random*/*worst*: "
              "a random / the worst worker as leader. All numbers: `records/NAME.json` (+ `.npz`).",
              "",
              "| check | claim | verdict |", "|---|---|---|"]
    for r in records:
        lines.append(f"| {r.name} | {_cell(r.claim)} | **{r.verdict}** |")
    for name, err in errors.items():
        lines.append(f"| {name} | — | **ERROR**: {_cell(err)} |")
    for r in records:
        lines += ["", f"## {r.name}", "", f"**Reading.** {r.reading}", "",
                  f"**Verdict: {r.verdict}.** {r.summary}", ""]
        table = key_table(key_rows(r))
        if table:
            lines += [*table, ""]
        if r.figure:
            cap = caption(r)
            lines += [f"![]({r.figure})", ""] + ([f"*{cap}*", ""] if cap else [])   # the caption describes it
        took = f"{r.elapsed_s:.0f} s" + (" when it was measured (reused by this run)" if r.meta.get("reused") else "")
        lines.append(f"[record](records/{r.name}.json) · {took}")
    return "\n".join(lines) + "\n"


def terminal_row(name: str, verdict: str, seconds: float | str, summary: str, width: int | None = None) -> str:
    """One line of the terminal table, the summary cut to the terminal's width; ``seconds`` may be a word
    ("reused": a record saved by an earlier run, whose time is not this run's)."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    when = f"{seconds:6.1f}s" if not isinstance(seconds, str) else f"{seconds:>7}"
    head = f"{name:<22} {verdict:<23} {when}  "
    room = max(10, width - len(head) - 1)
    text = " ".join(summary.split())
    return head + (text if len(text) <= room else text[: room - 1] + "…")


def terminal_header(width: int | None = None) -> str:
    return terminal_row("check", "verdict", 0.0, "summary", width).replace("   0.0s", "   time")
