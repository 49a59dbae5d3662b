"""The ``lsgdsim`` command (also ``python -m lsgdsim``).

Exit status: 0 done; 2 bad input (one line ``lsgdsim: error: ...`` on stderr, before any work: bad
values, options that do not apply, output locations that cannot be written); 1 a run that diverged
(its records up to the divergence are written, marked ``-diverged``), ran out of memory, or whose
result could only be written to a fallback location; 130 Ctrl-C and 143 SIGTERM (what finished is
written, marked ``-partial``, never over a complete result).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys

from ._version import __version__
from .signals import EXIT_INTERRUPTED, EXIT_TERMINATED, SignalGuard, Terminated, launched_as_command, quiet_exit
from .sweep.command import add_sweep_options, cmd_sweep

EXIT_FAILED, EXIT_USAGE = 1, 2
EXIT_DIVERGED = EXIT_FAILED
SIGNALS = SignalGuard()


class UsageError(ValueError):
    """Bad command-line input (reported as one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage + message by default)
        raise UsageError(message)




# -- run ---------------------------------------------------------------------------------------------
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
    g.add_argument("--problem-seed", type=int, help="seed of the random problem instance (default 0)")

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
    g.add_argument("--oracle", choices=("stacked", "rowwise"), help="rowwise: each worker's value and gradient "
                   "on its own row, as an MPI rank computes them (equals lsgdsim mpi-run bit for bit); default "
                   "stacked (all workers in one call)")
    g.add_argument("--spec", metavar="FILE", help="rerun the run FILE describes, exactly: a result .npz (its "
                   "meta['spec']) or a spec .json/.toml (the keys of these options; see lsgdsim.spec); no other "
                   "option of the objective, algorithm or run groups goes with it")
    g.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on when stderr is a terminal)")

    _add_clock_options(p)

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
    g.add_argument("--lr-decay-factor", type=float, help="factor of the step schedule (default 0.1)")
    g.add_argument("--momentum", type=float,
                   help=f"worker momentum μ in [0, 1) (default {momentum:g}"
                        + ("; eamsgd: 0.9 with Nesterov)" if momentum == 0 else ")"))
    g.add_argument("--nesterov", action="store_true", help="Nesterov momentum (needs --momentum > 0)")
    g.add_argument("--period", type=int, help="communication period τ (run: default 1; train: default 4)")
    g.add_argument("--pull", type=float, help="LSGD pull strength λ in [0, 1] (default 0.1)")
    g.add_argument("--groups", type=int, help="LSGD: number of groups (multi-leader; default 1)")
    g.add_argument("--global-pull", type=float, help="LSGD multi-leader: global pull λ_G (default 0)")
    g.add_argument("--global-period", type=int, help="LSGD multi-leader: global period τ_G (default τ)")
    g.add_argument("--proximal", type=float, help="lsgd-authors: per-step pull p₁ toward the stored group-leader "
                   "copy, applied as p₁/τ (default 0.1)")
    g.add_argument("--global-proximal", type=float, help="lsgd-authors: per-step pull p₂ toward the stored "
                   "global-leader copy, applied as p₂/τ_G (default 0.1)")
    g.add_argument("--leader", choices=("exact", "noisy", "window"),
                   help="LSGD leader rule (run: exact; train and lsgd-authors: window, as the authors' "
                   "code)")
    g.add_argument("--leader-noise", type=float, help="σ_f of the loss estimates (noisy, window)")
    g.add_argument("--window", type=int, help="window rule: number of recent losses averaged (default 10)")
    g.add_argument("--alpha", type=float, help="EASGD elastic strength α (default 0.9/workers)")
    g.add_argument("--beta", type=float, help="EASGD center strength β (default workers·α)")
    g.add_argument("--trigger", choices=("own", "total"), help="LSGD: a round every τ of each worker's own steps "
                   "(own, default), or when the total over all workers reaches a multiple of p·τ (total: "
                   "Algorithm 1; on the clock fast workers do more steps)")
    g.add_argument("--order", choices=("before", "after"), help="LSGD: pull the parameters before the round's "
                   "local step (before: the theory form, default) or after it (after: Algorithm 1; the default "
                   "with --trigger total)")
    g.add_argument("--asynchronous", action="store_true", default=None, help="EASGD, DOWNPOUR: each worker "
                   "exchanges with the server on its own every τ of its steps (needs the clock)")


