"""Cataclysmic variables and the spectra they are confused with, on the LAMOST LRS grid.

Every class is built from physical pieces (F_λ, erg s⁻¹ cm⁻² Å⁻¹ up to a scale) and ends with the same noise
model as the giants (σ² ∝ 0.9 F + 0.1 at the median flux, per-pixel SNR at the median):

* ``cv`` — a steady accretion disk, F_λ ∝ λ^{-7/3 + δ} (δ ~ N(0, 0.3)), double-peaked Balmer and He I emission
  (Hβ equivalent width log-uniform 2–100 Å; 20 % are dwarf novae in outburst: broad Balmer absorption of
  EW 5–15 Å, σ 1500 km/s, with emission cores of 0.5–3 Å), the other lines in the case-B ratios of
  ``linetools``' recombination
  table, peaks at ±v_p with v_p 300–900 km/s, each peak σ 150–300 km/s), He II 4686 at 0–0.6 × Hβ, and in 30 %
  of them the M-dwarf donor (forward model, 3200–3600 K) contributing 10–60 % of the flux at 7500 Å;
* ``star`` — normal stars from the forward model (3500–12 000 K, dwarfs and giants, [Fe/H] −1.5…0.4);
* ``mdwarf`` — Hα-emitting M dwarfs: forward model 3200–3800 K, log g 4.8, single-peaked Hα (EW 1–15 Å) and Hβ
  (Balmer decrement 1.5–4);
* ``be`` — Be stars: forward model 10 000–12 000 K, log g 3.5–4.2, Hα double-peaked emission (EW 2–30 Å, peaks
  ±100–300 km/s) filling Hβ (one third of that);
* ``galaxy`` — an old population (a 4800 K giant and a 5800 K dwarf from the forward model) plus narrow Balmer,
  [O II], [O III], [N II], [S II] emission (``linetools`` galaxy tables) at z = 0.01–0.25;
* ``qso`` — F_ν ∝ ν^{-α} (α 0.2–0.8) with broad Lyα, C IV, C III], Mg II, Hγ, Hβ, Hα (FWHM 2000–8000 km/s) and
  narrow [O III] at z = 0.1–2.5.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from lawful.spectra.atomic import _data_dir
from lawful.spectra.synth import C_KMS, Synthesizer

CLASSES = ("cv", "star", "mdwarf", "be", "galaxy", "qso")
#: broad quasar lines (rest vacuum Å) and strengths relative to Hβ (rough composite, Vanden Berk et al. 2001)
QSO_LINES = {1215.67: 4.0, 1549.06: 1.2, 1908.73: 0.5, 2798.75: 0.9, 4341.68: 0.25, 4862.68: 1.0, 6564.61: 3.0}


@functools.cache
def _line_table(name: str) -> dict[str, tuple[float, float]]:
    """linetools' recombination or forbidden table: name -> (vacuum Å, ratio)."""
    path = _data_dir("linetools") / "data" / "lines" / name
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            out[parts[0]] = (float(parts[1]), float(parts[2]))
    return out


