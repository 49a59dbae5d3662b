"""A worker process dies with its parent, however the parent dies.

The process pool of ``lsgdsim sweep --jobs``, ``check --jobs`` and ``reproduce --jobs`` is stopped by its
parent on an error, Ctrl-C or SIGTERM. A parent killed with SIGKILL (or by the out-of-memory killer) runs
no code at all, and a pool process waiting for work would then live on, orphaned, holding its memory. So
each pool process watches its parent: a daemon thread looks every ``POLL_S`` seconds whether the process
that started it is still its parent (an orphan is re-parented, to init or a subreaper) and ends the
process at once if not. The check costs nothing measurable (a system call twice a second), works for
every start method and OS with ``os.getppid``, and needs no cooperation from the parent.
"""
from __future__ import annotations

import os
import threading
import time

POLL_S = 0.5
EXIT_ORPHANED = 70                 # the status an orphaned worker ends with (nobody is left to read it)


def watch_parent(parent: int | None = None, poll_s: float = POLL_S) -> threading.Thread:
    """Start the daemon thread that ends this process once its parent is gone; returns the thread.

    ``parent``: the parent's pid as the parent saw it when it started this process (``os.getpid()`` there,
    passed along): a parent killed while this process was still starting up (a spawned Python takes a
    second or two to import) is then noticed too; default: the parent now."""
    parent = os.getppid() if parent is None else parent

    def orphaned() -> bool:
        return os.getppid() != parent

    if orphaned():
        os._exit(EXIT_ORPHANED)               # no clean-up: the parent that would use it is gone

    def watch():
        while True:
            time.sleep(poll_s)
            if orphaned():
                os._exit(EXIT_ORPHANED)

    thread = threading.Thread(target=watch, name="lsgdsim-lifeline", daemon=True)
    thread.start()
    return thread
