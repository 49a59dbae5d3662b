"""The ``lsgdsim check`` subcommand, registered through the ``lsgdsim.commands`` entry point."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_CHECK_ERROR = 1
# The options of a measuring run, with their defaults: none applies to --redraw, which measures nothing and writes
# only the figures of the records already saved (--only applies: it picks them).
NOT_WITH_REDRAW = {"quick": False, "jobs": None, "leader": None, "no_controls": False, "json": None, "report": None,
                   "resume": False, "seed": None, "progress": None}


def register(subparsers) -> None:
    from . import CHECKS
    from .controls import INSTALLABLE
    p = subparsers.add_parser(
        "check", help="measure every claim of the paper and print the verdicts",
        description="Run the theory checks (one per claim of the LSGD paper, and per question it leaves open); "
                    "print a verdict table and write a Markdown report, one record (JSON + arrays) and one "
                    "figure per check.")
    p.add_argument("--quick", action="store_true", help="small sizes and few seeds (about a minute on 2 cores); "
                   "written to its own folder (default reports/theory-quick)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"run only this check (repeatable): {', '.join(CHECKS)}")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="checks run in parallel on N processes (default: the number of cores); results are "
                        "identical for every N")
    p.add_argument("--leader", choices=INSTALLABLE,
                   help="install a control leader in every LSGD run (worst: the worst worker leads; random: a "
                        "random one; mid: the worker of middle rank in each group): every check about the "
                        "leader should then say fails")
    p.add_argument("--no-controls", action="store_true",
                   help="skip the random- and worst-leader control runs beside the right leader")
    p.add_argument("--json", metavar="FILE", help="also write the records (a JSON list) to FILE")
    p.add_argument("--report", metavar="DIR",
                   help="folder for report.md, records/ and figures/ (default reports/theory, "
                        "reports/theory-quick with --quick, with -worst/-random/-mid under --leader)")
    p.add_argument("--redraw", metavar="DIR",
                   help="redraw the figures of a saved report from its records, simulating nothing")
    p.add_argument("--resume", action="store_true",
                   help="reuse the records already saved in the report folder by the same code and configuration "
                        "(finish an interrupted run)")
    p.add_argument("--seed", type=int, default=None, help="base seed (default 0)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on when stderr is a terminal)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from .runner import CheckErrors, default_report_dir, run_checks
    if args.redraw is not None:
        return _redraw(args)
    _check_run_options(args)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    try:
        run_checks(args.only, quick=args.quick, seed=0 if args.seed is None else args.seed, report_dir=args.report,
                   json_path=args.json, jobs=jobs, leader=args.leader, controls=not args.no_controls,
                   progress=args.progress, reuse=args.resume)
    except CheckErrors as exc:
        print(f"lsgdsim: {len(exc.errors)} check(s) failed to run: {exc}")
        return EXIT_CHECK_ERROR
    except KeyboardInterrupt as exc:            # the runner wrote what finished and a report marked partial
        by = getattr(exc, "signal_name", "Ctrl-C")
        where = args.report or default_report_dir(args.quick, args.leader)
        print(f"lsgdsim: interrupted ({by}); the checks that finished are saved in {where} (its report says which, "
              "marked partial); the same command with --resume measures the rest", file=sys.stderr)
        return 143 if by == "SIGTERM" else 130
    return 0


def _flag(dest: str, value) -> str:
    return "--no-progress" if dest == "progress" and value is False else "--" + dest.replace("_", "-")


def _check_run_options(args: argparse.Namespace) -> None:
    """The values of a measuring run, checked before any work; ValueError naming the flag."""
    from lsgdsim.outputs import check_output_dir, check_output_path
    from lsgdsim.validate import check_int, check_seed
    if args.seed is not None:
        check_seed(args.seed, "--seed")
    if args.jobs is not None:
        check_int(args.jobs, "--jobs", 1)
    if args.report is not None:
        check_output_dir(args.report, "--report")
    if args.json is not None:
        check_output_path(args.json, "--json")


def _redraw(args: argparse.Namespace) -> int:
    """``--redraw DIR``: the figures of DIR's saved records, redrawn; every option of a measuring run refused."""
    from lsgdsim.outputs import check_output_dir

    from .pipeline import FIGURES, RECORDS, redraw
    given = [_flag(d, getattr(args, d)) for d, default in NOT_WITH_REDRAW.items() if getattr(args, d) != default]
    if given:
        raise ValueError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to --redraw, which "
                         "measures nothing: it redraws the figures of the records saved in its folder")
    folder = Path(args.redraw) if args.redraw else None
    if folder is None or not folder.is_dir():
        raise ValueError(f"--redraw must name a report folder; {args.redraw!r} is not a folder")
    if not (folder / RECORDS).is_dir():
        raise ValueError(f"--redraw {folder} holds no saved records (no {folder / RECORDS}/): not a report folder")
    check_output_dir(folder / FIGURES, "--redraw")
    records = redraw(folder, args.only)
    print(f"redrew {len(records)} figures in {folder / FIGURES} from their records")
    return 0
