"""Catalog, asinh magnitudes and photo-z metrics against published numbers and closed forms."""

import numpy as np
import pytest
from scipy import stats

from lawful.galaxies import catalog, metrics


def test_asinh_magnitudes_match_the_sdss_definition():
    # SDSS DR documentation ("asinh magnitudes"): m at zero flux is 24.63, 25.11, 24.80, 24.36, 22.83 in ugriz,
    # and for bright objects asinh magnitudes equal Pogson's 22.5 − 2.5 log10(f / nanomaggy).
    mag, _ = catalog.asinh_magnitudes(np.zeros((1, 5)), np.ones((1, 5)))
    np.testing.assert_allclose(mag[0], [24.63, 25.11, 24.80, 24.36, 22.83], atol=0.006)
    bright = np.full((1, 5), 1000.0)
    mag, err = catalog.asinh_magnitudes(bright, np.full((1, 5), 1.0 / 10.0**2))
    np.testing.assert_allclose(mag[0], 22.5 - 2.5 * np.log10(1000.0), atol=1e-4)
    np.testing.assert_allclose(err[0], 2.5 / np.log(10) * 10.0 / 1000.0, rtol=1e-3)  # σ_m = 1.0857 σ_f / f


def test_negative_flux_keeps_a_finite_magnitude_and_zero_ivar_means_missing():
    flux = np.array([[-5.0, 10.0, 20.0, 30.0, 40.0]])
    ivar = np.array([[1.0, 1.0, 0.0, 1.0, 1.0]])
    mag, err = catalog.asinh_magnitudes(flux, ivar)
    assert np.isfinite(mag[0, 0]) and mag[0, 0] > 24.63  # fainter than zero flux
    assert np.isnan(mag[0, 2]) and np.isnan(err[0, 2])


@pytest.mark.parametrize("flux, ivar, match", [
    (np.ones((3, 4)), np.ones((3, 4)), r"\(n, 5\)"),
    (np.ones((3, 5)), np.ones((2, 5)), "must match"),
    (np.array([[1.0, np.nan, 1, 1, 1]]), np.ones((1, 5)), "non-finite fluxes"),
    (np.ones((1, 5)), np.array([[1.0, -1, 1, 1, 1]]), "negative or non-finite inverse variances"),
    (np.ones((2, 5)), np.array([[1.0] * 5, [0.0] * 5]), "no measured band"),
])
def test_bad_photometry_is_refused(flux, ivar, match):
    with pytest.raises(ValueError, match=match):
        catalog.asinh_magnitudes(flux, ivar)


def test_the_shipped_sdss_table():
    cat = catalog.sdss_galaxies()
    assert len(cat) == 10_000
    assert 0.005 < cat.z.min() and cat.z.max() < 0.7 and 0.08 < np.median(cat.z) < 0.12
    # Main-Galaxy-Sample-like: Petrosian r ≲ 17.8 (a few per cent scatter past it)
    assert 16.5 < np.median(cat.petro[:, 2]) < 17.5 and np.quantile(cat.petro[:, 2], 0.95) < 17.8
    x, e, names = cat.features()
    assert x.shape == e.shape == (10_000, len(names))
    # dereddening makes galaxies bluer: g − r median of MGS galaxies is about 0.75 (Strateva et al. 2001)
    assert 0.6 < np.median(x[:, names.index("g-r")]) < 0.9


def test_sigma_nmad_eta_and_bias_of_gaussian_errors():
    rng = np.random.default_rng(1)
    z = rng.uniform(0.02, 0.3, 200_000)
    dz = rng.normal(0.001, 0.02, z.size)
    m = metrics.point_metrics(z + dz * (1 + z), z)
    assert m["sigma_nmad"] == pytest.approx(0.02, abs=4 * 1.17 * 0.02 / np.sqrt(z.size))
    assert m["bias"] == pytest.approx(0.001, abs=4 * 0.02 / np.sqrt(z.size))
    expected = stats.norm.sf(0.05, 0.001, 0.02) + stats.norm.cdf(-0.05, 0.001, 0.02)
    assert m["eta_005"] == pytest.approx(expected, abs=4 * np.sqrt(expected / z.size))


def _gaussian_pdfs(mu, sigma):
    return metrics.normalize(stats.norm.pdf(metrics.Z_GRID[None, :], mu[:, None], sigma[:, None]))


def test_crps_quantiles_and_coverage_against_closed_forms():
    rng = np.random.default_rng(2)
    mu = rng.uniform(0.25, 0.6, 2000)  # far from z = 0, where the grid truncates
    sigma = rng.uniform(0.01, 0.05, 2000)
    pdf = _gaussian_pdfs(mu, sigma)
    np.testing.assert_allclose(metrics.quantiles(pdf, 0.84), mu + stats.norm.ppf(0.84) * sigma, atol=2e-4)
    z_true = rng.normal(mu, sigma)
    # Gneiting & Raftery (2007): CRPS of N(μ, σ) at y is σ [w (2Φ(w) − 1) + 2φ(w) − 1/√π], w = (y − μ)/σ
    w = (z_true - mu) / sigma
    exact = sigma * (w * (2 * stats.norm.cdf(w) - 1) + 2 * stats.norm.pdf(w) - 1 / np.sqrt(np.pi))
    np.testing.assert_allclose(metrics.crps(pdf, z_true), exact, atol=2e-5)
    m = metrics.pdf_metrics(pdf, z_true)
    for key, p in (("coverage68", 0.6827), ("coverage95", 0.95)):
        assert m[key] == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / len(mu)))
    too_narrow = metrics.pdf_metrics(_gaussian_pdfs(mu, sigma / 2), z_true)
    assert too_narrow["coverage68"] < 0.5


def test_pdf_from_samples_recovers_the_sample_distribution():
    rng = np.random.default_rng(3)
    samples = rng.normal(0.2, 0.03, (50, 4000))
    med = metrics.quantiles(metrics.pdf_from_samples(samples, width=0.002), 0.5)
    np.testing.assert_allclose(med, np.median(samples, axis=1), atol=1.5e-3)
