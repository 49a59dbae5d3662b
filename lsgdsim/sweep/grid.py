"""A sweep grid in plain TOML: ``[base]`` plus axes, expanded to one RunSpec per grid point.

See :mod:`lsgdsim.sweep` for the schema. Nothing is expanded before the whole grid is checked: every key is
one a spec knows, every axis a list or a well-formed range (finite ends), no value nested more than
``NESTING_LIMIT`` deep, and the number of runs (the product of the axes' lengths, counted without making a
point) at most ``max_runs`` (``MAX_RUNS`` unless ``lsgdsim sweep --max-runs N`` says more). Then each value
of each axis is made into a spec with the other axes at their first value, and then every point is made into
a spec and checked (the spec's own checks, then ``simulate``'s: per-worker arrays, groups dividing p,
memory) before anything runs; the first bad point is a one-line ``ValueError`` naming it and the key.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..components import plain
from ..spec import RunSpec, canonical_json
from ..validate import check_bool, check_int, is_int, is_real

TABLES = ("base", "grid", "zip")
RANGE_KEYS = {"start", "stop", "step", "num", "log"}
MAX_RUNS = 100_000      # a grid of more runs is refused unless max_runs (lsgdsim sweep --max-runs N) allows it
NESTING_LIMIT = 8       # lists and tables a value may nest (a leader rule or a clock table needs 3)


@dataclass(frozen=True)
class Grid:
    """An expanded grid: ``specs[i]`` is the run of grid point ``points[i]`` (the axis values it sets).

    Points that give the same spec are kept once (the first); ``axes`` are the varied keys, in order.
    """

    specs: tuple[RunSpec, ...]
    points: tuple[dict, ...]
    axes: tuple[str, ...]
    source: dict

    def __len__(self) -> int:
        return len(self.specs)


@dataclass(frozen=True)
class _Axis:
    """One axis of the product, not yet expanded: its keys (several for a [[zip]] group), each key's list or
    range table, and its length."""

    keys: tuple[str, ...]
    columns: tuple
    length: int

    def values(self) -> list[tuple]:
        """The axis' values, one tuple (a value per key) each."""
        columns = [axis_values(c, k) for k, c in zip(self.keys, self.columns, strict=True)]
        return list(zip(*columns, strict=True))


def load_grid(path, max_runs: int = MAX_RUNS) -> Grid:
    """Read and expand the TOML grid at ``path`` (``ValueError`` naming the file and what is wrong)."""
    import tomllib
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no grid file at {path}") from None
    except RecursionError:
        raise ValueError(f"{path}: a value nests lists or tables more than {NESTING_LIMIT} deep") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid TOML: {' '.join(str(exc).split())}") from None
    try:
        return expand_grid(data, max_runs=max_runs)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def grid_size(data: Mapping) -> int:
    """The number of points of a grid (the product of its axes' lengths; points giving the same spec count
    each), every key and value checked as :func:`expand_grid` checks them, and nothing expanded."""
    _, axes = _layout(data)
    return math.prod(axis.length for axis in axes)


def expand_grid(data: Mapping, check: bool = True, max_runs: int = MAX_RUNS) -> Grid:
    """Expand a grid given as a mapping (``[base]``, ``[grid]``, ``[[zip]]``) into specs, each checked.

    Refused before anything is expanded: a bad key or value anywhere, or more than ``max_runs`` points."""
    max_runs = check_int(max_runs, "max_runs", 1)
    base, axes = _layout(data)
    n = math.prod(axis.length for axis in axes)
    if n > max_runs:
        sizes = " x ".join(f"{'/'.join(axis.keys)} {axis.length:,}" for axis in axes)
        raise ValueError(f"the grid has {n:,} runs ({sizes}), more than {max_runs:,}: give --max-runs {n} "
                         "(max_runs in Python) to allow them, or fewer values")
    values = [axis.values() for axis in axes]
    first = _first_of_each_value(base, axes, values, n, check)
    specs, kept, seen = [], [], set()
    for i, index in enumerate(itertools.product(*(range(len(v)) for v in values))):
        point = _point(axes, values, index)
        spec = first.pop(i) if i in first else _spec(base, point, i, n, check)
        if spec.hash not in seen:
            seen.add(spec.hash)
            specs.append(spec)
            kept.append(point)
    return Grid(tuple(specs), tuple(kept), tuple(k for axis in axes for k in axis.keys), plain(data))


