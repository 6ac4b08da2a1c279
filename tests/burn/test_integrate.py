"""The batched BDF and RODAS3 integrators against exact solutions, scipy and the Microphysics burn_cell case."""

import warnings

import numpy as np
import pynucastro as pyna
import pytest
from scipy.integrate import solve_ivp

from lawful.burn.eos import StellarEOS
from lawful.burn.integrate import Status, burn


def _c12_rate(T):
    """N_A<σv> of ¹²C + ¹²C (REACLIB, unscreened) from pynucastro's own rate object."""
    return pyna.ReacLibLibrary().get_rate_by_name("c12(c12,a)ne20").eval(T)


METHODS = ["bdf", "rodas3"]


@pytest.mark.parametrize("method", METHODS)
def test_carbon_burning_matches_closed_form(c12net, method):
    """Fixed T, no screening: dY_C/dt = −ρ λ Y_C², so Y_C(t) = Y₀ / (1 + ρ λ Y₀ t)."""
    from lawful.burn.network import Network

    net = Network("c12", screen=False)
    rho, T = 1e8, 1.5e9
    lam = _c12_rate(T)
    Y0 = 0.5 / 12
    t = np.logspace(-4, 1, 6) / (rho * lam * Y0)
    r = burn(net, rho, T, net.composition({"c12": 0.5, "o16": 0.5}), t, self_heating=False, rtol=1e-9, atol=1e-14,
             method=method)
    exact = 12 * Y0 / (1 + rho * lam * Y0 * t)
    np.testing.assert_allclose(r.X[0, :, 0], exact, rtol=2e-7)
    np.testing.assert_allclose(r.X[0, :, 1], 0.5, rtol=1e-14)  # o16 is inert
    assert np.abs(r.X.sum(axis=-1) - 1).max() < 1e-13
    # energy: 13.93 MeV per Mg24 made
    q = (net.binding @ np.array([-2.0, 0.0, 1.0])) * 1.602176634e-6 * 6.02214076e23
    np.testing.assert_allclose(r.enuc[0], q * r.X[0, :, 2] / 24, rtol=1e-9)


