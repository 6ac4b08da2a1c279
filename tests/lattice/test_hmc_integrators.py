"""HMC molecular dynamics: reversibility, ΔH scaling with δτ, Omelyan vs leapfrog at equal cost, Creutz equality."""

import numpy as np
import pytest

from lawful.core.rng import generators
from lawful.lattice.actions import Phi4
from lawful.lattice.geometry import Lattice
from lawful.lattice.mcmc import HMC, initial_configuration
from tests.helpers import pull


def thermalized(dim=3, size=6, kappa=0.185825, lam=1.1689, n_chains=32, n_traj=150, seed=7):
    act = Phi4(Lattice(dim, size), kappa, lam)
    hmc = HMC(act, n_steps=10, traj_length=1.0, integrator="omelyan")
    gens = generators(seed, n_chains)
    phi = initial_configuration(act, n_chains, gens, "hot")
    for _ in range(n_traj):
        hmc.step(phi, gens)
    return act, phi, gens


@pytest.mark.parametrize("integrator", ["leapfrog", "omelyan"])
def test_reversibility(integrator):
    act, phi0, gens = thermalized(n_chains=4, n_traj=20)
    hmc = HMC(act, n_steps=25, traj_length=1.0, integrator=integrator)
    p0 = np.stack([g.standard_normal(act.lattice.volume) for g in gens])
    phi, p = phi0.copy(), p0.copy()
    hmc.integrate(phi, p)
    assert np.max(np.abs(phi - phi0)) > 0.1  # it did move
    p *= -1
    hmc.integrate(phi, p)
    assert np.max(np.abs(phi - phi0)) < 1e-10
    assert np.max(np.abs(-p - p0)) < 1e-10


def delta_h(act, phi, integrator, n_steps, seed=11):
    hmc = HMC(act, n_steps=n_steps, traj_length=1.0, integrator=integrator)
    rng = np.random.default_rng(seed)
    ph = phi.copy()
    p = rng.standard_normal(ph.shape)
    h0 = hmc.hamiltonian(ph, p)
    hmc.integrate(ph, p)
    return hmc.hamiltonian(ph, p) - h0


def test_delta_h_scaling_and_omelyan_beats_leapfrog_at_equal_cost():
    """Leapfrog is 2nd order: ΔH per trajectory ∝ δτ², so rms ΔH has log–log slope 2; ⟨ΔH⟩ ≈ ⟨ΔH²⟩/2 (from
    ⟨e^{−ΔH}⟩ = 1) then scales as δτ⁴. ⟨ΔH⟩ itself is checked against ⟨ΔH²⟩/2 within its own error (its noise,
    ∝ δτ², hides a direct δτ⁴ fit at small δτ). Omelyan with n steps (2n+1 force evaluations) must have a smaller
    ΔH than leapfrog with 2n steps (2n+1 force evaluations)."""
    act, phi, _ = thermalized(n_chains=64)
    steps = np.array([10, 12, 16, 20])
    dts = 1.0 / steps
    dh = [np.concatenate([delta_h(act, phi, "leapfrog", n, seed=s) for s in range(32)]) for n in steps]
    rms = np.array([np.sqrt(np.mean(d**2)) for d in dh])
    slope_rms = np.polyfit(np.log(dts), np.log(rms), 1)[0]
    assert abs(slope_rms - 2.0) < 0.2, slope_rms
    slope_half_sq = np.polyfit(np.log(dts), np.log(rms**2 / 2), 1)[0]
    assert abs(slope_half_sq - 4.0) < 0.2, slope_half_sq
    for d in dh[:2]:
        err = np.std(d) / np.sqrt(d.size)
        assert abs(np.mean(d) - np.mean(d**2) / 2) < 3 * err
    for n in (5, 10):
        om = np.concatenate([delta_h(act, phi, "omelyan", n, seed=s) for s in range(8)])
        lf = np.concatenate([delta_h(act, phi, "leapfrog", 2 * n, seed=s) for s in range(8)])
        assert np.sqrt(np.mean(om**2)) < 0.5 * np.sqrt(np.mean(lf**2))


@pytest.mark.parametrize("integrator", ["leapfrog", "omelyan"])
def test_creutz_equality(simulate, integrator):
    """⟨e^{−ΔH}⟩ = 1 exactly for a reversible, area-preserving integrator; use a coarse δτ so ΔH is sizable."""
    an = simulate(dim=3, size=4, kappa=0.18169, lam=1.3282, n_traj=3000, n_therm=200, n_steps=4,
                  integrator=integrator, n_chains=4, seed=3)
    e = an.estimates["exp_minus_dH"]
    assert an.acceptance < 0.95  # the test has teeth: ΔH is not tiny
    assert abs(pull(e.value, e.error, 1.0)) < 3
