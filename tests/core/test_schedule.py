"""The learning-rate horizon follows whichever budget ends the training."""

import math

import pytest

from lawful.core.schedule import Budget, cosine


def test_step_budget_binds_exactly():
    b = Budget(steps=1000, seconds=100.0)
    for step in range(1, 1001, 37):
        assert b.update(step, elapsed=0.05 * step) == 1000  # 1000 steps take 50 s < 100 s


def test_time_budget_sets_the_horizon_and_ends_at_the_last_step():
    b = Budget(steps=1000, seconds=10.0)
    assert b.horizon == 1000  # nothing measured yet
    assert b.update(10, elapsed=1.0) == 100  # 0.1 s per step: 100 steps fit in 10 s
    assert b.update(50, elapsed=4.0) == 125  # it got faster: re-estimated
    assert b.update(120, elapsed=10.5) == 120  # over time: the horizon is where the run stands


def test_cosine_runs_from_one_to_its_floor():
    assert cosine(0, 10) == 1.0 and cosine(10, 10) == 0.0 and cosine(25, 10) == 0.0
    assert cosine(5, 10) == pytest.approx(0.5) and cosine(2.5, 10) == pytest.approx(0.5 + 0.5 * math.cos(math.pi / 4))
    assert cosine(10, 10, floor=0.1) == pytest.approx(0.1) and cosine(5, 10, floor=0.1) == pytest.approx(0.55)
    assert cosine(3, 0, floor=0.2) == 0.2  # a horizon of nothing has ended


def test_the_horizon_is_the_step_the_clock_check_lets_run_last():
    b = Budget(steps=100, seconds=25.0)
    assert b.update(1, elapsed=10.0) == 3  # 10 s a step: steps start at 0, 10 and 20 s, before the 25 s are up
    assert b.update(2, elapsed=20.0) == 3
