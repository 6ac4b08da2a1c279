"""Exact 2D U(1) references against numbers that are not ours: the tutorial's published ⟨Q²⟩, and the infinite-volume
limits computed here by scipy quadrature and Bessel functions (single-plaquette integrals)."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import iv

from lawful.lattice.u1 import exact


def test_published_topological_susceptibility():
    # Albergo et al., arXiv:2101.08176: exact <Q^2> = 1.2393 at L = 8, beta = 2
    q2, chi = exact.topological_susceptibility(2.0, 8)
    assert q2 == pytest.approx(1.2393, abs=5e-5)
    assert chi == pytest.approx(q2 / 64)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_chi_top_tends_to_the_single_plaquette_moment(beta):
    # V -> inf: chi_top = <(phi/2pi)^2> over one plaquette with weight e^{beta cos phi}
    num = quad(lambda p: p * p * math.exp(beta * math.cos(p)), -math.pi, math.pi)[0]
    den = quad(lambda p: math.exp(beta * math.cos(p)), -math.pi, math.pi)[0]
    assert exact.topological_susceptibility(beta, 40)[1] == pytest.approx(num / den / (4 * math.pi**2), rel=1e-6)


@pytest.mark.parametrize("beta", [1.0, 3.0, 6.0])
def test_large_volume_plaquette_and_loops_tend_to_bessel_ratios(beta):
    ratio = iv(1, beta) / iv(0, beta)
    assert exact.mean_plaquette(beta, 48) == pytest.approx(ratio, rel=1e-8)
    for area in (1, 4, 9):
        assert exact.wilson_loop(beta, 48, area) == pytest.approx(ratio**area, rel=1e-6)
        assert exact.wilson_loop_infinite(beta, area) == pytest.approx(ratio**area, rel=1e-12)
    assert exact.creutz_ratio_infinite(beta) == pytest.approx(-math.log(ratio))


def test_finite_volume_identities():
    beta, L = 2.5, 6
    # a 1x1 loop is the plaquette; a loop of area A and its complement V - A are the same loop
    assert exact.wilson_loop(beta, L, 1) == pytest.approx(exact.mean_plaquette(beta, L), rel=1e-12)
    assert exact.wilson_loop(beta, L, 5) == pytest.approx(exact.wilson_loop(beta, L, L * L - 5), rel=1e-12)
    assert exact.wilson_loop(beta, L, 0) == pytest.approx(1.0)
    # the mean Polyakov loop's |P|^2 lies between 1/L (uncorrelated lines) and 1
    assert 1 / L < exact.polyakov_susceptibility(beta, L) < 1


def test_partition_function_derivative_matches_finite_difference():
    # <cos P> = (1/V) d ln Z / d beta with Z = sum_n I_n^V, by a direct finite difference of ln Z
    beta, L = 1.7, 4
    n = np.arange(-40, 41)

    def log_z(b):
        return math.log(np.sum(iv(n, b) ** (L * L)))

    h = 1e-5
    assert exact.mean_plaquette(beta, L) == pytest.approx((log_z(beta + h) - log_z(beta - h)) / (2 * h) / (L * L),
                                                          rel=1e-7)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_beta_is_refused(bad):
    with pytest.raises(ValueError, match="beta must be a positive finite number"):
        exact.mean_plaquette(bad, 8)


def test_bad_size_and_area_are_refused():
    with pytest.raises(ValueError, match="lattice size L must be an integer >= 2, got 1"):
        exact.topological_susceptibility(1.0, 1)
    with pytest.raises(ValueError, match="loop area must be an integer in 0..16"):
        exact.wilson_loop(1.0, 4, 17)
