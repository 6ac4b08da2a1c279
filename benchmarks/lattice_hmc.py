"""HMC throughput of lawful's numba kernels against a compiled C reference of the same leapfrog, in one run.

Builds benchmarks/c/phi4_hmc.c with ``gcc -O3 -march=native``, then for D=2, L=64 and D=4, L=16 measures
site-force evaluations per second (V × (n_steps + 1) per leapfrog trajectory) on one core:

* ``md``: the leapfrog integration alone (C: same loop; lawful: ``kernels.leapfrog``),
* ``trajectory``: a full HMC trajectory (momentum refresh, H before/after, accept/reject),
* ``trajectory ×4``: lawful with 4 chains batched in one kernel call (per-chain Python overhead amortized).

Each measurement is repeated (alternating C and lawful) and the best time kept; the table prints the ratio
lawful / C (goal ≥ 0.5) and the memory traffic the kernel implies. Usage: ``python benchmarks/lattice_hmc.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from lawful.core.rng import generators  # noqa: E402
from lawful.lattice import kernels  # noqa: E402
from lawful.lattice.actions import Phi4
from lawful.lattice.geometry import Lattice  # noqa: E402
from lawful.lattice.mcmc import HMC, initial_configuration  # noqa: E402

HERE = Path(__file__).resolve().parent
BUILD = HERE / "_build"
CASES = [  # (D, L, kappa, lam, n_steps, trajectories per timing)
    (2, 64, 0.27, 0.5, 10, 400),
    (4, 16, 0.12, 1.0, 20, 40),
]
REPEATS = 5


def build_c(name: str = "phi4_hmc") -> Path:
    """Compile ``benchmarks/c/<name>.c`` with gcc -O3 -march=native into ``benchmarks/_build/<name>``."""
    if shutil.which("gcc") is None:
        sys.exit("gcc is needed to build the C reference (apt-get install gcc)")
    BUILD.mkdir(exist_ok=True)
    exe = BUILD / name
    subprocess.run(["gcc", "-O3", "-march=native", "-o", str(exe), str(HERE / "c" / f"{name}.c"), "-lm"],
                   check=True)
    return exe


def time_c(exe: Path, d, L, kappa, lam, n_steps, n_traj, md_only) -> float:
    out = subprocess.run([str(exe), str(d), str(L), str(n_traj), str(n_steps), "1.0", str(kappa), str(lam),
                          "1" if md_only else "0"], check=True, capture_output=True, text=True).stdout.split()
    return float(out[1]) / float(out[0])


def time_lawful(d, L, kappa, lam, n_steps, n_traj, mode, n_chains=1) -> float:
    act = Phi4(Lattice(d, L), kappa, lam)
    hmc = HMC(act, n_steps=n_steps, traj_length=1.0, integrator="leapfrog")
    gens = generators(1, n_chains)
    phi = initial_configuration(act, n_chains, gens, "hot")
    lat = act.lattice
    p = np.zeros_like(phi)
    hmc.step(phi, gens)  # compile / warm caches
    t0 = time.perf_counter()
    for _ in range(n_traj):
        if mode == "md":
            p[:] = gens[0].standard_normal(phi.shape)
            kernels.leapfrog(phi, p, lat.fwd, lat.bwd, kappa, lam, n_steps, hmc.dt)
        else:
            hmc.step(phi, gens)
    sec = time.perf_counter() - t0
    return lat.volume * (n_steps + 1) * n_traj * n_chains / sec


def bytes_per_site_step(d: int) -> int:
    """Memory traffic of one kick+drift per site in the neighbour-table layout: 2D 4-byte indices, φ read in
    kick and read/write in drift, p read/write in kick and read in drift (neighbour φ assumed in cache)."""
    return 2 * d * 4 + 8 + 16 + 16 + 8


def main() -> None:
    exe = build_c()
    from rich.console import Console
    from rich.table import Table

    table = Table(title="φ⁴ HMC throughput, leapfrog, one core: lawful (numba) vs C (gcc -O3 -march=native)")
    for col in ("D", "L", "V", "what", "C [Msite-force/s]", "lawful [Msite-force/s]", "lawful / C",
                "lawful GB/s implied"):
        table.add_column(col, justify="right")
    for d, L, kappa, lam, n_steps, n_traj in CASES:
        for mode, chains in (("md", 1), ("trajectory", 1), ("trajectory ×4", 4)):
            best_c, best_l = 0.0, 0.0
            for _ in range(REPEATS):
                best_c = max(best_c, time_c(exe, d, L, kappa, lam, n_steps, n_traj * chains, mode == "md"))
                best_l = max(best_l, time_lawful(d, L, kappa, lam, n_steps, n_traj,
                                                 "md" if mode == "md" else "traj", chains))
            gbs = best_l * bytes_per_site_step(d) / 1e9
            table.add_row(str(d), str(L), str(L**d), mode, f"{best_c / 1e6:.0f}", f"{best_l / 1e6:.0f}",
                          f"{best_l / best_c:.2f}", f"{gbs:.1f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
