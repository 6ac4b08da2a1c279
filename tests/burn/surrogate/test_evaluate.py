"""Evaluation figures: the perfect-guard fraction bound and the ROC area."""

import numpy as np
import pytest


def test_fraction_bound_counts_the_refusals_a_perfect_guard_needs():
    """1000 zones releasing ≥ 1e10 erg/g: 30 accepted zones 5 % off, so a guarded p99 ≤ 1e-2 needs all but 10
    of them refused (1 % of 1000 may stay): the bound is the accepted share minus 20/1000. Zones already refused,
    or releasing too little to be judged, change nothing."""
    from lawful.burn.surrogate.evaluate import fraction_bound

    ref = np.full(1200, 1e15)
    ref[1000:] = 1e8  # below the energy floor: not judged
    enuc = ref * (1 + 1e-4)
    enuc[:30] = ref[:30] * 1.05
    enuc[1000:] = ref[1000:] * 3.0
    accept = np.ones(1200, dtype=bool)
    accept[900:950] = False  # refused (the fallback's zones), whatever their error
    enuc[900:950] = ref[900:950] * 2.0
    assert fraction_bound(enuc, ref, accept) == pytest.approx(1150 / 1200 - 20 / 1200)
    enuc[5:30] = ref[5:30]  # only 5 zones off: within the 1 % the p99 allows
    assert fraction_bound(enuc, ref, accept) == pytest.approx(1150 / 1200)


def test_roc_auc_counts_the_pairs_a_score_orders_right():
    """Against the definition, pair by pair (ties count half), on scores with ties; and the two extremes."""
    from lawful.burn.surrogate.evaluate import roc_auc

    rng = np.random.default_rng(4)
    score = rng.integers(0, 6, 300).astype(float)
    positive = rng.random(300) < 0.2 + 0.1 * score
    pos, neg = score[positive], score[~positive]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert roc_auc(score, positive) == pytest.approx(pairs, rel=1e-12)
    assert roc_auc(positive.astype(float), positive) == 1.0 and roc_auc(-positive.astype(float), positive) == 0.0
    assert np.isnan(roc_auc(score, np.zeros(300, dtype=bool)))


def test_by_density_decade_splits_the_errors_at_powers_of_ten():
    """Zones at ρ = 2e6, 9.99e6 (decade 1e6) and 1e7, 5e8: each decade reports its own count, accepted share and
    energy error quantiles, from errors made known per zone."""
    from types import SimpleNamespace

    from lawful.burn.surrogate.evaluate import by_density_decade

    rho = np.array([2e6, 9.99e6, 1e7, 5e8])
    X_ref = np.tile([0.5, 0.5], (4, 1))
    e_ref = np.full(4, 1e16)
    guarded = SimpleNamespace(X=X_ref.copy(), enuc=e_ref * (1 + np.array([1e-3, 3e-3, 1e-5, 0.0])))
    implicit = (X_ref, e_ref * (1 + np.array([0.0, 0.0, 0.0, 0.5])))
    out = by_density_decade(rho, guarded, np.array([True, False, True, True]), X_ref, e_ref, implicit)
    assert list(out) == ["1e6", "1e7", "1e8"]
    assert out["1e6"]["zones"] == 2 and out["1e6"]["surrogate_fraction"] == 0.5
    assert out["1e6"]["median_rel_err_energy"] == pytest.approx(2e-3)
    assert out["1e7"]["p99_rel_err_energy"] == pytest.approx(1e-5) and out["1e8"]["median_rel_err"] == 0.0
    assert out["1e8"]["implicit_p99_rel_err_energy"] == pytest.approx(0.5)
    assert out["1e6"]["implicit_p99_rel_err_energy"] == 0