def _scipy_reference(net, rho, T0, X0, t_end, heat):
    """solve_ivp Radau (rtol 1e-10) on the same RHS, with c_v from the EOS in self-heating mode."""
    eos = StellarEOS()
    n = len(net.names)

    def f(_, y):
        X = np.clip(y[:n], 0, None) * net.A
        X /= X.sum()
        T = y[n] if heat else T0
        dX, enuc = net.rhs(rho, T, y[:n] * net.A)
        dY = dX[0] / net.A
        if not heat:
            return dY
        Y = y[:n]
        abar = 1 / Y.sum()
        cv = eos(rho, T, abar, abar * (net.Z @ Y))["cv"][0]
        return np.append(dY, enuc[0] / cv)

    y0 = np.append(X0 / net.A, T0) if heat else X0 / net.A
    sol = solve_ivp(f, (0, t_end), y0, method="Radau", rtol=1e-10, atol=1e-16)
    assert sol.success
    return sol.y[:n, -1] * net.A, (sol.y[n, -1] if heat else T0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("heat", [False, True])
@pytest.mark.parametrize("case", ["he", "co"])
def test_aprox13_matches_scipy_radau(aprox13, heat, case, method):
    if case == "he":
        rho, T0, X0, t_end = 1e6, 3e9, aprox13.composition({"he4": 1}), 1e-3
    else:
        rho, T0, X0, t_end = 1e7, 2.5e9, aprox13.composition({"c12": 0.5, "o16": 0.5}), 1e-4
    r = burn(aprox13, rho, T0, X0, [t_end], self_heating=heat, rtol=1e-8, atol=1e-14, method=method)
    assert r.ok
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_ref, T_ref = _scipy_reference(aprox13, rho, T0, X0, t_end, heat)
    major = X_ref > 1e-6
    np.testing.assert_allclose(r.X[0, -1][major], X_ref[major], rtol=2e-5)
    assert np.abs(r.X[0, -1] - X_ref).max() < 5e-7
    assert r.T[0, -1] == pytest.approx(T_ref, rel=1e-7)


@pytest.mark.parametrize("heat", [False, True])
def test_default_tolerances_give_the_asked_accuracy(aprox13, heat):
    """The benchmark's detonation states at the default rtol 1e-6 / atol 1e-8, against scipy Radau (rtol 1e-10).

    Guards the BDF's Newton shortcuts (a step may converge after one iteration on the remembered rate; the
    iteration stops at 0.1 of the local error): the global error must stay at the order of the tolerance."""
    X0 = aprox13.composition({"c12": 0.5, "o16": 0.5})
    T = np.array([3.2e9, 4.5e9, 5.8e9])
    r = burn(aprox13, 1e7, T, X0, [1e-6], self_heating=heat)
    assert r.ok
    for z in range(T.size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X_ref, T_ref = _scipy_reference(aprox13, 1e7, T[z], X0, 1e-6, heat)
        assert np.abs(r.X[z, -1] - X_ref).max() < 1e-5  # 10 × rtol on mass fractions
        assert r.T[z, -1] == pytest.approx(T_ref, rel=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_counters_add_up(aprox13, method):
    """RHS, Jacobian and LU counts: RODAS3 takes one Jacobian (with its RHS) per accepted step and one LU and two
    more RHS per attempted step; BDF needs at least one RHS per step and reuses Jacobians and LUs across steps."""
    r = burn(aprox13, 1e7, np.array([3.5e9, 5e9]), aprox13.composition({"c12": 0.5, "o16": 0.5}), [1e-6],
             method=method)
    attempted = r.steps + r.rejected
    if method == "rodas3":
        assert (r.n_jac >= r.steps).all() and (r.n_jac <= attempted).all()
        np.testing.assert_array_equal(r.n_lu, attempted)
        np.testing.assert_array_equal(r.n_rhs, 2 * attempted + r.n_jac)
    else:
        assert (r.n_rhs >= attempted).all()
        assert ((1 <= r.n_jac) & (r.n_jac < attempted / 5)).all()
        assert ((1 <= r.n_lu) & (r.n_lu < attempted)).all()


@pytest.mark.parametrize("method", METHODS)
def test_microphysics_burn_cell_case(aprox13, method):
    """Microphysics burn_cell aprox13 (Timmes rates): T = 3.173e9 K, X(he4) = 0.7718, X(ni56) = 0.2236.

    With REACLIB rates (and pynucastro's (α,p)(p,γ) links) we land within 0.3 % in T and 0.004 in X;
    the tolerances below encode that documented distance.
    """
    r = burn(aprox13, 1e6, 3e9, aprox13.composition({"he4": 1}), [1e-2], rtol=1e-8, atol=1e-12, method=method)
    assert r.ok
    X = dict(zip(aprox13.names, r.X[0, -1]))
    assert r.T[0, -1] == pytest.approx(3.173e9, rel=3e-3)
    assert X["he4"] == pytest.approx(0.7718, abs=4e-3)
    assert X["ni56"] == pytest.approx(0.2236, abs=5e-3)


@pytest.mark.parametrize("method", METHODS)
def test_invariants_hold_to_round_off(aprox13, method):
    rng = np.random.default_rng(5)
    N = 64
    X0 = rng.dirichlet(np.ones(13) * 0.3, size=N)
    rho = 10 ** rng.uniform(5, 9, N)
    T = 10 ** rng.uniform(9.3, 9.7, N)
    r = burn(aprox13, rho, T, X0, [1e-7, 1e-6], rtol=1e-6, atol=1e-10, method=method)
    assert r.ok
    assert np.abs(r.X.sum(axis=-1) - 1).max() < 1e-12
    ye0 = (X0 / aprox13.A) @ aprox13.Z
    ye = (r.X / aprox13.A) @ aprox13.Z
    assert np.abs(ye - ye0[:, None]).max() < 1e-13
    dB = ((r.X - X0[:, None]) / aprox13.A) @ aprox13.binding
    # ΔB is a difference of ~8 MeV/nucleon totals: compare at round-off of that scale (≈ 8e18 erg/g)
    np.testing.assert_allclose(r.enuc, dB * 1.6021766339999998e-06 * 6.02214076e23, rtol=1e-12, atol=1e6)


@pytest.mark.parametrize("method", METHODS)
def test_step_budget_reports_status_and_keeps_a_finite_state(aprox13, method):
    r = burn(aprox13, 1e6, 3e9, aprox13.composition({"he4": 1}), [1e-2], max_steps=10, method=method)
    assert r.status[0] == Status.MAX_STEPS
    assert np.isfinite(r.X).all() and np.isfinite(r.T).all()
    assert r.X[0, -1, 0] < 1.0  # it did burn for 10 steps


@pytest.mark.parametrize("kwargs,match", [
    ({"t_out": [0.0]}, "output times"),
    ({"t_out": [1e-3, 1e-4]}, "output times"),
    ({"t_out": [[1e-4, 2e-4]]}, "one sequence of times .* shape \\(1, 2\\)"),
    ({"rtol": 0.0}, "rtol = 0.0"),
    ({"method": "euler"}, "method = 'euler'"),
    ({"rho": -1.0}, "rho = -1"),
    ({"T": 2e11}, "T = 2e\\+11"),
    ({"X": [0.5] + [0.0] * 12}, "sum to 0.5"),
    ({"X": [1.5, -0.5] + [0.0] * 11}, "-0.5"),
])
def test_bad_input_is_rejected_before_work(aprox13, kwargs, match):
    args = {"rho": 1e6, "T": 3e9, "X": aprox13.composition({"he4": 1}), "t_out": [1e-3]}
    args.update(kwargs)
    t_out = args.pop("t_out")
    rho, T, X = args.pop("rho"), args.pop("T"), args.pop("X")
    with pytest.raises(ValueError, match=match):
        burn(aprox13, rho, T, X, t_out, **args)


@pytest.mark.parametrize("method", METHODS)
def test_hard_states_succeed_with_exact_invariants(aprox13, method):
    """Random compositions at ρ = 1e5…3e9, T = 3e8…9e9 burned for 1 ms (tens of thousands of e-foldings)."""
    from lawful.burn.eos import StellarEOS

    rng = np.random.default_rng(3)
    N = 100
    rho, T = 10 ** rng.uniform(5, 9.5, N), 10 ** rng.uniform(8.5, 9.95, N)
    X0 = rng.dirichlet(np.ones(13) * 0.2, size=N)
    r = burn(aprox13, rho, T, X0, [1e-6, 1e-3], method=method, eos=StellarEOS(table=True))
    assert (r.status == Status.SUCCESS).all()
    assert np.isfinite(r.X).all() and (r.X >= 0).all()
    assert np.abs(r.X.sum(axis=-1) - 1).max() < 1e-12
    ye0 = (X0 / aprox13.A) @ aprox13.Z
    assert np.abs((r.X / aprox13.A) @ aprox13.Z - ye0[:, None]).max() < 1e-13


@pytest.mark.parametrize("method", METHODS)
def test_overflowing_rates_are_reported_not_integrated(aprox13, method):
    """Far below the temperatures REACLIB's fits cover, strong screening overflows the rates. The kernels must
    not raise (a zero denominator once did) and the integrators must report it, not return a silent result
    (this state once came back as SUCCESS with T = 1e-312 K)."""
    X0 = aprox13.composition({"he4": 0.2, "c12": 0.3, "o16": 0.3, "si28": 0.2})
    dX, _ = aprox13.rhs(np.array([1e6, 5e7]), np.array([1e5, 1e4]), X0)  # does not raise
    assert not np.isfinite(dX).all()
    r = burn(aprox13, 1e6, 1e5, X0, [1e-3], method=method)
    assert r.status[0] == Status.RATES_FAILED
    np.testing.assert_array_equal(r.X[0, -1], X0)
    assert r.T[0, -1] == 1e5
