"""Run many checks — in this process or on ``jobs`` worker processes — and write the report as they finish.

Each check is a pure function of (quick, seed, leader, controls), so a check run in a worker process
gives the record it gives here: ``jobs`` changes the wall time, never a number. Worker processes are
started with "spawn" (nothing inherited) and limit BLAS to one thread each, so that two jobs on two
cores do not oversubscribe them. After every finished check the report (report.md, report.json) is
written atomically to report-partial.md / report-partial.json (marked partial); only a run that
finishes writes report.md / report.json and removes the partial pair, so an interrupted run never
replaces a complete report.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import queue as queue_module
import sys
import time
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from lsgdsim import __version__
from lsgdsim.estimate import Forecast
from lsgdsim.outputs import check_output_dir, check_output_path, marked_path
from lsgdsim.result import atomic_write_text
from lsgdsim.sweep.execute import process_pool
from lsgdsim.validate import check_int, check_seed

from . import CHECKS, load
from .controls import check_mode
from .pipeline import FIGURES, RECORDS, run_check, run_meta, saved_record
from .progress import Progress
from .record import CheckRecord
from .report import render_markdown, terminal_header, terminal_row

# Seconds each check took in full mode (lsgdsim check --jobs 2 on the 2-core machine, 2026-12-07): the longest
# are started first when jobs > 1, so that no long check starts last (a new check counts as 30 s).
COST = {"rate": 128, "stochastic-leader": 113, "comm-period": 96, "stationary-points": 58, "curse-of-symmetry": 57,
        "same-valley": 56, "multi-leader": 53, "newton-alignment": 46, "iteration-complexity": 39, "period-rate": 34,
        "communication-efficiency": 18, "leader-stickiness": 17, "one-step": 15, "leader-or-average": 15,
        "saddle-escape": 9, "stragglers": 5}
# The same in quick mode (lsgdsim check --quick --jobs 1, the same machine, quiet, 2026-12-07).
QUICK_COST = {"comm-period": 10.1, "rate": 7.5, "stochastic-leader": 6.8, "communication-efficiency": 6.8,
              "iteration-complexity": 6.5, "same-valley": 4.6, "stationary-points": 4.1, "multi-leader": 3.9,
              "curse-of-symmetry": 3.7, "period-rate": 3.2, "one-step": 3.0, "leader-or-average": 2.7,
              "leader-stickiness": 2.4, "stragglers": 2.0, "newton-alignment": 1.2, "saddle-escape": 1.2}


def cost(name: str, quick: bool) -> float:
    """The measured seconds of check ``name`` (a check without a measurement counts 30 s, 3 s quick)."""
    return (QUICK_COST.get(name, 3.0) if quick else COST.get(name, 30.0))


class CheckErrors(RuntimeError):
    """Some checks raised; the others' records were written. ``errors`` maps name → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"check {n!r} failed: {e}" for n, e in errors.items()))


def default_report_dir(quick: bool, leader: str | None = None) -> Path:
    """reports/theory (full), reports/theory-quick, with -worst/-random when a control is installed."""
    return Path("reports") / ("theory" + ("-quick" if quick else "") + (f"-{leader}" if leader else ""))


def check_report_dir(report_dir: Path, quick: bool) -> None:
    """Refuse to write a quick report into a folder that holds a full one (and the reverse)."""
    index = report_dir / "report.json"
    if not index.is_file():
        return
    try:
        modes = {r.get("meta", {}).get("mode") for r in json.loads(index.read_text(encoding="utf-8"))}
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        return
    mine = "quick" if quick else "full"
    other = (modes - {mine, None})
    if other:
        raise ValueError(f"report {report_dir} holds a {other.pop()} report; a {mine} run does not overwrite it "
                         f"(choose another --report folder)")


