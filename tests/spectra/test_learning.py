"""Labels from real APOGEE giants, data sets (seeded, resumable), the networks and the label regressors."""

import numpy as np
import pytest
import torch

from lawful.spectra.data import DataConfig, generate, load_split
from lawful.spectra.labels import TARGETS, apogee_giants, draw_labels


def test_apogee_join_gives_real_giants_with_all_four_labels():
    stars = apogee_giants()
    assert stars.shape == (189182, 4)
    teff, logg, feh, alpha = stars.T
    assert 3100 < teff.min() and teff.max() < 5500
    assert np.median(logg) == pytest.approx(2.0, abs=0.1)  # the red clump / RGB, not dwarfs
    assert -2.5 < feh.min() and feh.max() < 0.6


def test_drawn_labels_follow_the_stated_relations():
    lab = draw_labels(4000, np.random.default_rng(1), sigma_cn=0.0)
    assert lab["mass"].min() >= 0.8 and lab["mass"].max() <= 2.5 and lab["age"].max() <= 13.5
    cn = lab["c_fe"] - lab["n_fe"]
    np.testing.assert_allclose(cn, -0.25 - 1.1 * np.log10(lab["mass"]), atol=1e-12)
    resid = np.log10(lab["age"]) - (1.0 - 2.5 * np.log10(lab["mass"]) + 0.25 * lab["feh"])
    assert abs(resid.std() - 0.04) < 0.01  # the stated scatter (minus the truncation at 13.5 Gyr)
    assert np.median(lab["snr"]) == pytest.approx(50.0, rel=0.1)


def test_data_sets_are_seeded_disjoint_and_resume(tmp_path):
    cfg = DataConfig(n=60, seed=3)
    path = generate(cfg, tmp_path / "a")
    train, val, test = (load_split(path, s) for s in ("train", "val", "test"))
    assert len(train["flux"]) + len(val["flux"]) + len(test["flux"]) == 60 and len(test["flux"]) == 6
    assert train["flux"].shape[1] == 3462 == len(train["wave"])
    keys = {tuple(np.round(t, 8)) for s in (train, val, test) for t in s["targets"]}
    assert len(keys) == 60
    again = generate(cfg.model_copy(update={"scheduler": "local", "workers": 2}), tmp_path / "b")  # through Dask
    np.testing.assert_array_equal(load_split(again, "test")["flux"], test["flux"])
    chunk = tmp_path / "a" / "chunks" / "chunk_00000.npz"
    stamp = chunk.stat().st_mtime_ns
    generate(cfg, tmp_path / "a")  # resumes: the chunk is not made again
    assert chunk.stat().st_mtime_ns == stamp
    # the noise is what the SNR says: residual against the noise-free model / σ has unit variance
    assert np.all(test["ivar"] > 0)


def test_hadamard_attention_is_permutation_equivariant_over_tokens():
    from lawful.spectra.networks import HadamardAttention

    torch.manual_seed(0)
    attn = HadamardAttention(16, 4, 0.0).eval()
    x = torch.randn(3, 10, 16)
    perm = torch.randperm(10)
    torch.testing.assert_close(attn(x)[:, perm], attn(x[:, perm]))


def test_spt_and_the_baselines_map_spectra_to_six_labels():
    from lawful.spectra.networks import BCNN, MLP, SPT

    x = torch.ones(4, 3462)
    for net in (SPT(3462, 6), SPT(3462, 6, attention="dot"), BCNN(3462, 6), MLP(3462, 6)):
        assert net(x).shape == (4, 6)
    with pytest.raises(ValueError, match="attention must be"):
        SPT(3462, 6, attention="softmax")


def test_cannon_recovers_labels_of_its_own_quadratic_model():
    from lawful.spectra.cannon import Cannon, _design

    rng = np.random.default_rng(0)
    labels = rng.normal(size=(400, 3))
    theta = rng.normal(scale=0.05, size=(200, 10))
    flux = 1 + (_design(torch.as_tensor(labels)) @ torch.as_tensor(theta).T).numpy()
    ivar = np.full_like(flux, 1e6)
    model = Cannon().fit(flux + rng.normal(scale=1e-3, size=flux.shape), ivar, labels)
    pred, sigma = model.predict(flux[:50], ivar[:50])
    np.testing.assert_allclose(pred, labels[:50], atol=0.05)
    assert np.all(sigma > 0)


