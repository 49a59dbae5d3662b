"""Synthetic objectives, vectorized over a leading worker axis (see :mod:`lsgdsim.objectives.base`).

``OBJECTIVES`` maps the command-line names to factories; :func:`make_objective` builds one from keyword
options, and refuses an option the objective does not take (``cond`` for the ring landscape) instead of
dropping it; :func:`objective_options` lists what each takes.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable

from .base import Objective, StationaryPoint
from .benchmark_functions import Ackley, Rastrigin, Rosenbrock, StyblinskiTang
from .landscapes import DoubleWell, RingSinc
from .logistic import LogisticRegression
from .matrix import MatrixFactorization
from .quadratic import Quadratic

OBJECTIVES: dict[str, Callable[..., Objective]] = {
    "quadratic": Quadratic.random,
    "indefinite": Quadratic.indefinite,
    "logistic": LogisticRegression,
    "ring": RingSinc,
    "double-well": DoubleWell,
    "rastrigin": Rastrigin,
    "ackley": Ackley,
    "rosenbrock": Rosenbrock,
    "styblinski-tang": StyblinskiTang,
    "matrix": MatrixFactorization,
}


def objective_options(name: str) -> tuple[str, ...]:
    """The keyword options the objective registered as ``name`` takes (its factory's parameters)."""
    factory = OBJECTIVES.get(name)
    if factory is None:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; got {name!r}")
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(k for k, p in inspect.signature(factory).parameters.items() if p.kind in kinds)


def make_objective(name: str, **options) -> Objective:
    """Build the objective registered as ``name`` from keyword ``options``.

    Options that are None count as not given. An option the factory does not take is an error naming
    it (``make_objective("ring", cond=10)`` raises ValueError: the ring landscape has no condition
    number), never silently dropped; an option it takes is validated by it (``make_objective("ring",
    dim=3)`` raises ValueError naming dim). Unknown names, and missing required options, raise ValueError.
    """
    takes = objective_options(name)
    factory = OBJECTIVES[name]
    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in options.items() if v is not None}
    missing = [k for k in takes if params[k].default is inspect.Parameter.empty and k not in kwargs]
    if missing:
        raise ValueError(f"objective {name!r} needs {', '.join(missing)}; none given")
    unknown = [] if takes_any else [k for k in kwargs if k not in takes]
    if unknown:
        raise ValueError(f"objective {name!r} does not take {', '.join(unknown)} "
                         f"(its options: {', '.join(takes) or 'none'})")
    return factory(**kwargs)


__all__ = [
    "OBJECTIVES",
    "Ackley",
    "DoubleWell",
    "LogisticRegression",
    "MatrixFactorization",
    "Objective",
    "Quadratic",
    "Rastrigin",
    "RingSinc",
    "Rosenbrock",
    "StationaryPoint",
    "StyblinskiTang",
    "make_objective",
    "objective_options",
]
