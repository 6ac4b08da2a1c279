"""``specutils.Spectrum`` in and out, and resampling onto a model's grid.

``to_specutils`` wraps our arrays (Å, vacuum; flux in erg s⁻¹ cm⁻² Å⁻¹ or normalised) with an inverse-variance
uncertainty; ``from_specutils`` takes any ``Spectrum`` with a spectral axis convertible to Å and returns
(flux, ivar) on a target grid through specutils' flux-conserving resampler. Pixels the spectrum does not cover, or
with NaN flux or zero inverse variance, come back with ivar = 0 (masked) and are counted.
"""

from __future__ import annotations

import numpy as np


def _spectrum_class():
    import specutils

    return getattr(specutils, "Spectrum", None) or specutils.Spectrum1D


def to_specutils(wave: np.ndarray, flux: np.ndarray, ivar: np.ndarray | None = None, unit: str = "erg / (s cm2 AA)"):
    """A ``specutils.Spectrum`` with spectral axis in Å and an InverseVariance uncertainty."""
    import astropy.units as u
    from astropy.nddata import InverseVariance

    flux_unit = u.dimensionless_unscaled if unit in ("", "normalized") else u.Unit(unit)
    unc = None if ivar is None else InverseVariance(np.asarray(ivar) / flux_unit**2)
    return _spectrum_class()(flux=np.asarray(flux) * flux_unit, spectral_axis=np.asarray(wave) * u.AA, uncertainty=unc)


def from_specutils(spectrum, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(flux, ivar, masked pixels) of ``spectrum`` resampled onto ``grid`` (Å)."""
    import astropy.units as u
    from astropy.nddata import InverseVariance
    from specutils.manipulation import FluxConservingResampler

    from lawful.spectra.data import usable_pixels

    if spectrum.uncertainty is None:
        raise ValueError("the spectrum has no uncertainty; an inverse variance is needed to weight its pixels")
    wave = spectrum.spectral_axis.to_value(u.AA, equivalencies=u.spectral())
    if wave[-1] < grid[0] or wave[0] > grid[-1]:
        raise ValueError(f"the spectrum covers {wave[0]:.0f}–{wave[-1]:.0f} Å, the grid expects "
                         f"{grid[0]:.0f}–{grid[-1]:.0f} Å")
    ivar = spectrum.uncertainty.represent_as(InverseVariance).array
    flux = np.asarray(spectrum.flux.value, dtype=float)
    bad = ~usable_pixels(flux, ivar)
    clean = to_specutils(wave, np.where(bad, 0.0, flux), np.where(bad, 1e-30, ivar), unit="")
    resampled = FluxConservingResampler(extrapolation_treatment="nan_fill")(clean, grid * u.AA)
    out_flux = np.asarray(resampled.flux.value, dtype=float)
    out_ivar = resampled.uncertainty.represent_as(InverseVariance).array
    mask = ~np.isfinite(out_flux) | ~np.isfinite(out_ivar) | (out_ivar <= 1e-20)
    return np.where(mask, np.nan, out_flux), np.where(mask, 0.0, out_ivar), int(mask.sum())
