"""The communication seam: every cross-worker operation of an update rule is a call on a collective.

A rule holds all workers' rows, X (p, d), and never reduces or indexes across rows itself: it calls
one of the methods below, which return what every rank receives (an array broadcastable to (p, d), or
row indices). Two implementations run the same rule objects:

- :class:`Vectorized` (the default): today's array code, one NumPy/CuPy call per collective;
- :class:`PerWorker`: every worker's row is handled separately, as a rank of an MPI job would
  (Python loops over ranks; the proof that a real runner or an event clock can plug in, not a hot
  path). Reductions add the rows in rank order, the order NumPy uses along axis 0, so both give
  bit-identical results.

Ranks 0 … p − 1 are the workers; rank p is the coordinator (the parameter server of EASGD and
DOWNPOUR, the reducer of an all-reduce, the rank that compares the leader scores). Every call records
its messages (:class:`Message`, the floats counted in a Result) and the collective it is
(:class:`lsgdsim.clock.network.Op`, what the virtual clock prices: a min-loc, a broadcast, a ring
all-reduce, a gather to or scatter from the server); the run loop drains them once per step
(:meth:`Collective.drain`).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .backend import namespace, take_row, to_numpy
from .clock.network import Op

INDEX_BYTES = 8  # a rank index (int64) sent back by a min-loc
_OPS: dict[tuple, Op] = {}


class Message(NamedTuple):
    """One collective's traffic: every rank in ``senders`` sends ``floats`` floats (``nbytes`` bytes) to
    every rank in ``receivers``; a rank does not send to itself. ``op`` names the collective."""

    op: str
    senders: range
    receivers: range
    floats: int
    nbytes: int

    @property
    def links(self) -> int:
        """Number of (sender, receiver) pairs with sender ≠ receiver."""
        s, r = self.senders, self.receivers
        overlap = max(0, min(s.stop, r.stop) - max(s.start, r.start))
        return len(s) * len(r) - overlap

    @property
    def total_floats(self) -> int:
        return self.links * self.floats

    @property
    def total_bytes(self) -> int:
        return self.links * self.nbytes


class GroupBroadcasts(NamedTuple):
    """The n sub-group broadcasts of one ``broadcast_groups`` call as one record: group j (ranks j·size …
    (j+1)·size − 1) receives ``floats`` floats from rank ``roots[j]``. Its ``total_floats`` is what the n
    Messages would sum to, computed at once; :meth:`messages` gives them one by one (for the log)."""

    op: str
    roots: tuple
    size: int
    floats: int
    nbytes: int

    def messages(self) -> list[Message]:
        return [Message(self.op, _rank(r), range(j * self.size, (j + 1) * self.size), self.floats, self.nbytes)
                for j, r in enumerate(self.roots)]

    @property
    def total_floats(self) -> int:
        roots = np.asarray(self.roots)
        inside = np.count_nonzero(roots // self.size == np.arange(len(roots)))     # a root does not send to itself
        return (len(roots) * self.size - int(inside)) * self.floats


def _rank(i) -> range:
    return range(int(i), int(i) + 1)


class Collective:
    """The interface (and the message log) shared by both implementations.

    ``record=True`` keeps every drained message with its step in ``log`` [(t, Message), ...]; without
    it only the pending messages of the current step are kept (the run loop counts their floats)."""

    def __init__(self, record: bool = False):
        self.record = record
        self.log: list[tuple[int, Message]] = []
        self.op_log: list[tuple[int, Op]] = []
        self.pending: list[Message] = []
        self.ops: list[Op] = []
        self.workers, self.itemsize = 0, 8

    def reset(self, workers: int, itemsize: int) -> None:
        """Start of a run of ``workers`` workers whose floats take ``itemsize`` bytes."""
        self.workers, self.itemsize = workers, itemsize
        self.log, self.op_log, self.pending, self.ops = [], [], [], []

    def drain(self, t: int) -> list[Message]:
        """This step's messages (and forget them and the step's ops; kept in ``log``/``op_log`` when recording)."""
        msgs, self.pending = self.pending, []
        ops, self.ops = self.ops, []
        if self.record:
            msgs = [one for m in msgs for one in (m.messages() if isinstance(m, GroupBroadcasts) else (m,))]
            self.log.extend((t, m) for m in msgs)
            self.op_log.extend((t, o) for o in ops)
        return msgs

    def _send(self, op, senders, receivers, floats, nbytes=None):
        self.pending.append(Message(op, senders, receivers, floats,
                                    floats * self.itemsize if nbytes is None else nbytes))

    def _op(self, kind: str, nbytes: int = 0, group=None) -> None:
        """Note the collective ``kind`` (one Op object per distinct call: they are made once, then reused)."""
        key = (kind, nbytes, group)
        op = _OPS.get(key)
        if op is None:
            op = _OPS[key] = Op(kind, nbytes, group=group)
        self.ops.append(op)

    def _count(self, rows: int) -> int:
        """The workers a call on ``rows`` rows stands for (a process that holds some of the workers' rows
        counts the messages of all of them, so the tally is the one-process tally)."""
        return rows

    def _gather_scores(self, p):
        server = _rank(p)
        self._send("min_loc", range(p), server, 1)
        return server

    # -- the collectives: record, then compute --------------------------------------------------------
    def min_loc(self, scores, groups: int = 1, local_only: bool = False):
        """All-reduce min-loc of the workers' scores (p,): (ℓ, ℓ_groups). ℓ = argmin (ties → lowest rank),
        ℓ_groups (n,) the argmin within each of ``groups`` contiguous groups (None when groups = 1).
        The coordinator gathers the p scores once and returns the 1 + n winning ranks to every worker.
        ``local_only``: only the group leaders are needed (priced as a min-loc within each group)."""
        p = self._count(scores.shape[0])
        server = self._gather_scores(p)
        self._send("min_loc", server, range(p), 0, INDEX_BYTES * (1 + (groups > 1) * groups))
        self._op("minloc", 0, p // groups if local_only and groups > 1 else None)
        return self._min_loc(scores, groups)

    def broadcast(self, X, root):
        """Every worker receives row ``root`` of X (p, d): (1, d) or (p, d)."""
        self._send("broadcast", _rank(root), range(self._count(X.shape[0])), X.shape[1])
        self._op("broadcast", X.shape[1] * self.itemsize)
        return self._broadcast(X, root)

    def broadcast_groups(self, X, roots):
        """Sub-group broadcast: group j (contiguous, p/n workers) receives row roots[j]: (p, d)."""
        p, d = self._count(X.shape[0]), X.shape[1]
        n = roots.shape[0]
        size = p // n
        self.pending.append(GroupBroadcasts("broadcast", tuple(np.asarray(to_numpy(roots)).tolist()), size, d,
                                            d * self.itemsize))     # one record for the n groups' messages
        self._op("broadcast", d * self.itemsize, size)   # the groups' broadcasts run in parallel
        return self._broadcast_groups(X, roots)

    def server_broadcast(self, row, workers: int):
        """Every worker receives the coordinator's row (d,): (1, d) or (p, d)."""
        workers = self._count(workers)
        self._send("broadcast", _rank(workers), range(workers), row.shape[-1])
        self._op("server_scatter", row.shape[-1] * self.itemsize)
        return self._server_broadcast(row, workers)

    def reduce_to_server(self, rows, op: str = "sum"):
        """The coordinator receives every worker's row of ``rows`` (p, d) and forms their sum or mean (d,)."""
        p = self._count(rows.shape[0])
        self._send("reduce_" + op, range(p), _rank(p), rows.shape[1])
        self._op("server_gather", rows.shape[1] * self.itemsize)
        return self._reduce(rows, op == "mean")

    def allreduce_mean(self, rows):
        """Every worker receives the mean of the rows (p, d): (1, d) or (p, d). Counted as the rows
        reduced at the coordinator and the mean sent back (2·p·d floats); priced as a ring all-reduce."""
        p, d = self._count(rows.shape[0]), rows.shape[1]
        self._send("reduce_mean", range(p), _rank(p), d)
        self._send("broadcast", _rank(p), range(p), d)
        self._op("allreduce", d * self.itemsize)
        return self._server_broadcast(self._reduce(rows, True), rows.shape[0])

    # -- implementation hooks ----------------------------------------------------------------------------
    def _min_loc(self, scores, groups):
        raise NotImplementedError

    def _broadcast(self, X, root):
        raise NotImplementedError

    def _broadcast_groups(self, X, roots):
        raise NotImplementedError

    def _server_broadcast(self, row, workers):
        raise NotImplementedError

    def _reduce(self, rows, mean: bool):
        raise NotImplementedError


