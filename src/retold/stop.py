"""A stop request (Ctrl-C, SIGTERM) that survives an exception Python drops.

Python raises the exception of a signal handler in whatever code runs at that moment. Inside a ctypes callback —
numba compiling a kernel on a cold cache, for one — it is printed as "Exception ignored" and lost, and a run
would go on as if nothing had been asked. The CLI's handlers therefore also record the request here, and the
pipeline calls `check` at every batch, which raises it again.
"""

from __future__ import annotations

import signal

__all__ = ["Terminated", "check", "clear", "request", "requested"]


class Terminated(KeyboardInterrupt):
    """SIGTERM (`timeout`, systemd, docker), raised in the main thread so that it unwinds like Ctrl-C: the open
    transaction rolls back, the worker processes stop, temporary files go."""


_requested: int | None = None


def request(signum: int) -> None:
    """Record that the run was asked to stop by signal `signum`."""
    global _requested
    _requested = signum


def requested() -> int | None:
    """The signal that asked the run to stop, if any."""
    return _requested


def clear() -> None:
    """Forget any request (a new command starts)."""
    global _requested
    _requested = None


def check() -> None:
    """Raise the recorded request again: `Terminated` for SIGTERM, `KeyboardInterrupt` otherwise."""
    if _requested is not None:
        raise Terminated if _requested == signal.SIGTERM else KeyboardInterrupt
