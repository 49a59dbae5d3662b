"""RunSpec: one run as plain data — frozen, JSON/TOML-able, hashed, stored in every result, runnable anywhere.

The command line, a sweep and a notebook all build their runs from a :class:`RunSpec`;
``spec.run()`` gives the :class:`~lsgdsim.result.Result`, whose ``meta["spec"]`` holds the spec again,
so any result can be rerun exactly (``RunSpec.from_meta(res.meta).run() == res``, bit for bit).

Two forms of one spec. **Nested** (:meth:`RunSpec.to_dict`; what ``meta["spec"]`` holds), complete
with every default::

    {"objective": {"name": "quadratic", "dim": 10, "cond": 20.0, "mu": 1.0, ...},
     "algorithm": {"name": "lsgd", "lr": 0.01, "pull": 0.2, "period": 4, "leader": {"rule": "exact"}, ...},
     "workers": 4, "steps": 300, "grad_noise": 0.1, "batch_size": None, "seed": 0,
     "backend": "numpy", "dtype": "float64", "record_every": None}  # record_every None: about 500 records

**Flat** (:meth:`RunSpec.to_flat`; what a sweep grid's TOML and the command line use), the keys of
``lsgdsim run``'s options::

    objective = "quadratic"   dim = 10   cond = 20   algorithm = "lsgd"   lr = 0.01   pull = 0.2
    period = 4   workers = 4   steps = 300   grad_noise = 0.1   seed = 0

Flat keys: ``objective`` and its factory's options by name (``problem_seed`` for the problem's own
seed, ``n_samples`` for ``--samples``); ``algorithm`` and its constructor fields by name (``lr``,
``momentum``, ``nesterov``, ``period``, ``pull``, ``groups``, ``global_pull``, ``global_period``,
``alpha``, ``beta``, ...); ``lr_schedule`` (constant, inverse-time: lr·b/(b + t), step:
lr·factor^⌊(t−1)/b⌋) with ``lr_decay_steps`` (b, default 100) and ``lr_decay_factor`` (default 0.1);
``leader`` (exact, noisy, window, random, worst, or a rule table), ``leader_noise`` and ``window``;
and the run keys ``workers, steps, grad_noise, batch_size, seed, backend, dtype, record_every``.
A hyperparameter (lr, pull, global_pull, alpha) is a number, a per-worker list, or a schedule table
``{schedule = "InverseTime", a = 1.0, b = 100.0}``. Omitted keys take the CLI's defaults (quadratic,
lsgd, lr 0.01, 8 workers, 1000 steps, seed 0).

Every bad value is a one-line ``ValueError`` naming the key, raised when the spec is made; an option
that does not apply (``cond`` on ring, ``pull`` on sgd, ``window`` with the exact leader) is an error,
never ignored. :meth:`RunSpec.check` also builds the objects and runs ``simulate``'s own checks
(per-worker arrays, groups dividing p, memory), so a sweep can refuse a bad grid before any work.

The hash (:attr:`RunSpec.hash`) is SHA-256 of the canonical JSON of the nested form: independent of key
order, of defaults written out or left implicit, and of ``20`` vs ``20.0`` where the value is the same.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from . import components
from .components import Names, plain
from .simulate import default_record_every
from .spec_clock import build_clock, canonical_clock, flat_clock
from .spec_flat import (
    DEFAULT_ALGORITHM,
    DEFAULT_LR,
    DEFAULT_OBJECTIVE,
    OBJECTIVE_KEYS,
    RUN_DEFAULTS,
    algorithm_options,
    flat_leader,
    from_flat,
    toml_value,
)
from .validate import check_choice, check_float, check_int, check_seed, is_int, is_real, set_fields

CLOCK_RUN_KEYS = ("clock", "time_budget", "oracle")   # in the nested form only when given (hashes kept)


def _freeze(value):
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def canonical_json(data) -> str:
    """Sorted keys, no spaces, and integral floats written as integers (20.0 → 20), so that one value has one text."""
    def integral(v):
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            return int(v)
        if isinstance(v, dict):
            return {k: integral(x) for k, x in v.items()}
        return [integral(x) for x in v] if isinstance(v, list) else v
    return json.dumps(integral(plain(data)), sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class RunSpec:
    """A run as plain data; see the module docstring for its two forms and its keys.

    ``objective`` and ``algorithm`` are mappings (a registry name alone is accepted and completed);
    they are stored complete, canonical and read-only.
    """

    objective: Mapping = DEFAULT_OBJECTIVE  # type: ignore[assignment]
    algorithm: Mapping = DEFAULT_ALGORITHM  # type: ignore[assignment]
    workers: int = 8
    steps: int = 1000
    grad_noise: float = 0.0
    batch_size: int | None = None
    seed: int = 0
    backend: str = "numpy"
    dtype: str = "float64"
    record_every: int | None = None
    clock: Mapping | None = None        # the virtual clock's table (lsgdsim.spec_clock); None: lockstep
    time_budget: float | None = None    # with a clock: stop at this simulated time (seconds)
    oracle: str | None = None           # "rowwise": each worker's oracle on its own row (as an MPI rank)

    def __post_init__(self):
        parts = _canonical_parts({f.name: getattr(self, f.name) for f in fields(self)}, str)
        set_fields(self, **{k: _freeze(v) for k, v in parts.items()})

    # -- the two forms -----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping, names: Names = str, default_leader: str = "exact", *,
                  check_memory: bool = False) -> RunSpec:
        """A spec from its nested or its flat form (told apart by a mapping under objective/algorithm).

        ``names(key)`` says how keys are named in error messages (the CLI gives ``--flags``);
        ``default_leader`` is the LSGD leader rule when the flat form names none. Every spec refuses an
        objective whose own arrays would not fit in the memory available now, before building it;
        ``check_memory`` refuses the whole run so, its state and records too (``lsgdsim run``: a spec read
        back from a result made on a larger machine is not refused for it).
        """
        data = plain(data)
        if not isinstance(data, dict):
            raise ValueError(f"a run spec must be a table of keys; got {type(data).__name__}")
        if isinstance(data.get("objective"), dict) or isinstance(data.get("algorithm"), dict):
            return cls(**_canonical_parts(data, names, check_memory))
        _check_flat_lr(data, names)
        return cls(**_canonical_parts(from_flat(data, names, default_leader), names, check_memory))

    @classmethod
    def from_meta(cls, meta: Mapping) -> RunSpec:
        """The spec of a result: ``meta["spec"]``, or, for a result made without one (``simulate``
        called directly, older versions), rebuilt from its ``describe()`` facts and run keys."""
        if meta.get("spec") is not None:
            return cls.from_dict(meta["spec"])
        if meta.get("x0") == "given":
            raise ValueError("this result started from a given x0, which a run spec does not hold")
        try:
            algorithm = dict(meta["algorithm"])
            algorithm["name"] = algorithm.pop("algorithm")
            run = {k: meta[k] for k in RUN_DEFAULTS}
            run.update({k: meta[k] for k in CLOCK_RUN_KEYS if meta.get(k) is not None})
            objective = components.objective_from_description(meta["objective"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"the metadata does not describe a run (missing {exc})") from None
        return cls(objective=objective, algorithm=algorithm, **run)

    @classmethod
    def load(cls, path, names: Names = str, *, check_memory: bool = False) -> RunSpec:
        """The spec in a file: a result (.npz, its ``meta["spec"]``), or a spec in .json or .toml (either form);
        ``check_memory`` as in :meth:`from_dict` (for .json and .toml)."""
        path = Path(path)
        if path.suffix == ".npz":
            from .result import Result
            return cls.from_meta(Result.load(path).meta)
        if path.suffix not in (".json", ".toml"):
            raise ValueError(f"{path}: a spec is a .json or .toml file, or a result .npz")
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".json":
                data = json.loads(text)
            else:
                import tomllib
                data = tomllib.loads(text)
        except RecursionError:
            raise ValueError(f"{path} nests lists or tables too deeply to be read") from None
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
            raise ValueError(f"{path} is not valid {path.suffix[1:].upper()}: {' '.join(str(exc).split())}") from None
        if isinstance(data, dict) and {"base", "grid"} & set(data):
            raise ValueError(f"{path} is a sweep grid ([base], [grid]); run it with lsgdsim sweep")
        try:
            return cls.from_dict(data, names, check_memory=check_memory)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def to_dict(self) -> dict:
        """The nested form (JSON-able, complete); ``RunSpec.from_dict(spec.to_dict()) == spec``. The clock
        keys appear only on a clock run, so a lockstep spec keeps the hash it had before they existed."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)
                if f.name not in CLOCK_RUN_KEYS or getattr(self, f.name) is not None}

    def to_flat(self) -> dict:
        """The flat form (TOML-able: no None), with the CLI's keys; ``RunSpec.from_dict(spec.to_flat()) == spec``."""
        obj, alg = plain(self.objective), plain(self.algorithm)
        flat = {"objective": obj.pop("name")}
        flat.update({OBJECTIVE_KEYS.get(k, k): v for k, v in obj.items() if v is not None})
        flat["algorithm"] = alg.pop("name")
        leader = alg.pop("leader", None)
        flat.update({k: v for k, v in alg.items() if v is not None})
        if leader is not None:
            flat.update(flat_leader(leader))
        flat.update({k: getattr(self, k) for k in RUN_DEFAULTS if getattr(self, k) is not None})
        flat.update(flat_clock(self.clock))
        flat.update({k: getattr(self, k) for k in ("time_budget", "oracle") if getattr(self, k) is not None})
        return flat

    def to_toml(self) -> str:
        """The flat form as TOML text (one ``key = value`` per line)."""
        return "".join(f"{k} = {toml_value(v)}\n" for k, v in self.to_flat().items())

    def replace(self, **changes) -> RunSpec:
        """A copy with some flat keys changed (``spec.replace(seed=3, pull=0.2)``)."""
        return RunSpec.from_dict({**self.to_flat(), **changes})

    @cached_property
    def hash(self) -> str:
        """16 hex digits of SHA-256 of :func:`canonical_json` of the nested form."""
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()[:16]

    def __hash__(self) -> int:
        return hash(self.hash)

    def __reduce__(self):  # mappingproxy does not pickle; the nested form does
        return (_from_nested, (self.to_dict(),))

    def __repr__(self) -> str:
        return f"RunSpec({', '.join(f'{k}={v!r}' for k, v in self.to_flat().items())})"

    # -- running -----------------------------------------------------------------------------------
    def build_objective(self, blas_threads: int | None = 1):
        """The objective, with BLAS on ``blas_threads`` threads as in :meth:`run`: a random problem's matrices
        (QR, eigen-decompositions) depend on it too. Never shared (objectives hold per-backend caches): built
        fresh, or, with one thread, the very one this process's checks built (with one thread too), handed
        over and no longer theirs, so that a run made and run here builds its objective once."""
        taken = _take_checked(canonical_json(self.objective)) if blas_threads == 1 else None
        if taken is not None:
            return taken
        with _blas_limit(blas_threads):
            return components.build_objective(self.objective)

    def build_algorithm(self):
        return components.build_algorithm(self.algorithm)

    def simulate_kwargs(self) -> dict:
        """The run keys as ``simulate`` keyword arguments (the clock as a :class:`lsgdsim.clock.Clock`)."""
        return {**{k: getattr(self, k) for k in RUN_DEFAULTS}, "clock": build_clock(self.clock),
                "time_budget": self.time_budget, "oracle": self.oracle or "stacked"}

    def check(self, objective=None) -> None:
        """Every check ``simulate`` makes before work (objects built, per-worker arrays, groups dividing p,
        batch size, backend, memory, the clock), without running; ``ValueError`` naming what is wrong. Memory
        is estimated first (:meth:`check_memory`), the objective's own arrays included."""
        from .simulate import check_clock, validate_run
        self.check_memory()
        obj = _checked_objective(canonical_json(self.objective)) if objective is None else objective
        kw = self.simulate_kwargs()
        clock, budget, _ = kw.pop("clock"), kw.pop("time_budget"), kw.pop("oracle")
        algorithm = self.build_algorithm()
        validate_run(obj, algorithm, kw.pop("workers"), kw.pop("steps"), None, **kw)
        check_clock(clock, budget, algorithm, self.workers, self.backend)

    def check_memory(self, names: Names = str) -> int:
        """The bytes this run holds at its peak (the objective's own arrays, the state, the records), from the
        spec alone, nothing built; ``ValueError`` naming the keys (as ``names`` says them) when that is more
        than the memory available now."""
        return _check_memory(self.objective, {k: getattr(self, k) for k in RUN_DEFAULTS}, names, run=True)

    def run(self, *, progress: bool = False, monitor=None, on_interrupt: str = "raise",
            on_divergence: str = "raise", objective=None, blas_threads: int | None = 1):
        """Simulate this spec; the Result's ``meta["spec"]`` (and ``meta["spec_hash"]``) hold it.

        The keywords are ``simulate``'s (they change what is returned on a stop, never a number);
        ``objective`` is one already built from this spec by :meth:`build_objective` (instrumented,
        say), else it is built here. BLAS runs on ``blas_threads`` threads while the objective is built
        and during the run (restored after): multi-threaded BLAS sums in another order (measured: a
        quadratic with d = 120 already differs in the last bits between 1 and 2 threads), so one thread
        everywhere is what makes a spec give the same numbers in any process, pool or cluster
        (``meta["blas_threads"]``); ``None`` leaves BLAS as it is.
        """
        from .simulate import simulate  # looked up at call time (tests replace it)
        obj = self.build_objective(blas_threads) if objective is None else objective
        with _blas_limit(blas_threads):
            res = simulate(obj, self.build_algorithm(), **self.simulate_kwargs(), progress=progress,
                           monitor=monitor, on_interrupt=on_interrupt, on_divergence=on_divergence)
        res.meta.update(spec=self.to_dict(), spec_hash=self.hash, blas_threads=blas_threads)
        return res


