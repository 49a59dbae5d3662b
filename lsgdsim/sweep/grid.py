"""A sweep grid in plain TOML: ``[base]`` plus axes, expanded to one RunSpec per grid point.

See :mod:`lsgdsim.sweep` for the schema. Every point is made into a spec and checked (the spec's own
checks, then ``simulate``'s: per-worker arrays, groups dividing p, memory) before anything runs; the first
bad point is a one-line ``ValueError`` naming it and the key.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..components import plain
from ..spec import RunSpec, canonical_json
from ..validate import check_int, is_int, is_real

TABLES = ("base", "grid", "zip")
RANGE_KEYS = {"start", "stop", "step", "num", "log"}


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


def load_grid(path) -> Grid:
    """Read and expand the TOML grid at ``path`` (``ValueError`` naming the file and what is wrong)."""
    import tomllib
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no grid file at {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid TOML: {' '.join(str(exc).split())}") from None
    try:
        return expand_grid(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def expand_grid(data: Mapping, check: bool = True) -> Grid:
    """Expand a grid given as a mapping (``[base]``, ``[grid]``, ``[[zip]]``) into specs, each checked."""
    data = plain(data)
    unknown = [k for k in data if k not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {', '.join(unknown)} (a grid has [base], [grid] and [[zip]])")
    if not data:
        raise ValueError("the grid is empty: give a [base] table of spec keys and/or [grid] axes")
    base = data.get("base", {})
    if not isinstance(base, dict):
        raise ValueError("[base] must be a table of spec keys")
    axes = _axes(data.get("grid", {}), data.get("zip", []))
    for keys, _ in axes:
        for key in keys:
            if key in base:
                raise ValueError(f"{key} is both in [base] and an axis; give it in one place")
    points = [dict(p) for p in _product(axes)]
    specs, kept, seen = [], [], set()
    for i, point in enumerate(points):
        try:
            spec = RunSpec.from_dict({**base, **point})
            if check:
                spec.check()
        except ValueError as exc:
            label = ", ".join(f"{k}={canonical_json(v)}" for k, v in point.items())
            raise ValueError(f"grid point {i + 1} of {len(points)} ({label or 'the base'}): {exc}") from None
        if spec.hash not in seen:
            seen.add(spec.hash)
            specs.append(spec)
            kept.append(point)
    return Grid(tuple(specs), tuple(kept), tuple(k for keys, _ in axes for k in keys), data)


def _axes(grid, zips) -> list[tuple[tuple[str, ...], list[tuple]]]:
    """Each axis as (keys, value tuples): one key per [grid] entry, several for a [[zip]] group."""
    if not isinstance(grid, dict):
        raise ValueError("[grid] must be a table of axes")
    zips = [zips] if isinstance(zips, dict) else zips
    grid = dict(grid)
    seeds = grid.pop("seeds", None)
    axes: list = [((key,), [(v,) for v in axis_values(value, key)]) for key, value in grid.items()]
    for group in zips:
        if not isinstance(group, dict) or not group:
            raise ValueError("each [[zip]] must be a table of equally long axes")
        columns = {key: axis_values(value, key) for key, value in group.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1:
            sizes = ", ".join(f"{k}: {len(v)}" for k, v in columns.items())
            raise ValueError(f"the axes of a [[zip]] must have equal lengths ({sizes})")
        axes.append((tuple(columns), list(zip(*columns.values(), strict=True))))
    if seeds is not None:
        if "seed" in grid:
            raise ValueError("give the seeds axis once: seed = [...] or seeds = N")
        values = list(range(check_int(seeds, "seeds", 1))) if is_int(seeds) else axis_values(seeds, "seeds")
        axes.append((("seed",), [(v,) for v in values]))
    keys = [k for names, _ in axes for k in names]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} is on more than one axis")
    return axes


def _product(axes):
    for combo in itertools.product(*(values for _, values in axes)):
        yield [(k, v) for (keys, _), values in zip(axes, combo, strict=True)
               for k, v in zip(keys, values, strict=True)]


def axis_values(value, key: str) -> list:
    """An axis' values: a list as it is, or a range table ``{start, stop, step}`` (stop excluded) or
    ``{start, stop, num[, log]}`` (num values, both ends included; log: a geometric progression).
    Float ranges are rounded to 12 significant digits (0.30000000000000004 → 0.3)."""
    if isinstance(value, list):
        if not value:
            raise ValueError(f"axis {key} has no values")
        return value
    if not isinstance(value, dict) or not {"start", "stop"} <= set(value) or set(value) - RANGE_KEYS:
        raise ValueError(f"axis {key} must be a list of values or a range {{start, stop, step}} / "
                         f"{{start, stop, num, log}}; got {value!r} (a single value goes in [base])")
    start, stop = value["start"], value["stop"]
    if not (is_real(start) and is_real(stop)):
        raise ValueError(f"axis {key}: start and stop must be numbers; got {start!r}, {stop!r}")
    if ("step" in value) == ("num" in value):
        raise ValueError(f"axis {key}: a range has either step or num")
    if "step" in value:
        if "log" in value:
            raise ValueError(f"axis {key}: log goes with num, not step")
        step = value["step"]
        if not is_real(step) or step == 0:
            raise ValueError(f"axis {key}: step must be a non-zero number; got {step!r}")
        if all(map(is_int, (start, stop, step))):
            values = list(range(start, stop, step))
        else:
            count = max(0, math.ceil((stop - start) / step - 1e-9))
            values = [_round(start + i * step) for i in range(count)]
    else:
        num = check_int(value["num"], f"axis {key}: num", 1)
        log = value.get("log", False)
        if log and not (start > 0 and stop > 0):
            raise ValueError(f"axis {key}: a log range needs start and stop > 0")
        values = [_round(v) for v in (np.geomspace if log else np.linspace)(start, stop, num)]
        if is_int(start) and is_int(stop) and all(v.is_integer() for v in values):
            values = [int(v) for v in values]  # {start = 1, stop = 9, num = 5} on an integer key
    if not values:
        raise ValueError(f"axis {key}: the range {value!r} is empty")
    return values


def _round(v: float) -> float:
    return float(f"{float(v):.12g}")
