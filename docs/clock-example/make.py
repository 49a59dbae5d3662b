"""Regenerate docs/clock-example: a 16-worker LSGD run on the virtual clock, its trace and its timeline.

    python docs/clock-example/make.py          (a few seconds; writes run.trace.json and timeline.png here)

LSGD with Algorithm 1's trigger (a round when the total of local steps over the 16 workers reaches a
multiple of 16·τ) on a quadratic, lognormal compute times (stragglers), a two-level network of 4 nodes ×
4 workers, every message priced as a 1M-parameter float32 model. Open run.trace.json in
https://ui.perfetto.dev (or chrome://tracing); docs/clock.md explains what the figure shows.
"""
from __future__ import annotations

from pathlib import Path

from lsgdsim import algorithms, objectives, plotting, simulate
from lsgdsim.clock import Clock, Lognormal, Network, TwoLevel
from lsgdsim.trace import breakdown_lines

HERE = Path(__file__).resolve().parent
WORKERS, STEPS, PERIOD = 16, 600, 4
SHOWN = 2.0   # seconds of the run drawn in the timeline

clock = Clock(compute=Lognormal(median=0.05, sigma=0.3),
              network=TwoLevel(nodes=4, per_node=4, intra=Network(latency=5e-6, bandwidth=1.2e10),
                               inter=Network(latency=5e-5, bandwidth=1.25e9)),
              model_bytes=4 * 1_000_000)
objective = objectives.Quadratic.random(dim=50, cond=100.0, seed=0)
rule = algorithms.LSGD(lr=0.01, pull=0.1, period=PERIOD, trigger="total")
res = simulate(objective, rule, workers=WORKERS, steps=STEPS, grad_noise=0.5, seed=0, clock=clock)

trace = res.save_trace(HERE / "run.trace.json")
print("\n".join(breakdown_lines(res)))
print(f"{len(res.leaders)} rounds; wrote {trace.name} ({trace.stat().st_size / 1e6:.2f} MB)")

fig_ax = plotting.timeline(res, until=SHOWN)
fig_ax.set_title(f"LSGD, trigger = total (Algorithm 1), τ = {PERIOD}: {WORKERS} workers on 4 nodes × 4, "
                 "lognormal compute (median 50 ms, σ = 0.3), 4 MB messages", fontsize=9, loc="left", pad=22)
png = plotting.save(fig_ax.figure, HERE / "timeline.png")
print(f"wrote {png.name} (the first {SHOWN:g} s of {float(res.sim_time[-1]):.3g} s)")
