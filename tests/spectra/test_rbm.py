"""The RBM's machinery against exact enumeration on an RBM small enough to sum over every state, and the CV
classification end to end."""

import itertools

import numpy as np
import pytest
import torch

from lawful.spectra.rbm import RBM, DiscriminativeRBM

V, H = 4, 3


@pytest.fixture
def rbm():
    torch.manual_seed(1)
    model = RBM(V, H)
    with torch.no_grad():
        model.W.normal_(0, 0.8)
        model.b.normal_(0, 0.5)
        model.c.normal_(0, 0.5)
    return model


def states(n):
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)


def energies(rbm, v, h):
    return -(v @ rbm.b)[:, None] - (h @ rbm.c)[None, :] - v @ rbm.W @ h.T  # (2^V, 2^H)


def exact_p_v(rbm):
    v, h = states(V), states(H)
    with torch.no_grad():
        logp = torch.logsumexp(-energies(rbm, v, h), dim=1)
    return torch.softmax(logp, dim=0)


def test_free_energy_is_minus_log_of_the_sum_over_hidden_states(rbm):
    v, h = states(V), states(H)
    with torch.no_grad():
        exact = -torch.logsumexp(-energies(rbm, v, h), dim=1)
        torch.testing.assert_close(rbm.free_energy(v), exact)


def test_gradient_with_exact_model_expectation_is_the_log_likelihood_gradient(rbm):
    data = states(V)[[1, 5, 6, 6, 15, 9]]
    v_all = states(V)
    p = exact_p_v(rbm)

    def mean_loglik():
        return (-rbm.free_energy(data)).mean() - torch.logsumexp(-rbm.free_energy(v_all), 0)

    rbm.zero_grad()
    mean_loglik().backward()
    with torch.no_grad():
        # our gradient with the model term computed exactly: weight the model "samples" by p(v)
        ph_d, ph_m = rbm.p_h(data), rbm.p_h(v_all)
        dw = data.T @ ph_d / len(data) - (v_all * p[:, None]).T @ ph_m
        db = data.mean(0) - p @ v_all
        dc = ph_d.mean(0) - p @ ph_m
    torch.testing.assert_close(dw, rbm.W.grad)
    torch.testing.assert_close(db, rbm.b.grad)
    torch.testing.assert_close(dc, rbm.c.grad)
    # and gradient() with negative samples in exact proportions (20 000 states, rounded) gives the same
    counts = np.round(p.detach().numpy() * 20000).astype(int)
    sample = torch.repeat_interleave(v_all, torch.as_tensor(counts), dim=0)
    gw, gb, gc = rbm.gradient(data, sample)
    torch.testing.assert_close(gw, dw, atol=2e-4, rtol=0)


def test_gibbs_sampler_has_the_exact_stationary_distribution(rbm):
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        chains = torch.bernoulli(torch.full((4000, V), 0.5, dtype=torch.float64), generator=gen)
        chains = rbm.gibbs(chains, 50, gen)
        counts = np.zeros(2**V)
        for _ in range(5):
            chains = rbm.gibbs(chains, 5, gen)
            idx = (chains.numpy() @ (2 ** np.arange(V - 1, -1, -1))).astype(int)
            counts += np.bincount(idx, minlength=2**V)
    expected = exact_p_v(rbm).detach().numpy() * counts.sum()
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    # 15 degrees of freedom; samples 5 sweeps apart are close to independent for this small RBM: p ≈ 1e-4 at 45
    assert chi2 < 45.0, chi2


def test_cd_training_raises_the_likelihood_of_the_data():
    gen = torch.Generator().manual_seed(0)
    pattern = torch.tensor([[1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]], dtype=torch.float64)
    data = pattern[torch.randint(0, 2, (400,), generator=gen)]
    model = RBM(6, 4, gen)
    all_v = states(6)

    def loglik():
        with torch.no_grad():
            return float((-model.free_energy(data)).mean() - torch.logsumexp(-model.free_energy(all_v), 0))

    before = loglik()
    model.fit(data, epochs=30, lr=0.1, k=1)
    after_cd = loglik()
    assert after_cd > before + 2.0
    model_pcd = RBM(6, 4, torch.Generator().manual_seed(0)).fit(data, epochs=30, lr=0.1, persistent=True)
    with torch.no_grad():
        ll_pcd = float((-model_pcd.free_energy(data)).mean() - torch.logsumexp(-model_pcd.free_energy(all_v), 0))
    assert ll_pcd > before + 2.0


