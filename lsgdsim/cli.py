"""The ``lsgdsim`` command (also ``python -m lsgdsim``).

Bad input prints one line ``lsgdsim: error: ...`` on stderr and exits with status 2; a diverged run
exits 1; an interrupted run writes what it finished and exits 130.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import __version__

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 1, 130


class UsageError(ValueError):
    """Bad command-line input (reported as one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage + message by default)
        raise UsageError(message)


# -- run ---------------------------------------------------------------------------------------------
# Options that belong to some algorithms only: given to another algorithm, they are an error.
ALGO_OPTIONS = {
    "pull": ("lsgd",), "groups": ("lsgd",), "global_pull": ("lsgd",), "global_period": ("lsgd",),
    "leader": ("lsgd",), "leader_noise": ("lsgd",), "window": ("lsgd",),
    "period": ("lsgd", "easgd", "eamsgd", "localsgd", "downpour"),
    "alpha": ("easgd", "eamsgd"), "beta": ("easgd", "eamsgd"),
}


def _add_run_options(p: argparse.ArgumentParser) -> None:
    from .objectives import OBJECTIVES

    g = p.add_argument_group("objective")
    g.add_argument("--objective", default="quadratic", choices=sorted(OBJECTIVES), metavar="NAME",
                   help=f"one of: {', '.join(sorted(OBJECTIVES))} (default quadratic)")
    g.add_argument("--dim", type=int, help="dimension (objectives that scale with it)")
    g.add_argument("--cond", type=float, help="condition number (quadratic, indefinite)")
    g.add_argument("--negative", type=int, help="number of negative eigenvalues (indefinite)")
    g.add_argument("--samples", type=int, help="number of samples (logistic)")
    g.add_argument("--rank", type=int, help="rank (matrix)")
    g.add_argument("--problem-seed", type=int, default=0, help="seed of the random problem instance (default 0)")

    _add_algorithm_options(p, lr=0.01, momentum=0.0, schedule="constant")

    g = p.add_argument_group("run")
    g.add_argument("--workers", type=int, default=8, help="number of workers p (default 8)")
    g.add_argument("--steps", type=int, default=1000, help="number of steps (default 1000)")
    g.add_argument("--grad-noise", type=float, default=0.0, help="σ of additive gradient noise (default 0)")
    g.add_argument("--batch-size", type=int, help="mini-batch size (finite sums, e.g. logistic)")
    g.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    g.add_argument("--backend", default="numpy", help="numpy (default), cupy or array_api_strict")
    g.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    g.add_argument("--record-every", type=int, help="record every N steps (default: ~500 records)")
    g.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on when stderr is a terminal)")

    g = p.add_argument_group("output")
    g.add_argument("--out", help="write the full result here (.npz, loadable with lsgdsim.Result.load); default "
                   "results/run-OBJECTIVE-ALGORITHM-HASH.npz, HASH naming the configuration and seed")
    g.add_argument("--no-save", action="store_true", help="do not write the result file")
    g.add_argument("--json", help="write the summary as JSON")
    g.add_argument("--csv", help="write the tidy table (one row per recorded step × worker)")


def _add_algorithm_options(p: argparse.ArgumentParser, lr: float, momentum: float, schedule: str) -> None:
    from .algorithms import ALGORITHMS

    g = p.add_argument_group("algorithm")
    g.add_argument("--algorithm", default="lsgd", choices=sorted(ALGORITHMS), metavar="NAME",
                   help=f"one of: {', '.join(sorted(ALGORITHMS))} (default lsgd)")
    g.add_argument("--lr", type=float, default=lr, help=f"learning rate η (default {lr:g})")
    g.add_argument("--lr-schedule", default=schedule, choices=("constant", "inverse-time", "step"),
                   help="constant; inverse-time: lr·b/(b + t); step: lr·factor^⌊(t−1)/b⌋")
    g.add_argument("--lr-decay-steps", type=float, help="b of the lr schedule (run: default 100; train: the "
                   "step schedule drops once, after 90%% of the steps)")
    g.add_argument("--lr-decay-factor", type=float, default=0.1, help="factor of the step schedule (default 0.1)")
    g.add_argument("--momentum", type=float, default=momentum,
                   help=f"worker momentum μ in [0, 1) (default {momentum:g})")
    g.add_argument("--nesterov", action="store_true", help="Nesterov momentum (needs --momentum > 0)")
    g.add_argument("--period", type=int, help="communication period τ (run: default 1; train: default 4)")
    g.add_argument("--pull", type=float, help="LSGD pull strength λ in [0, 1] (default 0.1)")
    g.add_argument("--groups", type=int, help="LSGD: number of groups (multi-leader; default 1)")
    g.add_argument("--global-pull", type=float, help="LSGD multi-leader: global pull λ_G (default 0)")
    g.add_argument("--global-period", type=int, help="LSGD multi-leader: global period τ_G (default τ)")
    g.add_argument("--leader", choices=("exact", "noisy", "window"),
                   help="LSGD leader rule (run: exact; train: window, as the authors' code)")
    g.add_argument("--leader-noise", type=float, help="σ_f of the loss estimates (noisy, window)")
    g.add_argument("--window", type=int, help="window rule: number of recent losses averaged (default 10)")
    g.add_argument("--alpha", type=float, help="EASGD elastic strength α (default 0.9/workers)")
    g.add_argument("--beta", type=float, help="EASGD center strength β (default workers·α)")