_BLAS = []  # the process's threadpoolctl controller, made once (a fresh scan costs milliseconds per run)


def _blas_limit(threads: int | None):
    if threads is None:
        return contextlib.nullcontext()
    if not _BLAS:
        from threadpoolctl import ThreadpoolController
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=check_int(threads, "blas_threads", 1), user_api="blas")


def _from_nested(data: dict) -> RunSpec:
    return RunSpec.from_dict(data)


# -- canonical parts ------------------------------------------------------------------------------------
def _canonical_parts(data: Mapping, names: Names, check_memory: bool = False) -> dict:
    """Nested form → complete canonical values, each checked; ValueError naming the first bad key. Memory is
    checked before the objective is built: its own arrays, or with ``check_memory`` the whole run's."""
    known = ("objective", "algorithm", *RUN_DEFAULTS, *CLOCK_RUN_KEYS)
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ValueError(f"unknown spec key {', '.join(map(names, unknown))} (the nested form has {', '.join(known)})")
    obj = _named(data.get("objective", DEFAULT_OBJECTIVE), "objective", names)
    alg = _named(data.get("algorithm", DEFAULT_ALGORITHM), "algorithm", names)
    alg.setdefault("lr", DEFAULT_LR)
    out = {"objective": components.objective_dict(obj.pop("name"), obj, names),
           "algorithm": _algorithm_dict(alg.pop("name"), alg, names)}
    _check_memory(out["objective"], data, names, run=check_memory)
    _check_objective(out["objective"], names)  # its factory checks the values
    _check_effective(out["algorithm"], names)
    run = {**RUN_DEFAULTS, **{k: data[k] for k in RUN_DEFAULTS if k in data}}
    out.update(_check_run(run, names))
    out.update(_check_clock_keys(data, out["workers"], out["backend"], out["algorithm"], names))
    return out


