"""Objects as plain data: every registered objective, algorithm, leader rule and schedule as a JSON-able dict.

A dict is read off the object's *public constructor*, never its internals, so a new rule or option is
covered as soon as it is registered:

- objective: ``{"name": KEY, **factory keyword arguments}``, KEY a name of ``objectives.OBJECTIVES`` and
  the options those of its factory's signature (:func:`lsgdsim.objectives.objective_options`);
- algorithm: ``{"name": KEY, **dataclass fields}``, KEY a name of ``algorithms.ALGORITHMS``; the fields
  are what ``describe()`` reports, so the dict of a built algorithm *is* its description;
- leader rule: ``{"rule": NAME, **fields}`` (``{"rule": "worst", "of": {...}}`` for the control);
- schedule (any hyperparameter may be one): ``{"schedule": CLASS, **fields}``; a per-worker array is a list.

Every dict is *complete* (defaults filled in) and *canonical*: NumPy scalars become Python numbers and
an integer given where a float is declared becomes that float (``cond = 20`` and ``cond = 20.0`` give
one dict), so equal dicts mean equal runs. An option an object does not take is a ``ValueError`` naming
it and listing what it does take. ``names(key)`` says how a key is named in messages (the CLI passes
one that gives its ``--flags``).
"""
from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable, Mapping

import numpy as np

from .validate import is_int

Names = Callable[[str], str]


