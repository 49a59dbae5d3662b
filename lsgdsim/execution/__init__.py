"""Executors: one rule definition (local update + communication + trigger, lsgdsim.algorithms.base) run
three ways. :mod:`.lockstep` (all workers take step t together: ``simulate`` without a clock),
:mod:`.clocked` (each worker at its own pace in simulated time: ``simulate(..., clock=...)``), and, next,
real processes over MPI. :mod:`.recording` holds what they share (snapshots, records, the tally of
communications, divergence); :mod:`.rowstreams` the per-worker random streams the clock needs."""
