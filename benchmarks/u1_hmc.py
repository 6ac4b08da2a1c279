"""2D U(1) HMC throughput of lawful's numba kernels against a compiled C reference of the same update, in one run.

Builds benchmarks/c/u1_hmc.c with ``gcc -O3 -march=native``, then for L = 16 and L = 64 (β = 4) measures
link-force evaluations per second (2V × (n_steps + 1) per leapfrog trajectory) on one core:

* ``md``: the leapfrog integration alone (C: same loop; lawful: ``kernels.leapfrog``),
* ``trajectory``: a full HMC trajectory (momentum refresh, H before and after, accept/reject, wrap),
* ``trajectory ×8``: lawful with 8 chains batched in one kernel call (per-call Python overhead amortized).

Each measurement is repeated (alternating C and lawful) and the best kept; the table prints lawful / C (the
issue's goal: ≥ 0.5) and the memory traffic and sine evaluations the kernel implies.
Usage: ``python benchmarks/u1_hmc.py``.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from lattice_hmc import build_c  # noqa: E402

from lawful.core.rng import generators  # noqa: E402
from lawful.lattice.mcmc import HMC  # noqa: E402
from lawful.lattice.u1 import kernels  # noqa: E402
from lawful.lattice.u1.action import U1  # noqa: E402

CASES = [(16, 4.0, 10, 2000), (64, 4.0, 10, 150)]  # (L, beta, n_steps, trajectories per timing)
REPEATS = 5


def time_c(exe: Path, L: int, beta: float, n_steps: int, n_traj: int, md_only: bool) -> float:
    out = subprocess.run([str(exe), str(L), str(n_traj), str(n_steps), "1.0", str(beta), "1" if md_only else "0"],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[1]) / float(out[0])


def time_lawful(L: int, beta: float, n_steps: int, n_traj: int, mode: str, n_chains: int = 1) -> float:
    act = U1(L, beta)
    hmc = HMC(act, n_steps=n_steps, traj_length=1.0, integrator="leapfrog")
    gens = generators(1, n_chains)
    theta = act.initial(n_chains, gens, "hot")
    lat = act.lattice
    p = np.zeros_like(theta)
    hmc.step(theta, gens)  # compile / warm caches
    t0 = time.perf_counter()
    for _ in range(n_traj):
        if mode == "md":
            p[:] = gens[0].standard_normal(theta.shape)
            kernels.leapfrog(theta, p, lat.fwd, lat.bwd, beta, n_steps, hmc.dt)
        else:
            hmc.step(theta, gens)
    return act.n_dof * (n_steps + 1) * n_traj * n_chains / (time.perf_counter() - t0)


def bytes_per_link_step() -> float:
    """Memory traffic per link and MD step (kick + drift), neighbour values assumed in cache: the kick reads 4
    link angles per plaquette for V plaquettes (2 per link) and 2 neighbour indices (4 B each) per link, reads and
    writes p; the drift reads p and reads and writes θ."""
    return 2 * 8 + 4 * 4 / 2 + 16 + 8 + 16


def main() -> None:
    exe = build_c("u1_hmc")
    from rich.console import Console
    from rich.table import Table

    table = Table(title="2D U(1) HMC throughput, leapfrog, one core: lawful (numba) vs C (gcc -O3 -march=native)")
    for col in ("L", "links", "what", "C [M link-force/s]", "lawful [M link-force/s]", "lawful / C",
                "lawful GB/s implied", "lawful M sin/s"):
        table.add_column(col, justify="right")
    for L, beta, n_steps, n_traj in CASES:
        for mode, chains in (("md", 1), ("trajectory", 1), ("trajectory ×8", 8)):
            best_c = best_l = 0.0
            for _ in range(REPEATS):
                best_c = max(best_c, time_c(exe, L, beta, n_steps, n_traj * chains, mode == "md"))
                best_l = max(best_l, time_lawful(L, beta, n_steps, n_traj, "md" if mode == "md" else "traj", chains))
            table.add_row(str(L), str(2 * L * L), mode, f"{best_c / 1e6:.1f}", f"{best_l / 1e6:.1f}",
                          f"{best_l / best_c:.2f}", f"{best_l * bytes_per_link_step() / 1e9:.2f}",
                          f"{best_l / 2e6:.1f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
