"""``lsgdsim reproduce``: the theory checks, then every figure experiment and every figure, on ``jobs`` processes.

Order of work: (1) the theory checks through ``theory_checks.runner.run_checks`` (records reused when
saved by the same code and configuration); (2) one pool of ``jobs`` processes for everything else — the
experiments' tasks (longest first; each result saved as it finishes, so a killed run resumes) and the
figures (each check's from its record, each experiment's once its data are saved); that pool is the
sweeps' (:func:`lsgdsim.sweep.process_pool`). Every task is a pure function of its configuration, run
with one BLAS thread, so ``jobs`` changes the wall time, never a number. ``from_data`` skips (1) and
the tasks: every figure is redrawn from the data saved in ``out``.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

import theory_checks
from lsgdsim.estimate import Forecast
from lsgdsim.outputs import check_output_dir
from lsgdsim.sweep.execute import process_pool
from theory_checks.runner import CheckErrors, check_report_dir, default_report_dir, run_checks

from . import EXPERIMENTS, checks, pipeline
from . import load as load_experiment
from .data import FigureData
from .summary import Manifest, check_figures_folder

# Compute seconds of each experiment's tasks, (quick, full), on the machine of lsgdsim.estimate.REFERENCE
# (the manifests' compute_s, lsgdsim reproduce at a3088f4, 2026-12-07); a figure's drawing counts DRAW_S.
EXPERIMENT_COST = {"ring": (0.2, 0.2), "matrix": (0.6, 57.5), "rates": (1.5, 27.1), "leaders": (0.4, 31.0),
                   "training": (1.4, 180.7), "cluster-time": (1.9, 363.2), "time-breakdown": (1.4, 28.3),
                   "straggler-training": (0.2, 31.1)}
DRAW_S = 2.0


def default_out(quick: bool) -> Path:
    """figures/ (full run), figures/quick/ (quick run)."""
    return Path("figures") / "quick" if quick else Path("figures")


def split_names(only) -> tuple[list[str], list[str]]:
    """(checks, experiments) to run: all by default; ValueError naming ``only`` for an unknown name."""
    clash = set(theory_checks.CHECKS) & set(EXPERIMENTS)
    if clash:
        raise RuntimeError(f"figure names must differ from check names: {', '.join(sorted(clash))}")
    if not only:
        return list(theory_checks.CHECKS), list(EXPERIMENTS)
    known = [*theory_checks.CHECKS, *EXPERIMENTS]
    for name in only:
        if name not in known:
            raise ValueError(f"--only must be one of {', '.join(known)}; got {name!r}")
    return ([n for n in theory_checks.CHECKS if n in only], [n for n in EXPERIMENTS if n in only])


def _validate(jobs, seed, out: Path, report: Path, quick: bool) -> None:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1; got {jobs!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    for opt, path in (("--out", out), ("--report", report)):
        check_output_dir(path, opt)              # a folder that exists or can be made, and is writable
    check_figures_folder(out, quick)
    check_report_dir(report, quick)


def reproduce(only=None, quick: bool = False, seed: int = 0, out=None, report=None, jobs: int = 1,
              from_data: bool = False, force: bool = False, progress: bool | None = None,
              stream=None) -> Manifest:
    """Run the checks and experiments (all, or ``only``) and write every figure into ``out``.

    Returns the manifest written to ``out/manifest.json`` (figures, files and sizes, verdicts). Bad
    arguments raise ``ValueError`` before any work; a check or an experiment that raises is reported and
    the others go on, then :class:`ReproduceErrors` is raised."""
    stream = sys.stdout if stream is None else stream     # looked up now: a redirected stdout is honoured
    check_names, exp_names = split_names(only)
    out = Path(out) if out is not None else default_out(quick)
    report = Path(report) if report is not None else default_report_dir(quick)
    _validate(jobs, seed, out, report, quick)
    manifest = Manifest(out, quick, seed, report)
    if from_data:
        manifest.require_data(check_names, exp_names)
    start = time.perf_counter()
    errors: dict[str, str] = {}
    if check_names and not from_data:
        try:
            run_checks(check_names, quick=quick, seed=seed, report_dir=report, jobs=jobs, progress=progress,
                       reuse=not force, stream=stream)
        except CheckErrors as exc:
            errors.update(exc.errors)
            check_names = [n for n in check_names if n not in exc.errors]
    work = _Work(out, report, quick, seed, jobs, force, from_data, manifest, errors, progress)
    work.run(check_names, exp_names, stream)
    manifest.write(elapsed_s=time.perf_counter() - start, jobs=jobs)
    manifest.print_table(stream, [*check_names, *exp_names], report_written=bool(check_names) and not from_data)
    if errors:
        raise ReproduceErrors(errors)
    return manifest


class ReproduceErrors(RuntimeError):
    """Some checks or experiments raised; everything else was written. ``errors`` maps name → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{n}: {e}" for n, e in errors.items()))


# -- the work items, run here (jobs = 1) or in worker processes ----------------------------------------
def _do(item: tuple):
    kind, name, *args = item
    if kind == "task":
        start = time.perf_counter()
        result = pipeline.run_task(name, *args)
        return result, time.perf_counter() - start
    if kind == "draw":
        folder, = args
        return pipeline.draw(FigureData.load(Path(folder) / f"{name}.json"), folder)
    return checks.export(name, *args)


