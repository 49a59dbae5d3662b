"""Modeled clusters: the paper's and a modern one, as clocks that price the network the paper trained.

A cluster is a device (its peak FP32 rate and the share of it a training step sustains), the link inside
a node, the link between nodes, and 4 workers (GPUs) per node. :func:`cluster_clock` makes the
:class:`~lsgdsim.clock.Clock` of ``workers`` workers on it: one node when ``workers ≤ 4``, else
``workers / 4`` nodes on a two-level network; each local step costs the training FLOPs of one mini-batch
of the priced model at the device's sustained rate, with lognormal jitter (σ = ``jitter``); every message
carrying a row of the state is priced at the model's size in float32.

The priced model is the paper's CIFAR-10 network, CNN7 on 28 × 28 crops (paper-digest §5.8:
conv5×5(64)–pool–conv5×5(128)–pool–conv3×3(64)–Linear(256, 256)–Linear(256, 10), no padding), counted
layer by layer below: 351,946 parameters (1.41 MB in float32) and 16.2 M multiply–adds per image
forward; a training step costs 3 × 2 × that per sample (the backward pass ≈ twice the forward), at the
code's batch of 128 (digest §5.5): 12.5 GFLOP.

Devices and links (rounded vendor figures; the sustained share and the latencies are assumptions, stated
here so a reader can change them):

=========  ==========================================================================================
paper      GeForce GTX 1080 (digest §2.8: 4 per node, Ethernet between nodes): 8.87 TFLOP/s FP32 peak,
           35 % sustained → 4.0 ms a step. Inside a node PCIe 3.0 ×16; GeForce cards have no
           peer-to-peer, so transfers are staged through host memory: 6 GB/s, 10 µs. Between nodes
           10 Gb Ethernet: 1.1 GB/s (TCP goodput of 1.25 GB/s), 50 µs.
modern     H100 SXM: 67 TFLOP/s FP32 peak (without tensor cores), 35 % → 0.53 ms a step. Inside a node
           NVLink 4: 450 GB/s per direction, 5 µs. Between nodes 100 Gb/s (InfiniBand EDR / RoCE):
           11 GB/s, 5 µs.
=========  ==========================================================================================

The same clock is a TOML table (``Clock.describe()``); ``lsgdsim run --clock paper`` and a RunSpec's
``clock = "paper"`` take a cluster's name, expanded to that table for the run's worker count.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .compute import Lognormal, Pareto
from .model import Clock
from .network import Network, TwoLevel

PER_NODE = 4            # GPUs per node, as in the paper (digest §2.8) and the code's num_gpus default
BATCH = 128             # the authors' batch size (digest §5.5)
JITTER = 0.1            # σ of log(step time): mild, dedicated GPUs (an assumption)


@dataclass(frozen=True)
class ModelCost:
    """A network's size and cost: parameters and multiply–adds of one forward pass of one sample."""

    name: str
    params: int
    forward_macs: int

    def nbytes(self, itemsize: int = 4) -> int:
        return self.params * itemsize

    def step_flops(self, batch: int = BATCH) -> float:
        """Training FLOPs of one mini-batch: forward 2·MACs, backward about twice the forward."""
        return 3 * 2 * self.forward_macs * batch


def conv(c_in: int, c_out: int, k: int, size: int) -> tuple[int, int, int]:
    """A k × k convolution without padding on a size × size input: (params, MACs, output size)."""
    out = size - k + 1
    return c_out * (c_in * k * k + 1), out * out * c_out * c_in * k * k, out


def linear(n_in: int, n_out: int) -> tuple[int, int]:
    return n_out * (n_in + 1), n_in * n_out


def cnn7(crop: int = 28, channels: int = 3, classes: int = 10) -> ModelCost:
    """The paper's CIFAR-10 CNN (EASGD paper §5.1; digest §5.8), counted layer by layer."""
    params = macs = 0
    size = crop
    for c_in, c_out, k, pool in ((channels, 64, 5, True), (64, 128, 5, True), (128, 64, 3, False)):
        p, m, size = conv(c_in, c_out, k, size)
        params, macs = params + p, macs + m
        size = size // 2 if pool else size
    for n_in, n_out in ((64 * size * size, 256), (256, classes)):
        p, m = linear(n_in, n_out)
        params, macs = params + p, macs + m
    return ModelCost("cnn7", params, macs)


@dataclass(frozen=True)
class Cluster:
    """A device (peak FP32 FLOP/s, sustained share), the link inside a node and the one between nodes."""

    name: str
    device: str
    peak_flops: float
    sustained: float
    intra: Network
    inter: Network

    def step_seconds(self, model: ModelCost, batch: int = BATCH) -> float:
        return model.step_flops(batch) / (self.peak_flops * self.sustained)


CLUSTERS = {
    "paper": Cluster("paper", "GeForce GTX 1080", 8.87e12, 0.35,
                     intra=Network(latency=10e-6, bandwidth=6e9), inter=Network(latency=50e-6, bandwidth=1.1e9)),
    "modern": Cluster("modern", "H100 SXM", 67e12, 0.35,
                      intra=Network(latency=5e-6, bandwidth=450e9), inter=Network(latency=5e-6, bandwidth=11e9)),
}


def cluster_clock(name: str, workers: int, model: ModelCost | None = None, batch: int = BATCH,
                  jitter: float = JITTER) -> Clock:
    """The clock of ``workers`` workers on cluster ``name`` (module docstring), pricing ``model``
    (default CNN7). ValueError naming ``clock`` or ``workers`` for an unknown cluster or a worker count
    that does not fill whole nodes."""
    if name not in CLUSTERS:
        raise ValueError(f"clock must be a table or a cluster name ({', '.join(CLUSTERS)}); got {name!r}")
    if not isinstance(workers, int) or workers < 1 or (workers > PER_NODE and workers % PER_NODE):
        raise ValueError(f"workers must be at most {PER_NODE} (one node) or a multiple of {PER_NODE} (whole nodes) "
                         f"on the {name} cluster; got {workers!r}")
    cluster, model = CLUSTERS[name], model or cnn7()
    if workers <= PER_NODE:
        network = cluster.intra
    else:
        network = TwoLevel(nodes=workers // PER_NODE, per_node=PER_NODE, intra=cluster.intra, inter=cluster.inter)
    return Clock(compute=Lognormal(median=cluster.step_seconds(model, batch), sigma=jitter), network=network,
                 model_bytes=model.nbytes())


def fastest_step(clock: Clock) -> float:
    """The fastest worker's typical step of ``clock``: its lognormal median, or its Pareto minimum (the
    models a cluster clock has). Time budgets divide by it to size a run's nominal steps."""
    return float(np.min(getattr(clock.compute, "median", None) or clock.compute.minimum))


def with_stragglers(clock: Clock, workers: int, spread: float = 2.0, shape: float = 2.0) -> Clock:
    """``clock`` with heavy-tailed compute times: worker i's step takes m_i·u^(−1/shape) seconds (Pareto),
    its minimum m_i rising linearly from the clock's median step (worker 0, the fastest) to ``spread`` times
    it (the last worker). Shape 2: the mean is twice the minimum and the variance infinite."""
    median = fastest_step(clock)
    minimum = tuple(float(m) for m in median * np.linspace(1.0, spread, workers))
    return replace(clock, compute=Pareto(minimum=minimum, shape=shape))
