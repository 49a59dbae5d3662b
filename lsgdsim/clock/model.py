"""The virtual clock of a run: how long a local step takes, and what the network charges.

``Clock(compute=..., network=..., model_bytes=...)`` is what ``simulate(..., clock=...)`` takes and a
RunSpec's ``[clock]`` table describes. ``model_bytes`` prices every message that carries a row of the
state (parameters, gradients, a center) as if the model had that many bytes, so that a small simulated
problem can stand in for a large network; by default a row costs d · itemsize bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..validate import check_int, set_fields
from .compute import ComputeModel, Constant, compute_from_description
from .network import Network, TwoLevel, network_from_description


@dataclass(frozen=True)
class Clock:
    """The compute-time model (seconds per local step), the network, and the priced size of a row."""

    compute: ComputeModel = field(default_factory=lambda: Constant(1.0))
    network: Network | TwoLevel = field(default_factory=Network)
    model_bytes: int | None = None

    def __post_init__(self):
        if not isinstance(self.compute, ComputeModel):
            raise ValueError(f"clock compute must be a compute-time model (Constant, Lognormal, Pareto, Trace); "
                             f"got {self.compute!r}")
        if not isinstance(self.network, (Network, TwoLevel)):
            raise ValueError(f"clock network must be a Network or a TwoLevel network; got {self.network!r}")
        if self.model_bytes is not None:
            set_fields(self, model_bytes=check_int(self.model_bytes, "model_bytes", 1))

    def validate(self, workers: int) -> None:
        """The worker-dependent checks: per-worker compute times, the two-level layout."""
        self.compute.validate(workers)
        self.network.validate(workers)

    def row_bytes(self, dim: int, itemsize: int) -> int:
        """The bytes a message carrying one row of the state is priced at."""
        return self.model_bytes if self.model_bytes is not None else dim * itemsize

    def describe(self) -> dict:
        return {"compute": self.compute.describe(), "network": self.network.describe(),
                "model_bytes": self.model_bytes}


def clock_from_description(desc: dict) -> Clock:
    """The clock a ``describe()`` dict (or a RunSpec ``[clock]`` table) names; ValueError naming a bad key."""
    if not isinstance(desc, dict):
        raise ValueError(f"clock must be a table with compute, network, model_bytes; got {desc!r}")
    unknown = sorted(set(desc) - {"compute", "network", "model_bytes"})
    if unknown:
        raise ValueError(f"clock: {', '.join(unknown)} does not apply (its keys: compute, network, model_bytes)")
    compute = compute_from_description(desc["compute"]) if "compute" in desc else Constant(1.0)
    network = network_from_description(desc["network"]) if "network" in desc else Network()
    return Clock(compute=compute, network=network, model_bytes=desc.get("model_bytes"))
