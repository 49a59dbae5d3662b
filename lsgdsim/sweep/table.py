"""One tidy table of a sweep: a row per run × record, spec columns beside the workers' statistics.

Columns, in order:

- ``run``: the spec's hash (the result's file name);
- the spec in its flat form (:meth:`lsgdsim.RunSpec.to_flat`: objective, its options, algorithm, its
  options, leader, workers, steps, seed, ...); a value that is not a number, a string or a bool (a
  schedule table, a per-worker list) is its canonical JSON text, and so is every value of a column
  that mixes such text with numbers;
- ``status`` ("ok" or "diverged"), ``diverged_step``, ``diverged_worker`` (NA unless diverged);
- per record: ``step``; ``samples`` processed so far (step·p·batch for mini-batches, step·p·n for full
  finite sums, step·p for the stochastic oracle); ``wall_time`` (s since the run's start); ``best_f``,
  ``mean_f``, ``median_f`` over the workers; ``gap`` = best_f − fmin (NaN where fmin is unknown);
  ``spread`` = mean over workers of ‖x_i − c‖ (c the center, server or worker mean); ``best_worker``
  (argmin f at the record); ``leader_worker``: the leader chosen at the latest communication at or
  before the step (NA before the first, and for rules without a leader).

Needs the ``sweep`` extra (pandas, and pyarrow for Parquet).
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np

from ..outputs import atomic_write, atomic_write_text
from ..spec import RunSpec, canonical_json
from .execute import require
from .store import RUNS

RUN_COLUMNS = ("status", "diverged_step", "diverged_worker")
RECORD_COLUMNS = ("step", "samples", "wall_time", "best_f", "mean_f", "median_f", "gap", "spread", "best_worker",
                  "leader_worker")


def load(folder, runs=None):
    """The table of the sweep folder ``folder`` as a pandas DataFrame (one row per run × record).

    ``runs``: only these hashes (default every result in ``folder/runs``; runs that raised have no
    records and are in :func:`lsgdsim.sweep.status`). A folder that does not exist, or is not a folder, is a
    ``ValueError`` naming it (not an empty table).
    """
    pd = require("pandas", "sweep", "the sweep table")
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise ValueError(f"{folder} is not a folder (the table is read from a sweep folder)")
        raise ValueError(f"no sweep folder at {folder} (lsgdsim sweep GRID.toml --out {folder} makes one)")
    found = {p.stem: p for p in sorted((folder / RUNS).glob("*.npz"))}
    order = [h for h in _grid_order(folder) if h in found]   # the grid's order, then runs no longer in it
    order += [h for h in found if h not in set(order)]
    paths = [found[h] for h in order if runs is None or h in set(runs)]
    loaded = [(p, _verified(p)) for p in paths]
    loaded = [(p, res) for p, res in loaded if res is not None]
    return table([res for _, res in loaded], [p.stem for p, _ in loaded], pd)


def _verified(path: Path):
    """``path``'s verified Result, or None with one line on stderr (damaged, edited, another run's, a link:
    no row; the next start of the sweep runs it again)."""
    from .store import checked_result
    res, why = checked_result(path, path.stem)
    if why is not None:
        print(f"lsgdsim: {path.name} left out of the table: {why.removeprefix(str(path) + ': ')} (the sweep "
              "runs it again when started again)", file=sys.stderr)
    return res


def _grid_order(folder: Path) -> list[str]:
    from .store import read_manifest
    try:
        return [r["run"] for r in read_manifest(folder)["runs"]]
    except ValueError:
        return []


def table(results, hashes=None, pd=None):
    """The tidy table of a list of Results made from specs (``meta["spec"]``), e.g. from ``map_runs``."""
    pd = pd or require("pandas", "sweep", "the sweep table")
    spec_rows, record_frames = [], []
    for i, res in enumerate(results):
        spec = RunSpec.from_meta(res.meta)
        run = hashes[i] if hashes is not None else spec.hash
        diverged = res.meta.get("diverged") or {}
        spec_rows.append({"run": run, **spec.to_flat(), "status": "diverged" if diverged else "ok",
                          "diverged_step": diverged.get("step"), "diverged_worker": diverged.get("worker")})
        record_frames.append(pd.DataFrame({"run": run, **record_columns(res)}))
    if not results:
        return pd.DataFrame(columns=["run", *RUN_COLUMNS, *RECORD_COLUMNS])
    names = list(dict.fromkeys(k for row in spec_rows for k in row))
    specs = pd.DataFrame({k: _column([_scalar(row.get(k)) for row in spec_rows], pd) for k in names})
    records = pd.concat(record_frames, ignore_index=True)
    records["leader_worker"] = records["leader_worker"].astype("Int64")
    records["run"] = records["run"].astype("string")
    return specs.merge(records, on="run", how="right", validate="one_to_many")


def record_columns(res) -> dict[str, np.ndarray]:
    """The per-record columns of one Result (see the module docstring), each of shape (R,)."""
    meta, steps, f = res.meta, res.steps, res.f
    p = f.shape[1]
    batch = meta.get("batch_size") or meta.get("objective", {}).get("n_samples") or 1
    fmin = meta.get("objective", {}).get("fmin")
    with np.errstate(over="ignore", invalid="ignore"):
        mean_f, median_f = f.mean(axis=1), np.median(f, axis=1)
        spread = res.dist_to_center.mean(axis=1) if res.dist_to_center is not None else np.full(len(steps), np.nan)
    last = np.searchsorted(res.leader_steps, steps, side="right") - 1
    leader = np.where(last >= 0, res.leaders[np.maximum(last, 0)] if len(res.leaders) else -1, -1)
    return {"step": steps, "samples": steps * p * batch,
            "wall_time": res.times if res.times is not None else np.full(len(steps), np.nan),
            "best_f": f.min(axis=1), "mean_f": mean_f, "median_f": median_f,
            "gap": f.min(axis=1) - fmin if fmin is not None else np.full(len(steps), np.nan),
            "spread": spread, "best_worker": f.argmin(axis=1),
            "leader_worker": np.where(leader >= 0, leader, np.nan)}


def _scalar(value):
    return value if value is None or isinstance(value, (bool, int, float, str)) else canonical_json(value)


def _column(values: list, pd):
    """One spec column with one type: bool, integer or float (nullable where a run lacks the key), or
    text; a column mixing text (JSON of tables or lists) with numbers is text throughout (Parquet wants
    one type per column)."""
    present = [v for v in values if v is not None]
    if not present:  # diverged_step and _worker of a sweep where nothing diverged
        return pd.array(values, dtype="Int64")
    if all(isinstance(v, bool) for v in present):
        return pd.array(values, dtype="boolean")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.array(values, dtype="Int64")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.array([v if v is None or isinstance(v, str) else json.dumps(v) for v in values], dtype="string")


def check_table_path(path) -> Path:
    """The table's file name, checked before any work: a .parquet (pyarrow needed) or .csv suffix."""
    path = Path(path)
    if path.suffix not in (".parquet", ".csv"):
        raise ValueError(f"--table {path}: the table is written as .parquet or .csv")
    require("pandas", "sweep", "the sweep table")
    if path.suffix == ".parquet":
        require("pyarrow", "sweep", "writing Parquet")
    return path


def write_table(df, path) -> Path:
    """Write the table atomically: .parquet (pyarrow) or .csv, by the suffix of ``path``."""
    path = check_table_path(path)
    if path.suffix == ".csv":
        return atomic_write_text(path, df.to_csv(index=False))
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return atomic_write(path, lambda fh: fh.write(buf.getvalue()), binary=True)
