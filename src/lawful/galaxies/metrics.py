"""Photo-z metrics for point estimates and p(z) on a redshift grid.

Δz = (z_phot − z_spec)/(1 + z_spec); σ_NMAD = 1.4826 · median|Δz − median Δz|; η(t) is the fraction with
|Δz| > t; bias is the mean Δz. A p(z) is a density on :data:`Z_GRID` (shape (n, G), each row integrates to 1);
PIT = CDF(z_spec), CRPS = ∫ (CDF(z) − H(z − z_spec))² dz, and coverage is the fraction of z_spec inside the
central 68 % and 95 % intervals.
"""

from __future__ import annotations

import numpy as np

#: the redshift grid of every p(z): 0 to 1 in steps of 0.001
Z_GRID = np.linspace(0.0, 1.0, 1001)
DZ = Z_GRID[1] - Z_GRID[0]


def point_metrics(z_phot: np.ndarray, z_spec: np.ndarray) -> dict[str, float]:
    """σ_NMAD, η(0.05), η(0.15) and bias of point estimates (all of Δz = (z_phot − z_spec)/(1 + z_spec))."""
    dz = (np.asarray(z_phot) - z_spec) / (1.0 + z_spec)
    return {"sigma_nmad": float(1.4826 * np.median(np.abs(dz - np.median(dz)))),
            "eta_005": float(np.mean(np.abs(dz) > 0.05)), "eta_015": float(np.mean(np.abs(dz) > 0.15)),
            "bias": float(np.mean(dz))}


def normalize(pdf: np.ndarray) -> np.ndarray:
    """Rows of ``pdf`` (n, G) scaled to integrate to one on :data:`Z_GRID` (trapezoid rule)."""
    pdf = np.clip(pdf, 0.0, None)
    area = np.trapezoid(pdf, dx=DZ, axis=1)
    if np.any(area <= 0):
        raise ValueError(f"{int(np.sum(area <= 0))} p(z) rows are zero everywhere on the grid 0 ≤ z ≤ 1")
    return pdf / area[:, None]


def cdf(pdf: np.ndarray) -> np.ndarray:
    """The CDF of each row of a normalised ``pdf`` on :data:`Z_GRID` (cumulative trapezoid), shape (n, G)."""
    c = np.concatenate([np.zeros((len(pdf), 1)), np.cumsum(0.5 * (pdf[:, 1:] + pdf[:, :-1]) * DZ, axis=1)], axis=1)
    return c / c[:, -1:]


def quantiles(pdf: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantiles ``q`` of each row of ``pdf``: shape (n,) for a scalar q, (n, len(q)) otherwise."""
    c = cdf(pdf)
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    out = np.empty((len(c), qs.size))
    for j, qq in enumerate(qs):  # a few quantiles, each vectorised over galaxies
        k = np.clip(np.argmax(c >= qq, axis=1), 1, len(Z_GRID) - 1)
        rows = np.arange(len(c))
        c0, c1 = c[rows, k - 1], c[rows, k]
        frac = np.where(c1 > c0, (qq - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0.0)
        out[:, j] = Z_GRID[k - 1] + frac * DZ
    return out[:, 0] if np.ndim(q) == 0 else out


def pit(pdf: np.ndarray, z_spec: np.ndarray) -> np.ndarray:
    """Probability integral transform CDF(z_spec) of each galaxy, shape (n,)."""
    return _interp_rows(cdf(pdf), np.asarray(z_spec, dtype=float))


def _interp_rows(c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Row i of ``c`` (n, G), linearly interpolated on :data:`Z_GRID` at z[i]."""
    pos = np.clip(z / DZ, 0.0, len(Z_GRID) - 1.000001)
    k = pos.astype(int)
    frac = pos - k
    rows = np.arange(len(c))
    return c[rows, k] * (1.0 - frac) + c[rows, k + 1] * frac


def crps(pdf: np.ndarray, z_spec: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of each galaxy (units of z), shape (n,).

    Uses CRPS = E|Z − z_spec| − ∫ F(1 − F) dz (equal to ∫ (F − H(z − z_spec))² dz), whose integrands are smooth,
    so the trapezoid rule stays accurate when z_spec falls between grid points."""
    return _crps(pdf, cdf(pdf), z_spec)


def _crps(pdf: np.ndarray, c: np.ndarray, z_spec: np.ndarray) -> np.ndarray:
    expected_distance = np.trapezoid(pdf * np.abs(Z_GRID[None, :] - np.asarray(z_spec)[:, None]), dx=DZ, axis=1)
    return expected_distance - np.trapezoid(c * (1.0 - c), dx=DZ, axis=1)


def coverages(u: np.ndarray) -> dict[str, float]:
    """The fractions of PIT values ``u`` inside the central 68 % and 95 % intervals."""
    return {"coverage68": float(np.mean(np.abs(u - 0.5) <= 0.34)),
            "coverage95": float(np.mean(np.abs(u - 0.5) <= 0.475))}


def pdf_metrics(pdf: np.ndarray, z_spec: np.ndarray) -> dict[str, float]:
    """Mean CRPS and the 68 %/95 % central-interval coverages of the p(z) (one CDF for both)."""
    c = cdf(pdf)
    u = _interp_rows(c, np.asarray(z_spec, dtype=float))
    return {"crps": float(np.mean(_crps(pdf, c, z_spec))), **coverages(u)}


def pdf_from_samples(samples: np.ndarray, width: float = 0.004) -> np.ndarray:
    """A p(z) per row of ``samples`` (n, S): their histogram on the grid smoothed by a Gaussian of σ = ``width``."""
    from scipy.ndimage import gaussian_filter1d

    samples = np.asarray(samples, dtype=float)
    n, _ = samples.shape
    bins = np.clip(np.rint(samples / DZ).astype(np.int64), 0, len(Z_GRID) - 1)
    flat = (np.arange(n)[:, None] * len(Z_GRID) + bins).ravel()
    hist = np.bincount(flat, minlength=n * len(Z_GRID)).reshape(n, len(Z_GRID)).astype(float)
    return normalize(gaussian_filter1d(hist, width / DZ, axis=1, mode="constant"))
