"""Network RHS, Jacobian, T-derivatives and screening against pynucastro's own generated code."""

import numpy as np
import pytest
from pynucastro.screening import PlasmaState, ScreenFactors
from pynucastro.screening import screen5 as pyna_screen5

from lawful.burn import kernels as K
from lawful.burn.screening import pair_constants, plasma_state, screen5

STATES = [(1e6, 3e9), (1e7, 4.3e9), (1e8, 1.1e9), (2e9, 6.3e8), (1e5, 2.2e8)]


def _eval(net, rho, T, Y, screen):
    lam, dlam, work = K.workspace(net.packed)
    K.network_rates(rho, T, Y, net.packed, screen, lam, dlam, work)
    lam_only = np.empty_like(lam)
    K.network_rates(rho, T, Y, net.packed, screen, lam_only, np.empty_like(lam), work, False)
    np.testing.assert_array_equal(lam_only, lam)  # the RHS-only path (no derivatives) gives the same rates
    ydot = np.empty(len(net.names))
    enuc = K.ydot(rho, Y, net.packed, lam, ydot)
    jac, dydT = np.empty((len(Y), len(Y))), np.empty(len(Y))
    K.jacobian(rho, Y, net.packed, lam, dlam, jac, dydT)
    return ydot, enuc, jac, dydT


@pytest.mark.parametrize("name", ["aprox13", "c12"])
@pytest.mark.parametrize("screen", [False, True])
def test_rhs_jacobian_match_pynucastro(name, screen, aprox13, c12net, pynucastro_module):
    net = aprox13 if name == "aprox13" else c12net
    ref = pynucastro_module(name)
    perm = [list(net.names).index(n.lower()) for n in ref.names]  # pynucastro's order → ours
    assert sorted(perm) == list(range(len(net.names)))
    rng = np.random.default_rng(7)
    for rho, T in STATES:
        Y = rng.dirichlet(np.ones(len(net.names))) / net.A
        ydot, enuc, jac, _ = _eval(net, rho, T, Y, screen)
        sf = pyna_screen5 if screen else None
        r = ref.rhs(0.0, Y[perm], rho, T, screen_func=sf)
        np.testing.assert_allclose(ydot[perm], r, rtol=1e-11, atol=1e-12 * np.abs(r).max())
        np.testing.assert_allclose(enuc, ref.energy_release(r), rtol=1e-9)  # binding vs mass bookkeeping
        jr = ref.jacobian(0.0, Y[perm], rho, T, screen_func=sf)
        np.testing.assert_allclose(jac[np.ix_(perm, perm)], jr, rtol=1e-11, atol=1e-12 * np.abs(jr).max())


@pytest.mark.parametrize("screen", [False, True])
def test_temperature_derivative_matches_finite_difference(screen, aprox13):
    rng = np.random.default_rng(3)
    # off the partition-function grid points (T9 = 3, 5, …), where the linear interpolant has kinks
    for rho, T in [(1e6, 3.07e9), (1e7, 4.3e9), (1e8, 1.1e9), (2e9, 6.3e8), (1e5, 2.2e8), (1e7, 7.7e9)]:
        Y = rng.dirichlet(np.ones(13)) / aprox13.A
        _, _, _, dydT = _eval(aprox13, rho, T, Y, screen)
        h = 1e-6 * T
        fd = (_eval(aprox13, rho, T + h, Y, screen)[0] - _eval(aprox13, rho, T - h, Y, screen)[0]) / (2 * h)
        np.testing.assert_allclose(dydT, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())


def test_reactions_conserve_baryons_and_charge(aprox13, c12net):
    for net in (aprox13, c12net):
        assert np.abs(net.data.nu @ net.A).max() == 0.0
        assert np.abs(net.data.nu @ net.Z).max() == 0.0


def test_c12_network_is_the_carbon_reaction(c12net):
    assert c12net.names == ("c12", "o16", "mg24")
    (nu,) = c12net.data.nu
    assert nu.tolist() == [-2.0, 0.0, 1.0]  # o16 inert
    # Q value of 2 C12 → Mg24 from binding energies: 13.93 MeV
    assert c12net.binding @ nu == pytest.approx(13.9336, abs=1e-3)


@pytest.mark.parametrize("pair", [(2, 4, 2, 4), (2, 4, 6, 12), (6, 12, 6, 12), (8, 16, 8, 16), (2, 4, 26, 52)])
@pytest.mark.parametrize("rho,T", [(1e4, 1e9), (1e7, 3e9), (1e9, 5e8), (5e9, 1e8)])
def test_screen5_value_and_derivative(pair, rho, T):
    Z = np.array([2.0, 6.0, 8.0])
    Y = np.array([0.1, 0.03, 0.02])
    z1, a1, z2, a2 = pair
    c = pair_constants(z1, a1, z2, a2)[None, :]
    h, dh = screen5(T, *plasma_state(rho, T, Y, Z), c, 0)
    ref = pyna_screen5(PlasmaState(T, rho, Y, Z), ScreenFactors(z1, a1, z2, a2))
    assert h == pytest.approx(ref, rel=1e-12, abs=1e-14)
    eps = 1e-6 * T
    hp = screen5(T + eps, *plasma_state(rho, T + eps, Y, Z), c, 0)[0]
    hm = screen5(T - eps, *plasma_state(rho, T - eps, Y, Z), c, 0)[0]
    assert dh == pytest.approx((hp - hm) / (2 * eps), rel=1e-5, abs=1e-12 / T)


def test_composition_validation(aprox13):
    with pytest.raises(ValueError, match="c13"):
        aprox13.composition({"c13": 1.0})
    with pytest.raises(ValueError, match="sum to 0.9"):
        aprox13.composition({"he4": 0.9})
    with pytest.raises(ValueError, match="-0.1"):
        aprox13.composition({"he4": 1.1, "c12": -0.1})
    assert aprox13.composition({"HE4": 1.0})[0] == 1.0
