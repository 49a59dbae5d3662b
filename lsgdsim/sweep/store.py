"""A sweep folder: one file per run, named by its spec's hash, so that a sweep killed at any moment resumes.

::

    DIR/sweep.json             the grid and the hashes of its runs (written at each start)
    DIR/runs/HASH.npz          a finished run (``Result.save``: atomic), a diverged one included, its
                               ``meta["diverged"]`` saying step and worker; ``meta["spec"]`` holds the spec
    DIR/runs/HASH.error.json   a run that raised: its spec, the error and the traceback

Only this process writes, each file atomically (a temporary beside it, then a rename), and only after
the run finished; so after a SIGKILL every file present is complete, and the next start runs exactly the
runs without a result (those that raised are tried again). Nothing finished is run twice, unless
``force``.
"""
from __future__ import annotations

import json
import sys
import time
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..outputs import atomic_write_text, check_output_dir
from ..spec import RunSpec
from .execute import default_jobs, describe_executor, process_pool, sweep_task
from .grid import Grid

MANIFEST, RUNS = "sweep.json", "runs"
ERROR_SUFFIX = ".error.json"
REJECTED = ".rejected"                # a result that failed verification, kept beside the runs


@dataclass
class SweepReport:
    """What one :func:`run_sweep` call did: runs in the grid, found done, run now, failed, diverged."""

    folder: Path
    total: int
    skipped: int = 0
    ran: int = 0
    failed: int = 0
    diverged: int = 0
    errors: dict = field(default_factory=dict)  # hash -> "Error: message"


class SweepWriteError(OSError):
    """A result could not be written in the sweep folder (disk full, read-only, folder gone): the sweep
    stops. ``path`` is the file, ``why`` the reason, ``rescued`` where that run's result went instead (a
    fallback folder) or None, ``report`` what was finished and saved before (every earlier file is whole)."""

    def __init__(self, report: SweepReport, path: Path, why: str, rescued: Path | None):
        super().__init__(f"cannot write {path}: {why}")
        self.report, self.path, self.why, self.rescued = report, path, why, rescued