def _point(axes: list[_Axis], values: list[list[tuple]], index) -> dict:
    """The grid point of one value index per axis, as {key: value}."""
    return {k: v for axis, vals, j in zip(axes, values, index, strict=True)
            for k, v in zip(axis.keys, vals[j], strict=True)}


def _spec(base: dict, point: dict, i: int, n: int, check: bool) -> RunSpec:
    """The (checked) spec of grid point ``i`` of ``n``; ValueError naming the point."""
    try:
        spec = RunSpec.from_dict({**base, **point})
        if check:
            spec.check()
    except ValueError as exc:
        label = ", ".join(f"{k}={canonical_json(v)}" for k, v in point.items())
        raise ValueError(f"grid point {i + 1} of {n} ({label or 'the base'}): {exc}") from None
    return spec


def _first_of_each_value(base, axes, values, n: int, check: bool) -> dict[int, RunSpec]:
    """The spec of every value of every axis, the other axes at their first value (sum of the axes' lengths
    specs, not their product), so that a bad value is named before the grid is expanded; by point index."""
    strides = [math.prod(len(v) for v in values[a + 1:]) for a in range(len(values))]
    specs = {0: _spec(base, _point(axes, values, [0] * len(axes)), 0, n, check)}
    for a, vals in enumerate(values):
        for j in range(1, len(vals)):
            index = [0] * len(axes)
            index[a] = j
            specs[j * strides[a]] = _spec(base, _point(axes, values, index), j * strides[a], n, check)
    return specs


