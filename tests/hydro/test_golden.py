"""Every hydro problem reproduces its golden output (tests/hydro/golden.py says how to regenerate them)."""

import h5py
import numpy as np
import pytest

from tests.hydro.golden import CASES, HERE, produce


@pytest.mark.parametrize("problem", list(CASES))
def test_problem_reproduces_its_golden_output(problem):
    now = produce(problem)
    with h5py.File(HERE / f"{problem}.h5") as f:
        golden = {k: f[k][...] for k in f}
    assert set(now) == set(golden)
    assert int(now["steps"]) == int(golden["steps"])
    for key, value in golden.items():  # 1e-12: room for another CPU's rounding, far below any change of physics
        np.testing.assert_allclose(now[key], value, rtol=1e-12, atol=1e-300, err_msg=f"{problem}: {key}")