def _bandwidth(text: str):
    return "inf" if text.strip().lower() in ("inf", "free") else float(text)


def _add_clock_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("virtual clock (any of these runs the simulation in simulated time; docs/clock.md)")
    g.add_argument("--clock", metavar="FILE", help="the clock as a TOML/JSON table (a [clock] table or the "
                   "file itself: compute, network, model_bytes), or a modeled cluster: paper (GTX 1080s, PCIe, "
                   "10 Gb Ethernet) or modern (H100s, NVLink, 100 Gb/s), 4 per node (docs/clock.md); not with the "
                   "options below")
    g.add_argument("--compute", choices=("constant", "lognormal", "pareto"),
                   help="compute time of a local step: constant (default), lognormal or pareto (stragglers)")
    g.add_argument("--compute-time", type=float, help="seconds per step: the constant, the lognormal's median or "
                   "the Pareto minimum (default 1)")
    g.add_argument("--compute-sigma", type=float, help="lognormal: σ of log(seconds)")
    g.add_argument("--compute-shape", type=float, help="pareto: tail index a (heavier tail for smaller a)")
    g.add_argument("--latency", type=float, help="network latency α in seconds (default 0; between nodes with "
                   "--nodes)")
    g.add_argument("--bandwidth", type=_bandwidth, help="network bandwidth β in bytes/s, or inf (default)")
    g.add_argument("--nodes", type=int, help="a two-level network: NODES nodes of workers/NODES workers each")
    g.add_argument("--intra-latency", type=float, help="with --nodes: latency inside a node (default 0)")
    g.add_argument("--intra-bandwidth", type=_bandwidth, help="with --nodes: bandwidth inside a node (default inf)")
    g.add_argument("--model-bytes", type=int, help="price every message carrying a row of the state as this many "
                   "bytes (stand in for a large network; default d × itemsize)")
    g.add_argument("--time-budget", type=float, help="stop at this simulated time (seconds)")


# The run options that are spec keys (lsgdsim.spec: the same names), their defaults left to RunSpec so that a
# given option can be told from a default one; the CLI's --samples is the spec's n_samples.
SPEC_FLAGS = {"samples": "n_samples"}
_NOT_SPEC = {"help", "progress", "out", "no_save", "json", "csv", "spec", "nesterov", "clock"}


def _spec_dests(parser: argparse.ArgumentParser) -> tuple[str, ...]:
    return tuple(a.dest for a in parser._actions if a.dest not in _NOT_SPEC and a.option_strings)


def names(key: str) -> str:
    """How a spec key is named in a message: its --flag where the CLI has one, else the key itself."""
    dest = {v: k for k, v in SPEC_FLAGS.items()}.get(key, key)
    return _flag(dest) if dest in _RUN_DESTS or dest == "nesterov" else key


_RUN_DESTS: set[str] = set()


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _algorithm_flat(args) -> dict:
    """The algorithm options given on the command line, as flat spec keys."""
    flat = {}
    for key in ("lr", "lr_schedule", "lr_decay_steps", "lr_decay_factor", "momentum", "period", "pull", "groups",
                "global_pull", "global_period", "leader", "leader_noise", "window", "alpha", "beta", "trigger",
                "order", "asynchronous", "proximal", "global_proximal"):
        if getattr(args, key, None) is not None:
            flat[key] = getattr(args, key)
    if args.momentum is not None or args.nesterov:  # --nesterov alone keeps the algorithm's own momentum
        flat["nesterov"] = args.nesterov
    return flat


def run_spec(args, check_memory: bool = False):
    """The RunSpec of ``lsgdsim run``: from --spec FILE, or from the options (one-line errors naming them).

    ``check_memory`` (``run``, on this one machine): a run whose arrays, its objective's included, would not
    fit in the memory available now is refused from the spec, before its objective is built."""
    from .spec import RunSpec
    if getattr(args, "spec_", None) is None:
        given = {SPEC_FLAGS.get(d, d): getattr(args, d) for d in _RUN_DESTS if getattr(args, d) is not None}
        given.update(_algorithm_flat(args))
        if getattr(args, "clock", None) is not None:
            given["clock"] = load_clock_table(args.clock)
        if args.spec is not None:
            if given:
                raise UsageError(f"{names(next(iter(given)))} does not go with --spec (the spec gives the whole run; "
                                 "edit the spec file instead)")
            args.spec_ = RunSpec.load(args.spec, names, check_memory=check_memory)
        else:
            args.spec_ = RunSpec.from_dict(given, names, check_memory=check_memory)
    return args.spec_


