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

from dataclasses import dataclass


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
            self.horizon = self.steps if reachable >= self.steps else max(step, int(reachable))
        return self.horizon
