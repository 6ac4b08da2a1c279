"""Real anchors for the forward model: Vega's CALSPEC spectrum and the Ramírez & Meléndez (2005) giant colours.

``vega_calspec`` reads the HST/STIS CALSPEC spectrum of Vega that ``astro-sedpy`` ships (alpha_lyr_stis_011;
FWHM 5.5 Å below 5400 Å, so R ≈ 730–890 over Hδ…Hβ). ``balmer_equivalent_widths`` measures Hβ, Hγ, Hδ with one
fixed recipe (linear pseudo-continuum through two side bands, integration over a fixed band) applied alike to the
observed and to the synthetic spectrum. ``b_minus_v`` integrates a spectrum through speclite's Bessell B and V
and puts the colour on the Vega system with the same CALSPEC spectrum (B − V of Vega = 0.00).
"""

from __future__ import annotations

import functools

import numpy as np

from lawful.spectra.atomic import _data_dir

#: (line, centre Å vacuum, half-width of the integration band Å, blue side band, red side band)
BALMER_BANDS = {"Hbeta": (4862.68, 60.0, (4780.0, 4795.0), (4930.0, 4945.0)),
                "Hgamma": (4341.68, 50.0, (4270.0, 4285.0), (4400.0, 4415.0)),
                "Hdelta": (4102.89, 45.0, (4038.0, 4050.0), (4155.0, 4168.0))}
#: Vega for the forward model: T_eff (K), log g, [Fe/H], [α/Fe], [C/Fe], [N/Fe], v_mic (km/s), RV
#: (Castelli & Kurucz 1994: 9550 K, 3.95, −0.5; v_mic 2 km/s)
VEGA_LABELS = (9550.0, 3.95, -0.5, 0.0, 0.0, 0.0, 2.0, 0.0)
#: FWHM of the CALSPEC STIS G430L spectrum of Vega in the Balmer region (Å), from its FWHM column
CALSPEC_FWHM = 5.5


@functools.cache
def vega_calspec() -> tuple[np.ndarray, np.ndarray]:
    """(wavelength Å, F_λ erg s⁻¹ cm⁻² Å⁻¹) of Vega from CALSPEC alpha_lyr_stis_011 (``astro-sedpy``)."""
    from astropy.io import fits

    path = _data_dir("sedpy") / "data" / "alpha_lyr_stis_011.fits"
    with fits.open(path) as hdul:
        data = hdul[1].data
        return np.array(data["WAVELENGTH"], dtype=float), np.array(data["FLUX"], dtype=float)


def equivalent_width(wave: np.ndarray, flux: np.ndarray, centre: float, half: float,
                     blue: tuple[float, float], red: tuple[float, float]) -> float:
    """Equivalent width (Å, absorption positive) with a straight pseudo-continuum through the side-band means."""
    def band_mean(lo: float, hi: float) -> tuple[float, float]:
        m = (wave >= lo) & (wave <= hi)
        if m.sum() < 2:
            raise ValueError(f"the spectrum does not cover the side band {lo}-{hi} Å")
        return float(wave[m].mean()), float(flux[m].mean())

    (xb, yb), (xr, yr) = band_mean(*blue), band_mean(*red)
    grid = np.linspace(centre - half, centre + half, 2001)
    f = np.interp(grid, wave, flux)
    cont = yb + (yr - yb) * (grid - xb) / (xr - xb)
    return float(np.trapezoid(1.0 - f / cont, grid))


def balmer_equivalent_widths(wave: np.ndarray, flux: np.ndarray) -> dict[str, float]:
    """Hβ, Hγ, Hδ equivalent widths (Å) by the recipe of :data:`BALMER_BANDS`."""
    return {name: equivalent_width(wave, flux, c, h, b, r) for name, (c, h, b, r) in BALMER_BANDS.items()}


def balmer_jump(wave: np.ndarray, flux: np.ndarray) -> float:
    """D = log10 of the mean F_λ over 4150–4200 Å divided by that over 3550–3600 Å (below the Balmer edge)."""
    def mean(lo: float, hi: float) -> float:
        m = (wave >= lo) & (wave <= hi)
        return float(flux[m].mean())

    return float(np.log10(mean(4150.0, 4200.0) / mean(3550.0, 3600.0)))


@functools.cache
def _vega_ab_color() -> float:
    wave, flux = vega_calspec()
    m = (wave > 3000) & (wave < 8000)
    return _ab_color(wave[m], flux[m])


def _ab_color(wave: np.ndarray, flux: np.ndarray) -> float:
    import astropy.units as u
    import speclite.filters

    filters = speclite.filters.load_filters("bessell-B", "bessell-V")
    mags = filters.get_ab_magnitudes(flux * u.erg / u.s / u.cm**2 / u.AA, wave * u.AA)
    return float(mags["bessell-B"][0] - mags["bessell-V"][0])


def b_minus_v(wave: np.ndarray, flux: np.ndarray) -> float:
    """Johnson–Cousins B − V (Vega system) of a spectrum F_λ covering 3600–7400 Å, through speclite's Bessell
    filters."""
    if wave[0] > 3600.0 or wave[-1] < 7400.0:
        raise ValueError(f"B − V needs 3600–7400 Å, the spectrum covers {wave[0]:.0f}–{wave[-1]:.0f} Å")
    return _ab_color(wave, flux) - _vega_ab_color()


def ramirez_teff(bv: float, feh: float) -> float:
    """T_eff (K) of a giant of colour B − V and [Fe/H] from Ramírez & Meléndez (2005) via PyAstronomy."""
    from PyAstronomy import pyasl

    return float(pyasl.Ramirez2005().colorToTeff("B-V", bv, feh, "g"))