def load_clock_table(path: str) -> dict | str:
    """The clock table in a TOML or JSON file (its [clock] table, or the whole file), or a modeled cluster's
    name (lsgdsim.clock.clusters), which the spec expands for the run's workers."""
    from pathlib import Path

    from .clock.clusters import CLUSTERS
    if path in CLUSTERS:
        return path
    path = Path(path)
    if path.suffix not in (".toml", ".json"):
        raise UsageError(f"--clock: {path} must be a .toml or .json file or a cluster "
                         f"({', '.join(CLUSTERS)})")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import tomllib
            data = tomllib.loads(text)
    except ValueError as exc:
        raise UsageError(f"--clock: {path} is not valid {path.suffix[1:].upper()}: {' '.join(str(exc).split())}") \
            from None
    if not isinstance(data, dict):
        raise UsageError(f"--clock: {path} must hold a table")
    return data.get("clock", data)


def build_objective(args):
    """The objective of ``lsgdsim run``'s spec (a function of its own, so that tests can instrument it): the one
    the spec's checks built, handed over (:meth:`lsgdsim.RunSpec.build_objective`), so it is built once."""
    return run_spec(args).build_objective()


def build_algorithm(args, steps=None, default_leader="exact"):
    """The algorithm from the algorithm options (``lsgdsim train``; ``run`` goes through its RunSpec)."""
    from .components import build_algorithm as build
    from .spec import algorithm_spec
    decay = max(1, int(0.9 * steps)) if steps is not None else None
    return build(algorithm_spec(args.algorithm, _algorithm_flat(args), names, default_leader, decay))


def check_outputs(args, default_dir: str | None = None) -> None:
    """Every output location is checked before any work (one line, exit 2); none may name another's file."""
    from pathlib import Path

    from .outputs import check_output_dir, check_output_path
    if getattr(args, "no_save", False) and args.out is not None:
        raise UsageError("give --out or --no-save, not both")
    seen: dict[Path, str] = {}
    for opt in ("out", "json", "csv"):
        value = getattr(args, opt, None)
        if value is None:
            continue
        resolved = check_output_path(value, _flag(opt)).resolve()
        if resolved in seen:
            raise UsageError(f"{_flag(opt)} and {seen[resolved]} name the same file {value}")
        seen[resolved] = _flag(opt)
    if default_dir is not None and args.out is None and not getattr(args, "no_save", False):
        check_output_dir(default_dir, f"--out (default folder {default_dir}/)")


def cmd_run(args) -> int:
    spec = run_spec(args, check_memory=True)
    if spec.algorithm.get("asynchronous") and spec.clock is None:
        raise UsageError("--asynchronous needs a clock: give --compute, --latency, ... or --clock FILE (without one "
                         "the run is lockstep; mpiexec ... lsgdsim mpi-run runs it for real)")
    check_outputs(args, default_dir="results")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    res = spec.run(objective=build_objective(args), progress=progress, on_interrupt="return", on_divergence="return")
    if not args.no_save and not args.out:
        args.out = default_result_path(spec)
    return _report(res, res.summary(), args)


def cmd_mpi_run(args) -> int:
    """``lsgdsim mpi-run`` on every rank: the same spec everywhere; rank 0 speaks, reports and writes."""
    from .mpi import NothingFinished, is_rank_zero, run_world, world
    try:
        comm = world()
        spec = _mpi_spec(args, comm.Get_size())
    except ValueError:
        if not is_rank_zero():
            return EXIT_USAGE                          # every rank found the same error: rank 0 says it
        raise
    problem = None
    if comm.Get_rank() == 0:
        try:
            check_outputs(args, default_dir="results")
        except ValueError as exc:
            problem = exc
    if comm.bcast(None if problem is None else str(problem), root=0) is not None:
        if problem is not None:
            raise problem
        return EXIT_USAGE
    try:
        res = run_world(spec, comm)
    except NothingFinished as stopped:
        return _nothing_finished(stopped.reason)
    except Exception as exc:   # not a step's own problem (those stop every rank together): end the whole job
        print(f"lsgdsim: error: rank {comm.Get_rank()}: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr,
              flush=True)
        comm.Abort(EXIT_FAILED)
        raise
    if res is None:
        return 0
    if not args.no_save and not args.out:
        args.out = default_result_path(spec)
    return _report(res, res.summary(), args)


