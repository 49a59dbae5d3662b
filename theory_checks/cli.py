"""The ``lsgdsim check`` subcommand, registered through the ``lsgdsim.commands`` entry point."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from . import CHECKS
    p = subparsers.add_parser(
        "check", help="measure every claim of the paper and print the verdicts",
        description="Run the theory checks (one per claim of the LSGD paper); print a verdict table and write "
                    "a Markdown report with one figure per claim.")
    p.add_argument("--quick", action="store_true", help="small sizes and few seeds (under 2 minutes)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"run only this check (repeatable): {', '.join(CHECKS)}")
    p.add_argument("--json", metavar="FILE", help="write the records (name, claim, verdict, measured, expected)")
    p.add_argument("--report", metavar="DIR", default="reports/theory",
                   help="folder for report.md and figures/ (default reports/theory)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from .runner import run_checks
    results = run_checks(args.only, quick=args.quick, seed=args.seed, report_dir=args.report,
                         json_path=args.json)
    print(f"wrote {args.report}/report.md" + (f" and {args.json}" if args.json else ""))
    return 0 if results else 2