def _check_clock_keys(data: Mapping, workers: int, backend: str, algorithm: dict, names: Names) -> dict:
    """The clock table (canonical) and the time budget; ValueError naming a bad or misplaced one."""
    clock = None if data.get("clock") is None else canonical_clock(data["clock"], workers, names)
    budget = data.get("time_budget")
    if budget is not None:
        if clock is None:
            raise ValueError(f"{names('time_budget')} needs a clock (simulated seconds): give {names('compute')}, "
                             f"{names('latency')}, ... or a {names('clock')} table")
        budget = check_float(budget, names("time_budget"), 0.0, lo_open=True)
    if clock is not None and backend != "numpy":
        raise ValueError(f"a clock run needs {names('backend')} numpy; got {backend!r}")
    oracle = data.get("oracle")
    if oracle is not None:
        from .objectives.rowwise import ORACLES
        oracle = check_choice(oracle, names("oracle"), ORACLES)
        oracle = None if oracle == "stacked" else oracle
        if backend != "numpy":
            raise ValueError(f"{names('oracle')} rowwise needs {names('backend')} numpy; got {backend!r}")
    return {"clock": clock, "time_budget": budget, "oracle": oracle}


_CHECKED: OrderedDict[str, object] = OrderedDict()  # canonical objective JSON -> its objective, the latest 8
_CHECKED_LOCK = threading.Lock()


