"""The flat form of a :class:`~lsgdsim.spec.RunSpec`: the keys of ``lsgdsim run``'s options and of a sweep
grid's TOML, sorted into the nested form's objective, algorithm and run parts (and back).

See :mod:`lsgdsim.spec` for the keys. Every bad or misplaced key is a one-line ``ValueError`` naming it
(through ``names``: the CLI spells keys as its options).
"""
from __future__ import annotations

import json

from . import components
from .components import Names, algorithm_fields
from .spec_clock import clock_from_flat
from .validate import check_choice, check_float, check_int, is_int, is_real

RUN_DEFAULTS = {"workers": 8, "steps": 1000, "grad_noise": 0.0, "batch_size": None, "seed": 0, "backend": "numpy",
                "dtype": "float64", "record_every": None}  # record_every None: about 500 records
DEFAULT_OBJECTIVE, DEFAULT_ALGORITHM, DEFAULT_LR = "quadratic", "lsgd", 0.01
OBJECTIVE_KEYS = {"seed": "problem_seed"}  # factory option -> flat key, where the run has a key of that name
LR_KEYS = ("lr_schedule", "lr_decay_steps", "lr_decay_factor")
LEADER_KEYS = ("leader_noise", "window")
SCHEDULES = {"constant": (), "inverse-time": ("lr_decay_steps",), "step": ("lr_decay_steps", "lr_decay_factor")}


def objective_keys(name: str, names: Names = str) -> dict[str, str]:
    """Flat key -> factory option of the objective ``name``."""
    params = components._factory_parameters(name, names)
    return {OBJECTIVE_KEYS.get(k, k): k for k in params}


def algorithm_keys(name: str, names: Names = str) -> tuple[str, ...]:
    """The flat keys that apply to the algorithm ``name``: its fields, the lr schedule, leader options."""
    takes = algorithm_fields(name, names)
    return (*takes, *LR_KEYS, *(LEADER_KEYS if "leader" in takes else ()))


def from_flat(flat: dict, names: Names, default_leader: str) -> dict:
    """Flat form → nested form (the objective and algorithm options sorted out, the CLI's rules applied)."""
    flat = dict(flat)
    objective = flat.pop("objective", DEFAULT_OBJECTIVE)
    algorithm = flat.pop("algorithm", DEFAULT_ALGORITHM)
    for key, value in (("objective", objective), ("algorithm", algorithm)):
        if not isinstance(value, str):
            raise ValueError(f"{names(key)} must be a name; got {value!r}")
    nested = {k: flat.pop(k) for k in RUN_DEFAULTS if k in flat}
    workers = check_int(nested.get("workers", RUN_DEFAULTS["workers"]), names("workers"), 1)
    clock = clock_from_flat(flat, workers, names)
    if clock is not None:
        nested["clock"] = clock
    for key in ("time_budget", "oracle"):
        if key in flat:
            nested[key] = flat.pop(key)
    obj_keys, alg_keys = objective_keys(objective, names), algorithm_keys(algorithm, names)
    obj_opts, alg_opts = {}, {}
    for key, value in flat.items():
        if key in obj_keys and key in alg_keys:
            raise ValueError(f"{names(key)} is an option of both {names('objective')} {objective} and "
                             f"{names('algorithm')} {algorithm}; use the nested form")
        if key in obj_keys:
            obj_opts[obj_keys[key]] = value
        elif key in alg_keys:
            alg_opts[key] = value
        else:
            raise misplaced(key, objective, algorithm, names)
    nested["objective"] = {"name": objective, **obj_opts}
    nested["algorithm"] = {"name": algorithm, **algorithm_options(algorithm, alg_opts, names, default_leader)}
    return nested


def misplaced(key: str, objective: str, algorithm: str, names: Names) -> ValueError:
    from .algorithms import ALGORITHMS
    from .objectives import OBJECTIVES
    if any(key in objective_keys(o) for o in OBJECTIVES):
        return ValueError(f"{names(key)} does not apply to {names('objective')} {objective} "
                          f"({_its_options(objective_keys(objective), names)})")
    if any(key in algorithm_keys(a) for a in ALGORITHMS):
        return ValueError(f"{names(key)} does not apply to {names('algorithm')} {algorithm}")
    return ValueError(f"unknown option {names(key)} (not a key of any objective, algorithm or run)")