def build_objective(args):
    from .objectives import make_objective
    opts = {"dim": args.dim, "cond": args.cond, "negative": args.negative, "n_samples": args.samples,
            "rank": args.rank, "seed": args.problem_seed}
    return make_objective(args.objective, **{k: v for k, v in opts.items() if v is not None})


def _lr(args, steps=None):
    from . import schedules
    if args.lr_schedule == "constant":
        return args.lr
    b = args.lr_decay_steps
    if b is None:
        b = max(1, int(0.9 * steps)) if steps is not None and args.lr_schedule == "step" else 100.0
    if not b > 0:
        raise UsageError(f"--lr-decay-steps must be > 0; got {b:g}")
    if args.lr_schedule == "inverse-time":
        return schedules.InverseTime(a=args.lr * b, b=b)
    return schedules.StepDecay(value=args.lr, factor=args.lr_decay_factor, every=int(b))


def build_algorithm(args, steps=None, default_leader="exact"):
    from .algorithms import ALGORITHMS
    from .leaders import make_rule
    name = args.algorithm
    for opt, owners in ALGO_OPTIONS.items():
        if getattr(args, opt) is not None and name not in owners:
            raise UsageError(f"--{opt.replace('_', '-')} does not apply to --algorithm {name}")
    kw = {"lr": _lr(args, steps), "momentum": args.momentum, "nesterov": args.nesterov}
    for opt in ("period", "pull", "groups", "global_pull", "global_period", "alpha", "beta"):
        if getattr(args, opt) is not None:
            kw[opt] = getattr(args, opt)
    if name == "lsgd":
        leader = args.leader or default_leader
        kw["leader"] = make_rule(leader, sigma=args.leader_noise or 0.0, window=args.window or 10)
        if leader == "exact" and args.leader_noise is not None:
            raise UsageError("--leader-noise needs --leader noisy or --leader window")
    if name == "eamsgd" and args.momentum == 0:
        kw["momentum"], kw["nesterov"] = 0.9, True
    return ALGORITHMS[name](**kw)


def cmd_run(args) -> int:
    from .simulate import DivergenceError, simulate

    obj = build_objective(args)
    alg = build_algorithm(args)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        res = simulate(obj, alg, workers=args.workers, steps=args.steps, grad_noise=args.grad_noise,
                       batch_size=args.batch_size, seed=args.seed, backend=args.backend, dtype=args.dtype,
                       record_every=args.record_every, progress=progress, on_interrupt="return")
    except DivergenceError as exc:
        print(f"lsgdsim: {exc}", file=sys.stderr)
        return EXIT_DIVERGED
    if args.no_save:
        args.out = None
    elif not args.out:
        args.out = default_result_path(res.meta)
    return _report(res, res.summary(), args)


def default_result_path(meta: dict) -> str:
    """results/run-OBJECTIVE-ALGORITHM-HASH.npz: runs are deterministic, so one configuration and seed
    always names the same file and a rerun rewrites the same numbers."""
    import hashlib
    keys = ("objective", "algorithm", "workers", "steps", "grad_noise", "batch_size", "seed", "backend", "dtype",
            "record_every")
    digest = hashlib.sha256(json.dumps({k: meta.get(k) for k in keys}, sort_keys=True, default=str).encode())
    return f"results/run-{meta['objective']['name']}-{meta['algorithm']['algorithm']}-{digest.hexdigest()[:10]}.npz"


def _report(res, summary: dict, args) -> int:
    """Print the summary, write --out/--csv/--json (atomically); the exit status of a finished run."""
    from .result import atomic_write_text
    _print_summary(summary)
    if args.out:
        res.save(args.out)
        print(f"wrote {args.out}")
    if getattr(args, "csv", None):
        res.to_csv(args.csv)
        print(f"wrote {args.csv}")
    if args.json:
        atomic_write_text(args.json, json.dumps(summary, indent=2) + "\n")
        print(f"wrote {args.json}")
    return EXIT_INTERRUPTED if res.meta.get("interrupted") else 0