def _checked_objective(objective_json: str):
    """The objective of a canonical objective dict, built once per process for checks, with one BLAS thread as
    :meth:`RunSpec.build_objective` builds it, and kept (the latest 8) until a run takes it (:func:`_take_checked`)."""
    with _CHECKED_LOCK:
        if objective_json in _CHECKED:
            _CHECKED.move_to_end(objective_json)
            return _CHECKED[objective_json]
    with _blas_limit(1):
        objective = _build_checked(json.loads(objective_json))
    with _CHECKED_LOCK:
        _CHECKED[objective_json] = objective
        while len(_CHECKED) > 8:
            _CHECKED.popitem(last=False)
    return objective


def _take_checked(objective_json: str):
    """The objective the checks built for this canonical JSON, removed from their cache (None if there is none)."""
    with _CHECKED_LOCK:
        return _CHECKED.pop(objective_json, None)


# An objective's own arrays at their peak while it is built, in bytes, from its size options (float64): measured
# peaks at d = n = 3000 were quadratic 5.3 d², indefinite 5.3 d², matrix 7.3 n², logistic 4.1 n·d + 3.5 d²; rounded
# up. Other objectives hold a few vectors of d.
OBJECTIVE_ARRAYS = {
    "quadratic": (("dim",), lambda d: 6 * 8 * d * d),
    "indefinite": (("dim",), lambda d: 6 * 8 * d * d),
    "logistic": (("dim", "n_samples"), lambda d, n: 8 * (4 * n * d + 4 * d * d)),
    "matrix": (("n", "rank"), lambda n, r: 8 * 8 * n * n),
}


