"""lsgdsim: simulate and check Leader Stochastic Gradient Descent (Teng et al., NeurIPS 2019).

Quick start::

    from lsgdsim import simulate, objectives, algorithms
    obj = objectives.Quadratic.random(dim=20, cond=50.0, seed=1)
    res = simulate(obj, algorithms.LSGD(lr=0.01, pull=0.1, period=4), workers=8, steps=1000)
    res.f, res.leaders, res.summary()

    spec = RunSpec.from_dict({"dim": 20, "cond": 50, "pull": 0.1, "period": 4, "steps": 1000})
    spec.run() == RunSpec.from_meta(spec.run().meta).run()   # a result reruns exactly from its spec

    res = simulate(obj, alg, workers=8, steps=1000, clock=clock.Clock(compute=clock.Lognormal(0.05, 0.3)))
    res.sim_time, res.breakdown, res.save_trace("run.json")      # the same run in simulated time
"""
from . import signals as _signals

if _signals.launched_as_command():   # before the heavy imports: a signal now gives one line, not a traceback
    _signals.install_early()

from . import algorithms, backend, clock, collectives, leaders, objectives, schedules, trace
from ._version import __version__
from .result import Result
from .simulate import DivergenceError, simulate
from .spec import RunSpec

__all__ = ["DivergenceError", "Result", "RunSpec", "__version__", "algorithms", "backend", "clock", "collectives",
           "leaders", "objectives", "schedules", "simulate", "trace"]