def _save_or_stop(result, path: Path, report: SweepReport) -> None:
    """Save a finished run's result; if that fails, rescue it to a fallback folder and stop the sweep."""
    from ..outputs import OutputError, write_with_fallback
    try:
        written = write_with_fallback(result.save, path)
    except OutputError as exc:
        raise SweepWriteError(report, path, " ".join(str(exc).split()), None) from None
    if written.rescued:
        why = getattr(written.error, "strerror", None) or str(written.error)
        raise SweepWriteError(report, path, why, written.path)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a sweep; ``report`` says what was finished and saved."""

    def __init__(self, report: SweepReport, signal_name: str):
        super().__init__(signal_name)
        self.report, self.signal_name = report, signal_name


def result_path(folder, spec: RunSpec) -> Path:
    return Path(folder) / RUNS / f"{spec.hash}.npz"


def run_sweep(grid: Grid | list, out, *, jobs: int | None = None, executor=None, force: bool = False,
              progress: bool | None = None, log=None) -> SweepReport:
    """Run every spec of ``grid`` (a :class:`Grid` or a list of RunSpecs) whose result is not yet in ``out``.

    ``executor``: a ``concurrent.futures`` executor (e.g. :func:`~lsgdsim.sweep.dask_executor`); else
    ``jobs`` local processes (default: the cores; 1: this process). Diverged runs are results; runs
    that raise are recorded with their error; neither stops the sweep. ``log(line)`` receives the
    summary lines (default: stderr). Ctrl-C / SIGTERM raise :class:`SweepInterrupted` after the
    running runs are stopped (every saved file is complete).
    """
    specs = list(grid.specs if isinstance(grid, Grid) else grid)
    points = list(grid.points) if isinstance(grid, Grid) else [{} for _ in specs]
    folder = check_output_dir(out, "out")
    jobs = default_jobs() if jobs is None else jobs
    (folder / RUNS).mkdir(parents=True, exist_ok=True)
    manifest = {"lsgdsim": __version__, "grid": grid.source if isinstance(grid, Grid) else None,
                "runs": [{"run": s.hash, "point": p} for s, p in zip(specs, points, strict=True)]}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    log = log or (lambda line: print(line, file=sys.stderr))
    todo = [s for s in specs if force or not verified_result(folder, s, log)]
    report = SweepReport(folder, len(specs), skipped=len(specs) - len(todo))
    with _Progress(report, progress) as bar:
        if not todo:
            log(f"sweep {folder}: all {len(specs)} runs already done")
            return report
        try:
            if executor is None and jobs == 1:
                log(_start_line(report, len(todo), "this process"))
                for spec in todo:
                    bar.finished(spec, sweep_task(spec.to_dict()))
            elif executor is not None:
                log(_start_line(report, len(todo), describe_executor(executor)))
                _drain(executor, todo, bar)
            else:
                with process_pool(min(jobs, len(todo))) as pool:
                    log(_start_line(report, len(todo), describe_executor(pool)))
                    _drain(pool, todo, bar)
        except KeyboardInterrupt as exc:
            raise SweepInterrupted(report, getattr(exc, "signal_name", "Ctrl-C")) from None
    return report


def checked_result(path: Path, run: str):
    """``(result, None)`` when the file at ``path`` is the verified finished result of the run with spec hash
    ``run``, else ``(None, why)``: a link, damaged or edited (its content digest), or another run's result
    (its spec's hash differs). One load serves both the check and the caller."""
    from ..result import Result
    if path.is_symlink():
        return None, "a symbolic link, not a result this sweep wrote"
    try:
        res = Result.load(path, require_digest=True)
        ran = RunSpec.from_dict(res.meta["spec"]).hash if isinstance(res.meta.get("spec"), dict) else None
    except (ValueError, KeyError, TypeError) as exc:
        return None, " ".join(str(exc).split())
    return (res, None) if ran == run else (None, f"the result of another run (spec hash {ran}, not {run})")


def result_problem(path: Path, run: str) -> str | None:
    """Why the file at ``path`` is not the finished result of run ``run`` (None when it is): :func:`checked_result`."""
    return checked_result(path, run)[1]


def verified_result(folder, spec: RunSpec, log) -> bool:
    """Whether ``spec``'s result in ``folder`` is there and verified; a file that fails (:func:`result_problem`)
    is moved aside to ``HASH.npz.rejected`` with one line to ``log``, and the run is due again."""
    path = result_path(folder, spec)
    if not path.is_file() and not path.is_symlink():
        return False
    why = result_problem(path, spec.hash)
    if why is None:
        return True
    path.replace(path.with_name(path.name + REJECTED))
    log(f"sweep: {path.name}: {why.removeprefix(str(path) + ': ')}; running it again (the file is kept as "
        f"{path.name + REJECTED})")
    return False


def _start_line(report: SweepReport, todo: int, where: str) -> str:
    done = f", {report.skipped} already done" if report.skipped else ""
    return f"sweep {report.folder}: {report.total} runs{done}; running {todo} on {where}"


def _drain(executor, todo: list[RunSpec], bar) -> None:
    """Submit every run, then record each as it finishes (in whatever order they finish)."""
    futures = {executor.submit(sweep_task, spec.to_dict()): spec for spec in todo}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    outcome = fut.result()
                except Exception as exc:  # the executor lost it (a worker died, the cluster went away)
                    outcome = ("error", {"error": type(exc).__name__, "message": " ".join(str(exc).split()),
                                         "traceback": ""})
                bar.finished(futures[fut], outcome)
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise


class _Progress:
    """The sweep's bar (runs done of all, failed, diverged, time left) and its file writes."""

    def __init__(self, report: SweepReport, progress: bool | None):
        from tqdm.auto import tqdm
        self.report = report
        self.bar = tqdm(total=report.total, initial=report.skipped, desc="sweep", unit="run", file=sys.stderr,
                        disable=None if progress is None else not progress, dynamic_ncols=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()

    def finished(self, spec: RunSpec, outcome: tuple) -> None:
        status, payload = outcome
        report, folder = self.report, self.report.folder
        path = result_path(folder, spec)
        error_path = path.with_name(spec.hash + ERROR_SUFFIX)
        if status == "ok":
            _save_or_stop(payload, path, report)
            error_path.unlink(missing_ok=True)
            report.diverged += bool(payload.meta.get("diverged"))
        else:
            record = {"run": spec.hash, "spec": spec.to_dict(), **payload, "lsgdsim": __version__,
                      "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
            try:
                atomic_write_text(error_path, json.dumps(record, indent=1) + "\n")
            except OSError as exc:
                raise SweepWriteError(report, error_path, exc.strerror or str(exc), None) from None
            report.failed += 1
            report.errors[spec.hash] = f"{payload['error']}: {payload['message']}"
        report.ran += 1
        self.bar.set_postfix(failed=report.failed, diverged=report.diverged, refresh=False)
        self.bar.update(1)


# -- status ----------------------------------------------------------------------------------------------
def read_manifest(folder) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{folder} is not a sweep folder (no {MANIFEST}; lsgdsim sweep GRID.toml --out "
                         f"{folder} makes one)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is damaged: {' '.join(str(exc).split())}") from None
    runs = manifest.get("runs") if isinstance(manifest, dict) else None
    if not isinstance(runs, list) or not all(isinstance(r, dict) and isinstance(r.get("run"), str) for r in runs):
        raise ValueError(f"{path} is damaged: not a sweep manifest (it needs a list of runs, each with its hash "
                         "under \"run\"); starting the sweep again writes a new one")
    return manifest


def status(folder) -> dict:
    """A sweep folder's state: runs in its grid, done (diverged among them), failed, pending, and results
    of runs no longer in the grid; ``errors`` maps each failed run's hash to its error line, ``damaged``
    each result that fails verification (:func:`result_problem`; pending: the next start runs it again)."""
    folder = Path(folder)
    hashes = [r["run"] for r in read_manifest(folder)["runs"]]
    runs = folder / RUNS
    results = {p.stem for p in runs.glob("*.npz")}
    error_files = {p.name[:-len(ERROR_SUFFIX)]: p for p in runs.glob("*" + ERROR_SUFFIX)}
    checked = {h: checked_result(runs / f"{h}.npz", h) for h in hashes if h in results}
    damaged = {h: why for h, (_, why) in checked.items() if why is not None}
    done = [h for h in hashes if h in results and h not in damaged]
    failed = [h for h in hashes if h not in results and h in error_files]
    errors = {}
    for h in failed:
        try:
            rec = json.loads(error_files[h].read_text(encoding="utf-8"))
            errors[h] = f"{rec.get('error')}: {rec.get('message')}"
        except (OSError, ValueError):
            errors[h] = "(unreadable error record)"
    diverged = sum(bool(checked[h][0].meta.get("diverged")) for h in done)
    return {"folder": str(folder), "runs": len(hashes), "done": len(done), "diverged": diverged,
            "failed": len(failed), "pending": len(hashes) - len(done) - len(failed),
            "other_results": len(results - set(hashes)), "errors": errors, "damaged": damaged}
