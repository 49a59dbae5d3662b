"""The virtual clock: compute-time models, the α–β network model, and the time-only schedule of a run.

    from lsgdsim.clock import Clock, Network, TwoLevel, Constant, Lognormal, Pareto, Trace
    clock = Clock(compute=Lognormal(median=0.05, sigma=0.3), network=Network(latency=5e-5, bandwidth=1.25e9))
    res = lsgdsim.simulate(obj, alg, workers=16, steps=500, clock=clock)
    res.sim_time, res.breakdown, res.save_trace("run.trace.json")

Equations and conventions: docs/clock.md; the modules: :mod:`.compute`, :mod:`.network`,
:mod:`.schedule`, :mod:`.keyed`.
"""
from .compute import COMPUTE_MODELS, ComputeModel, Constant, Lognormal, Pareto, Trace, compute_from_description
from .model import Clock, clock_from_description
from .network import Network, Op, TwoLevel, network_from_description

__all__ = ["COMPUTE_MODELS", "Clock", "ComputeModel", "Constant", "Lognormal", "Network", "Op", "Pareto", "Trace",
           "TwoLevel", "clock_from_description", "compute_from_description", "network_from_description"]
