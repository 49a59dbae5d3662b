"""Compute-time models: the simulated seconds that one local step of one worker takes.

Worker i's local steps are counted k = 1, 2, ...; the duration of step k is a pure function of
(seed, i, k), drawn from :mod:`lsgdsim.clock.keyed` with stream ``COMPUTE_STREAM``
(u = keyed_uniform, z = keyed_normal), so it does not depend on what else is asked in the same call:

- ``Constant(c)``:             c_i                       mean c_i
- ``Lognormal(m, σ)``:         m_i · exp(σ z)            mean m_i · exp(σ²/2)          (median m_i)
- ``Pareto(x_min, a)``:        x_min,i · u^(−1/a)        mean x_min,i · a/(a − 1) for a > 1, else ∞
- ``Trace(times)``:            times[i, k − 1]           mean of row i

A per-worker parameter (c, m or x_min) is one positive float or a sequence of one per worker; a scalar
applies to every worker. ``describe()`` and :func:`compute_from_description` convert to and from JSON.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from lsgdsim.validate import check_float, check_int, is_real, set_fields

from .keyed import COMPUTE_STREAM, check_indices, keyed_normal, keyed_uniform


def _positive(value, name: str):
    """A finite float > 0, or a non-empty sequence of them (returned as a tuple of floats)."""
    if is_real(value):
        return check_float(value, name, 0.0, lo_open=True)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number > 0 or a per-worker sequence of them; got {value!r}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} as a sequence must have shape (workers,); got shape {arr.shape}")
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError(f"every entry of {name} must be a finite number > 0; got {arr.tolist()}")
    return tuple(arr.tolist())


def _per_worker(value, workers: np.ndarray) -> np.ndarray:
    """A scalar or per-worker parameter as a column (n, 1) for ``workers`` (n,)."""
    if isinstance(value, tuple):
        return np.asarray(value, dtype=np.float64)[workers][:, None]
    return np.full((workers.shape[0], 1), value)


class ComputeModel:
    """Seconds per local step of each worker; a subclass is a frozen dataclass giving ``_draw`` and ``_mean``."""

    name = ""

    def validate(self, workers: int) -> None:
        """ValueError unless every per-worker parameter has shape (workers,)."""
        workers = check_int(workers, "workers", 1)
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple) and len(value) != workers:
                raise ValueError(f"{type(self).__name__} {field.name} has {len(value)} entries, one per worker; "
                                 f"the run has {workers} workers")

    def durations(self, seed: int, workers, first, count: int) -> np.ndarray:
        """Seconds of steps first[i] + 1, ..., first[i] + count of worker workers[i]: float64 (n, count).

        ``seed``: integer >= 0. ``workers``, ``first``: integer arrays (n,), >= 0 (``first`` = steps already
        done). Each entry is a pure function of (seed, worker, step).
        """
        seed, count = check_int(seed, "seed", 0), check_int(count, "count", 0)
        w, f = check_indices(workers, "workers", 1), check_indices(first, "first", 1)
        if f.shape != w.shape:
            raise ValueError(f"first must have the shape of workers {w.shape}; got {f.shape}")
        limit = self._workers_known()
        if limit is not None and w.size and w.max() >= limit:
            raise ValueError(f"{type(self).__name__} has parameters for {limit} workers; got worker {w.max()}")
        return self._draw(seed, w, f[:, None] + np.arange(1, count + 1, dtype=np.int64)[None, :])

    def steps_known(self) -> int | None:
        """How many steps per worker the model can give (None: any number)."""
        return None

    def _workers_known(self) -> int | None:
        """Workers the parameters cover (None: a scalar parameter covers any number)."""
        sizes = [len(v) for v in (getattr(self, f.name) for f in dataclasses.fields(self)) if isinstance(v, tuple)]
        return min(sizes) if sizes else None

    def _draw(self, seed: int, workers: np.ndarray, steps: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mean(self, workers: int) -> np.ndarray:
        """Expected seconds per step of each worker, float64 (workers,) (inf for a Pareto shape <= 1)."""
        self.validate(workers)
        return np.broadcast_to(self._mean(), (workers,)).astype(np.float64)

    def _mean(self):
        raise NotImplementedError

    def describe(self) -> dict:
        """JSON-able description: {"model": name, field: value, ...} (sequences and arrays as lists)."""
        out = {"model": self.name}
        for field in dataclasses.fields(self):
            v = getattr(self, field.name)
            out[field.name] = v.tolist() if isinstance(v, np.ndarray) else list(v) if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True)
class Constant(ComputeModel):
    """Every step of worker i takes ``seconds`` (a float > 0, or one per worker) seconds."""

    seconds: float | tuple[float, ...]
    name = "constant"

    def __post_init__(self):
        set_fields(self, seconds=_positive(self.seconds, "Constant seconds"))

    def _draw(self, seed, workers, steps):
        return np.broadcast_to(_per_worker(self.seconds, workers), steps.shape).copy()

    def _mean(self):
        return np.asarray(self.seconds)


@dataclass(frozen=True)
class Lognormal(ComputeModel):
    """median·exp(sigma·z) seconds, z standard normal: median (float > 0 or one per worker), sigma >= 0."""

    median: float | tuple[float, ...]
    sigma: float
    name = "lognormal"

    def __post_init__(self):
        set_fields(self, median=_positive(self.median, "Lognormal median"),
                   sigma=check_float(self.sigma, "Lognormal sigma", 0.0))

    def _draw(self, seed, workers, steps):
        z = keyed_normal(seed, COMPUTE_STREAM, workers, steps)
        with np.errstate(over="ignore"):  # |z| < 8.3: finite unless sigma is huge
            return _per_worker(self.median, workers) * np.exp(self.sigma * z)

    def _mean(self):
        return np.asarray(self.median) * np.exp(self.sigma**2 / 2)


@dataclass(frozen=True)
class Pareto(ComputeModel):
    """minimum·u^(−1/shape) seconds, u uniform in (0, 1): a heavy tail of stragglers (P(T > t) = (minimum/t)^shape).

    ``minimum``: float > 0 or one per worker; ``shape`` > 0 (the mean is finite for shape > 1, the variance
    for shape > 2). The largest draw is minimum·2^(53/shape), which overflows to inf for shape < 0.052.
    """

    minimum: float | tuple[float, ...]
    shape: float
    name = "pareto"

    def __post_init__(self):
        set_fields(self, minimum=_positive(self.minimum, "Pareto minimum"),
                   shape=check_float(self.shape, "Pareto shape", 0.0, lo_open=True))

    def _draw(self, seed, workers, steps):
        u = keyed_uniform(seed, COMPUTE_STREAM, workers, steps)
        with np.errstate(over="ignore"):  # u >= 2^-53: finite unless shape < 0.052 or minimum is huge
            return _per_worker(self.minimum, workers) * u ** (-1.0 / self.shape)

    def _mean(self):
        return np.asarray(self.minimum) * (self.shape / (self.shape - 1) if self.shape > 1 else np.inf)


@dataclass(frozen=True, eq=False)
class Trace(ComputeModel):
    """Recorded durations: step k of worker i takes times[i, k − 1] seconds; ``times`` float (p, T), > 0.

    Stored as a read-only float64 copy; equality and hash compare the shape and the values.
    """

    times: np.ndarray
    name = "trace"

    def __post_init__(self):
        try:
            arr = np.array(self.times, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Trace times must be a 2-D array of seconds; got {self.times!r}") from exc
        if arr.ndim != 2 or arr.size == 0:
            raise ValueError(f"Trace times must be a non-empty 2-D array (workers, steps); got shape {arr.shape}")
        if not np.all(np.isfinite(arr) & (arr > 0)):
            raise ValueError("every entry of Trace times must be a finite number > 0")
        arr.setflags(write=False)
        set_fields(self, times=arr)

    def __eq__(self, other):
        return isinstance(other, Trace) and np.array_equal(self.times, other.times)

    def __hash__(self):
        return hash((self.times.shape, self.times.tobytes()))

    def validate(self, workers: int) -> None:
        workers = check_int(workers, "workers", 1)
        if self.times.shape[0] != workers:
            raise ValueError(f"Trace times has {self.times.shape[0]} rows, one per worker; the run has {workers}")

    def _workers_known(self):
        return self.times.shape[0]

    def steps_known(self):
        return self.times.shape[1]

    def _draw(self, seed, workers, steps):
        length = self.times.shape[1]
        over = steps > length
        if over.any():
            i, k = np.argwhere(over)[0]
            raise ValueError(f"compute trace has {length} steps per worker; "
                             f"worker {workers[i]} needs step {steps[i, k]}")
        return self.times[workers[:, None], steps - 1]

    def _mean(self):
        return self.times.mean(axis=1)


COMPUTE_MODELS = {"constant": Constant, "lognormal": Lognormal, "pareto": Pareto, "trace": Trace}


def compute_from_description(d: dict) -> ComputeModel:
    """The model that ``describe()`` returned ``d`` for; ValueError naming an unknown model or key."""
    if not isinstance(d, dict) or d.get("model") not in COMPUTE_MODELS:
        got = d.get("model") if isinstance(d, dict) else d
        raise ValueError(f"compute model must be one of {', '.join(COMPUTE_MODELS)}; got {got!r}")
    cls = COMPUTE_MODELS[d["model"]]
    names = [f.name for f in dataclasses.fields(cls)]
    extra = sorted(set(d) - {"model", *names})
    missing = [n for n in names if n not in d]
    if extra or missing:
        raise ValueError(f"compute model {d['model']!r} takes keys {', '.join(names)}; "
                         f"unknown {extra}, missing {missing}")
    return cls(**{n: d[n] for n in names})