def objective_size(objective: Mapping) -> tuple[int | None, int, tuple[str, ...]]:
    """(dimension, bytes of its own arrays at their peak, the options that set them) of an objective dict, from
    the dict alone, nothing built; a size that is not a positive integer counts as unknown (None, 0 bytes):
    the objective's factory refuses it."""
    keys, arrays = OBJECTIVE_ARRAYS.get(objective.get("name"), (("dim",), lambda d: 4 * 8 * d))
    sizes = [objective.get(k) for k in keys]
    if not all(is_int(v) and v > 0 for v in sizes):
        return None, 0, keys
    sizes = [int(v) for v in sizes]
    dim = sizes[0] * sizes[1] if objective.get("name") == "matrix" else sizes[0]
    return dim, arrays(*sizes), keys


def _check_memory(objective: Mapping, data: Mapping, names: Names, run: bool) -> int:
    """Refuse, before the objective is built, what would not fit in the memory available now: the objective's own
    arrays (checked from 64 MiB), and with ``run`` the whole run (state and records too); returns the estimate."""
    from .validate import check_available, check_memory
    dim, need, keys = objective_size(objective)
    said = ", ".join(f"{names(OBJECTIVE_KEYS.get(k, k))} {objective[k]}" for k in keys if k in objective)
    if dim is not None and run:
        r = _check_run({**RUN_DEFAULTS, **{k: data[k] for k in RUN_DEFAULTS if k in data}}, names)
        return check_memory(r["workers"], dim, r["steps"], r["record_every"], 4 if r["dtype"] == "float32" else 8,
                            objective_bytes=need, objective=said, names=names)
    if need < 2**26:
        return need
    return check_available(need, f"{names('objective')} {objective['name']} with {said} needs about {need / 2**30:.3g} "
                           "GiB for its own arrays", f"use a smaller {' or '.join(names(k) for k in keys)}")


def _build_checked(objective: dict):
    try:
        return components.build_objective(objective)
    except TypeError as exc:  # a value of the wrong type that the factory did not check itself
        raise ValueError(f"objective {objective['name']}: {' '.join(str(exc).split())}") from None


