"""Conformance checks for interatomic potentials behind an ASE calculator: what any energy model of atoms must
satisfy, whatever it learned. Units are ASE's: Å, eV, eV/Å, eV/Å³.

:func:`check_potential` runs each check on a periodic configuration and returns one :class:`Check` per property,
with the measured error and the tolerance it was held to:

* ``rotation`` / ``reflection``: E invariant, F → F Rᵀ, σ → R σ Rᵀ under a proper rotation and an improper one
  (cell and positions rotated together);
* ``translation``: E, F, σ unchanged when every atom moves by the same vector;
* ``permutation``: E, σ unchanged and F permuted with the atoms;
* ``wrapping``: atoms moved by lattice vectors (positions outside the cell) give the same E, F, σ;
* ``force_sum``: Σᵢ Fᵢ = 0 (translation invariance of E);
* ``force_fd``: F = −∂E/∂r against central finite differences (step ``h``) on a few components;
* ``stress_fd``: σ = (1/V) ∂E/∂ε against central finite differences of a symmetric strain of cell and positions;
* ``locality``: two copies of a cluster, their nearest atoms just further apart than ``cutoff``, in an open box:
  E = 2 E_cluster and each copy's forces are the cluster's;
* ``cutoff``: a dimer pulled apart past ``cutoff``: E(r) − E(∞) and F(r) fall to zero without jumps.

Errors are relative to the scale of the quantity (|E| per atom, the largest |F|, the largest |σ|), so the same
tolerances serve any potential. :func:`noisy_forces` is the negative control: a calculator whose forces carry white
noise fails ``force_fd``, ``force_sum`` and the equivariance checks.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Check:
    """One property: the largest relative ``error`` measured, the ``tolerance`` it was held to, and ``passed``."""

    name: str
    error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.error <= self.tolerance)


@dataclasses.dataclass(frozen=True)
class PotentialCheck:
    """Every :class:`Check` of :func:`check_potential`; ``failures`` names those that did not pass."""

    checks: tuple[Check, ...]

    @property
    def failures(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def __getitem__(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


def _evaluate(calc, atoms, stress: bool = True) -> tuple[float, np.ndarray, np.ndarray | None]:
    atoms = atoms.copy()
    atoms.calc = calc
    return (float(atoms.get_potential_energy()), atoms.get_forces().copy(),
            atoms.get_stress(voigt=False).copy() if stress else None)


def _rel(a, b, scale: float) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / scale)


def _rotation(rng: np.random.Generator, proper: bool) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if (np.linalg.det(q) > 0) != proper:
        q[:, 0] *= -1.0
    return q


def check_potential(calc, atoms, *, cutoff: float, seed: int = 0, rtol: float = 1e-8, fd_rtol: float = 1e-4,
                    h: float = 1e-4, rattle: float = 0.05) -> PotentialCheck:
    """Run every check of the module docstring for ASE calculator ``calc`` on a rattled copy of the periodic
    ``atoms`` (``rattle`` Å, ``seed``); ``cutoff`` (Å) is the potential's interaction range. ``rtol`` bounds the
    exact symmetries (round-off), ``fd_rtol`` the finite-difference checks (step ``h``, Å or strain).

    ValueError for atoms that are not periodic in all three directions or too few to move."""
    if not atoms.pbc.all() or len(atoms) < 2:
        raise ValueError(f"check_potential needs a periodic bulk configuration of at least 2 atoms; got pbc = "
                         f"{atoms.pbc.tolist()}, {len(atoms)} atom(s)")
    rng = np.random.default_rng(seed)
    base = atoms.copy()
    base.positions += rng.normal(scale=rattle, size=base.positions.shape)
    n = len(base)
    E, F, S = _evaluate(calc, base)
    e_scale = max(abs(E) / n, 1e-3) * n
    f_scale = max(np.abs(F).max(), 1e-3)
    s_scale = max(np.abs(S).max(), 1e-6)

    def same(other, E2, F2, S2, name):
        return Check(name, max(abs(E2 - E) / e_scale, _rel(F2, other[0], f_scale), _rel(S2, other[1], s_scale)),
                     rtol)

    checks = []
    for name, proper in (("rotation", True), ("reflection", False)):
        R = _rotation(rng, proper)
        rot = base.copy()
        rot.set_cell(base.cell.array @ R.T, scale_atoms=False)
        rot.positions = base.positions @ R.T
        E2, F2, S2 = _evaluate(calc, rot)
        checks.append(same((F @ R.T, R @ S @ R.T), E2, F2, S2, name))
    moved = base.copy()
    moved.positions += rng.normal(size=3)
    checks.append(same((F, S), *_evaluate(calc, moved), "translation"))
    perm = rng.permutation(n)
    checks.append(same((F[perm], S), *_evaluate(calc, base[perm]), "permutation"))
    wrapped = base.copy()
    wrapped.positions += rng.integers(-2, 3, size=(n, 3)) @ base.cell.array
    checks.append(same((F, S), *_evaluate(calc, wrapped), "wrapping"))
    checks.append(Check("force_sum", float(np.abs(F.sum(axis=0)).max() / f_scale), rtol * n))
    checks.append(Check("force_fd", _force_fd(calc, base, F, rng, h) / f_scale, fd_rtol))
    checks.append(Check("stress_fd", _stress_fd(calc, base, S, h) / s_scale, fd_rtol))
    checks.append(_locality(calc, atoms, cutoff, rtol))
    checks.append(_cutoff(calc, atoms, cutoff, fd_rtol))
    return PotentialCheck(tuple(checks))


def _central_difference(calc, atoms, displace, h: float) -> float:
    """(E(+h) − E(−h)) / 2h, where ``displace(copy, step)`` moves a copy of ``atoms`` by ``step`` in place."""
    energies = []
    for step in (h, -h):
        moved = atoms.copy()
        displace(moved, step)
        energies.append(_evaluate(calc, moved, stress=False)[0])
    return (energies[0] - energies[1]) / (2 * h)


def _force_fd(calc, atoms, F, rng, h: float, components: int = 6) -> float:
    """Largest |F + ∂E/∂r| (eV/Å) over ``components`` random (atom, axis) pairs, by central differences."""
    worst = 0.0
    for _ in range(components):
        i, a = int(rng.integers(len(atoms))), int(rng.integers(3))

        def move(moved, step, i=i, a=a):
            moved.positions[i, a] += step

        worst = max(worst, abs(F[i, a] + _central_difference(calc, atoms, move, h)))
    return worst


def _stress_fd(calc, atoms, S, h: float) -> float:
    """Largest |σ_ab − (1/V) ∂E/∂ε_ab| (eV/Å³) over the six symmetric strain components, by central differences
    of the energy with cell and positions strained together."""
    worst = 0.0
    volume = atoms.get_volume()
    for a, b in ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)):

        def strain(moved, step, a=a, b=b):
            eps = np.zeros((3, 3))
            eps[a, b] = eps[b, a] = step / (1 if a == b else 2)
            moved.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)

        worst = max(worst, abs(S[a, b] - _central_difference(calc, atoms, strain, h) / volume))
    return worst


def _cluster(atoms, size: int = 4):
    """The ``size`` atoms nearest the first one, as an open (non-periodic) cluster."""
    d = atoms.get_distances(0, range(len(atoms)), mic=True, vector=True)
    nearest = np.argsort(np.linalg.norm(d, axis=1))[:size]
    cluster = atoms[nearest]
    cluster.positions = atoms.positions[0] + d[nearest]
    cluster.pbc = False
    return cluster


def _locality(calc, atoms, cutoff: float, rtol: float) -> Check:
    """E of two far-apart copies of a cluster against twice the cluster's, and each copy's forces."""
    one = _cluster(atoms)
    extent = one.positions[:, 0].max() - one.positions[:, 0].min()
    other = one.copy()
    other.positions[:, 0] += extent + 1.01 * cutoff  # the nearest pair of the two copies: just past the cutoff
    both = one + other
    for a in (one, both):
        a.center(vacuum=cutoff)
    E1, F1, _ = _evaluate(calc, one, stress=False)
    E2, F2, _ = _evaluate(calc, both, stress=False)
    scale = max(abs(E1), 1e-3)
    f_scale = max(np.abs(F1).max(), 1e-3)
    error = max(abs(E2 - 2 * E1) / scale, _rel(F2[: len(one)], F1, f_scale), _rel(F2[len(one):], F1, f_scale))
    return Check("locality", error, rtol * 10)


def _cutoff(calc, atoms, cutoff: float, tol: float) -> Check:
    """A dimer of the first species from 0.8 r_c to 1.2 r_c: the largest |E(r) − E(∞)| and |F(r)| beyond r_c, and
    the largest jump of E between neighbouring samples, relative to the dimer's largest |F| and binding."""
    from ase import Atoms

    symbol = atoms.get_chemical_symbols()[0]
    r = np.linspace(0.8 * cutoff, 1.2 * cutoff, 401)
    far = Atoms([symbol, symbol], positions=[[0, 0, 0], [0, 0, 4 * cutoff]], pbc=False)
    far.center(vacuum=cutoff)
    E_inf = _evaluate(calc, far, stress=False)[0]
    E, Fz = np.empty(r.size), np.empty(r.size)
    for k, d in enumerate(r):
        dimer = Atoms([symbol, symbol], positions=[[0, 0, 0], [0, 0, d]], pbc=False)
        dimer.center(vacuum=cutoff)
        E[k], F, _ = _evaluate(calc, dimer, stress=False)
        Fz[k] = F[1, 2]
    scale = max(np.abs(Fz).max() * (r[1] - r[0]) * 10, np.abs(E - E_inf).max(), 1e-6)
    beyond = r > cutoff
    tail = max(np.abs(E[beyond] - E_inf).max(), np.abs(Fz[beyond]).max() * (r[1] - r[0]) * 10)
    # a jump: E changes between neighbours by more than the force allows
    jump = np.abs(np.diff(E) + 0.5 * (Fz[1:] + Fz[:-1]) * np.diff(r)).max()
    return Check("cutoff", max(tail, jump) / scale, tol * 100)


def noisy_forces(inner, sigma: float, seed: int = 0):
    """An ASE calculator: ``inner``'s energy and stress, its forces plus Gaussian noise of ``sigma`` eV/Å per
    component, fresh on every call (a non-conservative potential, for negative controls)."""
    from ase.calculators.calculator import Calculator, all_changes

    class NoisyForces(Calculator):
        implemented_properties = ["energy", "free_energy", "forces", "stress"]

        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            a = self.atoms.copy()
            a.calc = inner
            energy = a.get_potential_energy()
            self.results = {"energy": energy, "free_energy": energy,
                            "forces": a.get_forces() + self.rng.normal(scale=sigma, size=(len(a), 3))}
            if a.pbc.all():
                self.results["stress"] = a.get_stress()

    return NoisyForces()
