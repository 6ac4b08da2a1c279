"""Accuracy: the lecture's D = 3 φ⁴ reference points reproduced by lawful's HMC, with Γ-method errors and pulls.

HMC with leapfrog, τ = 1, δτ = 0.1 (the settings of the reference τ_int), 4 chains × N trajectories per point.
Usage: ``python benchmarks/lattice_reference_table.py [N]`` (default N = 200000; the slow tests use the same).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time

from lawful.lattice.analysis import analyze
from lawful.lattice.config import Phi4RunConfig
from lawful.lattice.run import run

TABLE = [  # (L, κ, λ, χ, σ, U, σ, ⟨|m|⟩/V, σ, τ_int(m²)); unquoted errors: ½ of the last digit
    (4, 0.18169, 1.3282, 14.38, 0.04, 1.605, 0.004, 0.425, 0.002, 15),
    (6, 0.185825, 1.1689, 32.8, 0.2, 1.60, 0.01, None, None, 28),
    (6, 0.1, 1.1689, 1.358, 0.0005, 2.96, 0.005, None, None, None),
    (6, 0.2, 1.1689, 82.5, 0.05, 1.10, 0.005, None, None, None),
]


def fmt(v: float, e: float) -> str:
    d = max(0, 1 - int(math.floor(math.log10(e))))
    return f"{v:.{d}f}({round(e * 10**d)})"


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    table = Table(title=f"D=3 φ⁴ reference points: lawful HMC (leapfrog, τ=1, δτ=0.1), 4 chains × {n} trajectories")
    for col in ("L", "κ", "χ", "ref", "pull", "U", "ref", "pull", "⟨|m|⟩/V", "ref", "pull", "τ_int(m²)", "ref",
                "acc", "s"):
        table.add_column(col, justify="right")
    for L, kappa, lam, chi, dchi, u, du, am, dam, tau in TABLE:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            run(Phi4RunConfig(dim=3, size=L, kappa=kappa, lam=lam, integrator="leapfrog", n_steps=10, n_traj=n,
                              n_therm=2000, n_chains=4, seed=101, out=tmp), show_progress=False)
            an = analyze(tmp)
            sec = time.perf_counter() - t0
        e = an.estimates
        row = [str(L), str(kappa)]
        for key, ref, dref in (("chi", chi, dchi), ("binder", u, du), ("abs_m_density", am, dam)):
            v, err = e[key].value, e[key].error
            if ref is None:
                row += [fmt(v, err), "–", ""]
            else:
                row += [fmt(v, err), f"{ref}({dref})", f"{(v - ref) / math.hypot(err, dref):+.1f}"]
        row += [fmt(e["m2"].tau_int, e["m2"].tau_int_error), f"≈{tau}" if tau else "–", f"{an.acceptance:.3f}",
                f"{sec:.0f}"]
        table.add_row(*row)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