def run_checks(names=None, quick: bool = False, seed: int = 0, report_dir=None, json_path=None, jobs: int = 1,
               leader: str | None = None, controls: bool = True, progress: bool | None = None,
               reuse: bool = False, stream=None) -> list[CheckRecord]:
    """Run the named checks (all by default); write records, figures, report.md and report.json.

    With ``reuse``, checks whose record is already saved in ``report_dir`` for the same code and
    configuration are not measured again (``lsgdsim check --resume``; ``lsgdsim reproduce`` by default).

    Returns the records in report order. Checks that raise are reported and the others go on; at the end
    :class:`CheckErrors` is raised if any did. Bad arguments raise ``ValueError`` before any work.
    """
    stream = sys.stdout if stream is None else stream     # looked up now: a redirected stdout is honoured
    names = list(CHECKS) if not names else list(dict.fromkeys(names))
    for n in names:
        load(n)                                    # unknown names fail before any work
    jobs = check_int(jobs, "jobs", 1)
    seed = check_seed(seed)
    check_mode(leader)
    report_dir = check_output_dir(report_dir if report_dir is not None else default_report_dir(quick, leader),
                                  "report")
    if json_path is not None:
        check_output_path(json_path, "json")
    check_report_dir(report_dir, quick)
    header = {"mode": "quick" if quick else "full", "seed": seed, "leader": leader, "jobs": jobs,
              "version": __version__, "elapsed_s": 0.0}
    run = _Run(names, report_dir, json_path, header, stream, progress)
    args = (quick, seed, leader, controls)
    if reuse:                                     # what is already saved needs no worker
        for name in list(names):
            rec = saved_record(name, report_dir, run_meta(*args))
            if rec is not None:
                run.finished(rec)
    todo = [n for n in names if n not in run.records]
    jobs = max(1, min(jobs, len(todo)))
    header["jobs"] = jobs
    forecast = Forecast.announced({n: cost(n, quick) for n in todo}, jobs)
    if forecast is not None:
        run.forecast(forecast, f"{_count(len(todo), 'check')} ({header['mode']})")
    try:
        if jobs == 1:
            for name in todo:
                run.started(name)
                try:
                    rec = run_check(name, *args, report_dir=report_dir, progress=Progress(run.sink(name)))
                except Exception as exc:  # keep what finished, report this one, go on
                    run.failed(name, exc)
                else:
                    run.finished(rec)
        else:
            _run_parallel(run, todo, jobs, args)
    except KeyboardInterrupt:
        run.close(partial=f"interrupted after {len(run.records)} of {len(names)} checks")
        raise
    run.close(partial=None)
    if run.errors:
        raise CheckErrors(run.errors)
    return run.ordered()


def _run_parallel(run, todo, jobs: int, args) -> None:
    """The checks on the sweeps' process pool (spawned, one BLAS thread each), longest first."""
    updates = mp.get_context("spawn").Queue()
    order = sorted(todo, key=lambda n: -COST.get(n, 30))
    with process_pool(jobs, initializer=_worker_init, initargs=(updates,)) as pool:
        futures = {pool.submit(_worker_run, name, *args, str(run.report_dir)): name for name in order}
        for name in order[:jobs]:
            run.started(name)
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            _drain(updates, run)
            for fut in done:
                name = futures[fut]
                try:
                    run.finished(fut.result())
                except Exception as exc:
                    run.failed(name, exc)
    _drain(updates, run)


def _drain(updates, run) -> None:
    while True:
        try:
            name, done, total = updates.get_nowait()
        except queue_module.Empty:
            return
        run.started(name)
        run.sink(name)(done, total)


_UPDATES = None


def _worker_init(updates) -> None:
    global _UPDATES
    _UPDATES = updates


def _worker_run(name, quick, seed, leader, controls, report_dir) -> CheckRecord:
    def sink(done, total):
        _UPDATES.put((name, done, total))
    return run_check(name, quick, seed, leader, controls, report_dir=report_dir, progress=Progress(sink))


