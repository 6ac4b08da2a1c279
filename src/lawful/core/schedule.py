"""Learning-rate schedules that follow the budget that will actually end the training.

A trainer stops at ``steps`` optimizer steps or ``seconds`` of wall time, whichever comes first. A cosine decay
laid over the step count alone leaves a run that the clock stops with its learning rate still high, halfway down
the curve. :class:`Budget` gives the schedule its horizon: the step count while the clock allows it, else the
step at which the clock will run out, re-estimated after every step from the time per step so far (the time of
earlier, resumed sessions included). When the step budget binds the horizon is exactly ``steps``, so such runs
(and their resumes) are bitwise what a step-only schedule gives; when the clock binds the schedule depends on
the machine's speed, as the stopping point already does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: the help of a trainer's ``epochs`` setting, beside its ``train_seconds``
EPOCHS_HELP = ("stop after this many epochs or train_seconds, whichever comes first; the learning rate's decay "
               "ends there")


@dataclass
class Budget:
    """Horizon of a schedule: ``steps`` (the step budget) or the steps that ``seconds`` of wall time allow."""

    steps: int
    seconds: float
    horizon: int = -1

    def __post_init__(self) -> None:
        if self.horizon < 0:
            self.horizon = self.steps

    def update(self, step: int, elapsed: float) -> int:
        """Re-estimate the horizon after ``step`` steps in ``elapsed`` seconds; returns it."""
        if step > 0 and elapsed > 0:
            reachable = step + (self.seconds - elapsed) * step / elapsed
            # a run checks its clock before each step, so it makes the first whole step past ``reachable``
            self.horizon = self.steps if reachable >= self.steps else max(step, math.ceil(reachable))
        return self.horizon


def cosine(done: float, horizon: float, floor: float = 0.0) -> float:
    """The learning-rate factor of a cosine decay from 1 at ``done`` = 0 to ``floor`` at ``done`` ≥ ``horizon``
    (steps or epochs, fractional allowed; a horizon ≤ 0 has ended)."""
    progress = min(done / horizon, 1.0) if horizon > 0 else 1.0
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