def _layout(data: Mapping) -> tuple[dict, list[_Axis]]:
    """[base] and the axes of a grid, every table, key and value checked, nothing expanded."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a grid is a table of [base], [grid] and [[zip]]; got {type(data).__name__}")
    unknown = [str(k) for k in data if k not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {', '.join(unknown)} (a grid has [base], [grid] and [[zip]])")
    _check_nesting(data)
    data = plain(data)
    if not data:
        raise ValueError("the grid is empty: give a [base] table of spec keys and/or [grid] axes")
    base = data.get("base", {})
    if not isinstance(base, dict):
        raise ValueError("[base] must be a table of spec keys")
    _check_keys(base, "[base]")
    axes = _axes(data.get("grid", {}), data.get("zip", []))
    for axis in axes:
        for key in axis.keys:
            if key in base:
                raise ValueError(f"{key} is both in [base] and an axis; give it in one place")
    return base, axes


def _check_nesting(data: Mapping) -> None:
    """Refuse a value nested more than NESTING_LIMIT lists or tables deep, naming its key, before anything
    recurses into it (an axis is a list of values: one level more)."""
    for table, content in data.items():
        groups = content if table == "zip" and isinstance(content, (list, tuple)) else [content]
        for n, group in enumerate(groups, 1):
            where = f"[[zip]] {n}" if table == "zip" else f"[{table}]"
            for key, value in (group.items() if isinstance(group, Mapping) else [("", group)]):
                if not _nests_at_most(value, NESTING_LIMIT + (table != "base")):
                    raise ValueError(f"{where} {key}: a value nests lists or tables more than {NESTING_LIMIT} deep")


def _nests_at_most(value, depth: int) -> bool:
    """Whether ``value`` nests lists and tables at most ``depth`` deep (looking no deeper than that)."""
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        return True
    return depth > 0 and all(_nests_at_most(v, depth - 1) for v in value)


@lru_cache(maxsize=1)
def _spec_keys() -> frozenset[str]:
    """Every flat key a spec knows: the run's, the clock's, and those of any objective or algorithm."""
    from ..algorithms import ALGORITHMS
    from ..objectives import OBJECTIVES
    from ..spec import CLOCK_RUN_KEYS
    from ..spec_clock import CLOCK_KEYS
    from ..spec_flat import RUN_DEFAULTS, algorithm_keys, objective_keys
    keys = {"objective", "algorithm", *RUN_DEFAULTS, *CLOCK_RUN_KEYS, *CLOCK_KEYS}
    for name in OBJECTIVES:
        keys.update(objective_keys(name))
    for name in ALGORITHMS:
        keys.update(algorithm_keys(name))
    return frozenset(keys)


def _check_keys(table: Mapping, where: str) -> None:
    unknown = [k for k in table if k not in _spec_keys()]
    if unknown:
        raise ValueError(f"{where}: unknown option {', '.join(unknown)} (not a key of any objective, algorithm or run)")


def _axes(grid, zips) -> list[_Axis]:
    """Each axis, not expanded: one key per [grid] entry, several for a [[zip]] group, then the seeds."""
    if not isinstance(grid, dict):
        raise ValueError("[grid] must be a table of axes")
    zips = [zips] if isinstance(zips, dict) else zips
    if not isinstance(zips, list):
        raise ValueError("[[zip]] must be tables of equally long axes")
    grid = dict(grid)
    seeds = grid.pop("seeds", None)
    _check_keys(grid, "[grid]")
    axes = [_Axis((key,), (value,), axis_length(value, key)) for key, value in grid.items()]
    for n, group in enumerate(zips, 1):
        if not isinstance(group, dict) or not group:
            raise ValueError("each [[zip]] must be a table of equally long axes")
        _check_keys(group, f"[[zip]] {n}")
        lengths = {key: axis_length(value, key) for key, value in group.items()}
        if len(set(lengths.values())) != 1:
            sizes = ", ".join(f"{k}: {v}" for k, v in lengths.items())
            raise ValueError(f"the axes of a [[zip]] must have equal lengths ({sizes})")
        axes.append(_Axis(tuple(group), tuple(group.values()), next(iter(lengths.values()))))
    if seeds is not None:
        if "seed" in grid:
            raise ValueError("give the seeds axis once: seed = [...] or seeds = N")
        if is_int(seeds):
            seeds = {"start": 0, "stop": check_int(seeds, "seeds", 1), "step": 1}
        axes.append(_Axis(("seed",), (seeds,), axis_length(seeds, "seeds")))
    keys = [k for axis in axes for k in axis.keys]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} is on more than one axis")
    return axes


def axis_length(value, key: str) -> int:
    """The number of values of an axis (a list, or a range table as :func:`axis_values` takes), checked, and
    counted without making them."""
    if isinstance(value, list):
        if not value:
            raise ValueError(f"axis {key} has no values")
        return len(value)
    if not isinstance(value, dict) or not {"start", "stop"} <= set(value) or set(value) - RANGE_KEYS:
        raise ValueError(f"axis {key} must be a list of values or a range {{start, stop, step}} / "
                         f"{{start, stop, num, log}}; got {value!r} (a single value goes in [base])")
    if ("step" in value) == ("num" in value):
        raise ValueError(f"axis {key}: a range has either step or num")
    ends = [value["start"], value["stop"], value.get("step", 1)]
    if not all(is_real(v) and math.isfinite(v) for v in ends):
        raise ValueError(f"axis {key}: start, stop and step must be finite numbers; got {value!r}")
    start, stop, step = ends
    if "num" in value:
        log = check_bool(value.get("log", False), f"axis {key}: log")
        if log and not (start > 0 and stop > 0):
            raise ValueError(f"axis {key}: a log range needs start and stop > 0")
        return check_int(value["num"], f"axis {key}: num", 1)
    if "log" in value:
        raise ValueError(f"axis {key}: log goes with num, not step")
    if step == 0:
        raise ValueError(f"axis {key}: step must be a non-zero number; got {step!r}")
    if all(map(is_int, ends)):
        count = len(range(start, stop, step))
    else:
        quotient = (stop - start) / step - 1e-9
        if not math.isfinite(quotient):
            raise ValueError(f"axis {key}: the range {value!r} has too many values")
        count = max(0, math.ceil(quotient))
    if not count:
        raise ValueError(f"axis {key}: the range {value!r} is empty")
    return count


def axis_values(value, key: str) -> list:
    """An axis' values: a list as it is, or a range table ``{start, stop, step}`` (stop excluded) or
    ``{start, stop, num[, log]}`` (num values, both ends included; log: a geometric progression).
    Float ranges are rounded to 12 significant digits (0.30000000000000004 → 0.3). Checked (and sized) by
    :func:`axis_length` first: make a huge range only after its length is known to be wanted."""
    count = axis_length(value, key)
    if isinstance(value, list):
        return value
    start, stop = value["start"], value["stop"]
    if "step" in value:
        step = value["step"]
        if all(map(is_int, (start, stop, step))):
            return list(range(start, stop, step))
        return [_round(start + i * step) for i in range(count)]
    values = [_round(v) for v in (np.geomspace if value.get("log") else np.linspace)(start, stop, count)]
    if is_int(start) and is_int(stop) and all(v.is_integer() for v in values):
        values = [int(v) for v in values]  # {start = 1, stop = 9, num = 5} on an integer key
    return values


def _round(v: float) -> float:
    return float(f"{float(v):.12g}")