class _Run:
    """The state of one ``run_checks`` call: finished records, errors, the progress bar, the report files."""

    def __init__(self, names, report_dir: Path, json_path, header: dict, stream, progress):
        from tqdm.auto import tqdm
        self.names, self.report_dir, self.json_path, self.header, self.stream = names, report_dir, json_path, \
            header, stream
        self.records: dict[str, CheckRecord] = {}
        self.errors: dict[str, str] = {}
        self.inner: dict[str, str] = {}
        self.start = time.perf_counter()
        self.written: list[Path] = []
        self.bar = tqdm(total=len(names), desc="checks", unit="check", leave=False, file=sys.stderr,
                        disable=(None if progress is None else not progress))
        self.weights: dict[str, float] = {}        # bar units per check: 1, or its forecast seconds
        self._print(terminal_header())

    def forecast(self, forecast: Forecast, what: str) -> None:
        """Announce ``forecast`` and count the bar in forecast seconds, so its ETA weighs each check."""
        self._print(forecast.line(what))
        self.weights = forecast.units()
        done = len(self.records)                  # reused records, one unit each
        self.bar.reset(total=sum(self.weights.values()) + done)
        self.bar.update(done)
        self.bar.unit = "s"

    def _print(self, line: str) -> None:
        self.bar.write(line, file=self.stream)

    def started(self, name: str) -> None:
        self.inner.setdefault(name, "…")
        self._postfix()

    def sink(self, name: str):
        def update(done: int, total: int) -> None:
            self.inner[name] = f"{done}/{total}"
            self._postfix()
        return update

    def _postfix(self) -> None:
        running = [f"{n} {p}" for n, p in self.inner.items() if n not in self.records and n not in self.errors]
        self.bar.set_postfix_str(" · ".join(running), refresh=True)

    def finished(self, rec: CheckRecord) -> None:
        self.records[rec.name] = rec
        self.bar.update(self.weights.get(rec.name, 1))
        self._print(terminal_row(rec.name, rec.verdict, "reused" if rec.meta.get("reused") else rec.elapsed_s,
                                 rec.summary))
        self._write()

    def failed(self, name: str, exc: BaseException) -> None:
        self.errors[name] = f"{type(exc).__name__}: {exc}"
        self.bar.update(self.weights.get(name, 1))
        self._print(terminal_row(name, "ERROR", 0.0, self.errors[name]))
        self._write()

    def ordered(self) -> list[CheckRecord]:
        return [self.records[n] for n in self.names if n in self.records]

    def _write(self, partial: str | None = "running") -> None:
        """Rewrite the report; while running or when interrupted, as the -partial pair."""
        self.header["elapsed_s"] = time.perf_counter() - self.start
        records = self.ordered()
        index = json.dumps([r.to_dict() for r in records], indent=1, allow_nan=True) + "\n"
        md, js = self.report_dir / "report.md", self.report_dir / "report.json"
        if partial is not None:
            md, js = marked_path(md, "partial"), marked_path(js, "partial")
            if partial == "running":
                partial = f"still running ({len(records)} of {len(self.names)} checks done)"
        self.written = [atomic_write_text(md, render_markdown(records, self.header, self.errors, partial)),
                        atomic_write_text(js, index)]
        if self.json_path and partial is None:
            self.written.append(atomic_write_text(self.json_path, index))
        if partial is None:
            for stale in (marked_path(self.report_dir / "report.md", "partial"),
                          marked_path(self.report_dir / "report.json", "partial")):
                stale.unlink(missing_ok=True)

    def close(self, partial: str | None = None) -> None:
        self._write(partial)
        self.bar.close()
        records = self.ordered()
        for path in self.written:
            self._print(f"wrote {path}")
        self._print(f"wrote {_count(len(records), 'record')} in {self.report_dir / RECORDS}/ (JSON, arrays in .npz)")
        figures = [self.report_dir / r.figure for r in records if r.figure]
        if figures:
            self._print(f"wrote {_count(len(figures), 'figure')} in {self.report_dir / FIGURES}/: "
                        + ", ".join(p.name for p in figures))


def _count(n: int, noun: str) -> str:
    """'1 figure', '3 figures'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