@pytest.mark.parametrize("model, loss", [("spt", "mse"), ("gbm", "mse"), ("spt", "gaussian")])
def test_train_evaluate_and_refuse_another_grid(small_data, tmp_path, model, loss):
    from lawful.spectra.evaluate import evaluate, load_model, predict
    from lawful.spectra.train import TrainConfig, train

    summary = train(TrainConfig(model=model, loss=loss, epochs=2, mc_samples=5), small_data, tmp_path / model,
                    log=lambda *a: None)
    assert summary["n_train"] == 240
    results = evaluate(small_data, [tmp_path / model], plots=tmp_path / "plots")
    assert (tmp_path / "plots" / f"{model}.png").stat().st_size > 1000
    row = results[model]["mass"]
    assert set(row) >= {"mpe", "mae", "bias", "coverage68", "coverage95"} and 0 <= row["coverage95"] <= 1
    assert row["mpe_weighted_median"] > 0 and results[model]["teff"]["mpe_weighted_median"] == pytest.approx(
        results[model]["teff"]["mpe"])  # T_eff is not predicted in log: the estimate is the mean itself
    state = load_model(tmp_path / model)
    test = load_split(small_data, "test")
    with pytest.raises(ValueError, match="expects 3462 pixels"):
        predict(state, test["flux"][:, :100], test["ivar"][:, :100], test["wave"][:100])
    flux = test["flux"].copy()
    flux[0, :10] = np.nan
    pred = predict(state, flux, test["ivar"])
    assert pred["masked"][0] == 10 and np.isfinite(pred["mean"]).all()


def test_the_gaussian_loss_learns_each_stars_sigma():
    """y = x₀ + ε·s with s = 0.1 or 1 set by the sign of x₁ (the SNR of a toy star): a small network trained by
    the heteroscedastic β-NLL predicts σ within 20 % of s in both halves, and its mean still finds x₀."""
    from lawful.spectra.train import _loss, predict_network, split_outputs

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 2, generator=gen)
    s = torch.where(x[:, 1:] > 0, 0.1, 1.0)
    y = x[:, :1] + s * torch.randn(4000, 1, generator=gen)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(600):
        opt.zero_grad()
        _loss("gaussian", net(x), y, None, None).backward()
        opt.step()
    probe = np.array([[0.5, 1.0], [0.5, -1.0]], dtype=np.float32)
    mean, sigma = predict_network(net, probe, 1, heteroscedastic=True)
    np.testing.assert_allclose(sigma[:, 0], [0.1, 1.0], rtol=0.2)
    np.testing.assert_allclose(mean[:, 0], 0.5, atol=0.1)
    with torch.no_grad():
        assert split_outputs(net(torch.as_tensor(probe)), True)[1].shape == (2, 1)


def test_mc_dropout_and_the_predicted_sigma_add_in_quadrature():
    from lawful.spectra.train import predict_network

    class Fixed(torch.nn.Module):  # means 0 or 2 on alternate passes (as dropout would give), log σ = log 1.5
        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return torch.tensor([[2.0 * (self.calls % 2), np.log(1.5)]]).repeat(len(x), 1)

    mean, sigma = predict_network(Fixed(), np.zeros((3, 4), dtype=np.float32), 10, heteroscedastic=True)
    np.testing.assert_allclose(mean, 1.0)
    np.testing.assert_allclose(sigma, np.sqrt(1.0 + 1.5**2), rtol=1e-5)


