"""2D U(1): kernels (force, instanton, gauge invariance), and every sampler against the exact finite-volume values
within a few Γ-method standard errors."""

import math

import numpy as np
import pytest

from lawful.core.rng import generators
from lawful.lattice.chain_analysis import gamma_estimate
from lawful.lattice.mcmc import HMC
from lawful.lattice.u1 import exact, kernels
from lawful.lattice.u1.action import U1, random_gauge
from lawful.lattice.u1.samplers import ExactSampler, instanton_moves, make_sampler

#: pulls beyond this many standard errors fail (the issue's goal is 3σ; the benchmark reports the pulls)
PULL = 4.0


def random_links(action, n, seed=0):
    return np.random.default_rng(seed).uniform(-math.pi, math.pi, (n, action.n_dof))


def test_force_is_minus_the_gradient_of_the_action():
    a = U1(6, 1.3)
    theta = random_links(a, 2)
    f = a.force(theta)
    h = 1e-6
    for i in (0, 17, a.volume + 5, a.n_dof - 1):
        up, down = theta.copy(), theta.copy()
        up[:, i] += h
        down[:, i] -= h
        np.testing.assert_allclose((a.action(up) - a.action(down)) / (2 * h), -f[:, i], rtol=1e-6, atol=1e-8)


def test_instanton_has_uniform_flux_and_unit_charge():
    for L in (4, 6, 8):
        a = U1(L, 1.0)
        inst = a.instanton()[None]
        plaq = kernels.plaquettes(inst, a.lattice.fwd)
        np.testing.assert_allclose(np.cos(plaq - 2 * math.pi / a.volume), 1.0, atol=1e-12)
        assert a.charge(inst)[0] == 1.0


def test_gauge_transformations_change_no_observable_and_charge_is_integer():
    a = U1(8, 2.0)
    theta = random_links(a, 4)
    m = a.measure(theta)
    transformed = random_gauge(theta, a.lattice, np.random.default_rng(3))
    np.testing.assert_allclose(a.measure(transformed), m, atol=1e-10)
    wrapped = kernels.plaquettes(theta, a.lattice.fwd)
    wrapped = wrapped - 2 * math.pi * np.ceil((wrapped - math.pi) / (2 * math.pi))
    np.testing.assert_allclose(wrapped.sum(axis=1) / (2 * math.pi), m[:, kernels.OBS_Q], atol=1e-9)


def test_exact_sampler_reproduces_the_exact_values():
    for L, beta in ((8, 2.0), (6, 4.0)):
        a = U1(L, beta)
        theta, acc = ExactSampler(a).sample(6000, np.random.default_rng(L))
        assert 0 < acc <= 1
        m = a.measure(theta)
        n = len(m)
        checks = {
            "plaquette": (m[:, 1], exact.mean_plaquette(beta, L)),
            "Q2": (m[:, 2] ** 2, exact.topological_susceptibility(beta, L)[0]),
            "W22": (m[:, 5], exact.wilson_loop(beta, L, 4)),
            "poly2": (m[:, 8], exact.polyakov_susceptibility(beta, L)),
        }
        for name, (x, want) in checks.items():
            assert abs(x.mean() - want) < PULL * x.std() / math.sqrt(n), (L, beta, name, x.mean(), want)


def _chain_estimates(sampler, action, n_chains=4, n_therm=200, n=2500, seed=5):
    gens = generators(seed, n_chains)
    theta = action.initial(n_chains, gens, "hot")
    rows = []
    for i in range(n_therm + n):
        sampler.step(theta, gens)
        if i >= n_therm:
            rows.append(action.measure(theta))
    m = np.stack(rows, axis=2)  # (C, obs, n)
    return gamma_estimate(m[:, kernels.OBS_PLAQ]), gamma_estimate(m[:, kernels.OBS_Q] ** 2)


@pytest.mark.parametrize("name,options", [
    ("hmc", {}),
    ("hmc", {"integrator": "leapfrog", "n_steps": 12}),
    ("heatbath", {"n_overrelax": 2}),
    ("heatbath", {"n_overrelax": 0, "instanton_moves": 2}),
    ("metropolis", {"delta": 1.5}),
])
def test_markov_samplers_reproduce_the_exact_values(name, options):
    L, beta = 8, 2.5
    a = U1(L, beta)
    plaq, q2 = _chain_estimates(make_sampler(name, a, **options), a)
    want_q2 = exact.topological_susceptibility(beta, L)[0]
    assert abs(plaq.value - exact.mean_plaquette(beta, L)) < PULL * plaq.error
    assert abs(q2.value - want_q2) < PULL * q2.error, (q2, want_q2)


def test_hmc_conserves_exp_minus_dh_and_is_reversible():
    a = U1(8, 3.0)
    hmc = HMC(a, n_steps=8, traj_length=1.0, integrator="leapfrog")
    gens = generators(2, 8)
    theta = a.initial(8, gens, "hot")
    for _ in range(100):
        hmc.step(theta, gens)
    dh = np.array([hmc.step(theta, gens).dH for _ in range(300)])
    w = np.exp(-dh).ravel()
    assert abs(w.mean() - 1) < 4 * w.std() / math.sqrt(w.size)
    # forward, momentum flip, backward: back where it started (links up to 2π)
    p = np.random.default_rng(0).standard_normal(theta.shape)
    start, p0 = theta.copy(), p.copy()
    hmc.integrate(theta, p)
    p *= -1
    hmc.integrate(theta, p)
    np.testing.assert_allclose(np.cos(theta - start), 1.0, atol=1e-10)
    np.testing.assert_allclose(-p, p0, atol=1e-9)


def test_instanton_moves_change_the_charge_by_one():
    # an accepted move shifts every plaquette by 2π/V: Q → Q ± 1 unless a plaquette crosses π (rare at β = 3)
    a = U1(8, 3.0)
    gens = generators(0, 64)
    theta = ExactSampler(a).sample(64, np.random.default_rng(1))[0]
    q0 = a.charge(theta)
    acc = instanton_moves(a, theta, gens, 1)
    dq = a.charge(theta) - q0
    assert np.all(np.isin(dq, (-1.0, 0.0, 1.0)))
    assert np.all(dq[acc == 0] == 0)
    assert 0.2 < acc.mean() and np.mean(dq[acc > 0] != 0) > 0.8


def test_bad_samplers_and_sizes_are_refused():
    with pytest.raises(ValueError, match="U\\(1\\) lattice size L must be an integer >= 4"):
        U1(3, 1.0)
    with pytest.raises(ValueError, match="beta must be a positive finite number"):
        U1(8, -2.0)
    with pytest.raises(ValueError, match="sampler must be one of"):
        make_sampler("gibbs", U1(8, 1.0))
    with pytest.raises(ValueError, match="instanton_moves must be 0"):
        make_sampler("exact", U1(8, 1.0), instanton_moves=1)
