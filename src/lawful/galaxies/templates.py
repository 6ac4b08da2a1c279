"""BPZ-like template fitting: galaxy SEDs redshifted through the SDSS filters, χ²(z, T) and p(z).

Templates are the ``desc-bpz`` set ``CWWSB4.list`` (Coleman–Wu–Weedman El, Sbc, Scd, Im; Kinney SB3, SB2; two
young SSPs; F_λ against rest-frame Å), with ``interp`` templates interpolated linearly between neighbours as
BPZ does. Model fluxes are AB maggies through speclite's ``sdss2010`` ugriz curves at every z of
:data:`~lawful.galaxies.metrics.Z_GRID`. For each galaxy the amplitude is fitted analytically and

    χ²(z, T) = Σ_b (f_b − a m_b(z, T))² / (σ_b² + (ε f_b)²),

with ε a fractional floor for template mismatch (BPZ and LePhare add one too). The likelihood exp(−χ²/2),
summed over templates, times a prior n(z | r) learnt from the training galaxies (a smoothed histogram in bins
of r), is the p(z). Training also fits per-band zero-point factors (the median ratio of observed to best-fit
model flux at the spectroscopic redshift), the standard calibration of template codes on a spectroscopic set.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from lawful.galaxies.catalog import BANDS, Catalog
from lawful.galaxies.metrics import DZ, Z_GRID, normalize

#: SDSS magnitudes are close to AB: u_AB = u_SDSS − 0.04, z_AB = z_SDSS + 0.02 (Abazajian et al. 2004)
AB_OFFSETS = np.array([-0.04, 0.0, 0.0, 0.0, 0.02])


def sed_dir() -> Path:
    """The directory of SED templates that the ``desc-bpz`` wheel ships."""
    import desc_bpz

    return Path(desc_bpz.__file__).parent / "data_files" / "SED"


@functools.cache
def template_seds(interp: int = 2) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Rest-frame wavelength (Å, shape (W,)), F_λ of the templates (T, W) normalised at 5500 Å, and names."""
    if interp < 0:
        raise ValueError(f"interp = {interp} must be ≥ 0 (templates interpolated between neighbours)")
    names = tuple((sed_dir() / "CWWSB4.list").read_text().split())
    wave = np.geomspace(500.0, 25000.0, 6000)
    seds = []
    for name in names:
        w, f = np.loadtxt(sed_dir() / name, comments="#", unpack=True)
        keep = np.concatenate([[True], np.diff(w) > 0])
        f = np.interp(wave, w[keep], f[keep])
        seds.append(f / np.interp(5500.0, wave, f))
    out, labels = [seds[0]], [names[0]]
    for k in range(1, len(seds)):
        for j in range(1, interp + 1):
            t = j / (interp + 1)
            out.append((1 - t) * seds[k - 1] + t * seds[k])
            labels.append(f"{names[k - 1]}+{names[k]}:{t:.2f}")
        out.append(seds[k])
        labels.append(names[k])
    return wave, np.array(out), tuple(labels)


@functools.cache
def model_maggies(interp: int = 2) -> np.ndarray:
    """AB maggies (up to one amplitude per template) of every template at every z: shape (G, T, 5)."""
    import speclite.filters

    filters = speclite.filters.load_filters(*[f"sdss2010-{b}" for b in BANDS])
    wave, seds, _ = template_seds(interp)
    obs = np.geomspace(2900.0, 11200.0, 4000)
    out = np.empty((len(Z_GRID), len(seds), len(BANDS)))
    for t, sed in enumerate(seds):  # templates; all redshifts at once
        flux = np.interp(obs[None, :] / (1.0 + Z_GRID[:, None]), wave, sed) / (1.0 + Z_GRID[:, None])
        mags = filters.get_ab_maggies(flux * 1e-17, obs)
        out[:, t, :] = np.stack([np.asarray(mags[name]) for name in mags.colnames], axis=1)
    return out