def _mpi_spec(args, ranks: int):
    """The RunSpec of ``mpi-run`` (or ``calibrate``): ``lsgdsim run``'s, less what does not apply to real runs."""
    from .mpi import check_layout
    spec = run_spec(args)
    if spec.clock is not None:
        raise UsageError("the clock options do not apply to mpi-run, which measures time for real "
                         "(lsgdsim run --clock predicts the same run)")
    if spec.backend != "numpy":
        raise UsageError(f"mpi-run computes on NumPy: --backend {spec.backend} does not apply")
    if getattr(args, "oracle", None) == "stacked":
        raise UsageError("--oracle stacked does not apply to mpi-run: every rank evaluates its workers row by row")
    check_layout(spec, ranks)
    return spec


def _nothing_finished(reason: dict) -> int:
    """A run that stopped before its first step was complete: one line, nothing written."""
    if reason.get("interrupted"):
        print(f"lsgdsim: interrupted ({reason.get('interrupted_by')}); nothing was finished, nothing was written",
              file=sys.stderr)
        return EXIT_TERMINATED if reason.get("interrupted_by") == "SIGTERM" else EXIT_INTERRUPTED
    if reason.get("diverged"):
        from .simulate import DivergenceError
        d = reason["diverged"]
        print(f"lsgdsim: {DivergenceError(d['step'], d['worker'], d['value'])}; nothing was written", file=sys.stderr)
    else:
        print(f"lsgdsim: error: {reason.get('error')}; nothing was finished, nothing was written", file=sys.stderr)
    return EXIT_FAILED


def cmd_calibrate(args) -> int:
    """``lsgdsim calibrate``: checks, then itself under mpiexec; rank 0 writes the clock table."""
    from pathlib import Path

    from .mpi import is_rank_zero, launched_by_mpiexec, world
    if args.ranks < 2:
        raise UsageError(f"--ranks must be 2 or more (a ping-pong needs two); got {args.ranks}")
    if not args.out or Path(args.out).suffix != ".toml":
        raise UsageError("--out names the clock table to write, a .toml file")
    try:
        spec = _mpi_spec(args, args.ranks)
    except ValueError:
        if not is_rank_zero():
            return EXIT_USAGE
        raise
    if not launched_by_mpiexec():
        check_outputs(args)
        import shutil
        import subprocess
        mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
        if mpiexec is None:
            raise UsageError("calibrate needs mpiexec: pip install -e \".[mpi]\" (mpi4py with the MPICH wheels)")
        return subprocess.run([mpiexec, "-n", str(args.ranks), sys.executable, "-m", "lsgdsim", *args.argv]).returncode
    from .mpi.calibrate import calibrate
    comm = world()
    text = calibrate(spec, comm)
    if text is None:
        return 0
    from .outputs import atomic_write_text
    atomic_write_text(Path(args.out), text)
    print("".join(line[2:] + "\n" for line in text.splitlines() if line.startswith("# ")), end="")
    print(f"wrote {args.out}: lsgdsim run --clock {args.out} <the same options> predicts that MPI run")
    return 0


def default_result_path(spec) -> str:
    """results/run-OBJECTIVE-ALGORITHM-HASH.npz, HASH from the spec's hash: runs are deterministic, so one
    configuration and seed always names the same file and a rerun rewrites the same numbers."""
    return f"results/run-{spec.objective['name']}-{spec.algorithm['name']}-{spec.hash[:10]}.npz"


