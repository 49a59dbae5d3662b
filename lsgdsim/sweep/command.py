"""``lsgdsim sweep``: run a grid (``GRID.toml``) into a sweep folder, summarise one (``--status DIR``), or
write its table (``--table OUT DIR``). Registered by :func:`lsgdsim.cli.make_parser`; bad input is a
``ValueError`` that the command line prints as one line with exit status 2, raised before any run.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..outputs import check_output_dir, check_output_path
from ..signals import EXIT_INTERRUPTED, EXIT_TERMINATED
from ..validate import check_int
from .grid import MAX_RUNS

EXIT_DISK = 2                   # the sweep folder could not be written (the README's contract: exit 2)

EXIT_FAILED = 1  # some runs raised (as lsgdsim.cli's EXIT_FAILED); their errors are saved beside the results


def add_sweep_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", metavar="GRID.toml | DIR",
                   help="the grid to run ([base] + [grid]/[[zip]] axes; see lsgdsim.sweep), or, with --table, a "
                        "sweep folder")
    p.add_argument("--out", metavar="DIR", help="the sweep folder: one result per run, named by its spec hash "
                   "(default sweeps/NAME for NAME.toml)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, help="local processes (default: the cores; 1: this process)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786)")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="start a Dask LocalCluster of N single-threaded worker processes and run on it")
    p.add_argument("--max-runs", type=int, metavar="N", help=f"run a grid of more than {MAX_RUNS:,} runs (up to N); "
                   "a larger grid is refused, before it is expanded, with its size")
    p.add_argument("--force", action="store_true",
                   help="rerun the runs already done (default: resume, running only the runs without a result)")
    p.add_argument("--status", metavar="DIR", help="summarise the sweep folder DIR (done, diverged, failed, pending)")
    p.add_argument("--table", metavar="OUT", help="write the tidy table (.parquet or .csv): of the sweep folder "
                   "DIR, or after running GRID.toml")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on when stderr is a terminal)")


def _only(args, option: str, allowed: tuple[str, ...]) -> None:
    for dest in ("path", "out", "jobs", "scheduler", "dask_local", "force", "table", "max_runs"):
        value = getattr(args, dest)
        if dest not in allowed and value not in (None, False):
            what = "the grid or folder" if dest == "path" else "--" + dest.replace("_", "-")
            raise ValueError(f"{what} does not go with {option}")


def cmd_sweep(args) -> int:
    from .. import sweep
    if args.status is not None:
        _only(args, "--status", ())
        _print_status(sweep.status(args.status))
        return 0
    if args.path is None:
        raise ValueError("give a grid file (GRID.toml) to run, or --status DIR, or --table OUT DIR")
    if args.table is not None:
        check_output_path(args.table, "--table")
        sweep.check_table_path(args.table)
    path = Path(args.path)
    if path.is_dir():
        if args.table is None:
            raise ValueError(f"{path} is a folder: give --table OUT to write its table, or --status {path}")
        _only(args, "--table OUT DIR", ("path", "table"))
        print(f"wrote {sweep.write_table(sweep.load(path), args.table)}")
        return 0
    if args.jobs is not None:
        check_int(args.jobs, "--jobs", 1)
    max_runs = MAX_RUNS if args.max_runs is None else check_int(args.max_runs, "--max-runs", 1)
    if args.scheduler is not None or args.dask_local is not None:
        sweep.require("distributed", "dask", "--scheduler and --dask-local")
    if args.scheduler is not None:
        sweep.check_scheduler_address(args.scheduler, "--scheduler")
    out = check_output_dir(Path("sweeps") / path.stem if args.out is None else args.out, "--out")   # "" refused
    grid = sweep.load_grid(path, max_runs)                # sized, then every run checked, before any work
    if args.scheduler is not None or args.dask_local is not None:
        where = sweep.dask_executor(args.scheduler, args.dask_local)
    else:
        from contextlib import nullcontext
        where = nullcontext(None)
    try:
        with where as executor:
            report = sweep.run_sweep(grid, out, jobs=args.jobs, executor=executor, force=args.force,
                                     progress=args.progress)
    except sweep.SweepWriteError as exc:
        r = exc.report
        kept = f"that run's result was written to {exc.rescued} instead" if exc.rescued else "that run's result is lost"
        print(f"lsgdsim: error: --out: {exc}; stopped: {r.skipped + r.ran} of {r.total} runs are saved in {out}, "
              f"{kept}; the same command resumes once {out} can be written", file=sys.stderr)
        return EXIT_DISK
    except sweep.SweepInterrupted as exc:
        r = exc.report
        print(f"lsgdsim: interrupted ({exc.signal_name}): {r.skipped + r.ran} of {r.total} runs are saved in {out}; "
              "run the same command again to resume", file=sys.stderr)
        return EXIT_TERMINATED if exc.signal_name == "SIGTERM" else EXIT_INTERRUPTED
    print(f"sweep {out}: {report.total} runs ({report.skipped} found done, {report.ran} run now: "
          f"{report.diverged} diverged, {report.failed} failed)")
    if args.table is not None:
        print(f"wrote {sweep.write_table(sweep.load(out), args.table)}")
    if report.failed:
        first, error = next(iter(report.errors.items()))
        print(f"lsgdsim: {report.failed} of {report.ran} runs failed (first: {first}: {error}); their errors are in "
              f"{out}/runs/*.error.json; run the command again to retry them", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _print_status(st: dict) -> None:
    print(f"sweep {st['folder']}: {st['runs']} runs in its grid")
    print(f"  done     {st['done']:>6}" + (f"  ({st['diverged']} diverged)" if st["diverged"] else ""))
    print(f"  failed   {st['failed']:>6}")
    print(f"  pending  {st['pending']:>6}")
    if st["other_results"]:
        print(f"  and {st['other_results']} results of runs no longer in the grid (kept; in the table too)")
    for run, error in st["errors"].items():
        print(f"  failed {run}: {error}")
    for run, why in st.get("damaged", {}).items():
        print(f"  pending {run}: its result is not used: {why.split(': ', 1)[-1]}")