def _interp_rows(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Row-wise ``np.interp``: x (n, M) on the nodes xp (W,) of values fp (n, W), held at the ends → (n, M)."""
    hi = np.clip(np.searchsorted(xp, x), 1, len(xp) - 1)
    w = np.clip((x - xp[hi - 1]) / (xp[hi] - xp[hi - 1]), 0.0, 1.0)
    return np.take_along_axis(fp, hi - 1, axis=1) * (1 - w) + np.take_along_axis(fp, hi, axis=1) * w


def _gauss(wave: np.ndarray, centre: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Unit-area Gaussians (n, W) at centres (n,) of σ (n,) Å."""
    return np.exp(-0.5 * ((wave[None] - centre[:, None]) / sigma[:, None]) ** 2) / (sigma[:, None] * np.sqrt(2 * np.pi))


class EmitterFactory:
    """Spectra of each class in :data:`CLASSES` on the LAMOST grid (or ``wave``)."""

    def __init__(self, wave: np.ndarray | None = None, resolution: float = 1800.0) -> None:
        self.synth = Synthesizer(wave, resolution)
        self.wave = self.synth.wave.numpy()
        self.lsf_sigma = self.wave / (2.35482 * resolution)

    def _stars(self, rng: np.random.Generator, n: int, teff: tuple[float, float], logg: tuple[float, float],
               feh: tuple[float, float] = (-1.5, 0.4)) -> np.ndarray:
        labels = np.column_stack([rng.uniform(*teff, n), rng.uniform(*logg, n), rng.uniform(*feh, n),
                                  np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, 1.5), rng.normal(0, 30, n)])
        with torch.no_grad():
            return self.synth(torch.as_tensor(labels)).flux.double().numpy()

    def _emission(self, cont: np.ndarray, centre: np.ndarray, ew: np.ndarray, sigma_kms: np.ndarray,
                  split_kms: np.ndarray | None = None) -> np.ndarray:
        """Add emission of equivalent width ``ew`` (Å, per spectrum) at ``centre`` (observed Å); two peaks at
        ±split when given."""
        sig = np.sqrt((centre * sigma_kms / C_KMS) ** 2 + np.interp(centre, self.wave, self.lsf_sigma) ** 2)
        level = _interp_rows(centre[:, None], self.wave, cont)[:, 0]
        if split_kms is None:
            return cont + (ew * level)[:, None] * _gauss(self.wave, centre, sig)
        d = centre * split_kms / C_KMS
        prof = 0.5 * (_gauss(self.wave, centre - d, sig) + _gauss(self.wave, centre + d, sig))
        return cont + (ew * level)[:, None] * prof

    def make(self, kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` noise-free spectra F_λ (n, W) of class ``kind``."""
        if kind not in CLASSES:
            raise ValueError(f"unknown class {kind!r}; the classes are {CLASSES}")
        return getattr(self, f"_{kind}")(n, rng)

    def _cv(self, n: int, rng: np.random.Generator) -> np.ndarray:
        w = self.wave
        flux = (w[None] / 5000.0) ** (-7.0 / 3.0 + rng.normal(0, 0.3, (n, 1)))
        donor = rng.random(n) < 0.3
        if donor.any():
            m = self._stars(rng, int(donor.sum()), (3200.0, 3600.0), (4.7, 5.0), (-0.5, 0.2))
            share = rng.uniform(0.1, 0.6, donor.sum())
            at = np.searchsorted(w, 7500.0)
            m *= (share / (1 - share) * flux[donor, at] / m[:, at])[:, None]
            flux[donor] += m
        cont = flux.copy()
        ew_hb = 10 ** rng.uniform(np.log10(2.0), np.log10(100.0), n)
        outburst = rng.random(n) < 0.2
        ew_hb[outburst] = rng.uniform(0.5, 3.0, outburst.sum())
        split = rng.uniform(300.0, 900.0, n)
        width = rng.uniform(150.0, 300.0, n)
        rv = rng.normal(0, 50, n)
        lines = _line_table("galaxy_recomb.ascii")
        he2 = rng.uniform(0.0, 0.6, n)
        for name, (lam, ratio) in lines.items():
            if name.startswith(("H", "HeI_")) and not name.startswith(("HeII",)) and w[0] < lam < w[-1]:
                # ratios relative to Hβ in flux; as equivalent widths against the disk's local continuum
                scale = ratio * np.interp(4862.68, w, cont[0]) / np.interp(lam, w, cont[0])
                flux = self._emission(flux, np.full(n, lam) * (1 + rv / C_KMS), ew_hb * scale, width, split)
        flux = self._emission(flux, np.full(n, 4687.1) * (1 + rv / C_KMS), ew_hb * he2 * ~outburst, width, split)
        for name, (lam, _) in lines.items():  # outburst: the optically thick disk shows Balmer absorption
            if name.startswith("H") and not name.startswith(("He", "Pa", "P1")) and w[0] < lam < w[-1]:
                depth = -rng.uniform(5.0, 15.0, n) * outburst
                flux = self._emission(flux, np.full(n, lam) * (1 + rv / C_KMS), depth, np.full(n, 1500.0))
        return flux

    def _star(self, n: int, rng: np.random.Generator) -> np.ndarray:
        giants = rng.random(n) < 0.5
        out = np.empty((n, len(self.wave)))
        if giants.any():
            out[giants] = self._stars(rng, int(giants.sum()), (3600.0, 5400.0), (0.8, 3.3))
        if (~giants).any():
            out[~giants] = self._stars(rng, int((~giants).sum()), (3500.0, 12000.0), (4.0, 4.8))
        return out

    def _mdwarf(self, n: int, rng: np.random.Generator) -> np.ndarray:
        flux = self._stars(rng, n, (3200.0, 3800.0), (4.7, 5.0), (-0.5, 0.3))
        ew = 10 ** rng.uniform(0.0, np.log10(15.0), n)
        flux = self._emission(flux, np.full(n, 6564.61), ew, rng.uniform(20, 60, n))
        decrement = rng.uniform(1.5, 4.0, n)
        level = np.interp(6564.61, self.wave, flux[0]) / np.interp(4862.68, self.wave, flux[0])
        return self._emission(flux, np.full(n, 4862.68), ew / decrement * level, rng.uniform(20, 60, n))

    def _be(self, n: int, rng: np.random.Generator) -> np.ndarray:
        flux = self._stars(rng, n, (10000.0, 12000.0), (3.5, 4.2), (-0.3, 0.2))
        ew = rng.uniform(2.0, 30.0, n)
        split = rng.uniform(100.0, 300.0, n)
        flux = self._emission(flux, np.full(n, 6564.61), ew, rng.uniform(50, 100, n), split)
        return self._emission(flux, np.full(n, 4862.68), ew / 3.0, rng.uniform(50, 100, n), split)

    def _galaxy(self, n: int, rng: np.random.Generator) -> np.ndarray:
        z = rng.uniform(0.01, 0.25, n)
        rest = self.wave[None] / (1 + z[:, None])
        giant = self._stars(rng, n, (4600.0, 5000.0), (2.2, 2.8), (-0.4, 0.2))
        dwarf = self._stars(rng, n, (5600.0, 6000.0), (4.3, 4.5), (-0.4, 0.2))
        mix = giant / giant.mean(axis=1, keepdims=True) + rng.uniform(0.3, 1.5, (n, 1)) * dwarf / dwarf.mean(
            axis=1, keepdims=True)
        flux = _interp_rows(rest, self.wave, mix)  # redshift the population
        ew_ha = 10 ** rng.uniform(-0.5, 1.7, n)
        lines = {**_line_table("galaxy_recomb.ascii"), **_line_table("galaxy_forbidden.ascii")}
        strengths = {"Halpha": 1.0, "Hbeta": 0.35, "Hgamma": 0.16, "[NII]_6584": 0.4, "[NII]_6548": 0.13,
                     "[OIII]_5007": 0.5, "[OIII]_4959": 0.17, "[OII]_3726": 0.6, "[OII]_3729": 0.6,
                     "[SII]_6716": 0.2, "[SII]_6731": 0.15}
        for name, s in strengths.items():
            lam = lines[name][0] * (1 + z)
            flux = self._emission(flux, lam, ew_ha * s, np.full(n, 80.0))
        return flux

    def _qso(self, n: int, rng: np.random.Generator) -> np.ndarray:
        z = rng.uniform(0.1, 2.5, n)
        alpha = rng.uniform(0.2, 0.8, n)
        flux = (self.wave[None] / 5000.0) ** (alpha[:, None] - 2.0)  # F_ν ∝ ν^-α  ⇒  F_λ ∝ λ^(α-2)
        ew_hb = 10 ** rng.uniform(1.3, 2.0, n)
        fwhm = rng.uniform(2000.0, 8000.0, n)
        for lam, s in QSO_LINES.items():
            flux = self._emission(flux, lam * (1 + z), ew_hb * s * (1 + z), fwhm / 2.35482)
        return self._emission(flux, 5008.24 * (1 + z), 0.3 * ew_hb * (1 + z), np.full(n, 200.0))


def add_noise(flux: np.ndarray, snr: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy flux and inverse variance for per-pixel SNR (n,) at the median flux of each spectrum: the noise
    model of :func:`~lawful.spectra.data.noise_sigma` with the median in place of the continuum."""
    from lawful.spectra.data import noise_sigma

    med = np.median(flux, axis=1, keepdims=True)
    sigma = med * noise_sigma(flux / med, np.asarray(snr, dtype=float).reshape(-1))
    return flux + sigma * rng.standard_normal(flux.shape), 1.0 / sigma**2


#: the binarisation's smallest feature, in units of the local continuum (see :func:`binarize`)
BIT_FLOOR = 0.05


def binarize(flux: np.ndarray, ivar: np.ndarray, rebin: int = 3, width: int = 51, k: float = 2.5,
             floor: float = BIT_FLOOR) -> np.ndarray:
    """The binarisation rule: rebin by ``rebin`` pixels, divide by a running median of ``width`` rebinned pixels,
    and set two bits per pixel — emission (s > 1 + t) and absorption (s < 1 − t) with t = max(kσ, ``floor``),
    σ the noise of s. The floor (a fraction of the local continuum) keeps the patterns of high-SNR spectra like
    those of the training SNRs: without it, every weak absorption line of a normal star sets bits once the noise
    is low enough. Returns uint8 (n, 2 W/rebin)."""
    from scipy.ndimage import median_filter

    n, w = flux.shape
    m = w // rebin * rebin
    f = flux[:, :m].reshape(n, -1, rebin).mean(axis=2)
    var = (1.0 / np.clip(ivar[:, :m], 1e-30, None)).reshape(n, -1, rebin).sum(axis=2) / rebin**2
    cont = median_filter(f, size=(1, width), mode="nearest")
    cont = np.where(np.abs(cont) > 0, cont, 1e-30)
    s = f / cont
    t = np.maximum(k * np.sqrt(var) / np.abs(cont), floor)
    return np.concatenate([s > 1 + t, s < 1 - t], axis=1).astype(np.uint8)