def _report(res, summary: dict, args) -> int:
    """Print the summary and write --out/--csv/--json (atomically, with a fallback if a write fails).

    A partial or diverged result goes to the marked sibling (run.npz → run-partial.npz / run-diverged.npz),
    never over a complete one, and one line on stderr says so. Returns the exit status.
    """
    from .outputs import OutputError, atomic_write_text, marked_path, write_with_fallback
    meta = res.meta
    mark = "diverged" if meta.get("diverged") else "partial" if meta.get("interrupted") or meta.get("error") else None
    _print_summary(summary)
    from .trace import breakdown_lines
    for line in breakdown_lines(res):
        print(line)
    targets = [(args.out, "--out", res.save), (getattr(args, "csv", None), "--csv", res.to_csv),
               (args.json, "--json", lambda p: atomic_write_text(p, json.dumps(summary, indent=2) + "\n"))]
    status, written = 0, []
    with SIGNALS.holding():
        for path, option, save in targets:
            if not path:
                continue
            try:
                w = write_with_fallback(save, marked_path(path, mark) if mark else path)
            except OutputError as exc:
                print(f"lsgdsim: error: {option}: {exc}; the result is lost", file=sys.stderr)
                status = EXIT_FAILED
                continue
            written.append(str(w.path))
            if w.rescued:
                print(f"lsgdsim: {option}: {w.describe()}", file=sys.stderr)
                status = EXIT_FAILED
            else:
                print(f"wrote {w.path}")
    files = ", ".join(written) or "nothing (no output asked for)"
    last = int(res.steps[-1])
    if meta.get("diverged"):
        from .simulate import DivergenceError
        d = meta["diverged"]
        print(f"lsgdsim: {DivergenceError(d['step'], d['worker'], d['value'])}; the records up to step {last} "
              f"are in {files}", file=sys.stderr)
        status = EXIT_DIVERGED
    if meta.get("error"):
        print(f"lsgdsim: error: {meta['error']}; the records up to step {last} are in {files} (marked -partial)",
              file=sys.stderr)
        status = EXIT_FAILED
    if meta.get("interrupted"):
        by = meta.get("interrupted_by", "KeyboardInterrupt")
        print(f"lsgdsim: interrupted ({by}) at step {last} of {meta.get('steps')}; partial result in {files} "
              f"(marked -partial: a complete result is never replaced)", file=sys.stderr)
        status = EXIT_TERMINATED if by == "SIGTERM" else EXIT_INTERRUPTED
    return SIGNALS.exit_status() or status


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
    from .components import algorithm_fields
    from .nn.train import BACKENDS as TRAIN_BACKENDS
    from .nn.train import PERIOD, load_data, steps_for, summarize, train
    from .simulate import DivergenceError
    from .validate import check_choice

    if args.steps is not None and args.epochs is not None:
        raise UsageError("give --steps or --epochs, not both")
    if args.data_folder is not None and args.data == "digits":
        raise UsageError("--data-folder does not apply to --data digits (bundled with scikit-learn)")
    check_outputs(args)
    if args.momentum is None:
        args.momentum = 0.9  # the trainer's default (nesterov only with --nesterov)
    with _said_as_flags(args):
        check_choice(args.backend, "backend", TRAIN_BACKENDS)
        data = load_data(args.data, args.data_folder)
        steps = args.steps if args.steps is not None else steps_for(
            data, args.workers, args.batch_size, 100.0 if args.epochs is None else args.epochs, args.shards)
    if args.period is None and "period" in algorithm_fields(args.algorithm):
        args.period = PERIOD  # the trainer's default, as in lsgdsim.nn.train.default_algorithm
    alg = build_algorithm(args, steps=steps, default_leader="window")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        with _said_as_flags(args):
            res = train(args.model, args.data, alg, workers=args.workers, steps=steps, batch_size=args.batch_size,
                        shards=args.shards, weight_decay=args.weight_decay, seed=args.seed,
                        evaluations=args.evaluations, backend=args.backend, dtype=args.dtype,
                        data_folder=args.data_folder, progress=progress)
    except DivergenceError as exc:
        print(f"lsgdsim: {exc}; nothing was written", file=sys.stderr)
        return EXIT_DIVERGED
    return _report(res, summarize(res), args)


@contextlib.contextmanager
def _said_as_flags(args):
    """A library ValueError that starts with the name of one of the command's options (``weight_decay must
    be ...``, as lsgdsim.validate words them) says that option's --flag instead."""
    try:
        yield
    except UsageError:
        raise
    except ValueError as exc:
        name, _, rest = str(exc).partition(" ")
        if rest and name in vars(args):
            raise UsageError(f"{_flag(name)} {rest}") from None
        raise


