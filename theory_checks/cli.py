"""The ``lsgdsim check`` subcommand, registered through the ``lsgdsim.commands`` entry point."""
from __future__ import annotations

import argparse
import os

EXIT_CHECK_ERROR = 1


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
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on when stderr is a terminal)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from .pipeline import redraw
    from .runner import CheckErrors, run_checks
    if args.redraw:
        records = redraw(args.redraw, args.only)
        print(f"redrew {len(records)} figures in {args.redraw}/figures from their records")
        return 0
    from lsgdsim.validate import check_seed
    check_seed(args.seed, "--seed")
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    try:
        run_checks(args.only, quick=args.quick, seed=args.seed, report_dir=args.report, json_path=args.json,
                   jobs=jobs, leader=args.leader, controls=not args.no_controls, progress=args.progress,
                   reuse=args.resume)
    except CheckErrors as exc:
        print(f"lsgdsim: {len(exc.errors)} check(s) failed to run: {exc}")
        return EXIT_CHECK_ERROR
    return 0
