"""Kernels against plain-numpy implementations of the same formulas, and force against the action's gradient."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawful.lattice import kernels
from lawful.lattice.actions import Phi4
from lawful.lattice.geometry import Lattice
from tests.lattice.reference import np_action, np_force

GEOMS = [(1, 5), (2, 4), (3, 3), (4, 2), (4, 3)]


@pytest.mark.parametrize("dim,size", GEOMS)
def test_neighbour_tables_are_periodic_shifts(dim, size):
    lat = Lattice(dim, size)
    field = np.random.default_rng(0).normal(size=lat.shape)
    for mu in range(dim):
        np.testing.assert_array_equal(field.ravel()[lat.fwd[:, mu]], np.roll(field, -1, axis=mu).ravel())
        np.testing.assert_array_equal(field.ravel()[lat.bwd[:, mu]], np.roll(field, 1, axis=mu).ravel())
        np.testing.assert_array_equal(lat.bwd[lat.fwd[:, mu], mu], np.arange(lat.volume))


@pytest.mark.parametrize("dim,size", GEOMS)
@settings(max_examples=15, deadline=None)
@given(kappa=st.floats(-0.5, 0.5), lam=st.floats(0, 3), seed=st.integers(0, 2**32 - 1))
def test_action_force_measure_match_numpy(dim, size, kappa, lam, seed):
    lat = Lattice(dim, size)
    act = Phi4(lat, kappa, lam)
    phi = np.random.default_rng(seed).normal(size=(3, lat.volume))
    s = act.action(phi)
    f = act.force(phi)
    meas = act.measure(phi)
    for c in range(3):
        ref_s = np_action(phi[c], dim, size, kappa, lam)
        assert s[c] == pytest.approx(ref_s, rel=1e-12, abs=1e-10)
        np.testing.assert_allclose(f[c], np_force(phi[c], dim, size, kappa, lam), rtol=1e-12, atol=1e-10)
        m = phi[c].sum()
        g = phi[c].reshape(lat.shape)
        w = 2 * sum(np.sum(g * np.roll(g, -1, axis=mu)) for mu in range(dim))
        np.testing.assert_allclose(meas[c], [m, abs(m), m**2, m**4, w, ref_s], rtol=1e-11, atol=1e-9)
        # ∂S/∂κ = −W (the identity behind d⟨A⟩/dκ = ⟨WA⟩ − ⟨W⟩⟨A⟩)
        ds = np_action(phi[c], dim, size, kappa + 1e-6, lam) - np_action(phi[c], dim, size, kappa - 1e-6, lam)
        assert ds / 2e-6 == pytest.approx(-w, rel=1e-6, abs=1e-6)


def test_force_is_minus_gradient_of_action():
    lat = Lattice(3, 3)
    act = Phi4(lat, 0.18, 1.3)
    phi = np.random.default_rng(5).normal(size=(1, lat.volume))
    f = act.force(phi)[0]
    h = 1e-6
    for x in range(0, lat.volume, 4):
        up, dn = phi.copy(), phi.copy()
        up[0, x] += h
        dn[0, x] -= h
        grad = (act.action(up)[0] - act.action(dn)[0]) / (2 * h)
        assert -grad == pytest.approx(f[x], rel=1e-6, abs=1e-6)


def test_metropolis_sweep_local_delta_s_matches_full_action():
    """Accepting every proposal (uniforms = 0) moves the field by exactly the shifts, and a proposal with
    uniform u is accepted iff u < exp(−ΔS) computed from the full action."""
    lat = Lattice(2, 4)
    act = Phi4(lat, 0.3, 0.7)
    rng = np.random.default_rng(3)
    phi = rng.normal(size=(1, lat.volume))
    shifts = np.zeros((1, lat.volume))
    shifts[0, 5] = 0.4
    for u in (0.0, 0.999999):
        trial = phi.copy()
        ds = act.action(trial + shifts)[0] - act.action(trial)[0]
        acc = kernels.metropolis_sweep(trial, lat.fwd, lat.bwd, 0.3, 0.7, shifts, np.full((1, lat.volume), u))
        expect = u < np.exp(-ds)
        assert acc[0] == lat.volume - 1 + int(expect)  # zero shifts elsewhere: ΔS = 0, always accepted
        assert np.isclose(trial[0, 5], phi[0, 5] + 0.4) == expect
