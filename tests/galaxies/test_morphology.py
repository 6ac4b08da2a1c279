"""Simulated cutouts, image measurements, classifiers and real images."""

import numpy as np
import pytest

from lawful.galaxies.morphology import measure, real
from lawful.galaxies.morphology.simulate import PIXEL, SIZE, SKY, draw_galaxy, simulate
from lawful.galaxies.morphology.train import (
    MorphConfig,
    SimulateConfig,
    evaluate,
    load_model,
    shipped_model,
    train,
    write_cutouts,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("cutouts")
    return write_cutouts(SimulateConfig(n_train=450, n_test=150, seed=3), out)


def test_simulate_is_seeded_balanced_and_sdss_like():
    a, b = simulate(60, seed=5, chunk=25), simulate(60, seed=5, chunk=25)
    np.testing.assert_array_equal(a["images"], b["images"])
    assert a["images"].shape == (60, 3, SIZE, SIZE) and a["images"].dtype == np.float32
    assert set(np.unique(a["labels"])) == {0, 1, 2}
    # the corners are sky: Poisson noise of the sky level, σ = √SKY counts
    corners = a["images"][:, :, :6, :6].reshape(-1)
    assert np.std(corners) == pytest.approx(np.sqrt(SKY), rel=0.05)
    assert abs(np.mean(corners)) < 5 * np.sqrt(SKY) / np.sqrt(corners.size) + 0.5  # sky subtracted
    assert np.all((a["psf_fwhm"] >= 1.0) & (a["psf_fwhm"] <= 2.0))


def test_requested_snr_is_the_measured_snr():
    """The r-band flux inside 2 r_e over the noise of that aperture (sky + source Poisson) is the drawn SNR."""
    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(40):
        image, p = draw_galaxy(0, rng)
        y, x = np.indices(image.shape[1:]) - (SIZE - 1) / 2
        radius = 2 * np.hypot(p["r_e"], p["fwhm"] / 2) / PIXEL
        aperture = np.hypot(y, x) <= radius
        signal = image[1][aperture].sum()
        noise = np.sqrt(signal + aperture.sum() * SKY)
        ratios.append(signal / noise / p["snr"])
    # 40 draws of SNR ≥ 20: each ratio scatters by about 1/SNR
    assert np.median(ratios) == pytest.approx(1.0, abs=0.03)


def test_ellipticals_are_redder_and_more_concentrated_than_irregulars():
    d = simulate(300, seed=2)
    f = measure.extra_features(d["images"])
    e, irr = f[d["labels"] == 0], f[d["labels"] == 2]
    assert np.median(e[:, 0]) > np.median(irr[:, 0]) + 0.2  # g − r
    assert np.median(e[:, 3]) > np.median(irr[:, 3])  # concentration


def test_the_e_class_holds_red_lenticulars_less_concentrated_than_its_ellipticals():
    from lawful.galaxies.morphology.simulate import LENTICULAR_FRACTION

    d = simulate(600, seed=4)
    e = d["labels"] == 0
    assert not np.any(d["lenticular"][~e])  # S0s belong to the early types only
    frac, n_e = d["lenticular"][e].mean(), e.sum()
    assert abs(frac - LENTICULAR_FRACTION) < 3 * np.sqrt(LENTICULAR_FRACTION * (1 - LENTICULAR_FRACTION) / n_e)
    f = measure.extra_features(d["images"])
    s0, ell, spiral = f[e & d["lenticular"]], f[e & ~d["lenticular"]], f[d["labels"] == 1]
    assert np.median(s0[:, 0]) > np.median(spiral[:, 0]) + 0.15  # g − r: an old disk, red like its bulge
    assert np.median(s0[:, 3]) < np.median(ell[:, 3])  # bulge + exponential disk: less concentrated than n ≥ 3


@pytest.mark.parametrize("images, bands, match", [
    (np.zeros((2, 3, 52)), None, "must be"),
    (np.zeros((2, 3, 52, 40)), None, "must be"),
    (np.zeros((2, 1, 52, 52)), 3, "needs 3"),
    (np.full((1, 3, 52, 52), np.nan), None, "NaN"),
])
def test_bad_images_are_refused(images, bands, match):
    with pytest.raises(ValueError, match=match):
        measure.check_images(images, bands)


@pytest.mark.parametrize("model", ["lecture", "deep"])
def test_a_briefly_trained_cnn_beats_chance_by_far_and_resumes(small, tmp_path, model):
    cfg = MorphConfig(model=model, epochs=3, batch=32)
    summary = train(cfg, small, tmp_path)
    assert summary["epochs"] == 3
    result = evaluate(small, tmp_path)
    assert result["accuracy"] > 0.5  # chance is 1/3; 150 test cutouts put 0.5 four binomial σ above it
    assert np.sum(result["confusion"]) == 150
    again = train(cfg.model_copy(update={"epochs": 4}), small, tmp_path)  # resumes at epoch 3
    assert again["epochs"] == 4


def test_a_clock_bound_run_ends_its_cosine_with_its_last_epoch(small, tmp_path, monkeypatch):
    import itertools

    import torch

    from lawful.galaxies.morphology import train as train_module

    ticks = itertools.count(step=5.0)  # a clock read twice an epoch: every epoch takes 5 s
    monkeypatch.setattr(train_module.time, "perf_counter", lambda: next(ticks))
    summary = train(MorphConfig(model="lecture", epochs=15, train_seconds=12.0), small, tmp_path)
    assert summary["epochs"] == 3  # epochs start at 0, 5 and 10 s
    lr = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["opt"]["param_groups"][0]["lr"]
    assert lr == pytest.approx(0.0, abs=1e-12)  # over 15 epochs the cosine would still be at 0.90 of the rate


def test_the_statmorph_forest(small, tmp_path):
    # 60 training and 60 test cutouts (statmorph takes 0.15 s a cutout): the forest scores 0.85 on them, 0.92 on
    # 150; chance is 1/3 and the binomial σ of 60 cutouts 0.05
    train(MorphConfig(model="rf", n_statmorph=60), small, tmp_path)
    result = evaluate(small, tmp_path)
    assert result["n"] == 60 and result["accuracy"] > 0.6


def test_a_model_refuses_images_of_the_wrong_size_or_bands(small, tmp_path):
    train(MorphConfig(model="lecture", epochs=1), small, tmp_path)
    predict, _ = load_model(tmp_path)
    with pytest.raises(ValueError, match="64×64"):
        predict(np.zeros((1, 3, 64, 64), np.float32))
    with pytest.raises(ValueError, match="needs 3"):
        predict(np.zeros((1, 1, 52, 52), np.float32))


def test_real_images_become_sdss_like_cutouts():
    ngc = real.mgefit_image("ngc4342")
    cut = real.sdss_like(ngc, r50_pixels=5.0, snr=100.0)
    assert cut.shape == (1, SIZE, SIZE) and np.all(np.isfinite(cut))
    rad, _, _ = measure._radii(cut[:, :, :], (0.5,))
    assert 4.0 < rad[0, 0] < 8.0  # the requested r_50 = 5 pixels, widened by the PSF
    sky = measure._sky_sigma(cut[None])[0, 0]
    assert abs(sky / np.sqrt(SKY) - 1) < 0.1  # the simulator's sky and Poisson noise
    hdf = real.hubble_deep_field_cutouts(n=3)
    assert hdf.shape == (3, 3, 96, 96)
    with pytest.raises(ValueError, match="unknown mgefit image"):
        real.mgefit_image("ngc0001")


@pytest.mark.parametrize("n, q", [(4.0, 1.0), (4.0, 0.6), (3.0, 0.8)])
def test_a_resolved_sersic_elliptical_made_sdss_like_is_classified_e(n, q):
    """The real-image path ends where the simulator does: an untruncated Sérsic elliptical drawn at 25× SDSS
    resolution and moved by ``sdss_like`` is an E to the shipped r-band CNN, at the training sizes' median."""
    import galsim

    image = galsim.Sersic(n=n, half_light_radius=4.0).shear(q=q, beta=0.3 * galsim.radians)
    high = image.drawImage(nx=801, ny=801, scale=0.04).array[None]
    predict, _ = load_model(shipped_model("r"))
    cuts = np.stack([real.sdss_like(high, snr=100.0, seed=s, sky=0.0) for s in range(3)])
    assert np.all(predict(cuts)[:, 0] > 0.9)


@pytest.mark.parametrize("name", ["ngc4342", "m32"])
def test_the_shipped_r_band_cnn_calls_the_real_ellipticals_early_type(name):
    """The issue's smoke test: NGC 4342 (HST, flattened, with a disk) and M32 made SDSS-like at the training
    sizes' median are E, for several noise draws."""
    predict, _ = load_model(shipped_model("r"))
    cuts = np.stack([real.sdss_like(real.mgefit_image(name), seed=s, sky=0.0) for s in range(3)])
    assert np.all(predict(cuts)[:, 0] > 0.8)


def test_field_extent_is_the_distance_to_the_field_edge_in_half_light_radii():
    sigma = 20.0  # a round Gaussian: r_50 = σ √(2 ln 2)
    y, x = np.indices((401, 401)) - 200.0
    image = np.exp(-0.5 * (x**2 + y**2) / sigma**2)[None]
    assert real.field_extent(image, sky=0.0) == pytest.approx(200.0 / (sigma * np.sqrt(2 * np.log(2))), rel=0.02)
    shifted = np.exp(-0.5 * ((x - 100) ** 2 + y**2) / sigma**2)[None]  # the peak 100 px from the right edge
    assert real.field_extent(shifted, sky=0.0) == pytest.approx(100.0 / (sigma * np.sqrt(2 * np.log(2))), rel=0.02)
