import pytest

from lawful.lattice.analysis import analyze
from lawful.lattice.config import Phi4RunConfig
from lawful.lattice.run import run


@pytest.fixture
def simulate(tmp_path):
    """Run a lattice ensemble in a temporary directory and return its Γ-method analysis."""
    counter = iter(range(1_000_000))

    def _simulate(**kw):
        cfg = Phi4RunConfig(out=tmp_path / f"run{next(counter)}", **kw)
        run(cfg, show_progress=False)
        return analyze(cfg.out)

    return _simulate
