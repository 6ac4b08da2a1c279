"""The one lifecycle of every long job (lattice runs, MH chains, training, hydro runs).

A job claims its output directory, works in steps, checkpoints on a timer and on Ctrl-C, and resumes from its
newest checkpoint when the same command runs again::

    toml = claim_run_directory(cfg, out, stored)   # refuses another run's directory; writes config.toml
    with checkpointing(save, cfg.checkpoint_seconds) as checkpoints:
        while not done:
            step()
            checkpoints.tick()                      # saves when due; stops here on Ctrl-C, after saving
    save()

``save`` writes the job's whole state atomically (:mod:`lawful.core.io`). Ctrl-C and SIGTERM are deferred to the
next :meth:`Checkpoints.tick` (:mod:`lawful.core.interrupt`), so a checkpoint always holds a state between two
steps and a resumed job is bitwise the uninterrupted one. ``rollback``, when given, runs before the final save
of an interrupted job, for jobs whose steps can be interrupted from inside (a test's hook, a second Ctrl-C is
not saved at all).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lawful.core.config import check_same_run, to_toml_text
from lawful.core.interrupt import Stop, deferred_interrupt
from lawful.core.io import atomic_write_bytes

CONFIG_FILE = "config.toml"


def check_run_directory(cfg: Any, out: str | Path, stored_config: str | None = None) -> None:
    """Raise ``ValueError`` if ``out`` holds another run: by its checkpoint's config ``stored_config`` when there
    is one, else by its ``config.toml`` (a directory without either is free)."""
    out = Path(out)
    if stored_config is None and (out / CONFIG_FILE).is_file():
        stored_config = (out / CONFIG_FILE).read_text()
    if stored_config is not None:
        check_same_run(cfg, stored_config, out)


def claim_run_directory(cfg: Any, out: str | Path, stored_config: str | None = None) -> str:
    """:func:`check_run_directory`, then write ``cfg`` into ``out`` as ``config.toml``; returns that TOML text."""
    out = Path(out)
    check_run_directory(cfg, out, stored_config)
    text = to_toml_text(cfg)
    atomic_write_bytes(out / CONFIG_FILE, text.encode())
    return text


class Checkpoints:
    """The timer between checkpoints and the safe point where a deferred Ctrl-C stops the job."""

    def __init__(self, save: Callable[[], None], every: float, stop: Stop):
        self.save, self.every, self.stop = save, every, stop
        self.last = time.perf_counter()

    def tick(self) -> None:
        """Call between two steps: save when ``every`` seconds have passed, stop if Ctrl-C was pressed."""
        if time.perf_counter() - self.last > self.every:
            self.save_now()
        self.stop.check()

    def save_now(self) -> None:
        """Save now (e.g. with a snapshot) and restart the timer."""
        self.save()
        self.last = time.perf_counter()


@contextlib.contextmanager
def checkpointing(save: Callable[[], None], every: float,
                  rollback: Callable[[], None] | None = None) -> Iterator[Checkpoints]:
    """Run the block with Ctrl-C deferred to :meth:`Checkpoints.tick` and ``save`` on the timer; on an interrupt
    (``KeyboardInterrupt``) ``rollback()`` (if given) and ``save()`` run before it propagates, except after a
    second Ctrl-C, which stops at once and leaves the previous checkpoint."""
    with deferred_interrupt() as stop:
        checkpoints = Checkpoints(save, every, stop)
        try:
            yield checkpoints
        except KeyboardInterrupt:
            if stop.safe:
                if rollback is not None:
                    rollback()
                save()
            raise
