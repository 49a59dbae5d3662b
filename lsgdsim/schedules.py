"""Step-size and pull-strength schedules, and the hyperparameter type they share.

A hyperparameter (``lr``, ``pull``, ``alpha``, ...) is one of
- a float (same for every worker, every step);
- a per-worker array of shape (p,);
- a :class:`Schedule`, a function of the step index t = 1, 2, ... (``InverseTime(a, b)`` = a/(b + t)).

:func:`check_hyper` validates one against its accepted range before any work is done, and
:class:`Hyper` evaluates it at step t on the run's backend (a Python float, or a (p, 1) column so that
it broadcasts against worker state (p, d)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .backend import from_numpy
from .validate import check_float, check_int, is_real, set_fields


class Schedule:
    """A value per step t = 1, 2, ...; ``bounds()`` gives (inf, sup) over t >= 1 for validation."""

    def __call__(self, t: int) -> float:
        raise NotImplementedError

    def bounds(self) -> tuple[float, float]:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"schedule": type(self).__name__, **self.__dict__}


@dataclass(frozen=True)
class Constant(Schedule):
    value: float

    def __post_init__(self):
        set_fields(self, value=check_float(self.value, "Constant value"))

    def __call__(self, t: int) -> float:
        return self.value

    def bounds(self):
        return (self.value, self.value)


@dataclass(frozen=True)
class InverseTime(Schedule):
    """a / (b + t): the Θ(1/t) schedule of the paper's O(1/t) results."""

    a: float
    b: float = 0.0

    def __post_init__(self):
        set_fields(self, a=check_float(self.a, "InverseTime a", 0.0, lo_open=True),
                   b=check_float(self.b, "InverseTime b", -1.0, lo_open=True))

    def __call__(self, t: int) -> float:
        return self.a / (self.b + t)

    def bounds(self):
        return (0.0, self.a / (self.b + 1))


@dataclass(frozen=True)
class StepDecay(Schedule):
    """value · factor^⌊(t − 1) / every⌋: drops by ``factor`` every ``every`` steps."""

    value: float
    factor: float = 0.1
    every: int = 1000

    def __post_init__(self):
        set_fields(self, value=check_float(self.value, "StepDecay value", 0.0, lo_open=True),
                   factor=check_float(self.factor, "StepDecay factor", 0.0, 1.0, lo_open=True),
                   every=check_int(self.every, "StepDecay every", 1))

    def __call__(self, t: int) -> float:
        return self.value * self.factor ** ((t - 1) // self.every)

    def bounds(self):
        return (0.0 if self.factor < 1 else self.value, self.value)


def check_hyper(value, name: str, lo: float, hi: float, *, lo_open: bool = False, workers: int | None = None):
    """Validate a hyperparameter; return it normalised (float, float ndarray (p,), or Schedule).

    Accepted range is [lo, hi] (or (lo, hi] with ``lo_open``). Raises ``ValueError`` naming ``name``.
    """
    rng_txt = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if math.isinf(hi) else ']'}"

    def bad(v) -> bool:
        return not (math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi)

    if isinstance(value, Constant):
        check_hyper(value.value, name, lo, hi, lo_open=lo_open)
        return value
    if isinstance(value, Schedule):
        # Decaying schedules (a/(b+t), step decay) approach their infimum without reaching it,
        # so an open lower bound is met when the infimum is not below it.
        inf, sup = value.bounds()
        if not (math.isfinite(sup) and sup <= hi and inf >= lo):
            raise ValueError(f"{name} schedule {value!r} leaves the accepted range {rng_txt}")
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name} must be a number in {rng_txt}, a per-worker array or a schedule; got {value!r}")
    if is_real(value):
        v = float(value)
        if bad(v):
            raise ValueError(f"{name} must be in {rng_txt}; got {value!r}")
        return v
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, a per-worker array or a schedule; got {value!r}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} as an array must have shape (workers,); got shape {arr.shape}")
    if workers is not None and arr.shape[0] != workers:
        raise ValueError(f"{name} as an array must have shape ({workers},) (one per worker); got {arr.shape}")
    if any(bad(v) for v in arr):
        raise ValueError(f"every entry of {name} must be in {rng_txt}; got {arr.tolist()}")
    return arr


def describe_hyper(value):
    """JSON-able form of a hyperparameter, for run metadata."""
    if isinstance(value, Schedule):
        return value.describe()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


class Hyper:
    """A validated hyperparameter bound to one run's backend: ``at(t)`` → float or (p, 1) column.

    ``t`` is the step index, one int for every row (lockstep), or an int array (n,) with each row's own
    step counter (the clock, where workers run at their own pace): a schedule is then evaluated at each
    row's own t, once per distinct t, and returned as an (n, 1) column (a float when all t agree).
    :meth:`take` restricts a per-worker array to some rows (the workers a process or a clock event owns).
    """

    def __init__(self, value, xp, dtype):
        self.value = value
        self.xp, self.dtype = xp, dtype
        self.is_schedule = isinstance(value, Schedule)
        self.column = from_numpy(np.asarray(value)[:, None], xp, dtype) if isinstance(value, np.ndarray) else None

    def at(self, t):
        if self.column is not None:
            return self.column
        if not self.is_schedule:
            return self.value
        if isinstance(t, (int, np.integer)):
            return self.value(int(t))
        steps, where = np.unique(np.asarray(t), return_inverse=True)
        if len(steps) == 1:
            return self.value(int(steps[0]))
        values = np.array([self.value(int(k)) for k in steps], dtype=float)   # once per distinct step
        return from_numpy(values[where][:, None], self.xp, self.dtype)

    def take(self, rows) -> Hyper:
        """This hyperparameter for the workers ``rows`` (an int array) only."""
        if self.column is None:
            return self
        out = Hyper.__new__(Hyper)
        out.value, out.xp, out.dtype, out.is_schedule = self.value[rows], self.xp, self.dtype, False
        out.column = self.column[rows]
        return out

    def is_zero(self, t) -> bool:
        """True when the value is exactly 0 for every worker at step t (lets a rule skip work)."""
        if self.column is not None:
            return bool(np.all(self.value == 0))
        if self.is_schedule and not isinstance(t, (int, np.integer)):
            return all(self.value(int(k)) == 0 for k in np.unique(np.asarray(t)))
        return self.at(t) == 0

    @property
    def identically_zero(self) -> bool:
        """True when the value is 0 for every worker at every step (a constant 0 or an all-zero array)."""
        if self.is_schedule:
            return self.value.bounds() == (0.0, 0.0)
        return bool(np.all(np.asarray(self.value) == 0))
