"""Independence Metropolis–Hastings: invalid proposals are rejected and counted, acceptance follows the weight
ratio, ESS/N is Kish's, and the guard makes a poor proposal exact on the Gaussian free field."""

import numpy as np
import pytest
import torch

from lawful.lattice.mh import ess_per_sample, mh_batch
from lawful.testing import check_sampler, gaussian_free_field


def test_nan_and_inf_log_weights_are_never_accepted():
    lw = np.array([np.nan, 1.0, np.inf, -np.inf, np.nan, 50.0, np.nan])
    res = mh_batch(lw, np.log(np.full(7, 0.5)), -np.inf)
    assert res.n_invalid == 5
    assert res.accepted.tolist() == [0, 1, 0, 0, 0, 1, 0]
    assert res.src.tolist() == [-1, 1, 1, 1, 1, 5, 5]
    assert res.log_w_after == 50.0
    assert np.isnan(res.dH[[0, 1, 2, 3, 4, 6]]).all() and res.dH[5] == -49.0


def test_acceptance_probability_is_the_weight_ratio():
    rng = np.random.default_rng(0)
    n = 200_000
    lw = np.where(np.arange(n) % 2 == 0, 0.0, -1.0)  # alternate: ratio e^{-1} going down, 1 going up
    res = mh_batch(lw, np.log(rng.random(n)), 0.0)
    # moving from a state of weight 1 to e^{-1} is accepted with probability e^{-1}
    down = res.accepted[1::2][res.src[0::2][:len(res.accepted[1::2])] >= 0]
    p = np.exp(-1.0)
    assert abs(down.mean() - p) < 5 * np.sqrt(p * (1 - p) / len(down))


def test_kish_ess():
    assert ess_per_sample(np.zeros(10)) == pytest.approx(1.0)
    assert ess_per_sample(np.array([0.0, -np.inf, -np.inf, -np.inf])) == pytest.approx(0.25)
    assert ess_per_sample(np.array([0.0, np.nan])) == pytest.approx(0.5)
    assert ess_per_sample(np.array([np.nan])) == 0.0


def _prior_proposer(vol, width):
    """Independent N(0, width²) fields: a deliberately wrong model of the free field."""
    def propose(n, gen):
        z = torch.randn(n, vol, generator=gen, dtype=torch.float64) * width
        logq = -0.5 * (z**2).sum(1) / width**2 - vol * np.log(width * np.sqrt(2 * np.pi))
        return z.numpy(), logq.numpy()
    return propose


def test_guard_makes_a_wrong_proposal_exact_on_the_free_field():
    action, exact = gaussian_free_field(2, 4, 0.15)
    check = check_sampler(_prior_proposer(16, 1.0), action, exact, n=30000, k=4.0, seed=5)
    print(check.table())
    assert check.passed, check.table()
    assert check.uncorrected_biased, check.table()
    assert 0.05 < check.acceptance < 0.95


def test_check_sampler_catches_a_proposal_whose_log_density_is_wrong():
    action, exact = gaussian_free_field(2, 4, 0.15)
    honest = _prior_proposer(16, 1.0)

    def lying(n, gen):  # draws from N(0, 0.8²) but reports the N(0, 1) density of what it drew
        z, _ = honest(n, gen)
        phi = 0.8 * z
        return phi, -0.5 * (phi**2).sum(1) - 8 * np.log(2 * np.pi)
    check = check_sampler(lying, action, exact, n=30000, k=4.0, seed=6)
    assert not check.passed, check.table()


def test_free_field_needs_a_stable_kappa():
    with pytest.raises(ValueError, match="kappa < 1/\\(2D\\)"):
        gaussian_free_field(2, 4, 0.3)
