"""The sky prior: separations against astropy, a clustered mock universe (the fitted dispersion, a sharper and
still calibrated posterior), no effect without clustering, bad positions refused, and the real table's gain."""

import numpy as np
import pytest

from lawful.galaxies.metrics import Z_GRID, normalize, pdf_metrics, point_metrics, quantiles
from lawful.galaxies.sky import SkyPrior, separations_arcmin

C_KM_S = 299792.458


def mock_universe(n_groups: int, members: int, n_field: int, sigma_v: float, seed: int):
    """Galaxies on a 30° × 30° patch: groups of ``members`` within ~3′ of their centre at one redshift with a
    line-of-sight dispersion ``sigma_v`` (km/s), plus field galaxies placed at random; z from a gamma n(z)."""
    rng = np.random.default_rng(seed)

    def redshifts(n):
        return np.clip(rng.gamma(4.0, 0.025, n), 0.01, 0.6)

    zg = redshifts(n_groups)
    ra0, dec0 = rng.uniform(10, 40, n_groups), rng.uniform(-15, 15, n_groups)
    ra = np.r_[np.repeat(ra0, members) + rng.normal(0, 3 / 60, n_groups * members), rng.uniform(10, 40, n_field)]
    dec = np.r_[np.repeat(dec0, members) + rng.normal(0, 3 / 60, n_groups * members), rng.uniform(-15, 15, n_field)]
    zc = np.repeat(zg, members)
    z = np.r_[zc + (1 + zc) * sigma_v / C_KM_S * rng.standard_normal(zc.size), redshifts(n_field)]
    return ra, dec, z, rng


def photometric_pdf(z: np.ndarray, width: float, rng) -> np.ndarray:
    """A calibrated photometric posterior: n(z) (the mock's gamma) times a Gaussian likelihood of width
    ``width`` (1 + z) around a noisy measurement of z."""
    from scipy.stats import gamma

    observed = z + width * (1 + z) * rng.standard_normal(z.size)
    like = np.exp(-0.5 * ((observed[:, None] - Z_GRID) / (width * (1 + Z_GRID))) ** 2) / (1 + Z_GRID)
    return normalize(like * gamma(4.0, scale=0.025).pdf(Z_GRID))


def test_separations_match_astropy_across_ra_zero_and_near_the_pole():
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    rng = np.random.default_rng(3)
    ra = np.r_[359.9, 0.05, rng.uniform(0, 360, 200)]
    dec = np.r_[-2.0, -2.01, rng.uniform(-89.9, 89.9, 200)]
    ra2, dec2 = (ra + rng.normal(0, 0.5, ra.size)) % 360, np.clip(dec + rng.normal(0, 0.5, dec.size), -90, 90)
    ours = separations_arcmin(ra, dec, ra2, dec2)
    ref = SkyCoord(ra * u.deg, dec * u.deg).separation(SkyCoord(ra2 * u.deg, dec2 * u.deg)).arcmin
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-6)


def test_a_clustered_mock_gives_its_dispersion_and_a_sharper_calibrated_posterior():
    # pairs, as in the sparse real table (1 in 70 of the Main Galaxy Sample): a neighbour's z differs from the
    # galaxy's by √2 σ_v
    ra, dec, z, rng = mock_universe(n_groups=1500, members=2, n_field=6000, sigma_v=300.0, seed=1)
    test = rng.random(z.size) < 0.2
    prior = SkyPrior.fit(ra[~test], dec[~test], z[~test])
    assert abs(prior.velocity_dispersion - np.sqrt(2) * 300.0) < 50.0  # wider would blur, narrower would miss
    assert prior.u[0] > 1.0 and prior.u[-1] < 0.02  # group members lie within a few arcmin, not 40–80′
    photo = photometric_pdf(z[test], 0.02, rng)
    post = prior.posterior(photo, ra[test], dec[test])
    before, after = (point_metrics(quantiles(p, 0.5), z[test])["sigma_nmad"] for p in (photo, post))
    assert after < 0.85 * before
    n = int(test.sum())
    for p in (photo, post):  # Bayes with the right prior stays calibrated: 3 binomial σ
        m = pdf_metrics(p, z[test])
        for key, level in (("coverage68", 0.68), ("coverage95", 0.95)):
            assert abs(m[key] - level) < 3 * np.sqrt(level * (1 - level) / n), (key, m[key])