def _check_objective(objective: dict, names: Names) -> None:
    """The objective's factory checks its values (built once per process); its message names the value as
    ``names`` says the flat key (the CLI: ``--cond``, ``--problem-seed``), a nan or inf (not JSON) included."""
    try:
        if objective.get("seed") is not None:
            check_seed(objective["seed"], "seed")  # else NumPy's own words, which name nothing
        bad = [k for k, v in objective.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:  # the factory says the accepted range; where it has none, the finite check speaks
            _build_checked(objective)
            check_float(objective[bad[0]], bad[0])
        _checked_objective(canonical_json(objective))
    except ValueError as exc:
        raise _said_as(exc, {k: OBJECTIVE_KEYS.get(k, k) for k in objective}, names) from None


def _algorithm_dict(name: str, options: dict, names: Names) -> dict:
    """``components.algorithm_dict``, its class's messages (``momentum must be ...``) said as ``names`` says."""
    try:
        return components.algorithm_dict(name, options, names)
    except ValueError as exc:
        raise _said_as(exc, {k: k for k in options}, names) from None


def _said_as(exc: ValueError, keys: Mapping[str, str], names: Names) -> ValueError:
    """``exc`` with the parameter its message starts with (a factory's or a class's own name → its flat key)
    said as ``names`` says it (the CLI: its --flag); unchanged where ``names`` is ``str``."""
    text = str(exc)
    for own, key in keys.items():
        if names is not str and text.startswith(f"{own} "):
            return ValueError(names(key) + text[len(own):])
    return exc


def _check_flat_lr(flat: Mapping, names: Names) -> None:
    """A number lr under a schedule is checked as lr (the schedule's own check names its field: StepDecay value)."""
    if flat.get("lr_schedule") not in (None, "constant") and is_real(flat.get("lr")):
        check_float(flat["lr"], names("lr"), 0.0, lo_open=True)


def _named(value, key: str, names: Names) -> dict:
    value = plain(value)
    if isinstance(value, str):
        return {"name": value}
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ValueError(f"{names(key)} must be a name or a table with a name; got {value!r}")
    return dict(value)


def _check_run(run: dict, names: Names) -> dict:
    from .backend import BACKENDS, DTYPES
    out = {"workers": check_int(run["workers"], names("workers"), 1),
           "steps": check_int(run["steps"], names("steps"), 1),
           "grad_noise": check_float(run["grad_noise"], names("grad_noise"), 0.0),
           "seed": check_seed(run["seed"], names("seed")),
           "backend": check_choice(run["backend"], names("backend"), BACKENDS),
           "dtype": check_choice(run["dtype"], names("dtype"), DTYPES)}
    out["batch_size"] = None if run["batch_size"] is None else check_int(run["batch_size"], names("batch_size"), 1)
    every = run["record_every"]
    out["record_every"] = (default_record_every(out["steps"]) if every is None
                           else check_int(every, names("record_every"), 1))
    return out


def _check_effective(alg: dict, names: Names) -> None:
    """Options that exist but have no effect in this combination are errors too (they would mislead)."""
    if alg["name"] == "eamsgd" and alg.get("momentum") == 0:
        raise ValueError(f"{names('momentum')} 0 does not apply to {names('algorithm')} eamsgd (EASGD with Nesterov "
                         f"momentum); use {names('algorithm')} easgd")
    if alg.get("global_period") is not None and alg.get("global_pull") == 0:
        raise ValueError(f"{names('global_period')} applies only with {names('global_pull')} > 0 "
                         "(there is no global pull)")


# -- the flat form (lsgdsim.spec_flat) ----------------------------------------------------------------------
def algorithm_spec(name: str, options: Mapping, names: Names = str, default_leader: str = "exact",
                   step_decay_steps: int | None = None) -> dict:
    """The algorithm dict (complete, canonical; :func:`lsgdsim.components.build_algorithm` builds it) from
    flat options (lr with lr_schedule, leader with leader_noise/window), with the same checks as a spec.
    ``step_decay_steps``: b of the step schedule when ``lr_decay_steps`` is not given (``lsgdsim train``:
    90 % of the steps; else 100)."""
    _check_flat_lr(plain(options), names)
    opts = algorithm_options(name, dict(plain(options)), names, default_leader, step_decay_steps)
    out = _algorithm_dict(name, opts, names)
    _check_effective(out, names)
    return out