class Vectorized(Collective):
    """Each collective is one array operation on all rows (the simulator's hot path)."""

    def _min_loc(self, scores, groups):
        xp = namespace(scores)
        best = xp.argmin(scores)
        if groups == 1:
            return best, None
        size = scores.shape[0] // groups
        return best, xp.argmin(xp.reshape(scores, (groups, size)), axis=1) + xp.arange(groups) * size

    def _broadcast(self, X, root):
        return take_row(X, root)

    def _broadcast_groups(self, X, roots):
        xp = namespace(X)
        p, d = X.shape
        n = roots.shape[0]
        leaders = xp.take(X, roots, axis=0)
        return xp.reshape(xp.broadcast_to(leaders[:, None, :], (n, p // n, d)), (p, d))

    def _server_broadcast(self, row, workers):
        return row[None, :]

    def _reduce(self, rows, mean):
        xp = namespace(rows)
        return xp.mean(rows, axis=0) if mean else xp.sum(rows, axis=0)


class PerWorker(Collective):
    """Every rank's row handled on its own: ranks send rows, the coordinator combines them one by one."""

    def _min_loc(self, scores, groups):
        xp = namespace(scores)
        received = [scores[i] for i in range(scores.shape[0])]   # one score per rank, in rank order
        best = _first_min(received, range(len(received)))
        if groups == 1:
            return xp.asarray(best), None
        size = len(received) // groups
        local = [_first_min(received, range(j * size, (j + 1) * size)) for j in range(groups)]
        return xp.asarray(best), xp.asarray(local)

    def _broadcast(self, X, root):
        xp = namespace(X)
        row = take_row(X, root)[0]
        return xp.stack([xp.asarray(row, copy=True) for _ in range(X.shape[0])])

    def _broadcast_groups(self, X, roots):
        xp = namespace(X)
        p, n = X.shape[0], roots.shape[0]
        size = p // n
        rows = [take_row(X, roots[j])[0] for j in range(n)]
        return xp.stack([xp.asarray(rows[i // size], copy=True) for i in range(p)])

    def _server_broadcast(self, row, workers):
        xp = namespace(row)
        return xp.stack([xp.asarray(row, copy=True) for _ in range(workers)])

    def _reduce(self, rows, mean):
        xp = namespace(rows)
        acc = xp.asarray(rows[0], copy=True)
        for i in range(1, rows.shape[0]):       # rank order: the order NumPy adds rows along axis 0
            acc = acc + rows[i]
        return acc / rows.shape[0] if mean else acc


def _first_min(values, ranks):
    """The rank of the smallest value, ties to the lowest rank; a NaN wins as in ``argmin``."""
    best = ranks[0]
    for i in ranks[1:]:
        v, b = values[i], values[best]
        if (bool(v != v) and not bool(b != b)) or bool(v < b):
            best = i
    return best


COLLECTIVES: dict[str, Any] = {"vectorized": Vectorized, "per_worker": PerWorker}
