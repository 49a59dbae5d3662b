"""The lockstep executor: all p workers take step t together, the rule's own ``step`` (local update,
then the communications due at t) on the whole (p, d) iterate. This is :func:`lsgdsim.simulate`
without a clock, and the reference every other executor is compared with."""
from __future__ import annotations

from ..algorithms.base import StepInput
from .recording import LazyValues, Snapshot, check_finite


class Lockstep:
    """The body of :func:`simulate`; ``committed`` is the latest step checked finite (for a stop)."""

    def __init__(self, objective, algorithm, streams, rec, tally, workers, steps, grad_noise, batch_size,
                 record_every, comm):
        self.objective, self.algorithm, self.streams, self.rec, self.tally = objective, algorithm, streams, rec, tally
        self.workers, self.steps, self.grad_noise = workers, steps, grad_noise
        self.batch_size, self.record_every, self.comm = batch_size, record_every, comm
        self.committed: Snapshot | None = None

    def run(self, X, state, bar) -> Snapshot:
        objective, algorithm, streams, rec, tally = self.objective, self.algorithm, self.streams, self.rec, self.tally
        xp, workers, steps, grad_noise, comm = rec.xp, self.workers, self.steps, self.grad_noise, self.comm
        batch_size, record_every = self.batch_size, self.record_every
        minibatch = batch_size is not None
        stream_kw = {"streams": streams} if getattr(objective, "uses_streams", False) else {}
        snapshot = tuple.__new__  # Snapshot(...) without the keyword-argument machinery (hot loop)
        for t in range(1, steps + 1):
            if minibatch:
                idx = objective.sample_batch(streams, workers, batch_size)
                losses, G = objective.batch_value_and_grad(X, idx, **stream_kw)
                if grad_noise > 0:  # in place: the oracle's gradient array is fresh and owned by this loop
                    G += streams.normal("grad_noise", (workers, objective.dim), scale=grad_noise)
            else:  # the noise is drawn (same stream, same draw) and added block by block with the gradient
                losses, G = objective.noisy_value_and_grad(X, streams, grad_noise)
            check_finite(xp, losses, t - 1)
            exact = LazyValues(objective, X, None if minibatch else losses)
            # One assignment: an interrupt lands either before or after it, never half-way.
            self.committed = snapshot(Snapshot, (t - 1, X, state, exact, tally.counts))
            if (t - 1) % record_every == 0:
                rec.record(self.committed)
            X, state, events = algorithm.step(X, state, StepInput(t, G, losses, exact, streams, comm))
            messages = comm.drain(t)
            if messages or events:
                tally.add(events, messages, t)
            if bar is not None:
                bar.update(1)
        final = objective.value(X)
        check_finite(xp, final, steps)
        self.committed = Snapshot(steps, X, state, LazyValues(objective, X, final), tally.counts)
        rec.record(self.committed)
        return self.committed

