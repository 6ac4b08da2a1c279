"""Golden outputs of the hydro problems: small runs whose final fields are stored in ``tests/hydro/golden/``.

A change that moves any number of a problem (scheme, EOS, burner, time stepping) fails ``test_golden.py``; a
change that means to must regenerate them, say why in its commit, and show the difference::

    python -m tests.hydro.golden            # rewrite tests/hydro/golden/<problem>.h5
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).parent / "golden"
#: problem -> config overrides: small and short, every physics path of the problem exercised
CASES = {
    "sod": {"n": 64, "tmax": 0.1},
    "advect": {"n": 32},
    "detonation": {"n": 32, "tmax": 1e-3, "n_snapshots": 1},
    "kh": {"n": 16, "tmax": 0.02, "n_snapshots": 1},
}
FIELDS = ("rho", "u", "v", "p", "e", "T", "X")


def produce(problem: str) -> dict[str, np.ndarray]:
    """Run the golden case of ``problem`` (one thread) and return its final fields and step count."""
    from lawful.core.threads import set_threads
    from lawful.hydro import problems
    from lawful.hydro.run import run

    set_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = problems.get(problem).Config(out=Path(tmp), **CASES[problem])
        result = run(cfg, problem, show_progress=False)
        snap = sorted(Path(tmp).glob("snap_*.h5"))[-1]
        with h5py.File(snap) as f:
            out = {k: f[k][...] for k in FIELDS if k in f}
    out["steps"] = np.array(result.setup.state.step)
    return out


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for problem in CASES:
        fields = produce(problem)
        with h5py.File(HERE / f"{problem}.h5", "w") as f:
            for k, v in fields.items():
                f.create_dataset(k, data=v)
            f.attrs["config"] = repr(CASES[problem])
        print(f"{problem}: {int(fields['steps'])} steps -> {HERE / f'{problem}.h5'}")


if __name__ == "__main__":
    main()
