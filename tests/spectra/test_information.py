"""Cramér–Rao bounds of the forward model against the scatter of real nonlinear fits to noisy spectra."""

import math

import numpy as np
import pytest
import torch

from lawful.spectra.data import noise_sigma
from lawful.spectra.information import cramer_rao, fisher, jacobian
from lawful.spectra.synth import Synthesizer

GIANT = np.array([4700.0, 2.5, -0.2, 0.05, -0.1, 0.3, 1.67, 10.0])  # the order of synth.LABELS


@pytest.fixture(scope="module")
def synth():
    return Synthesizer()


def test_scatter_of_nonlinear_fits_matches_the_cramer_rao_bound(synth):
    """Gauss–Newton fits of all eight labels to 120 noisy spectra of one giant at SNR 150 (the Jacobian
    recomputed at every iterate): their scatter is the marginal bound, their mean the truth."""
    n, snr = 120, 150.0
    rng = np.random.default_rng(0)
    with torch.no_grad():
        clean = synth(torch.as_tensor(GIANT[None])).normalized.double().numpy()[0]
    sigma = noise_sigma(clean[None], snr)[0]
    data = clean + sigma * rng.standard_normal((n, len(clean)))
    est = np.repeat(GIANT[None], n, axis=0)
    for _ in range(4):
        with torch.no_grad():
            model = synth(torch.as_tensor(est)).normalized.double().numpy()
        jac = jacobian(synth, est)
        a = np.einsum("nwa,w,nwb->nab", jac, 1.0 / sigma**2, jac)
        g = np.einsum("nwa,w,nw->na", jac, 1.0 / sigma**2, data - model)
        est = est + np.linalg.solve(a, g[..., None])[..., 0]
    at_truth = jacobian(synth, GIANT[None])
    bound = cramer_rao(fisher(at_truth, clean[None], snr))[0]
    spread = est.std(axis=0, ddof=1)
    rel_se = 1.0 / math.sqrt(2.0 * (n - 1))  # relative standard error of a sample standard deviation
    assert np.all(np.abs(spread / bound - 1.0) < 4.0 * rel_se), spread / bound
    assert np.all(np.abs(est.mean(axis=0) - GIANT) < 4.0 * bound / math.sqrt(n))
    # the bound scales as 1/SNR under the noise law, and knowing the other labels can only help
    twice = cramer_rao(fisher(at_truth, clean[None], 2 * snr))[0]
    assert np.allclose(twice, bound / 2, rtol=1e-9)
    conditional = cramer_rao(fisher(at_truth, clean[None], snr), marginal=False)[0]
    assert np.all(conditional <= bound)


def test_tied_parameters_follow_the_chain_rule_and_bad_input_is_refused(synth):
    tie = np.zeros((8, 1))
    tie[4], tie[5] = 0.35, -0.65  # [C/N]: [C/Fe] = 0.35 [C/N], [N/Fe] = −0.65 [C/N]
    full = jacobian(synth, GIANT[None])
    tied = jacobian(synth, GIANT[None], tie)
    chain = full @ tie[:, 0]
    # float32 spectra: a central difference carries ~1e-5 of rounding; the derivative peaks at ~0.1
    assert np.max(np.abs(tied[..., 0] - chain)) < 1e-3 * np.max(np.abs(chain))
    with pytest.raises(ValueError, match="moves no label"):
        jacobian(synth, GIANT[None], np.zeros((8, 1)))
    with pytest.raises(ValueError, match="teff = 1e\\+06 is outside"):
        jacobian(synth, np.r_[1e6, GIANT[1:]][None])
    with pytest.raises(ValueError, match=r"shape \(n, 8\)"):
        jacobian(synth, GIANT[None, :6])
