import numpy as np
import pytest

from lawful.core.executor import run_tasks
from lawful.core.rng import generators


def draw(i: int) -> float:
    return float(generators(123, i + 1)[i].random())


def test_serial_is_a_map():
    assert run_tasks(draw, [0, 1, 2]) == [draw(0), draw(1), draw(2)]


def test_dask_local_cluster_gives_the_serial_answer():
    items = list(range(4))
    np.testing.assert_array_equal(run_tasks(draw, items, scheduler="local", n_workers=2), run_tasks(draw, items))


@pytest.mark.parametrize("bad", ["cluster", "localhost"])
def test_bad_scheduler(bad):
    with pytest.raises(ValueError, match="scheduler must be"):
        run_tasks(draw, [0], scheduler=bad)
