"""Signals for commands that run for minutes: SIGTERM takes the Ctrl-C path, and writing is never cut.

``lsgdsim`` installs a :class:`SignalGuard` around every subcommand: SIGTERM raises :class:`Terminated`
(a KeyboardInterrupt), so that ``simulate(..., on_interrupt="return")`` and the check runner keep what
finished, and the command exits 143 (130 for Ctrl-C). Only the *first* signal interrupts: the command is
then stopping and writing what finished, so a second one (an impatient Ctrl-C 0.3 s later) is held until
that is written, with one line saying so; a third aborts. While results are written (``holding()``),
SIGINT and SIGTERM are held until the files are complete. Previous handlers are restored afterwards.

Before all that, while the package is still importing (a second or so), :func:`install_early` (called
from ``lsgdsim/__init__.py`` only when the process is the ``lsgdsim`` command) turns SIGTERM into
:class:`Terminated` and an interrupt that escapes into one line and exit status 130/143, not a traceback.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
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

    ABORT_AFTER = 3                # the signal that aborts even a write (the first interrupts, the second waits)

    def __init__(self):
        self.writing = False
        self.pending: int | None = None
        self.received = 0

    def _on_signal(self, signum, frame):
        self.received += 1
        if self.received >= self.ABORT_AFTER:
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        if self.writing or self.received > 1:   # stopping already: what finished is being written
            self.pending = signum
            print(f"lsgdsim: {signal.Signals(signum).name} again: still writing what finished (a third signal "
                  "aborts)", file=sys.stderr, flush=True)
            return
        if signum == signal.SIGTERM:
            raise Terminated()
        raise KeyboardInterrupt()

    @contextlib.contextmanager
    def installed(self):
        """SIGTERM → :class:`Terminated` and SIGINT → KeyboardInterrupt inside the block (main thread only),
        the first of them only (see the module docstring), then the old handlers."""
        self.pending, self.received = None, 0
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

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

    def interrupted(self) -> bool:
        """Whether a signal came (the command is stopping)."""
        return self.received > 0

    def exit_status(self) -> int | None:
        """143/130 when a signal arrived while writing, else None."""
        return {signal.SIGTERM: EXIT_TERMINATED, signal.SIGINT: EXIT_INTERRUPTED}.get(self.pending)


# -- while the command is still importing -------------------------------------------------------------------
def launched_as_command() -> bool:
    """Whether this process is the ``lsgdsim`` command (its console script, or ``python -m lsgdsim`` while
    the package is located: ``sys.argv[0]`` is then ``-m``), not a program that imports the library."""
    mp, mp_main = sys.modules.get("multiprocessing"), sys.modules.get("__mp_main__")
    if (mp_main is not None and mp_main is not sys.modules.get("__main__")) or \
            (mp is not None and (mp.parent_process() is not None or _spawning(mp))):
        return False                         # a pool process: spawn copies the parent's argv, not its role
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 == "-m" or os.path.basename(argv0) == "lsgdsim" or \
        argv0.endswith(os.path.join("lsgdsim", "__main__.py"))


def _spawning(mp) -> bool:
    """Whether this is a spawned process still importing its parent's main module: multiprocessing marks the
    process as inheriting until then, and sets its parent only afterwards."""
    return bool(getattr(mp.current_process(), "_inheriting", False))


def quiet_exit() -> None:
    """Once the command has returned its status: SIGINT and SIGTERM ignored while the interpreter exits
    (its teardown restores the default handlers, and a late signal would turn exit 143 into a kill)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def _raise_terminated(signum, frame):
    raise Terminated()


def install_early() -> None:
    """SIGTERM → :class:`Terminated`, and an interrupt that escapes before the command's own guard → one
    line and exit status 130/143 (main thread only; the command's :class:`SignalGuard` takes over)."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            by = getattr(exc, "signal_name", "Ctrl-C")
            print(f"lsgdsim: interrupted ({by}) while starting; nothing was run, nothing was written",
                  file=sys.stderr, flush=True)
            os._exit(EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED)
        previous(exc_type, exc, tb)

    sys.excepthook = hook
