"""Sweeps: grids × seeds of runs on local processes or a Dask cluster, resumable, into one tidy table.

A grid is plain TOML. ``[base]`` holds flat spec keys shared by every run (the keys of ``lsgdsim run``'s
options; :mod:`lsgdsim.spec`); the axes say what varies::

    [base]
    objective = "quadratic"
    dim = 10
    cond = 20
    algorithm = "lsgd"
    workers = 4
    steps = 300
    lr = 0.01
    grad_noise = 0.1

    [grid]                                       # the cartesian product of these axes, first outermost
    pull = [0.05, 0.2]                           # a list of values
    period = {start = 1, stop = 9, step = 4}     # a range, stop excluded: 1, 5
    # lr = {start = 0.001, stop = 0.1, num = 3, log = true}   # num values, ends included: 0.001, 0.01, 0.1
    seed = [0, 1, 2]                             # the seeds axis (or seeds = 3 for 0, 1, 2, placed last)

    [[zip]]                                      # axes that advance together: one axis of the product
    momentum = [0.0, 0.9]
    nesterov = [false, true]

Each point of the product gives a flat dict ``{**base, **point}`` and so a :class:`~lsgdsim.RunSpec`;
every point is checked before any run starts (a key both in [base] and on an axis, or on two axes, is an
error). Before anything is expanded, every key and value is checked and the runs are counted from the axes'
lengths (:func:`grid_size`): a grid of more than ``MAX_RUNS`` (100 000) is refused, with its size, unless
``max_runs`` (``lsgdsim sweep --max-runs N``) allows it. A value of an axis may be anything its key takes:
a per-worker list (``lr = [[0.01, 0.02]]``), a schedule table. Float ranges are rounded to 12 significant digits.

Running (:func:`run_sweep`, ``lsgdsim sweep GRID.toml --out DIR``): one result file per run, named by
its spec's hash and written atomically, so that a sweep killed in any way resumes with nothing lost and
nothing run twice (:mod:`lsgdsim.sweep.store`). Runs go to a ``concurrent.futures`` executor: local
spawned processes by default (:func:`process_pool`, one BLAS thread each), or Dask
(:func:`dask_executor`: an existing cluster's scheduler address, or a LocalCluster). Results are
identical whatever runs them. :func:`map_runs` is the same machinery for code that needs the Results
themselves, in order (a theory check's grid).

The table (:func:`load`, ``lsgdsim sweep --table OUT.parquet DIR``): one row per run × record,
:mod:`lsgdsim.sweep.table` lists the columns. pandas and pyarrow are the ``sweep`` extra, Dask the
``dask`` extra; ``import lsgdsim.sweep`` needs neither.
"""
from .execute import MissingExtra, check_scheduler_address, dask_executor, default_jobs, map_runs, process_pool, require
from .grid import MAX_RUNS, Grid, axis_length, axis_values, expand_grid, grid_size, load_grid
from .store import SweepInterrupted, SweepReport, SweepWriteError, result_path, run_sweep, status
from .table import check_table_path, load, record_columns, table, write_table

__all__ = ["MAX_RUNS", "Grid", "MissingExtra", "SweepInterrupted", "SweepReport", "SweepWriteError", "axis_length",
           "axis_values",
           "check_scheduler_address", "check_table_path", "dask_executor", "default_jobs", "expand_grid", "grid_size",
           "load", "load_grid", "map_runs", "process_pool", "record_columns", "require", "result_path", "run_sweep",
           "status", "table", "write_table"]
