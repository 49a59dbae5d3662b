"""Signals for an MPI rank: noted for the next status exchange, and never a rank left hanging.

mpiexec forwards SIGINT and SIGTERM to every rank. A rank notes the signal and reports it at its next
status exchange, so that all ranks stop at the same step and rank 0 writes what finished (exit 130/143).
If, after a signal, a rank is still running ``GRACE`` seconds later (blocked inside MPI: a peer that
died, a bug), a watchdog outside Python (``faulthandler``) ends the process, so that no rank hangs.
"""
from __future__ import annotations

import faulthandler
import os
import signal
import threading

GRACE = 15.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RankGuard:
    """``with RankGuard() as guard:`` ... ``guard.signal`` is "SIGTERM"/"KeyboardInterrupt" once one came."""

    def __init__(self, grace: float = GRACE):
        self.grace = grace
        self.signal: str | None = None
        self._previous: dict = {}
        self._devnull = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._on_signal) for s in SIGNALS}
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        if self._devnull is not None:
            faulthandler.cancel_dump_traceback_later()
            self._devnull.close()
        return False

    def _on_signal(self, signum, frame):
        if self.signal is None and self._devnull is None:
            self._devnull = open(os.devnull, "w")
            faulthandler.dump_traceback_later(self.grace, exit=True, file=self._devnull)
        self.signal = "SIGTERM" if signum == signal.SIGTERM else "KeyboardInterrupt"