# -- entry point -------------------------------------------------------------------------------------
def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lsgdsim", description="Simulate and check Leader SGD (Teng et al., NeurIPS 2019).")
    parser.add_argument("--version", action="version", version=f"lsgdsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run = sub.add_parser("run", help="simulate one configuration and summarise it",
                         description="Simulate one configuration on a synthetic objective.")
    _add_run_options(run)
    _RUN_DESTS.update(_spec_dests(run))
    run.set_defaults(handler=cmd_run, spec_=None, **{d: None for d in _RUN_DESTS})  # RunSpec has the defaults
    mpi = sub.add_parser("mpi-run", help="run one configuration for real over MPI (mpiexec -n P ...)",
                         description="Run one configuration with one block of workers per MPI process: "
                         "mpiexec -n P python -m lsgdsim mpi-run <the options of lsgdsim run>. Rank 0 writes the "
                         "same result file as lsgdsim run (the synchronous rules: the same numbers as "
                         "lsgdsim run --oracle rowwise, bit for bit), with the measured time breakdown.")
    _add_run_options(mpi)
    mpi.set_defaults(handler=cmd_mpi_run, spec_=None, **{d: None for d in _RUN_DESTS})
    calib = sub.add_parser("calibrate", help="measure this machine's network and step time into a clock table",
                           description="Measure alpha/beta (ping-pong between 2 MPI ranks) and the seconds per step of "
                           "the configuration given (a pilot mpi-run), and write them as a clock table (--out "
                           "FILE.toml) for lsgdsim run --clock FILE, which then predicts the same MPI run. Starts "
                           "mpiexec itself (--ranks P).")
    _add_run_options(calib)
    calib.add_argument("--ranks", type=int, default=2, help="MPI processes of the pilot run (default 2)")
    calib.set_defaults(handler=cmd_calibrate, spec_=None, **{d: None for d in _RUN_DESTS})
    train = sub.add_parser("train", help="train small networks with many workers (LSGD and baselines)",
                           description="Train a small network on real data with p workers at once.")
    _add_train_options(train)
    train.set_defaults(handler=cmd_train)
    sweep = sub.add_parser("sweep", help="run a grid of runs (TOML) on local processes or Dask; resumable",
                           description="Run every point of a grid × seeds, one result file per run; a sweep that "
                           "is stopped in any way resumes where it was. Also: --status DIR, --table OUT DIR.")
    add_sweep_options(sweep)
    sweep.set_defaults(handler=cmd_sweep)
    from .notebooks_run import register as register_notebooks  # executes notebooks/; imports nothing above
    register_notebooks(sub)
    from .plot_run import register as register_plot
    register_plot(sub)
    _load_plugin_commands(sub)
    return parser


def _load_plugin_commands(sub) -> None:
    """Subcommands registered by packages above the library (theory_checks, figures, ...).

    They are found through the ``lsgdsim.commands`` entry-point group, so nothing in lsgdsim/ imports
    them (imports flow downward, docs/design.md §2).
    """
    from importlib.metadata import entry_points
    for ep in sorted(entry_points(group="lsgdsim.commands"), key=lambda e: e.name):
        ep.load()(sub)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None) -> int:
    status = _main(argv)
    if launched_as_command():        # the work is done: a late signal must not turn the exit into a kill
        quiet_exit()
    return status


def _main(argv) -> int:
    parser = make_parser()
    try:
        with SIGNALS.installed():
            args = parser.parse_args(argv)
            args.argv = list(sys.argv[1:] if argv is None else argv)
            if not getattr(args, "handler", None):
                parser.print_help()
                return EXIT_USAGE
            return args.handler(args)
    except (ValueError, OSError) as exc:  # UsageError is a ValueError; OSError: unreadable input, bad paths
        print(f"lsgdsim: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError as exc:
        print(f"lsgdsim: error: out of memory{': ' + _one_line(exc) if str(exc) else ''}; use fewer workers, "
              "steps or dimensions (or record less often)", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as exc:  # before anything finished (a run itself returns what it has)
        by = getattr(exc, "signal_name", "Ctrl-C")
        print(f"lsgdsim: interrupted ({by}); nothing was finished, nothing was written", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
