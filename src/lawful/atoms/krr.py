"""Kernel ridge regression of molecular energies, with hyperparameters chosen on a validation split.

Kernels (n_a, n_b):

* global Laplacian exp(−‖x − y‖₁/σ) and Gaussian exp(−‖x − y‖₂²/2σ²) between whole-molecule vectors; the
  distance matrix is computed once (qmllib's Fortran ℓ1, a BLAS product for ℓ2) and reused for every σ;
* local (FCHL19): K(A, B) = Σ_{i∈A} Σ_{j∈B, Z_i = Z_j} exp(−‖x_i − x_j‖²/2σ²), computed element by element as
  ‖x‖² + ‖y‖² − 2 x·y with a torch matrix product in blocks of atoms, then summed into molecules with
  ``index_add_``. This is ~7 GFLOP per 1000 × 1000 molecule pairs of QM9 (720-vectors), where qmllib's
  ``get_local_kernel`` loops pair by pair (331 s for 1000 × 3000 here, against seconds).

Fit: a per-element linear term first (ridge on the element counts, penalty :data:`LINEAR_RIDGE`, so that an
element seen in one training molecule does not absorb that molecule's residual), then the kernel model of what is
left: α = (K + λ·mean diag K · I)⁻¹ y by Cholesky (LAPACK). σ is chosen on a grid of multiples of the median
distance, λ on a grid, both by the MAE on a seeded 20 % validation part of the training molecules (of at most
``cv_max`` of them); the test molecules are never looked at until the end.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.linalg

from lawful.atoms.representations import LocalRep

KERNELS = ("laplacian", "gaussian")
#: σ grid as multiples of the median distance of the validation molecules
SIGMA_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
#: λ grid, relative to the mean of the kernel's diagonal
LAMBDAS = (1e-11, 1e-9, 1e-7, 1e-5, 1e-3)
#: ridge penalty of the per-element linear term (kcal/mol per atom, in units of one molecule's weight)
LINEAR_RIDGE = 1.0
#: validation share of the training molecules
VALIDATION = 0.2


def _torch():
    import torch

    return torch


def global_distances(a: np.ndarray, b: np.ndarray, kernel: str) -> np.ndarray:
    """ℓ1 (Laplacian) or squared ℓ2 (Gaussian) distances between rows of ``a`` (n_a, d) and ``b`` (n_b, d)."""
    if kernel == "laplacian":
        from qmllib.kernels import manhattan_distance

        return manhattan_distance(np.ascontiguousarray(a), np.ascontiguousarray(b))
    torch = _torch()
    ta, tb = torch.from_numpy(np.asarray(a, float)), torch.from_numpy(np.asarray(b, float))
    d2 = (ta * ta).sum(1)[:, None] + (tb * tb).sum(1)[None, :] - 2.0 * ta @ tb.T
    return d2.clamp_min_(0.0).numpy()


def global_kernel(dist: np.ndarray, sigma: float, kernel: str) -> np.ndarray:
    """The kernel of a distance matrix from :func:`global_distances`."""
    scale = sigma if kernel == "laplacian" else 2.0 * sigma * sigma
    return np.exp(-dist / scale)


def local_kernels(a: LocalRep, b: LocalRep | None, sigmas: list[float],
                  block_bytes: float = 1.5e9) -> list[np.ndarray]:
    """Local Gaussian kernels (a.n_mol, b.n_mol) for each σ, summed over same-element atom pairs.

    ``b = None`` means ``b = a``: then each block of atoms is compared only with itself and the atoms after it
    (P), and K = P + Pᵀ − (the blocks with themselves, which P holds in both orders): half the work.
    """
    torch = _torch()
    symmetric = b is None
    b = a if symmetric else b
    out = [torch.zeros(a.n_mol, b.n_mol, dtype=torch.float64) for _ in sigmas]
    twice = [torch.zeros(a.n_mol, b.n_mol, dtype=torch.float64) for _ in sigmas] if symmetric else []
    for z in np.intersect1d(np.unique(a.charges), np.unique(b.charges)):
        xa = torch.from_numpy(a.x[a.charges == z])
        ma = torch.from_numpy(a.molecule[a.charges == z])
        xb = torch.from_numpy(b.x[b.charges == z])
        mb = torch.from_numpy(b.molecule[b.charges == z])
        nb = (xb * xb).sum(1)
        rows = max(64, int(block_bytes / (8 * max(1, len(xb)))))
        for lo in range(0, len(xa), rows):
            xs, first = xa[lo:lo + rows], (lo if symmetric else 0)
            d2 = ((xs * xs).sum(1)[:, None] + nb[None, first:] - 2.0 * xs @ xb[first:].T).clamp_min_(0.0)
            for k, sigma in enumerate(sigmas):
                e = torch.exp(d2 * (-0.5 / sigma ** 2))
                per_b = torch.zeros(len(xs), b.n_mol, dtype=torch.float64).index_add_(1, mb[first:], e)
                out[k].index_add_(0, ma[lo:lo + rows], per_b)
                if symmetric:
                    own = torch.zeros(len(xs), b.n_mol, dtype=torch.float64).index_add_(
                        1, mb[lo:lo + len(xs)], e[:, :len(xs)])
                    twice[k].index_add_(0, ma[lo:lo + rows], own)
    if symmetric:
        out = [p + p.T - t for p, t in zip(out, twice)]
    return [k.numpy() for k in out]


def median_distance(x: np.ndarray | LocalRep, kernel: str, n: int = 1000, seed: int = 0) -> float:
    """The median ℓ1 (Laplacian) or ℓ2 distance between sampled representations (same-element atoms if local)."""
    rng = np.random.default_rng(seed)
    if isinstance(x, LocalRep):
        z = np.bincount(x.charges).argmax()
        rows = np.flatnonzero(x.charges == z)
        sample = x.x[rng.choice(rows, min(n, len(rows)), replace=False)]
        return float(np.sqrt(np.median(global_distances(sample, sample, "gaussian"))))
    sample = x[rng.choice(len(x), min(n, len(x)), replace=False)]
    d = global_distances(sample, sample, kernel)
    d = d[np.triu_indices(len(sample), 1)]
    return float(np.median(d if kernel == "laplacian" else np.sqrt(d)))


def linear_fit(counts: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-element energies c (5,) minimising ‖y − counts·c‖² + :data:`LINEAR_RIDGE`·‖c‖²."""
    a = counts.T @ counts + LINEAR_RIDGE * np.eye(counts.shape[1])
    return np.linalg.solve(a, counts.T @ y)


