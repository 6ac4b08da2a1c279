"""Material properties of any ASE calculator, computed the same way for a model and its reference.

fcc lattice constant a₀ (Å, minimum of E(a)), bulk modulus B (GPa, Birch–Murnaghan fit of E(V) by ``ase.eos``),
cubic elastic constants C11, C12, C44 (GPa, central differences of the stress under ±``delta`` strain at a₀; fcc
has one atom per primitive cell, so no internal relaxation) and the vacancy formation energy (eV,
E(N−1, relaxed) − (N−1)/N·E(N) in an ``n``×``n``×``n`` cubic supercell at a₀, positions relaxed by BFGS).
"""

from __future__ import annotations

import numpy as np

from lawful.atoms.errors import EV_A3_GPA


def _energy(calc, atoms) -> float:
    atoms = atoms.copy()
    atoms.calc = calc
    return float(atoms.get_potential_energy())


def lattice_constant(calc, symbol: str, start: float | None = None) -> float:
    """fcc a₀ (Å) of ``symbol`` under ``calc``: the minimum of E(a) by a parabola through a ± 2 %, refined at
    ± 0.2 % and ± 0.02 %, starting from ``start`` (default ASE's tabulated value)."""
    from ase.build import bulk

    a = start or bulk(symbol, "fcc").cell.lengths()[0] * np.sqrt(2)
    for width in (0.02, 0.002, 0.0002):
        trial = a * (1 + np.array([-width, 0.0, width]))
        c = np.polyfit(trial, [_energy(calc, bulk(symbol, "fcc", a=x, cubic=True)) for x in trial], 2)
        if not c[0] > 0:
            raise ValueError(f"E(a) of fcc {symbol} has no minimum near a = {a:.4f} Å")
        a = -c[1] / (2 * c[0])
    return float(a)


def bulk_modulus(calc, symbol: str, a0: float, spread: float = 0.02) -> float:
    """B (GPa) from a Birch–Murnaghan fit (``ase.eos``) of E(V) over a₀·(1 ± ``spread``)."""
    from ase.build import bulk
    from ase.eos import EquationOfState

    cells = [bulk(symbol, "fcc", a=a0 * x, cubic=True) for x in np.linspace(1 - spread, 1 + spread, 9)]
    eos = EquationOfState([c.get_volume() for c in cells], [_energy(calc, c) for c in cells], eos="birchmurnaghan")
    try:
        _, _, b = eos.fit()
    except RuntimeError as exc:  # scipy's curve_fit found no minimum
        raise ValueError(f"no Birch-Murnaghan fit of E(V) for fcc {symbol}: {exc}") from None
    return float(b * EV_A3_GPA)


def elastic_constants(calc, symbol: str, a0: float, delta: float = 1e-3) -> dict[str, float]:
    """C11, C12, C44 (GPa) by central differences of the stress (ASE's sign: σ = C ε) under ±``delta``."""
    from ase.build import bulk

    def stress(eps: np.ndarray) -> np.ndarray:
        atoms = bulk(symbol, "fcc", a=a0, cubic=True)
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
        atoms.calc = calc
        return atoms.get_stress(voigt=False)

    e_xx, e_yz = np.zeros((3, 3)), np.zeros((3, 3))
    e_xx[0, 0] = delta
    e_yz[1, 2] = e_yz[2, 1] = delta / 2  # engineering shear γ_yz = delta
    d_xx = (stress(e_xx) - stress(-e_xx)) / (2 * delta)
    d_yz = (stress(e_yz) - stress(-e_yz)) / (2 * delta)
    return {"C11_gpa": float(d_xx[0, 0] * EV_A3_GPA), "C12_gpa": float(d_xx[1, 1] * EV_A3_GPA),
            "C44_gpa": float(d_yz[1, 2] * EV_A3_GPA)}


def vacancy_energy(calc, symbol: str, a0: float, n: int = 3, fmax: float = 0.005) -> float:
    """Vacancy formation energy (eV) in an n×n×n cubic supercell at a₀, positions relaxed (BFGS to ``fmax``)."""
    from ase.build import bulk
    from ase.optimize import BFGS

    perfect = bulk(symbol, "fcc", a=a0, cubic=True) * (n, n, n)
    e_perfect = _energy(calc, perfect)
    vac = perfect.copy()
    del vac[0]
    vac.calc = calc
    BFGS(vac, logfile=None).run(fmax=fmax, steps=200)
    return float(vac.get_potential_energy() - (len(vac) / len(perfect)) * e_perfect)


def properties(calc, symbol: str) -> dict:
    """a0 (Å), B_gpa, C11_gpa, C12_gpa, C44_gpa, vacancy_ev of fcc ``symbol`` under ``calc``. A potential with
    no minimum of E(a) or E(V) (an undertrained model) gets NaN there and the reason under ``failed``."""
    nan = float("nan")
    try:
        a0 = lattice_constant(calc, symbol)
    except ValueError as exc:
        return {"a0": nan, "B_gpa": nan, "C11_gpa": nan, "C12_gpa": nan, "C44_gpa": nan, "vacancy_ev": nan,
                "failed": str(exc)}
    out = {"a0": a0, **elastic_constants(calc, symbol, a0), "vacancy_ev": vacancy_energy(calc, symbol, a0)}
    try:
        out["B_gpa"] = bulk_modulus(calc, symbol, a0)
    except ValueError as exc:
        out["B_gpa"], out["failed"] = nan, str(exc)
    return out