def _its_options(keys, names) -> str:
    """"its options: dim, scale" — on the command line only the keys it has a flag for, and the others as
    what a spec file (``--spec``) takes."""
    flags = [names(k) for k in keys if names(k).startswith("--")]
    others = [k for k in keys if not names(k).startswith("--")]
    if not others or not any(names(k) != k for k in ("objective", "algorithm")):
        return f"its options: {', '.join(names(k) for k in keys) or 'none'}"
    return f"its options: {', '.join(flags) or 'none on the command line'}; {', '.join(others)} in a --spec file"


def algorithm_options(name, opts, names, default_leader, step_decay_steps=None) -> dict:
    takes = algorithm_fields(name, names)
    opts["lr"] = _flat_lr(opts, names, step_decay_steps)
    if "leader" in takes:
        from .algorithms import ALGORITHMS
        own = getattr(ALGORITHMS[name], "flat_leader", None)   # lsgd-authors: the authors' window
        opts["leader"] = _leaderfrom_flat(opts, names, default_leader, own)
    return opts


def _flat_lr(opts: dict, names: Names, step_decay_steps):
    lr = opts.pop("lr", DEFAULT_LR)
    schedule = opts.pop("lr_schedule", None) or "constant"
    given = {k: opts.pop(k) for k in LR_KEYS[1:] if opts.get(k) is not None}
    check_choice(schedule, names("lr_schedule"), SCHEDULES)
    for key in given:
        if key not in SCHEDULES[schedule]:
            raise ValueError(f"{names(key)} does not apply to {names('lr_schedule')} {schedule}")
    if schedule == "constant":
        return lr
    if not is_real(lr):
        raise ValueError(f"{names('lr_schedule')} {schedule} needs a number {names('lr')}; got {lr!r}")
    b = given.get("lr_decay_steps")
    if b is None:
        b = step_decay_steps if step_decay_steps is not None and schedule == "step" else 100.0
    b = check_float(b, names("lr_decay_steps"), 0.0, lo_open=True)
    if schedule == "inverse-time":
        return {"schedule": "InverseTime", "a": lr * b, "b": b}
    factor = given.get("lr_decay_factor", 0.1)
    return {"schedule": "StepDecay", "value": lr, "factor": factor, "every": int(b)}


def _leaderfrom_flat(opts: dict, names: Names, default_leader: str, own: dict | None = None):
    """The leader rule dict from the flat keys. ``own``: the algorithm's own default rule, which replaces
    ``default_leader`` and whose fields (the authors' zero-initialised window) a flat rule of its kind keeps."""
    from .leaders import CONTROLS, RULES
    rule = opts.pop("leader", None)
    sigma, window = opts.pop("leader_noise", None), opts.pop("window", None)
    if isinstance(rule, dict):
        for key, value in (("leader_noise", sigma), ("window", window)):
            if value is not None:
                raise ValueError(f"{names(key)} does not apply with a {names('leader')} table (give it in the table)")
        return rule
    if own is not None and rule is None:
        rule = own["rule"]
    rule = default_leader if rule is None else rule
    check_choice(rule, names("leader"), (*RULES, *CONTROLS))
    if window is not None:
        if rule != "window":
            raise ValueError(f"{names('window')} applies to {names('leader')} window only (the leader rule here is "
                             f"{rule})")
        check_int(window, names("window"), 1)
    if sigma is not None and rule not in ("noisy", "window"):
        raise ValueError(f"{names('leader_noise')} does not apply to {names('leader')} {rule} (it uses the true f "
                         "or no f at all); use noisy or window")
    if rule == "noisy" and sigma is None:
        raise ValueError(f"{names('leader')} noisy needs {names('leader_noise')} SIGMA (the σ_f of the loss estimates)")
    if rule == "noisy":
        return {"rule": "noisy", "sigma": sigma}
    if rule == "window":
        kept = own if own is not None and own["rule"] == "window" else {}
        return {**kept, "rule": "window", "size": kept.get("size", 10) if window is None else window,
                "sigma": 0.0 if sigma is None else sigma}
    return {"rule": rule}


def flat_leader(leader: dict) -> dict:
    """A leader rule dict in the flat keys where they can say it, else as its table."""
    rule = leader["rule"]
    if rule in ("exact", "random") or leader == {"rule": "worst", "of": {"rule": "exact"}}:
        return {"leader": rule}
    if rule == "noisy":
        return {"leader": "noisy", "leader_noise": leader["sigma"]}
    if rule == "window" and not leader.get("zero_init"):
        return {"leader": "window", "window": leader["size"], **({"leader_noise": leader["sigma"]}
                                                                  if leader["sigma"] else {})}
    return {"leader": leader}


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_int(value) or isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