@pytest.mark.parametrize("model", ["spt", "spt-dot", "cnn"])
def test_a_stars_mc_prediction_does_not_depend_on_its_batch(model):
    """MC dropout with masks seeded per spectrum: a spectrum predicted alone, among six others, or chunked two
    at a time gets the same mean and σ; the same seed repeats them, another seed does not, and the passes do
    differ."""
    from lawful.spectra.train import TrainConfig, build_network, predict_network

    torch.manual_seed(0)
    cfg = TrainConfig(model=model, dim=16, heads=2, depth=1, patch=8, dropout=0.2)
    net = build_network(cfg, 64, 2)
    x = np.random.default_rng(0).normal(size=(7, 64)).astype(np.float32)
    alone = predict_network(net, x[3:4], 20)
    together = predict_network(net, x, 20)
    chunked = predict_network(net, x, 20, chunk=2)
    for mean, sigma in (together, chunked):
        np.testing.assert_allclose(mean[3:4], alone[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(sigma[3:4], alone[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(predict_network(net, x, 20)[0], together[0])
    assert not np.allclose(predict_network(net, x, 20, seed=1)[0], together[0])
    assert (together[1] > 1e-3).all() and not net.training


def test_mc_masks_keep_the_dropout_rate_and_are_independent_between_spectra():
    """A network that averages its dropped-out input (d = 10 features, p = 0.5): over 20 passes each of 400
    distinct spectra's MC mean has variance p/(1 − p)/(20 d) = 0.005, and the spread of those means across the
    spectra is that variance (χ² bound at 4σ), so the spectra's MC errors are independent (one mask shared by
    the batch would give them all the same mean); their grand mean is 1 within 4 standard errors, and two
    identical spectra get identical draws."""
    from lawful.spectra.networks import MCDropout
    from lawful.spectra.train import predict_network

    class Averaged(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = MCDropout(0.5)

        def forward(self, x):
            return self.drop(torch.ones_like(x)).mean(dim=1, keepdim=True)

    n, d, passes = 400, 10, 20
    x = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None].repeat(d, axis=1)
    x[1] = x[0]
    mean, _ = predict_network(Averaged(), x, passes)
    expected = 1.0 / (passes * d)
    assert mean[0, 0] == mean[1, 0]
    spread = mean[1:, 0].var(ddof=1)
    assert abs(spread / expected - 1.0) < 4.0 * np.sqrt(2.0 / (n - 2))
    assert abs(mean[1:, 0].mean() - 1.0) < 4.0 * np.sqrt(expected / (n - 1))


def test_pass_masks_are_bernoulli_trials_and_the_rare_long_rows_continue_their_own_stream(monkeypatch):
    """PassMasks over 4000 spectra and layers of 30 and 20 elements, p = 0.3: every element is dropped with
    frequency 0.3 (binomial, 4.5σ over the 50 elements), a spectrum's drop count has the binomial variance
    n·p·(1 − p) (4σ), kept elements are scaled by 1/(1 − p); with too few gaps drawn at first (every row then
    continues its stream) the masks are the same."""
    from lawful.spectra import networks
    from lawful.spectra.networks import PassMasks

    n, p, sizes = 4000, 0.3, (30, 20)
    seeds = np.arange(n) * 7919 + 11

    def masks():
        pm = PassMasks(seeds, sizes, p)
        return torch.cat([pm.apply(torch.ones(n, 5, 6)).reshape(n, -1), pm.apply(torch.ones(n, 20))], dim=1)

    out = masks()
    assert set(torch.unique(out).tolist()) == {0.0, float(np.float32(1 / 0.7))}
    dropped = (out == 0).double()
    assert (abs(dropped.mean(0) - p) < 4.5 * np.sqrt(p * (1 - p) / n)).all()
    var = dropped.sum(1).var().item()
    assert abs(var / (50 * p * (1 - p)) - 1) < 4 * np.sqrt(2 / (n - 1))
    monkeypatch.setattr(networks, "GAP_MARGIN", -30.0)
    assert torch.equal(masks(), out)


def test_dot_attention_computes_what_torchs_multihead_attention_does():
    """The ablation's attention, written out to put the MC dropout on its weights, equals
    torch.nn.MultiheadAttention with the same parameters in eval mode."""
    from lawful.spectra.networks import DotAttention

    torch.manual_seed(0)
    att = DotAttention(16, 4, 0.1).eval()
    x = torch.randn(3, 5, 16)
    with torch.no_grad():
        reference = att.attn(x, x, x, need_weights=False)[0]
        torch.testing.assert_close(att(x), reference, rtol=1e-5, atol=1e-6)


def test_paired_difference_is_the_paired_t_statistics_parts():
    """The mean difference over its standard error is scipy's paired t statistic, column by column."""
    from scipy import stats

    from lawful.spectra.evaluate import paired_difference

    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 2))
    b = a + rng.normal(0.3, 0.5, size=(50, 2))
    mean, se = paired_difference(a, b)
    np.testing.assert_allclose(mean / se, stats.ttest_rel(a, b).statistic, rtol=1e-12)
    np.testing.assert_allclose(mean, (a - b).mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("sigma", [0.05, 0.13, 0.3])
def test_weighted_median_minimises_the_expected_percentage_error_of_a_log_normal(sigma):
    """Under a log-normal posterior (median 5, σ dex) the expected percentage error E|x − t|/t, integrated by
    scipy and minimised by scipy, is least at weighted_median's estimate; a label not in log is left alone."""
    import math

    from scipy import integrate, optimize

    from lawful.spectra.evaluate import weighted_median

    m, s = math.log(5.0), math.log(10.0) * sigma  # the posterior of u = ln t is N(m, s²)

    def expected(x):
        def integrand(u):
            return abs(x * math.exp(-u) - 1.0) * math.exp(-0.5 * ((u - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))

        return integrate.quad(integrand, m - 12 * s, m + 12 * s, points=[math.log(x)], epsabs=1e-12)[0]

    best = optimize.minimize_scalar(expected, bounds=(5.0 * np.exp(-3 * s), 5.0), method="bounded",
                                    options={"xatol": 1e-8}).x
    est = weighted_median(np.array([[5.0, 5.0]]), np.array([[sigma, sigma]]), np.array([True, False]))
    assert est[0, 0] == pytest.approx(best, rel=1e-6) and est[0, 1] == 5.0
    assert expected(est[0, 0]) < expected(5.0)


def test_two_level_calibration_covers_both_levels_of_heavy_tailed_errors():
    """Errors with Student-t (ν = 3) tails and no SNR dependence: the calibration fitted on one sample gives
    68.27 % and 95 % coverage on a fresh one (3σ of the binomial spread of both samples) at every SNR, where one
    factor for both levels cannot (its best is 4–5 points off at one of them)."""
    from scipy import stats

    from lawful.spectra.calibration import LEVELS, calibration_factors, fit_calibration

    rng = np.random.default_rng(0)
    n = 10000
    z_val, z_test = (stats.t.rvs(3, size=(n, 2), random_state=rng) * [1.0, 3.0] for _ in range(2))
    snr_val, snr_test = rng.uniform(10, 200, n), rng.uniform(10, 200, n)
    factors = calibration_factors(fit_calibration(z_val, snr_val), snr_test)
    assert factors.shape == (2, n, 2)
    for level, f in zip(LEVELS, factors):
        cover = (np.abs(z_test) <= f).mean(axis=0)
        np.testing.assert_allclose(cover, level, atol=3 * np.sqrt(2 * level * (1 - level) / n))
    one = np.geomspace(0.1, 10, 2000)[:, None]
    a = np.abs(z_val[:, 0])[None] / one
    best = np.min(np.maximum(np.abs((a <= 1).mean(1) - 0.6827), np.abs((a <= 1.96).mean(1) - 0.95)))
    assert best > 0.03


def test_calibration_follows_errors_that_shrink_with_snr():
    """Gaussian errors of σ_true = 0.3 (SNR/50)^-0.6 behind a constant model σ of 0.3 (what MC dropout does): the
    fitted power law recovers the slope and covers 68.27 % and 95 % in the low- and the high-SNR half alike, where
    the constant factors cover about 52 % and 82 % of the low-SNR half at the 68 % level."""
    from lawful.spectra.calibration import LEVELS, calibration_factors, fit_calibration

    rng = np.random.default_rng(1)
    n = 10000

    def sample():
        snr = np.exp(rng.uniform(np.log(10), np.log(250), n))
        return rng.standard_normal((n, 1)) * (snr / 50)[:, None] ** -0.6, snr

    (z_val, snr_val), (z_test, snr_test) = sample(), sample()
    cal = fit_calibration(z_val, snr_val)
    np.testing.assert_allclose(cal["coef"][:, 1, 0], -0.6, atol=0.03)
    factors = calibration_factors(cal, snr_test)
    constant = np.quantile(np.abs(z_val), LEVELS, axis=0)
    for level, f in zip(LEVELS, factors):
        for half in (snr_test < 50, snr_test >= 50):
            tol = 3 * np.sqrt(2 * level * (1 - level) / half.sum())
            assert abs((np.abs(z_test[half]) <= f[half]).mean() - level) < tol
    assert (np.abs(z_test[snr_test < 50]) <= constant[0]).mean() < LEVELS[0] - 0.1  # constant factors fail there
    beyond = calibration_factors(cal, np.array([1.0, 1e4]))  # not extrapolated past the validation SNRs
    np.testing.assert_allclose(beyond[:, :, 0], calibration_factors(cal, snr_val[[snr_val.argmin(),
                                                                               snr_val.argmax()]])[:, :, 0])


def test_a_small_validation_set_gets_constant_factors():
    from lawful.spectra.calibration import LEVELS, fit_calibration

    z, snr = np.random.default_rng(2).standard_normal((50, 3)), np.geomspace(5, 300, 50)
    cal = fit_calibration(z, snr)
    assert np.all(cal["coef"][:, 1] == 0.0)
    np.testing.assert_allclose(np.exp(cal["coef"][:, 0]), np.quantile(np.abs(z), LEVELS, axis=0))


def test_spectrum_snr_is_the_median_per_pixel_signal_to_noise():
    from lawful.spectra.calibration import spectrum_snr

    flux = np.ones((3, 101))
    ivar = np.full((3, 101), 40.0**2)
    ivar[1, :30] = 0.0  # masked pixels do not count
    flux[2] = np.nan
    snr = spectrum_snr(flux, ivar)
    np.testing.assert_allclose(snr[:2], 40.0)
    assert np.isnan(snr[2])


def test_recalibration_keeps_the_weights_and_sets_the_validation_coverage(small_data, tmp_path):
    import h5py

    from lawful.spectra.calibration import LEVELS
    from lawful.spectra.evaluate import load_model, metrics, predict, recalibrate
    from lawful.spectra.train import TrainConfig, train

    train(TrainConfig(model="mlp", epochs=2), small_data, tmp_path / "m", log=lambda *a: None)
    before = load_model(tmp_path / "m")
    with h5py.File(small_data) as h5:  # the training stars' labels, read past the package
        targets = h5["train"]["targets"][...]
    np.testing.assert_array_equal(before["label_range"], [targets.min(axis=0), targets.max(axis=0)])
    before["calibration"] = np.ones((2, len(TARGETS)))  # as if saved with constant factors of 1, before stop 45
    del before["label_range"]  # and with no range of training labels, before stop 50
    torch.save(before, tmp_path / "m" / "model.pt")
    cal = recalibrate(tmp_path / "m", small_data)
    after = load_model(tmp_path / "m")
    np.testing.assert_array_equal(after["label_range"], [targets.min(axis=0), targets.max(axis=0)])
    assert cal["coef"].shape == (2, 2, len(TARGETS)) and np.all(cal["coef"][1, 0] > cal["coef"][0, 0])
    for key, value in before["net"].items():
        torch.testing.assert_close(after["net"][key], value)
    val = load_split(small_data, "val")
    rows = metrics(after, predict(after, val["flux"], val["ivar"]), val["targets"], snr=val["snr"])
    n = len(val["targets"])
    for row in rows.values():  # a quantile regression over n stars: coverage within a few stars of the levels
        assert abs(row["coverage68"] - LEVELS[0]) <= 3.0 / n and abs(row["coverage95"] - LEVELS[1]) <= 3.0 / n
        assert set(row["coverage68_by_snr"]) == {"<20", "20-50", "50-100", ">=100"}


def test_training_resumes_from_its_checkpoint(small_data, tmp_path):
    from lawful.spectra.train import TrainConfig, train

    logs = []
    train(TrainConfig(model="mlp", epochs=2), small_data, tmp_path / "m", log=logs.append)
    (tmp_path / "m" / "model.pt").unlink()
    logs.clear()
    train(TrainConfig(model="mlp", epochs=3), small_data, tmp_path / "m", log=logs.append)
    assert logs[0].startswith("resuming at epoch 2") and len(logs) == 2
    # the epoch budget binds (not the clock): the third of three epochs runs at cos²(π/3) = 1/4 of the rate
    lr = torch.load(tmp_path / "m" / "checkpoint.pt", weights_only=False)["opt"]["param_groups"][0]["lr"]
    assert lr == pytest.approx(TrainConfig().lr * 0.25)


def test_targets_order():
    assert TARGETS == ("teff", "logg", "feh", "alpha", "mass", "age")


def test_mc_dropout_sigma_is_reproducible():
    from lawful.spectra.evaluate import predict
    from lawful.spectra.models import shipped

    state = shipped()
    rng = np.random.default_rng(0)
    flux = 1.0 + 0.02 * rng.standard_normal((3, len(state["wave"])))
    ivar = np.full_like(flux, 2500.0)
    torch.manual_seed(1)
    a = predict(state, flux, ivar)
    torch.manual_seed(2)  # the caller's random state does not change the dropout masks
    b = predict(state, flux, ivar)
    np.testing.assert_array_equal(a["sigma"], b["sigma"])
    assert np.all(a["sigma"] > 0)


def test_labels_remake_the_stored_spectra_at_the_data_sets_resolution(tmp_path):
    """The stored noisy spectra minus the noise-free spectra made again from their labels at the data set's own
    resolution are noise with the stated law (z = residual/σ has unit variance within 5 % over 60 × 3462 pixels);
    the default R = 1800 does not remake spectra made at R = 1200."""
    from lawful.spectra.data import data_config, noise_sigma, synthesize

    path = generate(DataConfig(n=60, seed=3, resolution=1200.0), tmp_path)
    part = load_split(path, "train")
    assert data_config(path).resolution == 1200.0
    for resolution, remade in ((1200.0, True), (1800.0, False)):
        clean = synthesize(part["synth_labels"], resolution)
        z = (part["flux"] - clean) / noise_sigma(clean, part["snr"])
        assert (abs(z.std() - 1.0) < 0.05) == remade, (resolution, z.std())


def test_fresh_noise_gives_every_batch_a_new_draw_at_each_stars_snr(small_data, tmp_path, monkeypatch):
    """By default (noise = 'fresh') a network trains on noise-free spectra plus a new draw each epoch: every input
    is its star's remade spectrum plus noise of unit variance in units of σ, and the two epochs' draws for a star
    are uncorrelated (with the stored spectra they are the same draw). A classical model defaults to the stored
    spectra and is refused 'fresh' by name."""
    import lawful.spectra.train as train_module
    from lawful.spectra.data import noise_sigma, synthesize

    seen = []
    build = train_module.build_network

    def recording(*args):
        net = build(*args)
        net.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0].clone()) if mod.training else None)
        return net

    monkeypatch.setattr(train_module, "build_network", recording)
    train_module.train(train_module.TrainConfig(model="mlp", epochs=2, batch=64, mask_prob=0.0), small_data,
                       tmp_path / "m", log=lambda *a: None)
    tr = load_split(small_data, "train")
    clean = synthesize(tr["synth_labels"])
    sigma = noise_sigma(clean, tr["snr"])
    inputs = torch.cat(seen).numpy()
    assert inputs.shape == (2 * len(clean), clean.shape[1])
    star = np.array([np.argmin(((x - clean) ** 2).sum(-1)) for x in inputs])  # the nearest remade spectrum
    assert np.array_equal(np.bincount(star, minlength=len(clean)), np.full(len(clean), 2))
    z = (inputs - clean[star]) / sigma[star]
    assert abs(z.std() - 1.0) < 0.02 and abs(z.mean()) < 0.01
    first, second = (np.array([z[np.flatnonzero(star == s)[k]] for s in range(len(clean))]) for k in (0, 1))
    assert abs(np.corrcoef(first.ravel(), second.ravel())[0, 1]) < 0.02
    assert train_module.TrainConfig(model="gbm").noise == "stored"
    with pytest.raises(ValueError, match="noise = 'fresh'.*'gbm'"):
        train_module.TrainConfig(model="gbm", noise="fresh")