def solve(k: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """α with (K + λ·mean diag K · I) α = y, by Cholesky; overwrites ``k`` (a training kernel can be most of the
    memory: pass a copy to keep it); raises ``LinAlgError`` if not positive definite."""
    k[np.diag_indices_from(k)] += lam * float(np.mean(np.diag(k)))
    return scipy.linalg.cho_solve(scipy.linalg.cho_factor(k, overwrite_a=True, check_finite=False), y,
                                  check_finite=False)


def _best_lambda(k: np.ndarray, y: np.ndarray, fit: np.ndarray, val: np.ndarray) -> tuple[float, float]:
    """(λ, validation MAE) of the best λ in :data:`LAMBDAS` for the square kernel ``k`` of the training rows."""
    best = (math.nan, math.inf)
    kf, kv = k[np.ix_(fit, fit)], k[np.ix_(val, fit)]
    for lam in LAMBDAS:
        try:
            alpha = solve(kf.copy(), y[fit], lam)  # kf is reused for the next λ
        except np.linalg.LinAlgError:
            continue
        mae = float(np.mean(np.abs(kv @ alpha - y[val])))
        if mae < best[1]:
            best = (lam, mae)
    if not math.isfinite(best[1]):
        raise np.linalg.LinAlgError("the kernel matrix is not positive definite for any λ of the grid")
    return best


def _validation_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng([seed, n]).permutation(n)
    n_val = max(1, int(round(VALIDATION * n)))
    return order[n_val:], order[:n_val]


@dataclasses.dataclass(frozen=True)
class CurvePoint:
    """One training size of a learning curve; energies in kcal/mol."""

    n_train: int
    mae: float
    rmse: float
    sigma: float
    lam: float
    validation_mae: float


def _subset(x, rows: np.ndarray):
    """Rows of a global representation, or the molecules ``rows`` of a local one (renumbered)."""
    if not isinstance(x, LocalRep):
        return x[rows]
    where = np.full(x.n_mol, -1)
    where[rows] = np.arange(len(rows))
    keep = where[x.molecule] >= 0
    order = np.argsort(where[x.molecule][keep], kind="stable")
    return LocalRep(x.x[keep][order], x.charges[keep][order], where[x.molecule][keep][order], len(rows))


def learning_curve(x_train, y_train: np.ndarray, counts_train: np.ndarray, x_test, y_test: np.ndarray,
                   counts_test: np.ndarray, sizes: list[int], kernel: str = "laplacian", seed: int = 0,
                   cv_max: int = 2000) -> list[CurvePoint]:
    """Test errors of KRR trained on the first N molecules, for each N of ``sizes`` (nested training sets).

    σ is chosen once, with λ, on the validation part of the first ``min(max(sizes), cv_max)`` training molecules;
    λ is then chosen again at each N on that N's own validation part. Local representations use the Gaussian.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel = {kernel!r}; expected one of {', '.join(KERNELS)}")
    n_max = max(sizes)
    if min(sizes) < 5:
        raise ValueError(f"training sizes must be at least 5 (a validation part is held out), got {min(sizes)}")
    if n_max > len(y_train):
        raise ValueError(f"N = {n_max} exceeds the {len(y_train)} training molecules available")
    if isinstance(x_train, LocalRep):
        kernel = "gaussian"
    # σ (and a first λ) on the validation part of the first n_cv molecules
    n_cv = min(n_max, cv_max)
    coef = linear_fit(counts_train[:n_cv], y_train[:n_cv])
    r_cv = y_train[:n_cv] - counts_train[:n_cv] @ coef
    x_max, x_cv = _subset(x_train, np.arange(n_max)), _subset(x_train, np.arange(n_cv))
    sigmas = [f * median_distance(x_cv, kernel, seed=seed) for f in SIGMA_FACTORS]
    fit, val = _validation_split(n_cv, seed)
    local = isinstance(x_cv, LocalRep)
    if local:
        k_cv = local_kernels(x_cv, None, sigmas)
    else:  # one distance matrix serves the σ search (its first n_cv rows) and the final kernel
        d_all = global_distances(x_max, x_max, kernel)
        k_cv = [global_kernel(d_all[:n_cv, :n_cv], s, kernel) for s in sigmas]
    scores = []
    for k in k_cv:
        try:
            scores.append(_best_lambda(k, r_cv, fit, val)[1])
        except np.linalg.LinAlgError:
            scores.append(math.inf)
    sigma = sigmas[int(np.argmin(scores))]
    del k_cv
    if local:
        k_all, k_test = local_kernels(x_max, None, [sigma])[0], local_kernels(x_test, x_max, [sigma])[0]
    else:
        k_all = global_kernel(d_all, sigma, kernel)
        del d_all
        k_test = global_kernel(global_distances(x_test, x_max, kernel), sigma, kernel)
    points = []
    for n in sorted(sizes):
        coef = linear_fit(counts_train[:n], y_train[:n])
        r = y_train[:n] - counts_train[:n] @ coef
        fit, val = _validation_split(n, seed)
        lam, val_mae = _best_lambda(k_all[:n, :n], r, fit, val)
        alpha = solve(k_all[:n, :n].copy(), r, lam)
        err = k_test[:, :n] @ alpha + counts_test @ coef - y_test
        points.append(CurvePoint(n, float(np.mean(np.abs(err))), float(np.sqrt(np.mean(err ** 2))), float(sigma),
                                 float(lam), val_mae))
    return points


def loglog_slope(points: list[CurvePoint]) -> float:
    """Slope of log MAE against log N (a learning curve's exponent; ≈ −0.5 is typical for QM9)."""
    if len(points) < 2:
        return math.nan
    n = np.log([p.n_train for p in points])
    return float(np.polyfit(n, np.log([p.mae for p in points]), 1)[0])
