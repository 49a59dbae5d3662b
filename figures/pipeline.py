"""One figure experiment, end to end: config → tasks (saved one by one) → combine → data → draw(data) → files.

Files of experiment NAME in the figures folder::

    NAME.json, NAME.npz        its data (:class:`figures.data.FigureData`)
    NAME.png, NAME.pdf         its figure, drawn from the data alone
    .parts/NAME-…/KEY.npz      results of finished tasks while the experiment is unfinished
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from threadpoolctl import threadpool_limits

from lsgdsim import plotting
from lsgdsim.digest import DamagedFile

from . import load
from .data import FigureData, Parts, describe

FORMATS = ("png", "pdf")


@dataclass
class Job:
    """An experiment being run: its module, configuration, tasks and the results finished so far."""

    name: str
    quick: bool
    seed: int
    config: dict
    tasks: list
    parts: Parts
    results: dict = field(default_factory=dict)
    compute_s: dict = field(default_factory=dict)      # seconds of each task run in this session

    @property
    def module(self):
        return load(self.name)

    def todo(self) -> list[dict]:
        return [t for t in self.tasks if t["key"] not in self.results]

    def done(self) -> bool:
        return not self.todo()


def saved_data(name: str, folder, config: dict, quick: bool, seed: int) -> FigureData | None:
    """The data of ``name`` saved in ``folder`` by the same code and configuration, else None."""
    try:
        data = FigureData.load(Path(folder) / f"{name}.json")
    except DamagedFile as exc:                 # never reused, never a traceback: measured again, said once
        print(f"lsgdsim: {exc}; measuring {name} again", file=sys.stderr)
        return None
    except ValueError:                         # none saved
        return None
    want = describe(name, config, quick, seed)
    return data if data.identity() == {k: want[k] for k in ("config_hash", "code")} else None


def prepare(name: str, quick: bool, seed: int, folder, force: bool = False) -> Job | FigureData:
    """The saved data of ``name`` if they can be reused, else a Job with the saved task results loaded."""
    mod = load(name)
    cfg = mod.config(quick=quick, seed=seed)
    if not force:
        data = saved_data(name, folder, cfg, quick, seed)
        if data is not None:
            return data
    tasks = mod.tasks(cfg)
    keys = [t["key"] for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError(f"experiment {name!r} has duplicate task keys")
    parts = Parts(folder, name, cfg)
    if force:
        parts.clear()
    job = Job(name, quick, seed, cfg, tasks, parts)
    for key in keys:
        saved = parts.get(key)
        if saved is not None:
            job.results[key] = saved
    return job


def run_task(name: str, cfg: dict, task: dict) -> dict:
    """Run one task with one BLAS thread (the same numbers whether tasks run here or in worker processes)."""
    with threadpool_limits(1):
        return load(name).run_task(cfg, task)


def finish(job: Job, folder) -> FigureData:
    """Combine the finished tasks into the figure's data, save them and drop the task results."""
    mod = job.module
    arrays, info = mod.combine(job.config, [job.results[t["key"]] for t in job.tasks])
    meta = {**describe(job.name, job.config, job.quick, job.seed), "volatile": list(mod.VOLATILE),
            "tasks": len(job.tasks), "resumed_tasks": len(job.tasks) - len(job.compute_s),
            "compute_s": round(sum(job.compute_s.values()), 2)}
    data = FigureData(job.name, mod.TITLE, mod.CLAIM, job.config, arrays, info, meta)
    data.save(folder)
    job.parts.clear()
    return FigureData.load(Path(folder) / f"{job.name}.json")     # what a later --from-data will see


def run(name: str, quick: bool = False, seed: int = 0, folder=None, force: bool = False,
        figure: bool = True) -> FigureData:
    """Run experiment ``name`` in this process; with ``folder``, save its data (and, with ``figure``, its
    figure) there, reusing saved data of the same code and configuration and resuming saved tasks."""
    if folder is None:
        mod = load(name)
        cfg = mod.config(quick=quick, seed=seed)
        arrays, info = mod.combine(cfg, [run_task(name, cfg, t) for t in mod.tasks(cfg)])
        return FigureData(name, mod.TITLE, mod.CLAIM, cfg, arrays, info, describe(name, cfg, quick, seed))
    job = prepare(name, quick, seed, folder, force)
    if isinstance(job, FigureData):
        return job
    for task in job.todo():
        start = time.perf_counter()
        job.results[task["key"]] = result = run_task(name, job.config, task)
        job.compute_s[task["key"]] = time.perf_counter() - start
        job.parts.put(task["key"], result)
    data = finish(job, folder)
    if figure:
        draw(data, folder)
    return data


def draw(data: FigureData, folder, formats=FORMATS) -> list[Path]:
    """Draw ``data`` with its module's ``draw`` (in the house style) and save ``folder/NAME.<fmt>``."""
    with plotting.style():
        fig = load(data.name).draw(data)
    return [plotting.save(fig, Path(folder) / f"{data.name}.{fmt}", close=k == len(formats) - 1)
            for k, fmt in enumerate(formats)]
