"""The whole ``lawful lattice hmc`` command against the C reference's HMC loop on the same run, in one run.

The issue's run: D = 2, L = 64, κ = 0.25, λ = 0.5, 10 000 leapfrog trajectories of 10 steps, τ = 1, one chain.
Timed as a user sees it, wall clock of the process:

* ``C``: benchmarks/c/phi4_hmc.c (gcc -O3 -march=native), the HMC loop alone;
* ``lawful lattice hmc``: interpreter start, imports, the run (HDF5 checkpoint included), the Γ-method analysis
  and its table (no plots: they are written when asked);
* ``lawful lattice analyze`` (with plots / ``--no-plots``): what post-processing costs on its own;
* ``python -c 'import lawful.cli.app'``: the import floor of any command.

Each is repeated (alternating) and the best kept; the table gives C / lawful for the whole command (goal ≥ 0.8).

    python benchmarks/lattice_command.py [--n-traj 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lattice_hmc import build_c  # noqa: E402

D, L, KAPPA, LAM, N_STEPS = 2, 64, 0.25, 0.5, 10


def wall(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-traj", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    exe = build_c()
    lawful = str(Path(sys.executable).parent / "lawful")
    env = {**os.environ, "LAWFUL_THREADS": "1"}
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "phi4"
        hmc = [lawful, "lattice", "hmc", "--dim", str(D), "--size", str(L), "--kappa", str(KAPPA), "--lam", str(LAM),
               "--n-traj", str(args.n_traj), "--n-therm", "0", "--n-steps", str(N_STEPS), "--traj-length", "1",
               "--integrator", "leapfrog", "--out", str(run_dir)]
        subprocess.run(hmc, check=True, capture_output=True, env=env)  # compile / load the numba caches once
        cases = {
            "C: HMC loop": [str(exe), str(D), str(L), str(args.n_traj), str(N_STEPS), "1.0", str(KAPPA), str(LAM)],
            "lawful lattice hmc (whole command)": hmc,
            "lawful lattice analyze": [lawful, "lattice", "analyze", str(run_dir)],
            "lawful lattice analyze --no-plots": [lawful, "lattice", "analyze", str(run_dir), "--no-plots"],
            "python -c 'import lawful.cli.app'": [sys.executable, "-c", "import lawful.cli.app"],
        }
        for _ in range(args.repeats):
            for name, cmd in cases.items():
                if cmd is hmc:
                    shutil.rmtree(run_dir)
                best[name] = min(best.get(name, float("inf")), wall(cmd, env))
    from rich.console import Console
    from rich.table import Table

    c = best["C: HMC loop"]
    table = Table(title=f"φ⁴ HMC D={D} L={L}, {args.n_traj} leapfrog trajectories of {N_STEPS} steps, one thread: "
                        f"wall clock, best of {args.repeats}")
    for col in ("what", "seconds", "C / this"):
        table.add_column(col, justify="right")
    for name, sec in best.items():
        table.add_row(name, f"{sec:.2f}", f"{c / sec:.2f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
