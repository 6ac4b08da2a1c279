"""One training state for every trainer (the lattice flows and diffusion models, the burn surrogate).

A trainer's whole state is the module, its optimizer and learning-rate schedule, the generator its batches are
drawn with, the steps and wall seconds so far (over all sessions) and the loss history. :class:`TrainingState`
holds them, gives the checkpoint's dict and restores from it, so a resumed training continues bitwise.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lawful.core.io import atomic_torch_save


@dataclass
class TrainingState:
    """``model`` (a torch module), ``optimizer``, ``schedule`` (a torch LR scheduler), ``generator`` (a
    torch.Generator), ``step`` (optimizer steps so far), ``seconds`` (training wall time so far, s) and
    ``history`` (one entry per recorded step, the trainer's own)."""

    model: Any
    optimizer: Any
    schedule: Any
    generator: Any
    step: int = 0
    seconds: float = 0.0
    history: list = field(default_factory=list)
    _clock: float = field(default=0.0, repr=False)

    def start_clock(self) -> None:
        """Start timing this session's steps (before the training loop)."""
        self._clock = time.perf_counter()

    def end_step(self, budget: Any = None) -> None:
        """After an optimizer step: count it and its wall time, re-estimate ``budget``'s horizon
        (:class:`lawful.core.schedule.Budget`) and step the learning-rate schedule."""
        self.step += 1
        now = time.perf_counter()
        self.seconds += now - self._clock
        self._clock = now
        if budget is not None:
            budget.update(self.step, self.seconds)
        self.schedule.step()

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "schedule": self.schedule.state_dict(), "generator": self.generator.get_state(),
                "step": self.step, "seconds": self.seconds, "history": self.history}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.generator.set_state(state["generator"])
        self.step, self.seconds, self.history = int(state["step"]), float(state["seconds"]), list(state["history"])

    def save(self, path: str | Path, **extra: Any) -> None:
        """Write :meth:`state_dict` (plus ``extra`` entries, e.g. the config) to ``path`` atomically."""
        atomic_torch_save(Path(path), {**self.state_dict(), **extra})


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Run the block with torch's deterministic algorithms (restored after): with more than one thread, the
    scatter-adds of index_add/index_put backward otherwise sum in a varying order and a resumed training drifts
    from the uninterrupted one in the last bits."""
    import torch

    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)
