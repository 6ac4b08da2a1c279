"""Riemann solvers against published exact solutions (the Sod numbers of the hydro issue; Toro 2009, Table 4.3)."""

import numpy as np
import pytest

from lawful.hydro.riemann import exact_solution, exact_star, hllc

# Toro, Riemann Solvers and Numerical Methods for Fluid Dynamics, 3rd ed., Tables 4.1-4.3 (γ = 1.4):
# (ρL, uL, pL, ρR, uR, pR) -> (p*, u*)
TORO = [
    ((1.0, 0.0, 1.0, 0.125, 0.0, 0.1), (0.30313, 0.92745)),
    ((1.0, -2.0, 0.4, 1.0, 2.0, 0.4), (0.00189, 0.00000)),
    ((1.0, 0.0, 1000.0, 1.0, 0.0, 0.01), (460.894, 19.5975)),
    ((1.0, 0.0, 0.01, 1.0, 0.0, 100.0), (46.0950, -6.19633)),
    ((5.99924, 19.5975, 460.894, 5.99242, -6.19633, 46.0950), (1691.64, 8.68975)),
]


@pytest.mark.parametrize("state, star", TORO)
def test_exact_star_state_matches_toro(state, star):
    ps, us = exact_star(*state, 1.4)
    assert ps == pytest.approx(star[0], rel=2e-5, abs=1e-5)
    assert us == pytest.approx(star[1], rel=2e-5, abs=1e-5)


def test_sod_reference_numbers():
    ex = exact_solution((1.0, 0.0, 1.0), (0.125, 0.0, 0.1), 1.4, np.linspace(0, 1, 11), 0.2, 0.5)
    assert ex["p_star"] == pytest.approx(0.30313, abs=1e-5)
    assert ex["u_star"] == pytest.approx(0.92745, abs=1e-5)
    assert ex["rho_star_left"] == pytest.approx(0.42632, abs=1e-5)
    assert ex["rho_star_right"] == pytest.approx(0.26557, abs=1e-5)
    assert ex["shock_speed"] == pytest.approx(1.75216, abs=1e-5)
    # far field untouched; the sampled solution is continuous through the rarefaction's head
    assert ex["rho"][0] == 1.0 and ex["rho"][-1] == 0.125


def test_exact_solution_conserves_mass():
    """The exact solution on a wide grid keeps ∫ρ dx (a check of the sampler independent of the star state)."""
    x = np.linspace(0, 1, 200001)
    ex = exact_solution((1.0, 0.0, 1.0), (0.125, 0.0, 0.1), 1.4, x, 0.2, 0.5)
    mass = np.trapezoid(ex["rho"], x)
    assert mass == pytest.approx(0.5 * 1.0 + 0.5 * 0.125, rel=1e-5)


def test_vacuum_is_an_error():
    with pytest.raises(ValueError, match="vacuum"):
        exact_star(1.0, -20.0, 0.1, 1.0, 20.0, 0.1, 1.4)


@pytest.mark.parametrize("u", [-3.0, -0.3, 0.0, 0.5, 4.0])
def test_hllc_is_consistent(u):
    """Identical left and right states give the physical flux (any subsonic or supersonic u)."""
    r, v, p, g = 0.7, 0.2, 1.3, 1.4
    f = hllc(r, u, v, p, p / (g - 1), g, r, u, v, p, p / (g - 1), g)
    E = p / (g - 1) + 0.5 * r * (u * u + v * v)
    assert np.allclose(f[:4], (r * u, r * u * u + p, r * u * v, (E + p) * u), rtol=1e-13, atol=1e-13)