def test_without_clustering_the_prior_leaves_the_photometric_pdf_alone():
    ra, dec, z, rng = mock_universe(n_groups=600, members=6, n_field=6000, sigma_v=300.0, seed=2)
    ra = rng.permutation(ra)  # positions shuffled against redshifts: no structure left
    prior = SkyPrior.fit(ra[:8000], dec[:8000], z[:8000])
    assert np.all(prior.u < 0.05)
    factor = prior.factor(ra[8000:], dec[8000:])
    photo = photometric_pdf(z[8000:], 0.02, rng)
    shift = np.abs(quantiles(normalize(photo * factor), 0.5) - quantiles(photo, 0.5))
    assert np.median(shift) < 1e-3


@pytest.mark.parametrize("ra, dec, match", [(400.0, 0.0, "RA"), (10.0, -91.0, "Dec"), (np.nan, 0.0, "RA")])
def test_bad_positions_are_refused(ra, dec, match):
    ras, decs = np.full(40, 10.0), np.linspace(-5, 5, 40)
    ras[7], decs[7] = ra, dec
    with pytest.raises(ValueError, match=f"{match} outside"):
        SkyPrior.fit(ras, decs, np.linspace(0.05, 0.2, 40))


def test_sky_prior_is_refused_with_synthetic_training_or_without_positions():
    from lawful.galaxies.catalog import sdss_galaxies
    from lawful.galaxies.photoz import PhotozConfig, cross_validate

    with pytest.raises(ValueError, match="synthetic"):
        PhotozConfig(sky_prior=True, train_on="synthetic")
    cat = sdss_galaxies().subset(np.arange(200))
    blind = type(cat)(**{**cat.__dict__, "ra": np.full(200, np.nan), "dec": np.full(200, np.nan)})
    with pytest.raises(ValueError, match="RA and Dec for every galaxy; 200 of 200"):
        cross_validate(blind, PhotozConfig(sky_prior=True))


def test_a_table_with_unknown_positions_loads_but_refuses_the_sky_prior():
    from lawful.galaxies.catalog import from_arrays

    flux, ivar = np.full((3, 5), 50.0), np.full((3, 5), 1.0)
    cat = from_arrays(flux, ivar, np.zeros((3, 5)), np.array([0.1, 0.2, 0.3]), ra=np.array([10.0, np.nan, 30.0]),
                      dec=np.array([0.0, np.nan, 5.0]))
    assert not cat.has_positions and np.isnan(cat.ra[1])
    with pytest.raises(ValueError, match="RA outside"):
        from_arrays(flux, ivar, np.zeros((3, 5)), np.array([0.1, 0.2, 0.3]), ra=np.array([10.0, 400.0, 30.0]),
                    dec=np.zeros(3))


def test_the_sky_prior_sharpens_real_sdss_redshifts_and_reuses_the_fold_checkpoint(tmp_path):
    from lawful.galaxies.catalog import sdss_galaxies
    from lawful.galaxies.photoz import PhotozConfig, cross_validate

    cat = sdss_galaxies()
    assert cat.has_positions
    base = cross_validate(cat, PhotozConfig(method="rf", trees=60, max_fold=1), checkpoints=tmp_path)
    logs = []
    sky = cross_validate(cat, PhotozConfig(method="rf", trees=60, max_fold=1, sky_prior=True), logs.append,
                         checkpoints=tmp_path)
    assert any("from" in line for line in logs) and len(list(tmp_path.iterdir())) == 1
    b, s = base["metrics"], sky["metrics"]
    assert s["sigma_nmad"] < 0.95 * b["sigma_nmad"]  # 2000 galaxies: σ_NMAD known to ~1.6 %
    assert abs(s["coverage68"] - 0.68) < 0.04 and abs(s["coverage95"] - 0.95) < 0.03
    assert 150 < sky["sky"][0]["sigma_km_s"] < 700  # a group's velocity dispersion
