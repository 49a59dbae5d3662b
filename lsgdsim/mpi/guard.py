"""Signals for an MPI rank: noted for the next status exchange, and never a rank left hanging.

mpiexec forwards SIGINT and SIGTERM to every rank. A rank notes the signal and reports it at its next
status exchange, so that all ranks stop at the same step and rank 0 writes what finished (exit 130/143).
A rank blocked inside MPI (a peer that died, a bug) never gets back to Python, so the signal is waited
for on a thread of its own (the main thread blocks it): if the rank is still running ``GRACE`` seconds
after the signal, that thread ends the process (rank 0 saying so in one line).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

GRACE = 10.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


class RankGuard:
    """``with RankGuard(rank) as guard:`` ... ``guard.signal`` is "SIGTERM"/"KeyboardInterrupt" once one came."""

    def __init__(self, rank: int, grace: float = GRACE):
        self.rank, self.grace = rank, grace
        self.signal: str | None = None
        self.active = False

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        self.active = True
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        threading.Thread(target=self._watch, name="lsgdsim-rank-guard", daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.active = False
        if threading.current_thread() is threading.main_thread():
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
        return False

    def _watch(self):
        signum = signal.sigwait(SIGNALS)
        if not self.active:
            return
        self.signal = "SIGTERM" if signum == signal.SIGTERM else "KeyboardInterrupt"
        time.sleep(self.grace)
        if self.active:                 # still running: blocked in MPI, it would never stop by itself
            if self.rank == 0:
                sys.stderr.write(f"lsgdsim: interrupted ({self.signal}); a rank did not stop within "
                                 f"{self.grace:g} s (blocked in MPI): the job ends, nothing was written\n")
                sys.stderr.flush()
            os._exit(EXIT[signum])
