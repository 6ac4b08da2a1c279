"""Γ-method analysis against exactly known autocorrelations (AR(1) processes) and its bad-input handling."""

import math

import pytest

from lawful.lattice.analysis import analyze
from lawful.lattice.chain_analysis import auto_therm_cut, tau_int
from tests.helpers import ar1


@pytest.mark.parametrize("a", [0.0, 0.5, 0.9])
def test_tau_int_of_ar1(a):
    from lawful.lattice.chain_analysis import gamma_estimate

    est = gamma_estimate(ar1(a, 40_000, 2, seed=int(a * 10)))
    exact = (1 + a) / (2 * (1 - a))
    assert abs(est.tau_int - exact) < 3 * est.tau_int_error + 0.02
    # the error of the mean is the exact one, σ² 2τ_int / N, to the accuracy of τ_int
    assert est.error == pytest.approx(math.sqrt(2 * exact / 80_000), rel=0.15)
    assert tau_int(ar1(a, 40_000, 2, seed=1)) == pytest.approx(exact, rel=0.25)


def test_auto_therm_cut_follows_tau():
    series = {"S": ar1(0.9, 4000, 2, 3), "m2": ar1(0.5, 4000, 2, 4)}
    cut = auto_therm_cut(series)
    assert 20 * 9.5 * 0.6 < cut < 20 * 9.5 * 1.6


def test_analyze_bad_input(tmp_path, simulate):
    with pytest.raises(FileNotFoundError, match="holds no lattice ensemble"):
        analyze(tmp_path)
    an = simulate(dim=2, size=4, kappa=0.2, lam=1.0, n_traj=100, n_therm=10)
    with pytest.raises(ValueError, match="therm must be"):
        analyze(an.run_dir, therm=-3)
    with pytest.raises(ValueError, match="leaves 5 updates per chain"):
        analyze(an.run_dir, therm=105)


def test_short_thermalization_is_flagged(simulate):
    an = simulate(dim=3, size=6, kappa=0.185825, lam=1.1689, n_traj=2000, n_therm=0)
    assert any("thermalization cut 0" in w for w in an.warnings)


def test_chain_too_short_for_its_autocorrelation_is_flagged(simulate):
    """Near-critical, short trajectories: 300 updates per chain against τ_int(m²) of tens; a well-mixed run of the
    same length is not flagged."""
    slow = simulate(dim=2, size=8, kappa=0.28848, lam=0.5, n_traj=300, n_therm=0, n_steps=2, traj_length=0.2,
                    n_chains=4)
    assert slow.estimates["m2"].tau_int > 3
    assert any("fewer than 100 τ_int" in w for w in slow.warnings), slow.warnings
    fast = simulate(dim=2, size=4, kappa=0.1, lam=0.5, n_traj=300, n_therm=0, n_chains=4)
    assert fast.estimates["m2"].tau_int < 3
    assert not any("fewer than 100 τ_int" in w for w in fast.warnings), fast.warnings
