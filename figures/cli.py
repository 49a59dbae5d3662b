"""The ``lsgdsim reproduce`` subcommand (registered through the ``lsgdsim.commands`` entry point), and the
same command as a plain script (``python figures/regenerate.py``)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_ERRORS, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 130, 143
DESCRIPTION = ("Run the theory checks and the figure experiments and write every figure into a figures folder: "
               "PNG for the README, PDF for print, the numbers behind each figure beside it (.json + .npz), and "
               "the theory report. Saved data of the same code and configuration are reused; a killed run "
               "resumes.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from theory_checks import CHECKS

    from . import EXPERIMENTS
    p.add_argument("--quick", action="store_true",
                   help="small sizes (a few minutes on 2 cores), written to their own folders "
                        "(default figures/quick/ and reports/theory-quick)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="run on N processes (default: the number of cores); the figure data are identical for every N")
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"only this figure (repeatable): a check ({', '.join(CHECKS)}) or an experiment "
                        f"({', '.join(EXPERIMENTS)})")
    p.add_argument("--out", metavar="DIR", help="figures folder (default figures/, figures/quick/ with --quick)")
    p.add_argument("--report", metavar="DIR",
                   help="theory report folder (default reports/theory, reports/theory-quick with --quick); "
                        "its saved records are reused")
    p.add_argument("--from-data", action="store_true",
                   help="redraw every figure from the data saved in the figures folder, simulating nothing")
    p.add_argument("--force", action="store_true", help="measure again even what is saved for the same code")
    p.add_argument("--seed", type=int, default=None,
                   help="base seed (default 0; with --from-data, the seed of the saved data)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars (default: on when stderr is a terminal)")


def register(subparsers) -> None:
    p = subparsers.add_parser("reproduce", help="run the checks and experiments and write every figure",
                              description=DESCRIPTION)
    add_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from .runner import ReproduceErrors, cpu_count, reproduce
    seed = check_options(args)
    jobs = args.jobs if args.jobs is not None else cpu_count()
    try:
        reproduce(args.only, quick=args.quick, seed=seed, out=args.out, report=args.report, jobs=jobs,
                  from_data=args.from_data, force=args.force, progress=args.progress)
    except ReproduceErrors as exc:
        print(f"lsgdsim: {len(exc.errors)} check(s)/experiment(s) failed: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    except KeyboardInterrupt as exc:
        by = getattr(exc, "signal_name", "Ctrl-C")
        print(f"lsgdsim: interrupted ({by}); finished work is saved, the same command resumes", file=sys.stderr)
        return EXIT_TERMINATED if by == "SIGTERM" else EXIT_INTERRUPTED
    return 0


def check_options(args: argparse.Namespace) -> int:
    """The options checked before any work (ValueError naming the flag); returns the seed to run or record.

    --from-data measures nothing, so --force (measure again) and --seed (a seed to measure with) are refused
    with it, whatever their value: the redrawn figures keep the seed their data were measured with, which the
    manifest then records again."""
    from lsgdsim.outputs import check_output_dir
    from lsgdsim.validate import check_int, check_seed

    from .runner import default_out
    for flag, given in (("--force", args.force), ("--seed", args.seed is not None)):
        if args.from_data and given:
            raise ValueError(f"{flag} does not apply to --from-data, which measures nothing: it redraws every "
                             "figure from the data saved in the figures folder")
    if args.jobs is not None:
        check_int(args.jobs, "--jobs", 1)
    for flag, path in (("--out", args.out), ("--report", args.report)):
        if path is not None:
            check_output_dir(path, flag)        # an empty path is refused, never taken as the current folder
    if args.from_data:
        return saved_seed(Path(args.out) if args.out is not None else default_out(args.quick))
    return 0 if args.seed is None else check_seed(args.seed, "--seed")


def saved_seed(out: Path) -> int:
    """The seed recorded in the figures folder's manifest (0 where there is none)."""
    from .summary import MANIFEST
    try:
        seed = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("seed", 0)
    except (OSError, ValueError, AttributeError):
        return 0
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else 0


def main(argv=None) -> int:
    """``python figures/regenerate.py [options]``: ``lsgdsim reproduce [options]`` without the entry point."""
    parser = argparse.ArgumentParser(prog="python figures/regenerate.py", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ValueError as exc:
        print(f"lsgdsim: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
