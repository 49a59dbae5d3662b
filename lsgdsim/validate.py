"""Argument validators shared by the whole library: one module, one argument order ``(value, name, ...)``.

Every validator accepts NumPy integer and float scalars wherever it accepts Python ones (a sweep over a
NumPy grid hands out ``np.int64`` and ``np.float64``), rejects ``bool`` where a number is meant, and
returns the value as a plain Python ``int``/``float``/``bool``, so that what is stored in a frozen
dataclass (and in ``Result.meta``) is the same whatever the caller passed. A bad value raises
``ValueError`` whose message starts with ``name`` and says what is accepted and what was given; the
CLI prints it as its one-line error.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterable

import numpy as np

INT_TYPES = (int, np.integer)
REAL_TYPES = (int, float, np.integer, np.floating)


def is_int(value) -> bool:
    """True for a Python or NumPy integer (not a bool)."""
    return isinstance(value, INT_TYPES) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    """True for a Python or NumPy integer or float (not a bool)."""
    return isinstance(value, REAL_TYPES) and not isinstance(value, (bool, np.bool_))


def _range_text(lo, hi, lo_open: bool, hi_open: bool) -> str:
    if hi is None or math.isinf(hi):
        return f"> {lo:g}" if lo_open else f">= {lo:g}"
    if lo is None or math.isinf(lo):
        return f"< {hi:g}" if hi_open else f"<= {hi:g}"
    return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def check_int(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """An integer in [lo, hi] (either bound optional); returns it as ``int``."""
    if not is_int(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is None:
            what = "a positive integer" if lo == 1 else f"an integer >= {lo}"
        elif lo is None and hi is None:
            what = "an integer"
        else:
            what = f"an integer {_range_text(lo, hi, False, False)}"
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return int(value)


def check_float(value, name: str, lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = False,
                hi_open: bool = False) -> float:
    """A finite real number in [lo, hi] (open ends with ``lo_open``/``hi_open``); returns it as ``float``."""
    ok = is_real(value) and math.isfinite(value)
    if ok:
        v = float(value)
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        bounds = "" if math.isinf(lo) and math.isinf(hi) else " " + _range_text(lo, hi, lo_open, hi_open)
        raise ValueError(f"{name} must be a finite number{bounds}; got {value!r}")
    return float(value)


def check_bool(value, name: str) -> bool:
    """True or False (a NumPy bool too); returns a Python ``bool``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """One of ``choices`` (strings)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_seed(value, name: str = "seed") -> int:
    """A seed for ``numpy.random.SeedSequence``: an integer >= 0 (``lsgdsim check --seed -1`` is refused)."""
    return check_int(value, name, 0)


def set_fields(obj, **values) -> None:
    """Store normalised values on a frozen dataclass from its ``__post_init__``."""
    for key, val in values.items():
        object.__setattr__(obj, key, val)


# -- memory: refuse a run whose arrays would not fit, before allocating them ------------------------
RECORD_OVERHEAD_BYTES = 3 * 112 + 3 * 32  # per record: three small ndarray headers, list slots, step, time
STATE_COPIES = 8  # X, the new X, gradients, noise, the pull gap, momentum/accumulator, a snapshot, headroom


def estimate_run_bytes(workers: int, dim: int, steps: int, record_every: int, itemsize: int = 8,
                       objective_bytes: int = 0) -> int:
    """Bytes a run holds at its peak, as an order of magnitude (documented in the README).

    Records: f, dist_to_leader and dist_to_center, (R, p) float64 each, kept per record and stacked at
    the end (so twice), R = steps // record_every + 2. State: about ``STATE_COPIES`` (p, d) arrays of the
    run's dtype. The objective's own data is ``objective_bytes`` (its spec's estimate,
    :func:`lsgdsim.spec.objective_size`; 0 where it is not counted); ``monitor`` arrays are not counted.
    """
    records = steps // record_every + 2
    per_record = 2 * 3 * workers * 8 + RECORD_OVERHEAD_BYTES
    return records * per_record + STATE_COPIES * workers * dim * itemsize + objective_bytes


def available_memory_bytes() -> int | None:
    """Memory the system can give now: MemAvailable of /proc/meminfo, else free pages (os.sysconf)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(workers: int, dim: int, steps: int, record_every: int, itemsize: int = 8, *,
                 objective_bytes: int = 0, objective: str = "the objective", names=str) -> int:
    """ValueError, with the estimate, when the run's arrays would not fit in the available memory.

    ``objective_bytes``: the objective's own arrays, counted too (``objective`` says what sets them: the CLI's
    ``--dim 100000``); ``names(key)`` says how the run keys are named (the CLI: ``--workers``). Returns the estimate.
    """
    need = estimate_run_bytes(workers, dim, steps, record_every, itemsize, objective_bytes)
    records = steps // record_every + 2
    parts = (f"{records:,} records x {workers} workers x 48 B for f and the distances, plus {STATE_COPIES} arrays "
             f"of {workers} x {dim} for the state")
    if objective_bytes:
        parts += f", plus {_gib(objective_bytes)} for the objective's own arrays ({objective})"
    advice = (f"record less often ({names('record_every')}), or use fewer {names('steps')}, {names('workers')} or "
              f"dimensions" + (f" ({objective})" if objective_bytes else ""))
    return check_available(need, f"this run needs about {_gib(need)} ({parts})", advice)


SMALL_NEED = 2**26      # 64 MiB: less than any machine that runs Python has free


def check_available(need: int, what: str, advice: str) -> int:
    """ValueError ``{what} but N GiB is available; {advice}`` when ``need`` bytes are more than the memory
    available now (:func:`available_memory_bytes`); returns ``need``. Needs under :data:`SMALL_NEED` are
    not checked (reading /proc/meminfo would be most of a small run's set-up)."""
    if need < SMALL_NEED:
        return need
    have = available_memory_bytes()
    if have is not None and need > have:
        raise ValueError(f"{what} but {_gib(have)} is available; {advice}")
    return need


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**28 else f"{n / 2**20:.3g} MiB"