def plain(value):
    """``value`` as JSON-able Python: NumPy scalars and arrays, tuples and mappings converted (recursively)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _wants_float(annotation, default) -> bool:
    """A declared float, or an ``Any`` hyperparameter (lr, pull, alpha: numbers, arrays or schedules)."""
    text = str(annotation)
    return isinstance(default, float) or "float" in text or text in ("Any", "typing.Any")


def _coerce(value, annotation, default):
    if _wants_float(annotation, default):
        if is_int(value):
            return float(value)
        if isinstance(value, list) and all(is_int(v) or isinstance(v, float) for v in value):
            return [float(v) for v in value]
    return value


def _unknown(keys, takes, what: str, names: Names) -> ValueError:
    given = ", ".join(names(k) for k in keys)
    verb = "does" if len(keys) == 1 else "do"
    takes = ", ".join(names(t) for t in takes) or "none"
    return ValueError(f"{given} {verb} not apply to {what} (its options: {takes})")


# -- objectives --------------------------------------------------------------------------------------------
def _factory_parameters(name: str, names: Names) -> dict[str, inspect.Parameter]:
    from .objectives import OBJECTIVES, objective_options
    if name not in OBJECTIVES:
        raise ValueError(f"{names('objective')} must be one of {', '.join(OBJECTIVES)}; got {name!r}")
    params = inspect.signature(OBJECTIVES[name]).parameters
    return {k: params[k] for k in objective_options(name)}


def objective_dict(name: str, options: Mapping, names: Names = str) -> dict:
    """The complete, canonical dict of the objective ``name`` with ``options`` (checked: names only)."""
    params = _factory_parameters(name, names)
    options = plain(options)
    unknown = [k for k in options if k not in params]
    if unknown:
        raise _unknown(unknown, params, f"{names('objective')} {name}", names)
    out = {"name": name}
    for key, p in params.items():
        if key not in options and p.default is inspect.Parameter.empty:
            raise ValueError(f"{names('objective')} {name} needs {names(key)}; none given")
        out[key] = _coerce(options.get(key, p.default), p.annotation, p.default)
    return out


def build_objective(spec: Mapping):
    """The objective of an objective dict (its factory validates every value, naming the bad one)."""
    from .objectives import make_objective
    options = plain(spec)
    return make_objective(options.pop("name"), **options)


def objective_from_description(desc: Mapping) -> dict:
    """Invert ``Objective.describe()``: the objective dict whose object describes itself as ``desc``.

    Each factory option is read from the description under its own name, or ``requested_NAME`` where
    the description reports a measured fact of that name (a random quadratic's ``mu``, measured as
    λ_min(A), is asked for as ``requested_mu``). The candidate is rebuilt and its description compared
    to ``desc`` fact by fact; ``ValueError`` when no registered objective reproduces it.
    """
    from .objectives import OBJECTIVES, objective_options
    desc = plain(desc)
    for name in OBJECTIVES:
        options = {k: desc.get(f"requested_{k}", desc[k]) for k in objective_options(name)
                   if k in desc or f"requested_{k}" in desc}
        try:
            candidate = objective_dict(name, options)
            if plain(build_objective(candidate).describe()) == desc:
                return candidate
        except (ValueError, TypeError):
            continue
    raise ValueError(f"no registered objective describes itself as {json.dumps(desc)[:200]}: it cannot be rebuilt "
                     "from its description (an objective made from explicit arrays is not a spec)")


# -- algorithms ------------------------------------------------------------------------------------------
def _algorithm_class(name: str, names: Names):
    from .algorithms import ALGORITHMS
    if name not in ALGORITHMS:
        raise ValueError(f"{names('algorithm')} must be one of {', '.join(ALGORITHMS)}; got {name!r}")
    return ALGORITHMS[name]


def algorithm_fields(name: str, names: Names = str) -> dict[str, dataclasses.Field]:
    """The constructor fields of the algorithm registered as ``name`` (its options), by name."""
    return {f.name: f for f in dataclasses.fields(_algorithm_class(name, names)) if f.init}


def algorithm_dict(name: str, options: Mapping, names: Names = str) -> dict:
    """The complete, canonical dict of algorithm ``name`` with ``options``: the algorithm is built (so every
    value is checked by its own class) and read back from its description."""
    return encode_algorithm(_make_algorithm(name, options, names))


def _make_algorithm(name: str, options: Mapping, names: Names):
    fields = algorithm_fields(name, names)
    options = plain(options)
    unknown = [k for k in options if k not in fields]
    if unknown:
        raise _unknown(unknown, fields, f"{names('algorithm')} {name}", names)
    for key, value in options.items():  # a rule field given by its name alone: "window" for {"rule": "window"}
        if isinstance(value, str) and "LeaderRule" in str(fields[key].type):
            options[key] = {"rule": value}
    kwargs = {k: _decode_value(v, names(k)) for k, v in options.items()}
    return _algorithm_class(name, names)(**kwargs)


def build_algorithm(spec: Mapping):
    """The algorithm of an algorithm dict."""
    options = plain(spec)
    return _make_algorithm(options.pop("name"), options, str)


def encode_algorithm(algorithm) -> dict:
    """The dict of a built algorithm: its registry name and its described fields, canonical."""
    desc = plain(algorithm.describe())
    name = desc.pop("algorithm")
    fields = algorithm_fields(name)
    return {"name": name, **{k: _coerce(v, fields[k].type, fields[k].default) for k, v in desc.items()}}


def _decode_value(value, name: str):
    """A field value from its plain form: a schedule or leader dict → the object, a list → a float array."""
    from .leaders import LeaderRule
    if isinstance(value, Mapping) and "schedule" in value:
        return build_schedule(value, name)
    if isinstance(value, Mapping) and "rule" in value:
        return build_leader(value, name)
    if isinstance(value, list):
        try:
            return np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} as a list must be numbers (one per worker); got {value!r}") from None
    if isinstance(value, Mapping) and not isinstance(value, LeaderRule):
        raise ValueError(f"{name} as a table must be a schedule {{schedule = ..., ...}} or a leader rule "
                         f"{{rule = ..., ...}}; got {value!r}")
    return value


# -- leader rules and schedules -------------------------------------------------------------------------
def _classes_by_name(kind: str) -> dict[str, type]:
    from . import leaders, schedules
    if kind == "rule":
        return {cls.__name__.lower(): cls for cls in (*leaders.RULES.values(), *leaders.CONTROLS.values())}
    # The library's own schedules only: a subclass defined elsewhere (a theory check's) exists only where its
    # module was imported, so a spec naming it would build here and fail on a fresh Dask worker.
    return {cls.__name__: cls for cls in schedules.Schedule.__subclasses__() if cls.__module__ == schedules.__name__}


# Description keys that name a field differently (the Worst control describes its inner rule as "of").
_FIELD_OF_KEY = {"of": "rule"}


def _build(kind: str, spec: Mapping, name: str):
    classes = _classes_by_name(kind)
    spec = dict(spec)
    which = spec.pop(kind)
    if which not in classes:
        raise ValueError(f"{name}: {kind} must be one of {', '.join(classes)}; got {which!r}")
    cls = classes[which]
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {_FIELD_OF_KEY.get(k, k): v for k, v in spec.items()}
    unknown = [k for k in kwargs if k not in fields]
    if unknown:
        raise ValueError(f"{name}: {', '.join(unknown)} does not apply to the {kind} {which} "
                         f"(its options: {', '.join(sorted(fields)) or 'none'})")
    return cls(**{k: build_leader(v, name) if isinstance(v, Mapping) else v for k, v in kwargs.items()})


def build_leader(spec: Mapping, name: str = "leader"):
    """A leader rule from ``{"rule": "exact" | "noisy" | "window" | "worst" | "random", **fields}``."""
    return _build("rule", spec, name)


def build_schedule(spec: Mapping, name: str = "schedule"):
    """A schedule from ``{"schedule": "InverseTime" | "StepDecay" | "Constant", **fields}``."""
    return _build("schedule", spec, name)
