"""The figures folder's manifest (manifest.json: what was written, sizes, verdicts) and the closing table."""
from __future__ import annotations

import json
from pathlib import Path

import theory_checks
from lsgdsim import __version__
from lsgdsim.result import atomic_write_text

from . import EXPERIMENTS
from .checks import record_path
from .data import code_fingerprint

MANIFEST = "manifest.json"
INDEX = "README.md"
SUFFIXES = (".png", ".pdf", ".json", ".npz")


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def check_figures_folder(out: Path, quick: bool) -> None:
    """Refuse to write a quick run into a folder that holds a full one (and the reverse)."""
    doc = _read(Path(out) / MANIFEST) or {}
    mine = "quick" if quick else "full"
    if doc.get("mode") not in (None, mine):
        raise ValueError(f"figures folder {out} holds a {doc['mode']} run; a {mine} run does not overwrite it "
                         f"(choose another --out)")


class Manifest:
    """What the figures folder holds: one entry per figure (kind, title or claim, verdict, files)."""

    def __init__(self, out: Path, quick: bool, seed: int, report: Path):
        self.out, self.quick, self.seed, self.report = Path(out), quick, seed, Path(report)
        old = _read(self.out / MANIFEST) or {}
        self.entries: dict[str, dict] = dict(old.get("figures", {}))   # figures of earlier --only runs stay

    def require_data(self, check_names, exp_names) -> None:
        """--from-data: every selected figure must have its saved data (ValueError before any drawing)."""
        missing = [str(self.out / f"{n}.json") for n in exp_names if not (self.out / f"{n}.json").is_file()]
        missing += [str(p) for n in check_names if not (p := record_path(n, self.out, None, True)).is_file()]
        if missing:
            raise ValueError(f"from-data needs the saved data of every figure; missing {', '.join(missing)} "
                             f"(run lsgdsim reproduce{' --quick' if self.quick else ''} first)")

    def _files(self, name: str) -> dict:
        return {p.name: p.stat().st_size for s in SUFFIXES if (p := self.out / f"{name}{s}").is_file()}

    def add_experiment(self, data, reused: bool) -> None:
        self.entries[data.name] = {"kind": "experiment", "title": data.title, "claim": data.claim,
                                   "reused": reused, "compute_s": data.meta.get("compute_s")}

    def add_check(self, name: str, outcome: dict) -> None:
        self.entries[name] = {"kind": "check", **outcome}

    def write(self, elapsed_s: float, jobs: int) -> Path:
        order = [*theory_checks.CHECKS, *EXPERIMENTS]
        figures = {n: {**self.entries[n], "files": self._files(n)}
                   for n in sorted(self.entries, key=lambda n: order.index(n) if n in order else len(order))}
        self.entries = figures
        doc = {"mode": "quick" if self.quick else "full", "seed": self.seed, "version": __version__,
               "code": code_fingerprint(), "report": str(self.report), "jobs": jobs,
               "elapsed_s": round(elapsed_s, 1), "figures": figures}
        atomic_write_text(self.out / INDEX, self.index())
        return atomic_write_text(self.out / MANIFEST, json.dumps(doc, indent=1) + "\n")

    def index(self) -> str:
        """The folder's README.md: one row per figure (link, what it tests, verdict), no timings, so that
        the same results give the same text."""
        lines = [f"# Figures ({'quick' if self.quick else 'full'} run of `lsgdsim reproduce`, seed {self.seed})",
                 "", "Written by `lsgdsim reproduce`; each figure's numbers are in NAME.json/NAME.npz beside it "
                 "(not committed: rebuilt by the command). Theory checks' verdicts are computed from their records.",
                 "", "| figure | claim or question it tests | verdict | what its record says |", "|---|---|---|---|"]
        for name, e in self.entries.items():
            link = f"[{name}]({name}.png)" if f"{name}.png" in e.get("files", {}) else name
            claim, said = (" ".join(str(text).split()).replace("|", "\\|") for text in
                           (e.get("claim") or e.get("title", ""), e.get("summary") or "—"))
            verdict = e.get("verdict", "figure") if e["kind"] == "check" else "—"
            lines.append(f"| {link} | {claim} | {verdict} | {said if e['kind'] == 'check' else '—'} |")
        return "\n".join(lines) + "\n"

    def print_table(self, stream, names, report_written: bool = True) -> None:
        """One row per figure of this run: its files and sizes, and the check's verdict; the theory report
        is named only when this run wrote it."""
        rows = [(n, self.entries[n]) for n in names if n in self.entries]
        print(f"\n{'figure':<22} {'png':>8} {'pdf':>8} {'data':>9}  verdict / what it shows", file=stream)
        total = 0
        for name, e in rows:
            files = e.get("files", {})
            total += sum(files.values())
            data = files.get(f"{name}.json", 0) + files.get(f"{name}.npz", 0)
            what = e["verdict"] if e["kind"] == "check" else e["title"]
            if e.get("legacy"):
                what += "  (figure copied from the report: check not yet split)"
            print(f"{name:<22} {_kb(files.get(f'{name}.png')):>8} {_kb(files.get(f'{name}.pdf')):>8} "
                  f"{_kb(data):>9}  {what}", file=stream)
        report = f"; theory report {self.report / 'report.md'}" if report_written else ""
        print(f"wrote {len(rows)} figure{'' if len(rows) == 1 else 's'} in {self.out}/ ({total / 1e6:.1f} MB with "
              f"their data){report}", file=stream)


def _kb(size) -> str:
    return "—" if not size else f"{size / 1e3:.0f} KB"
