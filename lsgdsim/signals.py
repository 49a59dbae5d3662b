"""Signals for commands that run for minutes: SIGTERM takes the Ctrl-C path, and writing is never cut.

``lsgdsim`` installs a :class:`SignalGuard` around every subcommand: SIGTERM raises :class:`Terminated`
(a KeyboardInterrupt), so that ``simulate(..., on_interrupt="return")`` and the check runner keep what
finished, and the command exits 143 (130 for Ctrl-C). While results are written (``holding()``), SIGINT
and SIGTERM are held until the files are complete. Previous handlers are restored afterwards.
"""
from __future__ import annotations

import contextlib
import signal
import threading

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it takes the Ctrl-C path: ``simulate(...,
    on_interrupt="return")`` and the check runner keep what finished; the command exits 143."""

    signal_name = "SIGTERM"


class SignalGuard:
    """While a command runs, SIGTERM raises :class:`Terminated`; while results are written, SIGINT and
    SIGTERM are held until the files are complete (``pending`` then says which came). Handlers are
    restored afterwards; outside the main thread nothing is installed."""

    def __init__(self):
        self.writing = False
        self.pending: int | None = None

    def _on_signal(self, signum, frame):
        if self.writing:
            self.pending = signum
            return
        if signum == signal.SIGTERM:
            raise Terminated()
        raise KeyboardInterrupt()

    @contextlib.contextmanager
    def installed(self):
        """SIGTERM → :class:`Terminated` inside the block (main thread only), then the old handler."""
        self.pending = None
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGTERM, self._on_signal)
        try:
            yield self
        finally:
            signal.signal(signal.SIGTERM, previous)

    @contextlib.contextmanager
    def holding(self):
        """Hold SIGINT/SIGTERM while files are written (a second Ctrl-C must not cut a result in half)."""
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._on_signal) if main else None
        self.writing = True
        try:
            yield self
        finally:
            self.writing = False
            if main:
                signal.signal(signal.SIGINT, previous)

    def exit_status(self) -> int | None:
        """143/130 when a signal arrived while writing, else None."""
        return {signal.SIGTERM: EXIT_TERMINATED, signal.SIGINT: EXIT_INTERRUPTED}.get(self.pending)
