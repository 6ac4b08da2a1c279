"""The learning-rate horizon follows whichever budget ends the training."""

from lawful.core.schedule import Budget


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
