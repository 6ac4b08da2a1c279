"""Every sampler against exact results that do not come from lawful: the free field, the D = 1 transfer
matrix, exact enumeration of the Ising limit, and the lecture's D = 3 reference table (long runs: slow)."""

import math

import pytest

from tests.helpers import pull
from tests.lattice.reference import free_field_chi, ising_exact, transfer_matrix_1d

K = 3.0  # tolerance in combined standard errors (errors from the Γ-method)


def assert_agrees(an, key, ref, ref_err=0.0):
    e = an.estimates[key]
    assert e.error > 0
    p = pull(e.value, e.error, ref, ref_err)
    assert abs(p) < K, f"{key}: {e.value} ± {e.error} vs {ref} ± {ref_err} (pull {p:+.2f})"


def test_transfer_matrix_reference_reproduces_free_field():
    chi, u = transfer_matrix_1d(6, 0.2, 0.0)
    assert chi == pytest.approx(free_field_chi(0.2, 1), rel=1e-10)
    assert u == pytest.approx(3.0, rel=1e-9)


@pytest.mark.parametrize("sampler,extra", [("hmc", {"integrator": "leapfrog"}), ("hmc", {"integrator": "omelyan"}),
                                           ("metropolis", {"delta": 1.5})])
def test_free_field(simulate, sampler, extra):
    """λ = 0, D = 2, κ = 0.1: ⟨m²⟩/V = 1/(2 − 8κ) exactly, and m is Gaussian so U = 3."""
    an = simulate(dim=2, size=8, kappa=0.1, lam=0.0, sampler=sampler, n_traj=4000, n_therm=200, n_chains=4,
                  seed=21, **extra)
    assert_agrees(an, "chi", free_field_chi(0.1, 2))
    assert_agrees(an, "binder", 3.0)


@pytest.mark.parametrize("sampler", ["hmc", "metropolis"])
def test_interacting_1d_against_transfer_matrix(simulate, sampler):
    chi, u = transfer_matrix_1d(8, 0.3, 0.5)
    an = simulate(dim=1, size=8, kappa=0.3, lam=0.5, sampler=sampler, n_traj=6000, n_therm=300, n_chains=4,
                  seed=5, n_steps=8)
    assert_agrees(an, "chi", chi)
    assert_agrees(an, "binder", u)


@pytest.mark.parametrize("dim,size,kappa", [(2, 4, 0.2), (2, 4, 0.25), (1, 12, 0.4)])
def test_heatbath_against_ising_enumeration(simulate, dim, size, kappa):
    exact = ising_exact(dim, size, kappa)
    an = simulate(dim=dim, size=size, kappa=kappa, lam=math.inf, sampler="heatbath", n_traj=5000, n_therm=200,
                  n_chains=4, seed=9)
    assert_agrees(an, "chi", exact["chi"])
    assert_agrees(an, "abs_m_density", exact["abs_m"])
    assert_agrees(an, "binder", exact["binder"])


def test_lecture_point_L4(simulate):
    """D=3, L=4, κ=0.18169, λ=1.3282: χ = 14.38(4), U = 1.605(4), ⟨|m|⟩/V = 0.425(2) (short run)."""
    an = simulate(dim=3, size=4, kappa=0.18169, lam=1.3282, n_traj=40000, n_therm=500, n_chains=4, seed=2)
    assert_agrees(an, "chi", 14.38, 0.04)
    assert_agrees(an, "binder", 1.605, 0.004)
    assert_agrees(an, "abs_m_density", 0.425, 0.002)


TABLE = [  # D=3 reference table of the lattice foundation issue: (L, κ, λ, χ, σχ, U, σU, |m|/V, σ)
    (4, 0.18169, 1.3282, 14.38, 0.04, 1.605, 0.004, 0.425, 0.002),
    (6, 0.185825, 1.1689, 32.8, 0.2, 1.60, 0.01, None, None),
    (6, 0.1, 1.1689, 1.358, 0.0005, 2.96, 0.005, None, None),  # quoted without errors: ±½ of the last digit
    (6, 0.2, 1.1689, 82.5, 0.05, 1.10, 0.005, None, None),
]


@pytest.mark.slow
@pytest.mark.parametrize("size,kappa,lam,chi,dchi,u,du,absm,dabsm", TABLE)
def test_lecture_reference_table(simulate, size, kappa, lam, chi, dchi, u, du, absm, dabsm):
    """Long HMC runs (τ = 1, δτ = 0.1, leapfrog as in the lecture) reproduce the table within 3σ combined."""
    an = simulate(dim=3, size=size, kappa=kappa, lam=lam, integrator="leapfrog", n_steps=10, traj_length=1.0,
                  n_traj=200_000, n_therm=2000, n_chains=4, seed=101)
    assert_agrees(an, "chi", chi, dchi)
    assert_agrees(an, "binder", u, du)
    if absm is not None:
        assert_agrees(an, "abs_m_density", absm, dabsm)
