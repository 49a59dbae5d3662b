"""The clock of a :class:`~lsgdsim.spec.RunSpec`: its ``[clock]`` table, and the flat keys that make one.

Nested (what ``meta["spec"]["clock"]`` holds, :meth:`lsgdsim.clock.Clock.describe`)::

    [clock]
    model_bytes = 1_000_000
    [clock.compute]                       # constant (seconds), lognormal (median, sigma),
    model = "lognormal"                   # pareto (minimum, shape) or trace (times, a (p, T) list)
    median = 0.05
    sigma = 0.3
    [clock.network]                       # flat (latency, bandwidth) or
    network = "flat"                      # two_level (nodes, per_node, intra = {...}, inter = {...})
    latency = 5e-5
    bandwidth = 1.25e9

``clock = "paper"`` (or "modern") names a modeled cluster (:mod:`lsgdsim.clock.clusters`), expanded to its
table for the run's workers.

Flat keys (``lsgdsim run``'s options, a sweep grid's axes), any of which puts the run on the clock:
``compute`` (constant, lognormal, pareto; default constant), ``compute_time`` (the constant's seconds,
the lognormal's median or the Pareto minimum; a number or one per worker; default 1), ``compute_sigma``
(lognormal), ``compute_shape`` (Pareto), ``latency`` (α, seconds; default 0) and ``bandwidth`` (β,
bytes per second; default "inf"), ``nodes`` (a two-level network of ``nodes`` × workers/nodes whose
``latency``/``bandwidth`` are the links between nodes and ``intra_latency``/``intra_bandwidth`` those
inside one), ``model_bytes``; and ``time_budget`` (simulated seconds) with any of them. A ``clock`` table
and these keys do not go together.
"""
from __future__ import annotations

import math

from .clock import Clock, clock_from_description
from .clock.clusters import cluster_clock
from .components import Names, plain

COMPUTE_KEYS = {"constant": ("compute_time",), "lognormal": ("compute_time", "compute_sigma"),
                "pareto": ("compute_time", "compute_shape")}
COMPUTE_FIELDS = {"constant": ("seconds",), "lognormal": ("median", "sigma"), "pareto": ("minimum", "shape")}
NETWORK_KEYS = ("latency", "bandwidth", "nodes", "intra_latency", "intra_bandwidth")
CLOCK_KEYS = ("compute", "compute_time", "compute_sigma", "compute_shape", *NETWORK_KEYS, "model_bytes")


def clock_from_flat(flat: dict, workers: int, names: Names = str) -> dict | None:
    """Pop the flat clock keys of ``flat`` and return the canonical clock table they make (None: no clock)."""
    given = {k: flat.pop(k) for k in CLOCK_KEYS if k in flat}
    table = flat.pop("clock", None)
    if table is not None and given:
        raise ValueError(f"{names(next(iter(given)))} does not go with a {names('clock')} table (give it in the table)")
    if table is not None:
        return canonical_clock(table, workers, names)
    if not given:
        return None
    model = given.pop("compute", "constant")
    if model not in COMPUTE_KEYS:
        raise ValueError(f"{names('compute')} must be one of {', '.join(COMPUTE_KEYS)}; got {model!r}")
    for key in ("compute_sigma", "compute_shape"):
        if key in given and key not in COMPUTE_KEYS[model]:
            raise ValueError(f"{names(key)} does not apply to {names('compute')} {model}")
    values = [given.pop("compute_time", 1.0), *(given.pop(k) for k in COMPUTE_KEYS[model][1:] if k in given)]
    if len(values) != len(COMPUTE_KEYS[model]):
        raise ValueError(f"{names('compute')} {model} needs {names(COMPUTE_KEYS[model][1])}")
    compute = {"model": model, **dict(zip(COMPUTE_FIELDS[model], values, strict=True))}
    table = {"compute": compute, "network": _network(given, workers, names), "model_bytes": given.get("model_bytes")}
    return canonical_clock(table, workers, names)


def _network(given: dict, workers: int, names: Names) -> dict:
    link = {"network": "flat", "latency": given.get("latency", 0.0), "bandwidth": given.get("bandwidth", "inf")}
    nodes = given.get("nodes")
    if nodes is None:
        for key in ("intra_latency", "intra_bandwidth"):
            if key in given:
                raise ValueError(f"{names(key)} applies only with {names('nodes')} (a two-level network)")
        return link
    if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 1 or workers % nodes:
        raise ValueError(f"{names('nodes')} must be a positive integer dividing {names('workers')} = {workers}; "
                         f"got {nodes!r}")
    intra = {"network": "flat", "latency": given.get("intra_latency", 0.0),
             "bandwidth": given.get("intra_bandwidth", "inf")}
    return {"network": "two_level", "nodes": nodes, "per_node": workers // nodes, "intra": intra, "inter": link}


def canonical_clock(table, workers: int, names: Names = str) -> dict:
    """A clock table checked (the Clock built, validated for ``workers``) and in its complete form. A
    cluster's name (:mod:`lsgdsim.clock.clusters`: "paper", "modern") stands for its clock at ``workers``."""
    table = plain(table)
    try:
        clock = cluster_clock(table, workers) if isinstance(table, str) else clock_from_description(table)
        clock.validate(workers)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{names('clock')}: {' '.join(str(exc).split())}") from None
    return plain(clock.describe())


def build_clock(table: dict | None) -> Clock | None:
    """The Clock of a canonical clock table."""
    return None if table is None else clock_from_description(plain(table))


def flat_clock(table: dict | None) -> dict:
    """The flat keys that make ``table`` where they can say it, else ``{"clock": table}``."""
    if table is None:
        return {}
    table = plain(table)
    compute, network = table["compute"], table["network"]
    links = [network] if network["network"] == "flat" else [network["intra"], network["inter"]]
    if compute["model"] not in COMPUTE_KEYS or any(n.get("algorithms", "tuned") != "tuned" for n in links):
        return {"clock": table}
    flat = {"compute": compute["model"]}
    flat.update(dict(zip(COMPUTE_KEYS[compute["model"]], (compute[f] for f in COMPUTE_FIELDS[compute["model"]]),
                         strict=True)))
    link = network if network["network"] == "flat" else network["inter"]
    if network["network"] == "two_level":
        if network["intra"]["network"] != "flat" or network["inter"]["network"] != "flat":
            return {"clock": table}
        flat.update(nodes=network["nodes"], intra_latency=network["intra"]["latency"],
                    intra_bandwidth=network["intra"]["bandwidth"])
    flat.update(latency=link["latency"], bandwidth=link["bandwidth"])
    if table.get("model_bytes") is not None:
        flat["model_bytes"] = table["model_bytes"]
    return flat


def describe_bandwidth(value) -> str:
    """A bandwidth for people: '10 Gb/s'-style, or 'free'."""
    if value == "inf" or (isinstance(value, float) and math.isinf(value)):
        return "free"
    bits = float(value) * 8
    for unit, scale in (("Tb/s", 1e12), ("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
        if bits >= scale:
            return f"{bits / scale:g} {unit}"
    return f"{bits:g} b/s"
