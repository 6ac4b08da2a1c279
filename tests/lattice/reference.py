"""Independent reference implementations for the lattice tests (plain numpy, no lawful kernels).

* ``np_action`` / ``np_force``: φ⁴ action and force written with ``np.roll`` on the ``(L,)*D`` grid.
* ``free_field_chi``: exact ⟨m²⟩/V of the Gaussian (λ = 0) theory, 1 / (2 − 4κD) from the zero-momentum propagator.
* ``transfer_matrix_1d``: exact ⟨m²⟩/V, ⟨m⁴⟩ of the interacting D = 1 theory by a transfer matrix on a
  Gauss–Legendre grid (the path integral of a periodic chain is Tr T^L).
* ``ising_exact``: exact ⟨m²⟩/V, ⟨|m|⟩/V and U of the Ising limit by enumerating all 2^V states.
"""

from __future__ import annotations

import itertools

import numpy as np


def np_action(phi: np.ndarray, dim: int, size: int, kappa: float, lam: float) -> float:
    g = phi.reshape((size,) * dim)
    hop = sum(np.sum(g * np.roll(g, -1, axis=mu)) for mu in range(dim))
    return float(-2 * kappa * hop + np.sum(g**2) + lam * np.sum((g**2 - 1) ** 2))


def np_force(phi: np.ndarray, dim: int, size: int, kappa: float, lam: float) -> np.ndarray:
    g = phi.reshape((size,) * dim)
    nb = sum(np.roll(g, -1, axis=mu) + np.roll(g, 1, axis=mu) for mu in range(dim))
    return (2 * kappa * nb - 2 * g - 4 * lam * g * (g**2 - 1)).ravel()


def free_field_chi(kappa: float, dim: int) -> float:
    """⟨m²⟩/V for λ = 0: S = ½ φ M φ with M(p=0) = 2 − 4κD (needs κ < 1/(2D))."""
    return 1.0 / (2.0 - 4.0 * kappa * dim)


def transfer_matrix_1d(size: int, kappa: float, lam: float, n_grid: int = 240, cut: float = 6.0):
    """Exact (⟨m²⟩/V, ⟨m⁴⟩/⟨m²⟩²) of periodic D = 1 φ⁴ of ``size`` sites.

    T(φ, φ') = sqrt(w w') exp(2κφφ' − (V(φ) + V(φ'))/2) with V(φ) = φ² + λ(φ² − 1)²; observables of
    m = Σφ_x follow from the generating function Z(h) = Tr (T e^{hΦ})^L, here by explicit sums over site pairs.
    """
    x, w = np.polynomial.legendre.leggauss(n_grid)
    x, w = x * cut, w * cut
    pot = x**2 + lam * (x**2 - 1) ** 2
    sw = np.sqrt(w) * np.exp(-pot / 2)
    t = sw[:, None] * np.exp(2 * kappa * np.outer(x, x)) * sw[None, :]
    evals, evecs = np.linalg.eigh(t)
    scale = evals[-1]
    # powers T^r via eigen-decomposition, normalized by the largest eigenvalue
    def tpow(r: int) -> np.ndarray:
        return (evecs * (evals / scale) ** r) @ evecs.T

    z = np.trace(tpow(size))
    phi = np.diag(x)
    # ⟨φ_0 φ_r⟩
    corr = np.array([np.trace(phi @ tpow(r) @ phi @ tpow(size - r)) / z for r in range(size)])
    m2 = size * corr.sum()
    # ⟨m⁴⟩ = Σ_{a,b,c,d} ⟨φ_a φ_b φ_c φ_d⟩ = V Σ_{b,c,d} ⟨φ_0 φ_b φ_c φ_d⟩ (translation), over sorted (b,c,d)
    m4 = 0.0
    for r1 in range(size):
        for r2 in range(r1, size):
            for r3 in range(r2, size):
                pts = (0, r1, r2, r3)
                gaps = [r1, r2 - r1, r3 - r2, size - r3]
                mat = np.eye(n_grid)
                for gap in gaps[:-1]:
                    mat = mat @ phi @ tpow(gap)
                mat = mat @ phi @ tpow(gaps[-1])
                four = np.trace(mat) / z
                mult = len(set(itertools.permutations(pts[1:])))  # orderings of the three free sites
                m4 += mult * four
    m4 *= size
    return m2 / size, m4 / m2**2


def ising_exact(dim: int, size: int, kappa: float) -> dict[str, float]:
    """Exact Ising-limit observables (φ = ±1, weight e^{2κ Σ φ_x φ_{x+μ}}) by enumerating 2^V states."""
    vol = size**dim
    if vol > 20:
        raise ValueError("enumeration limited to V <= 20")
    states = ((np.arange(2**vol)[:, None] >> np.arange(vol)) & 1) * 2.0 - 1.0
    grid = states.reshape((-1,) + (size,) * dim)
    hop = sum(np.sum(grid * np.roll(grid, -1, axis=1 + mu), axis=tuple(range(1, dim + 1))) for mu in range(dim))
    logw = 2 * kappa * hop
    w = np.exp(logw - logw.max())
    m = states.sum(axis=1)
    z = w.sum()
    m2 = np.sum(w * m**2) / z
    m4 = np.sum(w * m**4) / z
    return {"chi": m2 / vol, "abs_m": np.sum(w * np.abs(m)) / z / vol, "binder": m4 / m2**2}
