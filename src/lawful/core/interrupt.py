"""Ctrl-C that waits for a safe point, so a checkpoint never holds a half-done step.

Python raises ``KeyboardInterrupt`` wherever the interpreter happens to be: between an HMC trajectory and its
accept/reject, or between the two halves of a Strang step, and a checkpoint written from there resumes a
different run. Inside :func:`deferred_interrupt`, SIGINT and SIGTERM only set ``stop.requested``; the loop
calls ``stop.check()`` between steps, which raises ``KeyboardInterrupt`` there, where the state is whole and
the loop's handler can checkpoint it. A second signal raises at once (for a step that hangs); the loop then
must not checkpoint (``stop.safe`` is False) and the previous checkpoint stays.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Stop:
    """What :func:`deferred_interrupt` yields: ``requested`` (a signal arrived) and ``safe`` (the state is whole)."""

    def __init__(self) -> None:
        self.requested = False
        self.safe = True

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a signal arrived; call it where the state is whole."""
        if self.requested:
            raise KeyboardInterrupt

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:  # the second signal: stop now, mid-step
            self.safe = False
            raise KeyboardInterrupt
        self.requested = True


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Stop]:
    """Defer SIGINT/SIGTERM to the next ``stop.check()`` inside the block (see the module docstring).

    Outside the main thread (a Dask worker thread, a test runner's thread) signals cannot be caught there, so
    the block runs with the handlers as they are and ``stop`` never fires.
    """
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, stop._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
