"""The virtual clock (issue 18, item 6) against lockstep, side by side in one process.

    python benchmarks/bench_clock.py [--repeats 3] [--quick] [--json out.json]

Three cases, each a ratio of two runs measured alternately (A B A B ...), minimum of each:

(a) a synchronous rule with stragglers on the clock against the same rule in lockstep: LSGD (τ = 4,
    exact leader, σ = 0.1) on the d = 1000 quadratic with p = 256 workers, lognormal compute times
    (σ = 0.5) and a 10 Gb/s network; target clock / lockstep ≤ 1.3. Both runs compute the same numbers
    (checked), so the ratio is the price of the schedule, the records in simulated time and the trace.
(b) asynchronous EASGD (τ = 4) on the clock at p = 64, d = 10^4 (Rastrigin, σ = 0.1, lognormal compute
    times) against lockstep synchronous EASGD: worker-steps per second; target ≥ 0.5 of lockstep's.
(c) events per second at p = 1024, d = 10 (Rastrigin): local steps + exchanges (+ rounds) replayed per
    wall-clock second, for asynchronous EASGD and for Algorithm 1 (LSGD, trigger="total"), beside the
    lockstep steps per second of plain SGD at the same size.
Default recording (about 500 records) in every run, as a user gets it.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lsgdsim import algorithms as A
from lsgdsim import objectives as O
from lsgdsim import simulate
from lsgdsim.clock import Clock, Lognormal, Network

NET = Network(latency=5e-5, bandwidth=1.25e9)   # 10 Gb/s Ethernet


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def alternate(a, b, repeats):
    """Minimum times of a() and b(), run alternately; the last results of each."""
    ta, tb, ra, rb = [], [], None, None
    for _ in range(repeats):
        t, ra = timed(a)
        ta.append(t)
        t, rb = timed(b)
        tb.append(t)
    return min(ta), min(tb), ra, rb


def case_stragglers(repeats, quick):
    p, steps = (64, 40) if quick else (256, 100)
    obj = O.Quadratic.random(dim=1000, cond=100.0, seed=0)
    alg = A.LSGD(lr=1e-3, pull=0.1, period=4)
    kw = dict(workers=p, steps=steps, grad_noise=0.1, seed=0)
    clock = Clock(compute=Lognormal(0.05, 0.5), network=NET)
    tl, tc, lock, res = alternate(lambda: simulate(obj, alg, **kw), lambda: simulate(obj, alg, **kw, clock=clock),
                                  repeats)
    assert np.array_equal(lock.x, res.x), "the clock must compute lockstep's numbers"
    return {"case": "LSGD stragglers, quadratic d=1000", "workers": p, "steps": steps, "lockstep_s": tl,
            "clock_s": tc, "ratio_clock_over_lockstep": tc / tl, "target": "<= 1.3",
            "records": len(res.steps), "makespan_s": float(res.sim_time[-1])}


def case_async(repeats, quick):
    p, steps = (16, 20) if quick else (64, 60)
    obj = O.Rastrigin(dim=10_000)
    kw = dict(workers=p, steps=steps, grad_noise=0.1, seed=0)
    sync = A.EASGD(lr=1e-3, alpha=0.01, period=4)
    asyn = A.EASGD(lr=1e-3, alpha=0.01, period=4, asynchronous=True)
    clock = Clock(compute=Lognormal(0.05, 0.3), network=NET)
    tl, tc, _, res = alternate(lambda: simulate(obj, sync, **kw), lambda: simulate(obj, asyn, **kw, clock=clock),
                               repeats)
    lock_rate, clock_rate = p * steps / tl, float(res.breakdown["local_steps"].sum()) / tc
    return {"case": "asynchronous EASGD, Rastrigin d=1e4", "workers": p, "steps": steps,
            "lockstep_worker_steps_per_s": lock_rate, "clock_worker_steps_per_s": clock_rate,
            "ratio_clock_over_lockstep": clock_rate / lock_rate, "target": ">= 0.5",
            "exchanges": res.meta["staleness"]["exchanges"], "stale_exchanges": res.meta["staleness"]["stale"]}


def case_events(repeats, quick):
    p, steps = (256, 20) if quick else (1024, 100)
    obj = O.Rastrigin(dim=10)
    kw = dict(workers=p, steps=steps, grad_noise=0.1, seed=0)
    clock = Clock(compute=Lognormal(0.05, 0.3), network=Network(latency=5e-6, bandwidth=1.25e9))
    out = []
    for name, alg in (("asynchronous EASGD", A.EASGD(lr=1e-3, alpha=0.5 / p, period=4, asynchronous=True)),
                      ("Algorithm 1 (LSGD total trigger)", A.LSGD(lr=1e-3, pull=0.1, period=4, trigger="total"))):
        tl, tc, _, res = alternate(lambda: simulate(obj, A.SGD(lr=1e-3), **kw),
                                   lambda alg=alg: simulate(obj, alg, **kw, clock=clock), repeats)
        events = int(res.breakdown["local_steps"].sum()) + int(res.meta["communications"])
        out.append({"case": f"events, {name}, Rastrigin d=10", "workers": p, "steps": steps, "events": events,
                    "clock_events_per_s": events / tc, "lockstep_sgd_worker_steps_per_s": p * steps / tl})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not the documented numbers)")
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args(argv)
    rows = [case_stragglers(args.repeats, args.quick), case_async(args.repeats, args.quick),
            *case_events(args.repeats, args.quick)]
    machine = {"cpu": _cpu(), "cores": len(__import__("os").sched_getaffinity(0)), "python": platform.python_version(),
               "numpy": np.__version__}
    for row in rows:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "cases": rows}, indent=2) + "\n")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
