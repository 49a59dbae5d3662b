"""Synthetic objectives, vectorized over a leading worker axis (see :mod:`lsgdsim.objectives.base`).

``OBJECTIVES`` maps the command-line names to factories; :func:`make_objective` builds one from a
uniform set of options (the CLI passes ``dim``, ``cond``, ``seed``, ... to every objective alike).
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


def make_objective(name: str, **options) -> Objective:
    """Build the objective registered as ``name`` from keyword ``options``.

    Options that are None, or that the factory does not take (``cond`` for a landscape, ``seed`` for a
    deterministic function), are dropped, so a caller can pass one uniform set. An option the factory
    does take is validated by it (``make_objective("ring", dim=3)`` raises ValueError naming dim).
    Unknown names, and missing required options, raise ValueError.
    """
    factory = OBJECTIVES.get(name)
    if factory is None:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; got {name!r}")
    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in options.items() if v is not None and (takes_any or k in params)}
    missing = [k for k, p in params.items()
               if p.default is inspect.Parameter.empty and k not in kwargs
               and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    if missing:
        raise ValueError(f"objective {name!r} needs {', '.join(missing)}; none given")
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
]
