"""The α–β network model: the simulated seconds of each collective a round sends.

A message of n bytes over one link takes α + n/β seconds (α latency in seconds, β bandwidth in bytes per
second). Over P ranks the textbook costs (Thakur, Rabenseifner & Gropp 2005) are

    point-to-point          α + n/β
    allreduce (ring)        2(P − 1)α + 2((P − 1)/P)·n/β
    broadcast, reduce       ⌈log₂ P⌉(α + n/β)              (binomial tree)
    gather, scatter         (P − 1)(α + n/β)                (to/from one root through its one link)
    minloc                  allreduce of MINLOC_BYTES = 16  (a value and an index)

and every collective over P = 1 rank costs 0. Those are ``algorithms="textbook"``. A tuned MPI picks the
algorithm by message size (Thakur et al. §4: MPICH broadcasts long messages by scatter + allgather and
all-reduces short ones by recursive doubling), and so does ``algorithms="tuned"``, the default: each
collective costs the cheaper of its two algorithms,

    allreduce               min(ring, recursive doubling ⌈log₂ P⌉(α + n/β))
    broadcast, reduce       min(binomial tree, scatter + allgather (⌈log₂ P⌉ + P − 1)α + 2((P − 1)/P)·n/β)

(with the textbook formulas alone, a 4 MB broadcast to 16 workers costs 1.7× a ring all-reduce of it,
an artefact that would decide any comparison of LSGD's one broadcast with an averaging method, and a
min-loc over 16 workers pays 30 latencies instead of 4). :class:`Network` is one flat network. :class:`TwoLevel` is
``nodes`` nodes of ``per_node`` workers (worker w on node ⌊w / per_node⌋), an ``intra`` network inside a
node and an ``inter`` one between nodes; a collective over all workers is hierarchical,

    allreduce = intra.reduce(per_node) + inter.allreduce(nodes) + intra.broadcast(per_node),
    broadcast = inter.broadcast(nodes) + intra.broadcast(per_node),

and a group of g contiguous workers inside one node (per_node % g = 0) is priced on ``intra`` with P = g,
one spanning g / per_node whole nodes hierarchically over those nodes. The parameter server is an extra rank
on node 0. The simulator prices an :class:`Op` with ``cost(op, workers)`` on either kind of network.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from lsgdsim.validate import check_choice, check_float, check_int, is_real, set_fields

MINLOC_BYTES = 16
ALGORITHMS = ("tuned", "textbook")
OP_KINDS = ("allreduce", "broadcast", "minloc", "server_gather", "server_scatter", "exchange")
_GROUPED = ("allreduce", "broadcast", "minloc")


@dataclass(frozen=True)
class Op:
    """One communication of a round: ``kind`` (OP_KINDS), ``nbytes`` per message (a row of the state).

    ``group``: for allreduce/broadcast/minloc, the size of the contiguous groups of workers it runs over,
    concurrently (None: all workers; a group size must divide the workers); ``worker``: for ``exchange``,
    the worker that talks to the server (required).
    ``minloc`` sends MINLOC_BYTES whatever ``nbytes``.
    """

    kind: str
    nbytes: int = 0
    group: int | None = None
    worker: int | None = None

    def __post_init__(self):
        kind = check_choice(self.kind, "Op kind", OP_KINDS)
        group = None if self.group is None else check_int(self.group, "Op group", 1)
        worker = None if self.worker is None else check_int(self.worker, "Op worker", 0)
        if group is not None and kind not in _GROUPED:
            raise ValueError(f"Op group applies to {', '.join(_GROUPED)} only; got group={group} for {kind!r}")
        if (worker is None) == (kind == "exchange"):
            raise ValueError(f"Op worker is required for 'exchange' and only for it; got worker={worker} for {kind!r}")
        set_fields(self, nbytes=check_int(self.nbytes, "Op nbytes", 0), group=group, worker=worker)


def _group(op: Op, workers: int) -> int:
    size = workers if op.group is None else op.group
    if workers % size:
        raise ValueError(f"Op group must divide workers ({workers}): contiguous groups tile them; got {size}")
    if op.worker is not None and op.worker >= workers:
        raise ValueError(f"Op worker must be < workers ({workers}); got {op.worker}")
    return size


def _bandwidth(value, name: str) -> float:
    if value == "inf" or (is_real(value) and value == math.inf):
        return math.inf
    return check_float(value, name, 0.0, lo_open=True)


@dataclass(frozen=True)
class Network:
    """A flat α–β network: ``latency`` α seconds >= 0, ``bandwidth`` β bytes/second > 0 (inf: free bandwidth).

    Every cost below is in seconds; ``ranks`` P >= 1, ``nbytes`` n >= 0 bytes per rank's message.
    """

    latency: float = 0.0
    bandwidth: float = math.inf
    algorithms: str = "tuned"

    def __post_init__(self):
        set_fields(self, latency=check_float(self.latency, "Network latency", 0.0),
                   bandwidth=_bandwidth(self.bandwidth, "Network bandwidth"),
                   algorithms=check_choice(self.algorithms, "Network algorithms", ALGORITHMS))

    @property
    def is_free(self) -> bool:
        """True when every message costs 0 (α = 0 and β = inf)."""
        return self.latency == 0.0 and math.isinf(self.bandwidth)

    def ptp(self, nbytes: int) -> float:
        """One message: α + n/β."""
        return self.latency + check_int(nbytes, "nbytes", 0) / self.bandwidth

    def ring_allreduce(self, ranks: int, nbytes: int) -> float:
        """Ring allreduce: 2(P − 1)α + 2((P − 1)/P)·n/β."""
        p = check_int(ranks, "ranks", 1)
        return 2 * (p - 1) * self.latency + 2 * ((p - 1) / p) * check_int(nbytes, "nbytes", 0) / self.bandwidth

    def tree(self, ranks: int, nbytes: int) -> float:
        """Binomial tree (broadcast, reduce) or recursive doubling (allreduce): ⌈log₂ P⌉(α + n/β)."""
        return (check_int(ranks, "ranks", 1) - 1).bit_length() * self.ptp(nbytes)

    def scatter_allgather(self, ranks: int, nbytes: int) -> float:
        """Long-message broadcast, a scatter then an allgather: (⌈log₂ P⌉ + P − 1)α + 2((P − 1)/P)·n/β."""
        p = check_int(ranks, "ranks", 1)
        if p == 1:
            return 0.0
        return ((p - 1).bit_length() + p - 1) * self.latency + 2 * ((p - 1) / p) * check_int(nbytes, "nbytes", 0) \
            / self.bandwidth

    def allreduce(self, ranks: int, nbytes: int) -> float:
        """Ring allreduce (textbook); the cheaper of ring and recursive doubling (tuned)."""
        ring = self.ring_allreduce(ranks, nbytes)
        return ring if self.algorithms == "textbook" else min(ring, self.tree(ranks, nbytes))

    def broadcast(self, ranks: int, nbytes: int) -> float:
        """Binomial-tree broadcast (textbook); the cheaper of it and scatter + allgather (tuned)."""
        tree = self.tree(ranks, nbytes)
        return tree if self.algorithms == "textbook" else min(tree, self.scatter_allgather(ranks, nbytes))

    def reduce(self, ranks: int, nbytes: int) -> float:
        """Reduce to one rank, priced as broadcast (the same two algorithms, reversed)."""
        return self.broadcast(ranks, nbytes)

    def gather(self, ranks: int, nbytes: int) -> float:
        """Gather to one root through its one link, serialized: (P − 1)(α + n/β)."""
        return (check_int(ranks, "ranks", 1) - 1) * self.ptp(nbytes)

    def scatter(self, ranks: int, nbytes: int) -> float:
        """Scatter from one root through its one link: (P − 1)(α + n/β), as gather."""
        return self.gather(ranks, nbytes)

    def minloc(self, ranks: int) -> float:
        """Allreduce of a (value, index) pair: allreduce(P, MINLOC_BYTES)."""
        return self.allreduce(ranks, MINLOC_BYTES)

    def validate(self, workers: int) -> None:
        """A flat network carries any number of workers >= 1."""
        check_int(workers, "workers", 1)

    def cost(self, op: Op, workers: int) -> float:
        """Seconds of ``op`` in a run of ``workers`` workers (the server, when there is one, an extra rank)."""
        size = _group(op, check_int(workers, "workers", 1))
        if op.kind == "allreduce":
            return self.allreduce(size, op.nbytes)
        if op.kind == "broadcast":
            return self.broadcast(size, op.nbytes)
        if op.kind == "minloc":
            return self.minloc(size)
        if op.kind == "exchange":
            return 2 * self.ptp(op.nbytes)
        return self.gather(workers + 1, op.nbytes)  # server_gather, server_scatter

    def describe(self) -> dict:
        """JSON-able: {"network": "flat", "latency": α, "bandwidth": β or "inf"}."""
        return {"network": "flat", "latency": self.latency,
                "bandwidth": "inf" if math.isinf(self.bandwidth) else self.bandwidth, "algorithms": self.algorithms}


@dataclass(frozen=True)
class TwoLevel:
    """``nodes`` × ``per_node`` workers, ``intra`` network inside a node, ``inter`` between nodes (seconds)."""

    nodes: int
    per_node: int
    intra: Network
    inter: Network

    def __post_init__(self):
        for name in ("intra", "inter"):
            if not isinstance(getattr(self, name), Network):
                raise ValueError(f"TwoLevel {name} must be a Network; got {getattr(self, name)!r}")
        set_fields(self, nodes=check_int(self.nodes, "TwoLevel nodes", 1),
                   per_node=check_int(self.per_node, "TwoLevel per_node", 1))

    @property
    def workers(self) -> int:
        """nodes · per_node."""
        return self.nodes * self.per_node

    @property
    def is_free(self) -> bool:
        """True when both networks are free."""
        return self.intra.is_free and self.inter.is_free

    def validate(self, workers: int) -> None:
        """ValueError unless nodes · per_node == workers."""
        if check_int(workers, "workers", 1) != self.workers:
            raise ValueError(f"TwoLevel nodes x per_node must equal the workers ({workers}); "
                             f"got nodes={self.nodes}, per_node={self.per_node}")

    def _span(self, group: int) -> tuple[int, int]:
        """(nodes, workers per node) of a contiguous group of ``group`` workers; nodes = 0: inside one node."""
        if self.per_node % group == 0:
            return 0, group
        if group % self.per_node == 0:
            return group // self.per_node, self.per_node
        raise ValueError(f"a group of {group} workers must lie in one node or span whole nodes of per_node="
                         f"{self.per_node} workers (per_node % group == 0 or group % per_node == 0)")

    def allreduce(self, nbytes: int, group: int | None = None) -> float:
        """Allreduce over ``group`` contiguous workers (None: all): intra ring inside a node, else
        intra.reduce(q) + inter.allreduce(k) + intra.broadcast(q) over k nodes of q workers."""
        k, q = self._span(self.workers if group is None else group)
        if k == 0:
            return self.intra.allreduce(q, nbytes)
        return self.intra.reduce(q, nbytes) + self.inter.allreduce(k, nbytes) + self.intra.broadcast(q, nbytes)

    def broadcast(self, nbytes: int, group: int | None = None) -> float:
        """Broadcast to ``group`` contiguous workers (None: all): inter.broadcast(k) + intra.broadcast(q)."""
        k, q = self._span(self.workers if group is None else group)
        return (self.inter.broadcast(k, nbytes) if k else 0.0) + self.intra.broadcast(q, nbytes)

    def minloc(self, group: int | None = None) -> float:
        """The allreduce formula with MINLOC_BYTES."""
        return self.allreduce(MINLOC_BYTES, group)

    def cost(self, op: Op, workers: int) -> float:
        """Seconds of ``op`` (see :meth:`Network.cost`); the server is a rank on node 0."""
        self.validate(workers)
        size = _group(op, workers)
        if op.kind == "allreduce":
            return self.allreduce(op.nbytes, size)
        if op.kind == "broadcast":
            return self.broadcast(op.nbytes, size)
        if op.kind == "minloc":
            return self.minloc(size)
        if op.kind == "exchange":
            return 2 * (self.intra if op.worker < self.per_node else self.inter).ptp(op.nbytes)
        return self.per_node * self.intra.ptp(op.nbytes) + (workers - self.per_node) * self.inter.ptp(op.nbytes)

    def describe(self) -> dict:
        """JSON-able: {"network": "two_level", "nodes", "per_node", "intra": {...}, "inter": {...}}."""
        return {"network": "two_level", "nodes": self.nodes, "per_node": self.per_node,
                "intra": self.intra.describe(), "inter": self.inter.describe()}


def network_from_description(d: dict) -> Network | TwoLevel:
    """The network that ``describe()`` returned ``d`` for; ValueError naming an unknown network or key."""
    kind = d.get("network") if isinstance(d, dict) else d
    keys = {"flat": ("latency", "bandwidth", "algorithms"), "two_level": ("nodes", "per_node", "intra", "inter")}
    if kind not in keys:
        raise ValueError(f"network must be one of flat, two_level; got {kind!r}")
    extra = sorted(set(d) - {"network", *keys[kind]})
    if extra or (kind == "two_level" and set(keys[kind]) - set(d)):
        raise ValueError(f"network {kind!r} takes keys {', '.join(keys[kind])}; got {sorted(d)}")
    if kind == "flat":
        return Network(**{k: d[k] for k in keys[kind] if k in d})
    return TwoLevel(d["nodes"], d["per_node"], network_from_description(d["intra"]),
                    network_from_description(d["inter"]))