def test_discriminative_rbm_probabilities_by_enumeration():
    torch.manual_seed(0)
    drbm = DiscriminativeRBM(V, H, 2)
    with torch.no_grad():
        for p in drbm.parameters():
            p.normal_(0, 0.7)
        v, h = states(V).float(), states(H).float()
        # p(y|v) ∝ Σ_h exp(d_y + c·h + U_y·h + vᵀW h)
        logp = torch.stack([torch.logsumexp(drbm.d[y] + h @ drbm.c + h @ drbm.U[y] + v @ drbm.W @ h.T, dim=1)
                            for y in range(2)], dim=1)
        torch.testing.assert_close(torch.log_softmax(drbm.logits(v), 1), torch.log_softmax(logp, 1))


def test_cv_classification_end_to_end_and_bad_snr():
    from lawful.spectra.classify import ClassifyConfig, run
    from lawful.spectra.emitters import add_noise

    res = run(ClassifyConfig(n=60, epochs=5, n_by_snr=20, by_snr=[20]))
    assert set(res) == {"rbm", "drbm", "logistic", "rf", "svm"}
    for row in res.values():
        assert 0.5 < row["accuracy"] <= 1.0 and set(row["by_snr"]) == {"20"}
    with pytest.raises(ValueError, match="SNR must be positive"):
        add_noise(np.ones((2, 5)), np.array([10.0, 0.0]), np.random.default_rng(0))


def test_real_sdss_galaxy_and_quasar_are_not_taken_for_cvs():
    """Smoke test on real spectra that wheels ship: ppxf's SDSS DR18 spectrum of NGC 3073 (used, not copied) and
    linetools' SDSS quasar J220248.31+123656.3, resampled onto the LAMOST grid."""
    from astropy.io import fits

    from lawful.spectra.atomic import _data_dir
    from lawful.spectra.classify import ClassifyConfig, _scores, make_set, train_models
    from lawful.spectra.emitters import EmitterFactory, binarize
    from lawful.spectra.grids import lamost_wave
    from lawful.spectra.interop import from_specutils, to_specutils

    coadd = fits.open(_data_dir("ppxf") / "spectra" / "NGC3073_SDSS_DR18.fits")[1].data
    qso = fits.open(_data_dir("linetools") / "spectra" / "tests" / "files" / "SDSSJ220248.31+123656.3.fits")
    sig = qso[1].data.astype(float)
    real = [(10 ** coadd["loglam"], coadd["flux"], coadd["ivar"]),
            (10 ** qso[2].data, qso[0].data, np.divide(1.0, sig**2, out=np.zeros_like(sig), where=sig > 0))]
    bits = []
    for wave, flux, ivar in real:
        f, iv, _ = from_specutils(to_specutils(wave, flux, ivar, unit=""), lamost_wave())
        bits.append(binarize(np.nan_to_num(f, nan=float(np.nanmedian(f)))[None], iv[None]))
    rng = np.random.default_rng(0)
    train_bits, y, _ = make_set(EmitterFactory(), 300, np.exp(rng.uniform(np.log(5), np.log(100), 600)), rng,
                                ClassifyConfig().floor)
    models = train_models(ClassifyConfig(n=300, epochs=10), train_bits, y)
    for name in ("rbm", "drbm", "logistic"):
        assert np.all(_scores(name, models[name], np.concatenate(bits)) < 0), name


def test_binarisation_floor_keeps_high_snr_patterns_and_matches_the_config_default():
    """A 3 % absorption line sets bits at SNR 1000 by significance alone, not with the 5 % floor; a 20 % line
    sets them either way; the classifier's default floor is the rule's."""
    from lawful.spectra.classify import ClassifyConfig
    from lawful.spectra.emitters import BIT_FLOOR, binarize

    x = np.arange(600.0)
    flux = np.stack([1 - depth * np.exp(-0.5 * ((x - 300) / 4.0) ** 2) for depth in (0.03, 0.2)])
    ivar = np.full_like(flux, 1000.0**2)
    strict, plain = binarize(flux, ivar), binarize(flux, ivar, floor=0.0)
    half = strict.shape[1] // 2  # absorption bits are the second half
    assert plain[0, half:].sum() > 0 and strict[0, half:].sum() == 0
    assert strict[1, half:].sum() > 0
    assert ClassifyConfig().floor == BIT_FLOOR