def maggies_from_catalog(mag: np.ndarray, err: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dereddened AB fluxes and 1σ errors (maggies) from asinh magnitudes (n, 5); missing bands get σ = ∞."""
    m_ab = mag + AB_OFFSETS
    flux = 10.0 ** (-0.4 * m_ab)
    sigma = np.where(np.isfinite(err), 0.4 * np.log(10.0) * flux * err, np.inf)
    return np.where(np.isfinite(flux), flux, 0.0), sigma


def _chi2(f: np.ndarray, w: np.ndarray, models: np.ndarray) -> np.ndarray:
    """χ² with the best amplitude; ``f``, ``w`` and ``models`` broadcast, the band axis last."""
    fm = np.sum(w * f * models, axis=-1)
    return np.sum(w * f**2, axis=-1) - fm**2 / np.sum(w * models**2, axis=-1)


def chi2(flux: np.ndarray, sigma: np.ndarray, models: np.ndarray, floor: float, chunk: int = 256) -> np.ndarray:
    """χ²(z, T) of each galaxy with the amplitude fitted: shape (n, G, T). ``flux``/``sigma``: (n, 5) maggies,
    ``models``: (G, T, 5)."""
    w = 1.0 / (sigma**2 + (floor * flux) ** 2)
    out = np.empty((len(flux), models.shape[0], models.shape[1]))
    for i in range(0, len(flux), chunk):  # chunks of galaxies keep the (chunk, G, T, 5) temporaries small
        out[i:i + chunk] = _chi2(flux[i:i + chunk, None, None, :], w[i:i + chunk, None, None, :], models[None])
    return out


def _grid_index(z: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(z) / DZ).astype(int), 0, len(Z_GRID) - 1)


def _best_at(flux: np.ndarray, sigma: np.ndarray, models_at_z: np.ndarray, floor: float):
    """Best template index, its model fluxes (n, 5) and amplitude (n,) of each galaxy at a given z.

    ``models_at_z``: (n, T, 5), the template fluxes at each galaxy's redshift."""
    w = 1.0 / (sigma**2 + (floor * flux) ** 2)
    t = np.argmin(_chi2(flux[:, None, :], w[:, None, :], models_at_z), axis=1)
    best = models_at_z[np.arange(len(flux)), t]
    return t, best, np.sum(w * flux * best, axis=1) / np.sum(w * best**2, axis=1)


@dataclasses.dataclass
class TemplateFit:
    """Zero points, mismatch floor and the n(z | r) prior learnt from training galaxies."""

    zero_points: np.ndarray  #: (5,) factors multiplying the observed fluxes
    floor: float
    r_edges: np.ndarray  #: (B + 1,) bins of r (mag)
    prior: np.ndarray  #: (B, G) n(z | r) on the grid
    interp: int = 2

    @classmethod
    def train(cls, mag: np.ndarray, err: np.ndarray, z: np.ndarray, floor: float = 0.03, interp: int = 2,
              r_bins: int = 8, smooth: float = 0.01) -> TemplateFit:
        """Fit zero points at the spectroscopic redshifts and the prior n(z | r) of the training galaxies."""
        from scipy.ndimage import gaussian_filter1d

        models = model_maggies(interp)
        flux, sigma = maggies_from_catalog(mag, err)
        k = _grid_index(z)
        zero_points = np.ones(len(BANDS))
        for _ in range(3):  # iterate: best template at z_spec, then the median observed/model ratio per band
            f = flux * zero_points
            _, best, amp = _best_at(f, sigma * zero_points, models[k], floor)
            zero_points = zero_points / np.median(f / (amp[:, None] * best), axis=0)
        r = mag[:, 2]
        edges = np.quantile(r, np.linspace(0, 1, r_bins + 1))
        edges[0], edges[-1] = -np.inf, np.inf
        which = np.clip(np.searchsorted(edges, r, side="right") - 1, 0, r_bins - 1)
        hist = np.zeros((r_bins, len(Z_GRID)))
        np.add.at(hist, (which, k), 1.0)
        prior = gaussian_filter1d(hist, smooth / DZ, axis=1, mode="constant") + 1e-6
        return cls(zero_points, floor, edges, prior / prior.sum(axis=1, keepdims=True), interp)

    def best_templates(self, mag: np.ndarray, err: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Index of the best-fitting template of each galaxy at its (spectroscopic) redshift, shape (n,)."""
        flux, sigma = maggies_from_catalog(mag, err)
        models = model_maggies(self.interp)[_grid_index(z)]
        return _best_at(flux * self.zero_points, sigma * self.zero_points, models, self.floor)[0]

    def likelihood(self, mag: np.ndarray, err: np.ndarray, chunk: int = 256) -> np.ndarray:
        """exp(−χ²/2) summed over templates, shape (n, G), each row scaled to a maximum of 1; ``chunk`` galaxies
        at a time, so that the (chunk, G, T) χ² is the largest temporary."""
        flux, sigma = maggies_from_catalog(mag, err)
        flux, sigma = flux * self.zero_points, sigma * self.zero_points
        models = model_maggies(self.interp)
        like = np.empty((len(flux), models.shape[0]))
        for i in range(0, len(flux), chunk):
            c2 = chi2(flux[i:i + chunk], sigma[i:i + chunk], models, self.floor)
            c2 -= c2.min(axis=(1, 2), keepdims=True)
            like[i:i + chunk] = np.exp(-0.5 * c2).sum(axis=2)
        return like / like.max(axis=1, keepdims=True)

    def pdf(self, mag: np.ndarray, err: np.ndarray) -> np.ndarray:
        """p(z) ∝ likelihood × n(z | r), shape (n, G)."""
        which = np.clip(np.searchsorted(self.r_edges, mag[:, 2], side="right") - 1, 0, len(self.prior) - 1)
        return normalize(self.likelihood(mag, err) * self.prior[which])


def synthetic_catalog(real: Catalog, n: int, seed: int, fit: TemplateFit | None = None) -> Catalog:
    """``n`` synthetic galaxies made from the templates, like the ``real`` (training) galaxies.

    Each copies a random real donor's redshift (jittered by 0.003 (1 + z)), the template that fits the donor
    best at its spectroscopic redshift (so the mix of types follows the real one), its r magnitude and its ugriz
    flux errors; the template's fluxes through the SDSS curves, divided by the fitted zero points, get Gaussian
    noise of those errors. Petrosian magnitudes equal the model ones and there is no 2MASS: train on
    :meth:`Catalog.model_only` features.
    """
    from lawful.galaxies.catalog import from_arrays

    if n < 1:
        raise ValueError(f"n = {n} synthetic galaxies: must be at least 1")
    fit = fit or TemplateFit.train(real.model, real.model_err, real.z)
    rng = np.random.default_rng(seed)
    donor = rng.integers(0, len(real), n)
    z = np.clip(real.z[donor] + 0.003 * (1.0 + real.z[donor]) * rng.standard_normal(n), 0.002, Z_GRID[-1])
    template = fit.best_templates(real.model[donor], real.model_err[donor], real.z[donor])
    model = model_maggies(fit.interp)[_grid_index(z), template]
    flux_real, sigma = maggies_from_catalog(real.model[donor], real.model_err[donor])
    model = model * (flux_real[:, 2] / model[:, 2])[:, None] / fit.zero_points
    observed = model + sigma * rng.standard_normal(model.shape)
    to_sdss = 10.0 ** (0.4 * AB_OFFSETS) * 1e9  # AB maggies → SDSS nanomaggies
    return from_arrays(observed * to_sdss, 1.0 / (sigma * to_sdss) ** 2, np.zeros_like(observed), z)
