"""lawful's batched Γ-method gives pyerrors' numbers: every estimate, error, τ_int, its error and the window,
for primary and derived observables, one chain or many (pyerrors is the reference, an independent library)."""

import warnings

import numpy as np
import pytest

from lawful.core.gamma import Observable, gamma_method
from tests.helpers import ar1

pe = pytest.importorskip("pyerrors")


def _pe_obs(series: np.ndarray):
    return pe.Obs([np.ascontiguousarray(c) for c in series], [f"e|r{c}" for c in range(series.shape[0])])


def _pe_numbers(obs) -> tuple[float, float, float, float, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        obs.gamma_method()
    return obs.value, obs.dvalue, obs.e_tauint["e"], obs.e_dtauint["e"], obs.e_windowsize["e"]


def _assert_same(ours, ref):
    value, error, tau, dtau, window = ref
    assert ours.window == window
    np.testing.assert_allclose([ours.value, ours.error, ours.tau_int, ours.tau_int_error],
                               [value, error, tau, dtau], rtol=1e-11, atol=0)


@pytest.mark.parametrize("chains,a,n", [(1, 0.0, 500), (1, 0.9, 5000), (3, 0.7, 2001), (12, 0.95, 400)])
def test_primary_and_derived_match_pyerrors(chains, a, n):
    x = 2.0 + ar1(a, n, chains, seed=chains)
    y = 1.0 + 0.5 * ar1(a, n, chains, seed=chains + 100) + 0.3 * x
    ox, oy = Observable.from_series(x), Observable.from_series(y)
    px, py = _pe_obs(x), _pe_obs(y)
    ours = gamma_method([ox, oy, oy / ox**2, (ox * oy - ox * oy) / 7.0 + ox, ox - oy])
    refs = [px, py, py / px**2, (px * py - px * py) / 7.0 + px, px - py]
    for o, r in zip(ours, refs):
        _assert_same(o, _pe_numbers(r))


def test_a_constant_series_has_no_error():
    r = gamma_method([Observable.from_series(np.full((2, 50), 3.0))])[0]
    assert (r.value, r.error, r.tau_int, r.window) == (3.0, 0.0, 0.5, 0)


def test_analysis_of_a_run_matches_pyerrors(simulate):
    """The whole analysis of an HMC ensemble against the same quantities computed with pyerrors."""
    an = simulate(dim=2, size=6, kappa=0.25, lam=0.5, n_traj=3000, n_therm=100, n_chains=3)
    d = {k: v[:, an.therm_cut:] for k, v in an.series.items()}
    vol = an.volume
    o = {k: _pe_obs(d[k]) for k in ("m2", "abs_m", "m4", "W", "S")}
    w_m2, w_abs = _pe_obs(d["W"] * d["m2"]), _pe_obs(d["W"] * d["abs_m"])
    ref = {"m2": o["m2"], "S": o["S"], "chi": o["m2"] / vol, "abs_m_density": o["abs_m"] / vol,
           "binder": o["m4"] / o["m2"] ** 2, "dchi_dkappa": (w_m2 - o["W"] * o["m2"]) / vol,
           "dabs_m_dkappa": (w_abs - o["W"] * o["abs_m"]) / vol, "action_density": o["S"] / vol,
           "exp_minus_dH": _pe_obs(np.exp(-d["dH"])), "dH": _pe_obs(d["dH"])}
    for key, obs in ref.items():
        value, error, tau, dtau, window = _pe_numbers(obs)
        e = an.estimates[key]
        np.testing.assert_allclose([e.value, e.error, e.tau_int, e.tau_int_error], [value, error, tau, dtau],
                                   rtol=1e-11, err_msg=key)
    assert an.rho["m2"][1] == _pe_numbers(o["m2"])[4]
