"""Gradient-domain kernel regression of one molecule's force field (GDML, Chmiela et al. 2017): the classical
baseline for learning from forces.

The descriptor is the vector of inverse distances x = (1/r_ij)_{i<j} of one molecule, its Jacobian J = ∂x/∂r
(n_pairs × 3n). With a Gaussian kernel k(x, x') = exp(−‖x − x'‖²/2σ²) on energies, the forces (−∇E) have the
covariance K_ab = J_aᵀ H_ab J_b with H_ab = k_ab (I/σ² − d dᵀ/σ⁴), d = x_a − x_b; the fit solves
(K + λ·mean diag K·I) α = F (all 3n·N components, Cholesky), predicts F̂_a = Σ_b K_ab α_b and the energy that
integrates them, E = c − Σ_b k_ab (x_a − x_b)ᵀ J_b α_b / σ² (so that −∇E = F̂ exactly), with c from the training
energies. σ (multiples of the median ‖x_a − x_b‖) and λ are chosen by the force MAE on a seeded 20 % validation
part of the first ``cv_max`` training frames. Unlike sGDML this does not symmetrize over the molecule's
permutations (methyl rotations), which costs accuracy at a given N. Kernel blocks are built batched in torch
(float64); the training kernel holds (3n·N)² numbers: 5.8 GB for ethanol at N = 1000.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lawful.atoms.krr import median_distance, solve

SIGMA_FACTORS = (0.5, 1.0, 2.0, 4.0, 8.0)
LAMBDAS = (1e-10, 1e-8, 1e-6, 1e-4)


def descriptor(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse distances x [B, P] and their Jacobian J [B, P, 3n] of frames ``positions`` [B, n, 3] (Å)."""
    b, n, _ = positions.shape
    i, j = np.triu_indices(n, 1)
    d = positions[:, j] - positions[:, i]  # [B, P, 3]
    r = np.linalg.norm(d, axis=2)
    x = 1.0 / r
    g = d / r[..., None] ** 3  # ∂(1/r)/∂r_i = (r_j − r_i)/r³, and minus that for r_j
    jac = np.zeros((b, len(i), n, 3))
    pairs = np.arange(len(i))
    jac[:, pairs, i] = g
    jac[:, pairs, j] = -g
    return x, jac.reshape(b, len(i), 3 * n)


def _sqdist(xa, xb):
    """‖x_a − x_b‖² [A, B] from differences (not ‖x‖² + ‖y‖² − 2x·y, whose round-off the large α amplify)."""
    import torch

    return torch.cdist(xa, xb, compute_mode="donot_use_mm_for_euclid_dist") ** 2


def _blocks(xa, ja, xb, jb, sigma: float):
    """Force covariance K [A·3n, B·3n] and the kernel k [A, B] between frames a and b (torch tensors)."""
    import torch

    k = torch.exp(-0.5 * _sqdist(xa, xb) / sigma ** 2)
    m = torch.einsum("adi,bdj->aibj", ja, jb)
    pa = torch.einsum("adi,ad->ai", ja, xa)
    v = pa[:, :, None] - torch.einsum("adi,bd->aib", ja, xb)  # J_aᵀ (x_a − x_b)  [A, 3n, B]
    pb = torch.einsum("bdj,bd->bj", jb, xb)
    w = torch.einsum("bdj,ad->abj", jb, xa) - pb[None]  # J_bᵀ (x_a − x_b)  [A, B, 3n]
    kk = k[:, None, :, None]
    blk = kk * m / sigma ** 2 - kk * v[:, :, :, None] * w[:, None, :, :] / sigma ** 4
    return blk.reshape(xa.shape[0] * ja.shape[2], xb.shape[0] * jb.shape[2]), k


def force_kernel(xa, ja, xb, jb, sigma: float, block: int = 64) -> np.ndarray:
    """K [A·3n, B·3n] (numpy), built in blocks of ``block`` frames of a."""
    import torch

    xa, ja, xb, jb = (torch.as_tensor(t, dtype=torch.float64) for t in (xa, ja, xb, jb))
    out = np.empty((xa.shape[0] * ja.shape[2], xb.shape[0] * jb.shape[2]))
    dof = ja.shape[2]
    for lo in range(0, xa.shape[0], block):
        blk, _ = _blocks(xa[lo:lo + block], ja[lo:lo + block], xb, jb, sigma)
        out[lo * dof:(lo + blk.shape[0] // dof) * dof] = blk.numpy()
    return out


@dataclasses.dataclass
class GDML:
    """A fitted force field: training descriptors, weights α [N, 3n], σ, λ and the energy constant c (eV)."""

    x: np.ndarray
    jac: np.ndarray
    alpha: np.ndarray
    sigma: float
    lam: float
    c: float = 0.0

    def predict(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Energies [B] (eV, with c) and forces [B, n, 3] (eV/Å) of frames ``positions`` [B, n, 3]."""
        import torch

        x, jac = descriptor(positions)
        kf = force_kernel(x, jac, self.x, self.jac, self.sigma)
        forces = (kf @ self.alpha.ravel()).reshape(positions.shape)
        k = np.exp(-0.5 * _sqdist(torch.as_tensor(x), torch.as_tensor(self.x)).numpy() / self.sigma ** 2)
        u = np.einsum("bdj,bj->bd", self.jac, self.alpha)  # J_b α_b [N, P]
        g = (k * (x @ u.T - np.sum(self.x * u, axis=1)[None, :])).sum(1) / self.sigma ** 2
        return self.c - g, forces


def fit(positions: np.ndarray, energies: np.ndarray, forces: np.ndarray, seed: int = 0,
        cv_max: int = 200) -> GDML:
    """GDML fitted to frames ``positions`` [N, n, 3] with ``energies`` [N] (eV) and ``forces`` [N, n, 3] (eV/Å)."""
    n = len(positions)
    if n < 5:
        raise ValueError(f"GDML needs at least 5 frames (a validation part is held out), got {n}")
    x, jac = descriptor(positions)
    dof = jac.shape[2]
    n_cv = min(n, cv_max)
    order = np.random.default_rng([seed, n_cv]).permutation(n_cv)
    n_val = max(1, n_cv // 5)
    fit_rows, val_rows = order[n_val:], order[:n_val]
    median = median_distance(x[:n_cv], "gaussian", seed=seed)
    best = (np.inf, None, None)
    for factor in SIGMA_FACTORS:
        sigma = factor * median
        kf = force_kernel(x[fit_rows], jac[fit_rows], x[fit_rows], jac[fit_rows], sigma)
        kv = force_kernel(x[val_rows], jac[val_rows], x[fit_rows], jac[fit_rows], sigma)
        for lam in LAMBDAS:
            try:
                alpha = solve(kf.copy(), forces[fit_rows].reshape(-1), lam)
            except np.linalg.LinAlgError:
                continue
            mae = float(np.mean(np.abs(kv @ alpha - forces[val_rows].reshape(-1))))
            if mae < best[0]:
                best = (mae, sigma, lam)
    if best[1] is None:
        raise np.linalg.LinAlgError("the GDML kernel is not positive definite for any sigma and lambda of the grid")
    _, sigma, lam = best
    alpha = solve(force_kernel(x, jac, x, jac, sigma), forces.reshape(-1), lam).reshape(n, dof)
    model = GDML(x, jac, alpha, sigma, lam)
    e0, _ = model.predict(positions)
    model.c = float(np.mean(energies - e0))
    return model
