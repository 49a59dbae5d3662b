#!/usr/bin/env bash
# Regenerate docs/sweep-example/sweep.png, the README's plot of a sweep table:
#   bash docs/sweep-example/make.sh          (a few seconds; writes the runs under a temporary folder)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
export MPLBACKEND=Agg
lsgdsim sweep "$here/grid.toml" --out "$out/sweep" --jobs 2 --no-progress
lsgdsim sweep --table "$out/table.parquet" "$out/sweep"
python - "$out/table.parquet" "$here/sweep.png" <<'PY'
import sys

import pandas as pd

from lsgdsim import plotting
from lsgdsim.sweep_plots import plot_sweep

df = pd.read_parquet(sys.argv[1])
assert df["run"].nunique() == 12, df["run"].nunique()
fig, axes = plot_sweep(df, y="gap", x="step", hue="pull", col="period")
fig.suptitle("LSGD on a d = 10, κ = 20 quadratic, p = 4, σ = 0.1: f(best worker) − f* over 3 seeds", fontsize=9)
plotting.save(fig, sys.argv[2])
print(f"wrote {sys.argv[2]} from {df['run'].nunique()} runs, {len(df)} rows")
PY
