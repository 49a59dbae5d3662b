"""Signals for an MPI rank: noted for the next status exchange, and never a rank left hanging.

mpiexec forwards SIGINT and SIGTERM to every rank. A rank notes the signal and reports it at its next
status exchange, so that all ranks stop at the same step and rank 0 writes what finished (exit 130/143).
A rank blocked inside MPI (a peer that stopped differently, a bug) never gets back to Python to run a
signal handler, so the signal is also written to a pipe by the interpreter's own C-level handler
(``signal.set_wakeup_fd``), which a watchdog thread reads (mpi4py lets go of the GIL while it waits in
MPI): if the rank is still running ``GRACE`` seconds after the signal, the watchdog ends the process.
"""
from __future__ import annotations

import os
import signal
import threading
import time

GRACE = 15.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT = {int(signal.SIGINT): 130, int(signal.SIGTERM): 143}


class RankGuard:
    """``with RankGuard() as guard:`` ... ``guard.signal`` is "SIGTERM"/"KeyboardInterrupt" once one came."""

    def __init__(self, grace: float = GRACE):
        self.grace = grace
        self.signal: str | None = None
        self.active = False
        self._previous: dict = {}
        self._pipe = None
        self._wakeup = -1

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        self.active = True
        self._previous = {s: signal.signal(s, self._on_signal) for s in SIGNALS}
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._pipe = (read, write)
        self._wakeup = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(read,), name="lsgdsim-rank-guard", daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.active = False
        if self._pipe is not None:
            signal.set_wakeup_fd(self._wakeup)
            for s, handler in self._previous.items():
                signal.signal(s, handler)
            os.close(self._pipe[1])          # the watchdog reads the end of the pipe and returns
        return False

    def _on_signal(self, signum, frame):
        self.signal = "SIGTERM" if signum == signal.SIGTERM else "KeyboardInterrupt"

    def _watch(self, read: int):
        try:
            data = os.read(read, 1)
        finally:
            os.close(read)
        if not data or not self.active:
            return
        deadline = time.monotonic() + self.grace
        while self.active and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.active:                      # still running: blocked in MPI, it would never stop by itself
            os._exit(EXIT.get(data[0], 1))
