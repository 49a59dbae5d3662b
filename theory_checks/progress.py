"""Progress inside a check: a counter of work units that a runner may display (tqdm) or ignore.

A check's ``measure`` receives a :class:`Progress` and calls ``expect(n)`` when it knows how many units
(simulations, problems, grid cells) are coming and ``advance()`` after each, or wraps a loop in
``track``. The sink it reports to is the runner's business: a tqdm bar in this process, a queue to the
parent process when checks run in parallel, or nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Progress:
    """Counts done/total units of one check and reports each change to ``sink(done, total)``."""

    def __init__(self, sink: Callable[[int, int], None] | None = None):
        self.sink = sink
        self.done = 0
        self.total = 0

    def expect(self, n: int) -> None:
        """Announce ``n`` more units of work."""
        self.total += int(n)
        self._report()

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` units done."""
        self.done += int(n)
        self._report()

    def track(self, items: Iterable[T], total: int | None = None) -> Iterator[T]:
        """Iterate over ``items``, announcing them first (``total`` or ``len(items)``) and advancing after each."""
        if total is None:
            items = list(items)
            total = len(items)
        self.expect(total)
        for item in items:
            yield item
            self.advance()

    def _report(self) -> None:
        if self.sink is not None:
            self.sink(self.done, max(self.total, self.done))


NO_PROGRESS = Progress()