class _Work:
    """One pool for the experiments' tasks and every figure; the progress bar; the bookkeeping."""

    def __init__(self, out, report, quick, seed, jobs, force, from_data, manifest, errors, progress):
        self.out, self.report, self.quick, self.seed, self.jobs = out, report, quick, seed, jobs
        self.force, self.from_data, self.manifest, self.errors = force, from_data, manifest, errors
        self.progress = progress
        self.jobs_by_name: dict[str, pipeline.Job] = {}
        self.queue: deque = deque()
        self.futures: dict = {}
        self.pool = None

    def run(self, check_names, exp_names, stream=None) -> None:
        from tqdm.auto import tqdm
        items = self._plan(check_names, exp_names)
        self.weights = {id(item): 1 for item in items}
        forecast = None
        if any(item[0] == "task" for item in items):               # redrawing alone is not announced
            forecast = Forecast.announced(self._costs(items), min(self.jobs, len(items)))
        if forecast is not None:
            print(forecast.line(f"{len(items)} figure items"), file=stream or sys.stdout, flush=True)
            self.weights = forecast.units()
        self.bar = tqdm(total=sum(self.weights.values()), desc="figures", unit="item" if forecast is None else "s",
                        leave=False, file=sys.stderr, disable=(None if self.progress is None else not self.progress))
        parallel = self.jobs > 1 and len(items) > 1
        try:
            with process_pool(min(self.jobs, len(items))) if parallel else contextlib.nullcontext() as pool:
                self.pool = pool
                for item in items:
                    self._submit(item)
                for item, outcome, failed in self._outcomes():
                    self._handle(item, outcome, failed)
        finally:
            self.bar.close()

    def _costs(self, items) -> dict:
        """Forecast seconds of each work item (by ``id``): a task its share (by its "cost") of its
        experiment's measured compute time, a figure :data:`DRAW_S`."""
        per_unit = {}                          # experiment → measured seconds per unit of task "cost"
        for _, name, cfg, *_ in (it for it in items if it[0] == "task"):
            if name not in per_unit:
                units = sum(float(t.get("cost", 1.0)) for t in load_experiment(name).tasks(cfg))
                per_unit[name] = EXPERIMENT_COST.get(name, (3.0, 60.0))[0 if self.quick else 1] / max(units, 1e-12)
        return {id(it): per_unit[it[1]] * float(it[3].get("cost", 1.0)) if it[0] == "task" else DRAW_S
                for it in items}

    def _plan(self, check_names, exp_names) -> list[tuple]:
        """Tasks longest first, then the check figures (the experiments' figures follow their data)."""
        tasks, draws = [], []
        for name in exp_names:
            if self.from_data:
                draws.append(("draw", name, str(self.out)))
                continue
            job = pipeline.prepare(name, self.quick, self.seed, self.out, self.force)
            if isinstance(job, FigureData):                      # saved by the same code and configuration
                self.manifest.add_experiment(job, reused=True)
                if not all((self.out / f"{name}.{f}").is_file() for f in pipeline.FORMATS):
                    draws.append(("draw", name, str(self.out)))
                continue
            self.jobs_by_name[name] = job
            tasks += [("task", name, job.config, t) for t in job.todo()]
            if job.done():                                       # every task was saved before a kill
                draws.append(self._finish(job))
        tasks.sort(key=lambda it: -float(it[3].get("cost", 1.0)))
        draws += [("check", n, str(self.out), str(self.report), self.from_data) for n in check_names]
        return tasks + [d for d in draws if d is not None]

    def _submit(self, item) -> None:
        if self.pool is None:
            self.queue.append(item)
        else:
            self.futures[self.pool.submit(_do, item)] = item

    def _outcomes(self):
        """(item, result or error message, failed) as items finish; items may be submitted meanwhile."""
        while self.queue or self.futures:
            if self.pool is None:
                item = self.queue.popleft()
                self._show(item)
                try:
                    yield item, _do(item), False
                except Exception as exc:  # keep going: report this one at the end
                    yield item, f"{type(exc).__name__}: {exc}", True
                continue
            done, _ = wait(list(self.futures), timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                item = self.futures.pop(fut)
                exc = fut.exception()
                yield (item, f"{type(exc).__name__}: {exc}", True) if exc else (item, fut.result(), False)

    def _handle(self, item, outcome, failed: bool) -> None:
        kind, name = item[0], item[1]
        self.bar.update(self.weights.get(id(item), 1))
        if failed:
            self.errors[name] = outcome
            self.jobs_by_name.pop(name, None)
            return
        if kind == "task":
            job = self.jobs_by_name.get(name)
            if job is None:                                  # the experiment already failed
                return
            result, job.compute_s[item[3]["key"]] = outcome
            job.results[item[3]["key"]] = result
            job.parts.put(item[3]["key"], result)
            if job.done():
                draw = self._finish(job)
                if draw is not None:
                    self.bar.total += 1
                    self._submit(draw)
        elif kind == "draw":
            if self.from_data:
                self.manifest.add_experiment(FigureData.load(self.out / f"{name}.json"), reused=True)
        else:
            self.manifest.add_check(name, outcome)
        self._show()

    def _finish(self, job) -> tuple | None:
        try:
            data = pipeline.finish(job, self.out)
        except Exception as exc:   # a combine that fails is that experiment's error, not the run's
            self.errors[job.name] = f"{type(exc).__name__}: {exc}"
            return None
        self.manifest.add_experiment(data, reused=False)
        return ("draw", job.name, str(self.out))

    def _show(self, running=None) -> None:
        left = {n: f"{len(j.results)}/{len(j.tasks)}" for n, j in self.jobs_by_name.items() if not j.done()}
        text = " · ".join(f"{n} {p}" for n, p in left.items())
        if running is not None:
            text = f"{running[0]} {running[1]}" + (f" · {text}" if text else "")
        self.bar.set_postfix_str(text, refresh=True)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