def _print_summary(summary: dict) -> None:
    width = max(len(k) for k in summary)
    for key, val in summary.items():
        if val is None:
            continue
        if isinstance(val, float):
            val = f"{val:.6g}"
        print(f"{key:<{width}}  {val}")


# -- train -------------------------------------------------------------------------------------------
def _add_train_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("network and data")
    g.add_argument("--model", default="cnn", choices=("cnn", "mlp"), help="cnn (default) or mlp")
    g.add_argument("--data", default="digits", choices=("digits", "mnist", "cifar10"),
                   help="digits (bundled with scikit-learn, default), mnist (IDX files) or cifar10 (binary)")
    g.add_argument("--data-folder", help="folder holding the MNIST IDX or CIFAR-10 binary files")
    g.add_argument("--shards", default="disjoint", choices=("disjoint", "shared"),
                   help="disjoint data shards per worker (default) or every worker sees all data")
    g.add_argument("--weight-decay", type=float, default=1e-4, help="L2 weight decay (default 1e-4)")
    _add_algorithm_options(p, lr=0.05, momentum=0.9, schedule="step")
    g = p.add_argument_group("run")
    g.add_argument("--workers", type=int, default=4, help="number of workers p (default 4)")
    g.add_argument("--epochs", type=float, help="passes over each worker's shard (default 100)")
    g.add_argument("--steps", type=int, help="steps per worker (instead of --epochs)")
    g.add_argument("--batch-size", type=int, default=32, help="samples per worker per step (default 32)")
    g.add_argument("--evaluations", type=int, default=20, help="number of test evaluations (default 20)")
    g.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    g.add_argument("--backend", default="numpy", help="numpy (default) or cupy")
    g.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    g.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on when stderr is a terminal)")
    g = p.add_argument_group("output")
    g.add_argument("--out", help="write the full result (.npz)")
    g.add_argument("--json", help="write the summary as JSON (test_accuracy: the center, i.e. the average of "
                   "the workers' parameters; EASGD: its center; DOWNPOUR: the server)")


def cmd_train(args) -> int:
    from .nn.train import PERIOD, load_data, steps_for, summarize, train
    from .simulate import DivergenceError

    if args.steps is not None and args.epochs is not None:
        raise UsageError("give --steps or --epochs, not both")
    data = load_data(args.data, args.data_folder)
    steps = args.steps if args.steps is not None else steps_for(
        data, args.workers, args.batch_size, 100.0 if args.epochs is None else args.epochs, args.shards)
    if args.period is None and args.algorithm in ALGO_OPTIONS["period"]:
        args.period = PERIOD  # the trainer's default, as in lsgdsim.nn.train.default_algorithm
    alg = build_algorithm(args, steps=steps, default_leader="window")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        res = train(args.model, args.data, alg, workers=args.workers, steps=steps, batch_size=args.batch_size,
                    shards=args.shards, weight_decay=args.weight_decay, seed=args.seed,
                    evaluations=args.evaluations, backend=args.backend, dtype=args.dtype,
                    data_folder=args.data_folder, progress=progress)
    except DivergenceError as exc:
        print(f"lsgdsim: {exc}", file=sys.stderr)
        return EXIT_DIVERGED
    return _report(res, summarize(res), args)


# -- entry point -------------------------------------------------------------------------------------
def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lsgdsim", description="Simulate and check Leader SGD (Teng et al., NeurIPS 2019).")
    parser.add_argument("--version", action="version", version=f"lsgdsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = sub.add_parser("run", help="simulate one configuration and summarise it",
                         description="Simulate one configuration on a synthetic objective.")
    _add_run_options(run)
    run.set_defaults(handler=cmd_run)
    train = sub.add_parser("train", help="train small networks with many workers (LSGD and baselines)",
                           description="Train a small network on real data with p workers at once.")
    _add_train_options(train)
    train.set_defaults(handler=cmd_train)
    _load_plugin_commands(sub)
    return parser


def _load_plugin_commands(sub) -> None:
    """Subcommands registered by packages above the library (theory_checks, figures, ...).

    They are found through the ``lsgdsim.commands`` entry-point group, so nothing in lsgdsim/ imports
    them (imports flow downward, DESIGN.md §2).
    """
    from importlib.metadata import entry_points
    for ep in sorted(entry_points(group="lsgdsim.commands"), key=lambda e: e.name):
        ep.load()(sub)


def main(argv=None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return EXIT_USAGE
        return args.handler(args)
    except (UsageError, ValueError, FileNotFoundError) as exc:
        msg = " ".join(str(exc).split())
        print(f"lsgdsim: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lsgdsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
