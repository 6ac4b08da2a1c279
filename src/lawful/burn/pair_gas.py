"""The electron–positron gas at any degeneracy and relativity by direct Fermi–Dirac quadrature (numba).

Electrons (β = kT / m_e c², η = kinetic chemical potential / kT, positrons at η₊ = −η − 2/β):
    n = C β^{3/2} (F_{1/2} + β F_{3/2}),  p = ⅔ C m_e c² β^{5/2} (F_{3/2} + ½ β F_{5/2}),
    E = C m_e c² β^{5/2} (F_{3/2} + β F_{5/2})  (+ 2 m_e c² n₊ for positrons),   C = 8π√2 (m_e c / h)³,
with the generalized Fermi–Dirac integrals F_k(η, β) = ∫₀^∞ x^k √(1 + βx/2) / (e^{x−η} + 1) dx and η fixed by
charge neutrality n₋ − n₊ = ρ N_A Ye; Gauss–Legendre quadrature in z = √x on panels placed around η, ≈1e-12
relative. Used by the stellar EOS (:mod:`lawful.burn.eos`) and by the table it interpolates
(:mod:`lawful.burn.eos_table`). CGS units.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# pynucastro's CGS constants
M_U = 1.66053906892e-24
M_E = 9.1093837139e-28
C = 29979245800.0
H = 6.62607015e-27
K_B = 1.3806490000000002e-16
A_RAD = 7.565733250280009e-15
N_A = 6.02214076e23
Q_E = 4.803204712570263e-10

MEC2 = M_E * C * C
_COEFF = 8.0 * math.pi * math.sqrt(2.0) * (M_E * C / H) ** 3

# Gauss–Legendre nodes/weights on [-1, 1]
_GL_N = 24
_GL_X, _GL_W = np.polynomial.legendre.leggauss(_GL_N)
_HALF_WIDTH = 36.0  # the Fermi factor is e^{-36} ≈ 2e-16 of its peak this far above η
_N_PANELS = 6


@njit(cache=True)
def fermi_integrals(eta, beta, out):
    """Generalized Fermi–Dirac integrals for k = ½, 3/2, 5/2 and their η and β derivatives.

    ``out`` [3, 3]: rows k = ½, 3/2, 5/2; columns F, ∂F/∂η, ∂F/∂β.
    Quadrature: x from max(η − L, 0) to max(η, 0) + L (L = 36) in equal panels, plus [0, η − L] when η > L
    (where the Fermi factor is 1 to round-off), each mapped to z = √x and integrated with 24-point
    Gauss–Legendre.
    """
    out[:, :] = 0.0
    lo = max(eta - _HALF_WIDTH, 0.0)
    hi = max(eta, 0.0) + _HALF_WIDTH
    n_seg = _N_PANELS + (1 if lo > 0.0 else 0)
    for seg in range(n_seg):
        if lo > 0.0 and seg == 0:
            xa, xb = 0.0, lo
        else:
            p = seg - (1 if lo > 0.0 else 0)
            xa = lo + (hi - lo) * p / _N_PANELS
            xb = lo + (hi - lo) * (p + 1) / _N_PANELS
        za, zb = math.sqrt(xa), math.sqrt(xb)
        zm, zh = 0.5 * (za + zb), 0.5 * (zb - za)
        for q in range(_GL_N):
            z = zm + zh * _GL_X[q]
            x = z * z
            arg = x - eta
            if arg > 0.0:
                ex = math.exp(-arg)
                f = ex / (1.0 + ex)
                f1f = f / (1.0 + ex)  # f(1−f)
            else:
                ex = math.exp(arg)
                f = 1.0 / (1.0 + ex)
                f1f = f * ex * f
            s = math.sqrt(1.0 + 0.5 * beta * x)
            w = zh * _GL_W[q] * 2.0 * z  # dx = 2z dz
            xk = math.sqrt(x)  # x^{1/2}
            for k in range(3):
                out[k, 0] += w * xk * s * f
                out[k, 1] += w * xk * s * f1f
                out[k, 2] += w * xk * 0.25 * x / s * f
                xk *= x


@njit(cache=True)
def _pair_densities(eta, beta, fe, fp, with_positrons):
    """Net electron density n₋ − n₊ (1/cm³) and its η-derivative; fills the integral tables fe, fp."""
    b32 = beta**1.5
    fermi_integrals(eta, beta, fe)
    n = _COEFF * b32 * (fe[0, 0] + beta * fe[1, 0])
    dn = _COEFF * b32 * (fe[0, 1] + beta * fe[1, 1])
    fp[:, :] = 0.0
    eta_p = -eta - 2.0 / beta
    if with_positrons and eta_p > -200.0:
        fermi_integrals(eta_p, beta, fp)
        n -= _COEFF * b32 * (fp[0, 0] + beta * fp[1, 0])
        dn += _COEFF * b32 * (fp[0, 1] + beta * fp[1, 1])
    return n, dn


@njit(cache=True)
def _solve_eta(n_target, beta, fe, fp, with_positrons, eta_guess):
    """η with n₋(η) − n₊(η) = n_target: Newton on ln n, safeguarded by a bisection bracket.

    ``eta_guess``: a starting value (e.g. the previous call's η for the same zone), or NaN for none.
    """
    kT = beta * MEC2
    # initial guess: interpolate between the non-degenerate and the degenerate limits
    lam3 = (H * H / (2.0 * math.pi * M_E * kT)) ** 1.5
    eta_nd = math.log(max(n_target * lam3 / 2.0, 1e-300))
    xf = H / (M_E * C) * (3.0 * n_target / (8.0 * math.pi)) ** (1.0 / 3.0)
    eta_d = (math.sqrt(1.0 + xf * xf) - 1.0) / beta
    eta = eta_nd if eta_nd < 0.0 else max(eta_d, eta_nd)
    if not math.isnan(eta_guess):
        eta = eta_guess
    a, b = -1e4, 1e9
    ln_t = math.log(n_target)
    for _ in range(200):
        n, dn = _pair_densities(eta, beta, fe, fp, with_positrons)
        if n > n_target:
            b = min(b, eta)
        else:
            a = max(a, eta)
        if n <= 0.0:  # far below the root (densities underflow): climb
            eta += 10.0
            continue
        step = (math.log(n) - ln_t) * n / dn
        if abs(step) <= 1e-13 * max(1.0, abs(eta)):
            eta -= step
            break
        new = eta - step
        if not (a < new < b):
            new = 0.5 * (a + b) if b < 1e8 else eta + 2.0 * abs(eta) + 10.0
        eta = new
    _pair_densities(eta, beta, fe, fp, with_positrons)
    return eta


#: Columns of :func:`pair_gas`'s output: pressure, energy and entropy densities of the e⁻e⁺ gas and derivatives
#: with respect to D = ρ Ye (g/cm³) and T, then η, n₋, n₊.
PAIR_FIELDS = ("p", "E", "S", "dpdD", "dpdT", "dEdD", "dEdT", "eta", "n_ele", "n_pos")
#: Column indices into a pair-gas row.
PAIR_P, PAIR_E, PAIR_S, PAIR_DPDD, PAIR_DPDT, PAIR_DEDD, PAIR_DEDT, PAIR_ETA, PAIR_N_ELE, PAIR_N_POS = range(10)


@njit(cache=True)
def pair_gas(D, T, with_positrons, eta_guess, fe, fp, out):
    """Electron–positron gas with net electron density D N_A (D = ρ Ye in g/cm³) at T, into ``out`` [10].

    Densities per volume: p (erg/cm³), E (erg/cm³; positron rest mass included), S (erg/cm³/K); see
    :data:`PAIR_FIELDS`. ``eta_guess`` starts the η solve (NaN: none).
    """
    kT = K_B * T
    beta = kT / MEC2
    eta = _solve_eta(D * N_A, beta, fe, fp, with_positrons, eta_guess)
    b12 = math.sqrt(beta)
    b32 = beta * b12
    b52 = beta * b32
    pc = _COEFF * (2.0 / 3.0) * MEC2
    ec = _COEFF * MEC2
    dbeta_dT = K_B / MEC2
    # electrons
    n_e = _COEFF * b32 * (fe[0, 0] + beta * fe[1, 0])
    p_e = pc * b52 * (fe[1, 0] + 0.5 * beta * fe[2, 0])
    E_e = ec * b52 * (fe[1, 0] + beta * fe[2, 0])
    dne_deta = _COEFF * b32 * (fe[0, 1] + beta * fe[1, 1])
    dne_db = 0.5 * _COEFF * b12 * (3.0 * fe[0, 0] + 5.0 * beta * fe[1, 0] + 2.0 * beta * (fe[0, 2] + beta * fe[1, 2]))
    dpe_deta = pc * b52 * (fe[1, 1] + 0.5 * beta * fe[2, 1])
    dpe_db = 0.25 * pc * b32 * (10.0 * fe[1, 0] + 7.0 * beta * fe[2, 0] + 4.0 * beta * (fe[1, 2] + 0.5 * beta * fe[2, 2]))
    dEe_deta = ec * b52 * (fe[1, 1] + beta * fe[2, 1])
    dEe_db = 0.5 * ec * b32 * (5.0 * fe[1, 0] + 7.0 * beta * fe[2, 0] + 2.0 * beta * (fe[1, 2] + beta * fe[2, 2]))
    # positrons: η₊ = −η − 2/β, so ∂η₊/∂η = −1 and ∂η₊/∂β = 2/β²
    eta_p = -eta - 2.0 / beta
    n_p = _COEFF * b32 * (fp[0, 0] + beta * fp[1, 0])
    p_p = pc * b52 * (fp[1, 0] + 0.5 * beta * fp[2, 0])
    Ek_p = ec * b52 * (fp[1, 0] + beta * fp[2, 0])
    dnp_deta = -_COEFF * b32 * (fp[0, 1] + beta * fp[1, 1])
    dnp_db = (0.5 * _COEFF * b12 * (3.0 * fp[0, 0] + 5.0 * beta * fp[1, 0] + 2.0 * beta * (fp[0, 2] + beta * fp[1, 2]))
              + _COEFF * b32 * (fp[0, 1] + beta * fp[1, 1]) * 2.0 / (beta * beta))
    dpp_deta = -pc * b52 * (fp[1, 1] + 0.5 * beta * fp[2, 1])
    dpp_db = (0.25 * pc * b32 * (10.0 * fp[1, 0] + 7.0 * beta * fp[2, 0] + 4.0 * beta * (fp[1, 2] + 0.5 * beta * fp[2, 2]))
              + pc * b52 * (fp[1, 1] + 0.5 * beta * fp[2, 1]) * 2.0 / (beta * beta))
    dEp_deta = -ec * b52 * (fp[1, 1] + beta * fp[2, 1])
    dEp_db = (0.5 * ec * b32 * (5.0 * fp[1, 0] + 7.0 * beta * fp[2, 0] + 2.0 * beta * (fp[1, 2] + beta * fp[2, 2]))
              + ec * b52 * (fp[1, 1] + beta * fp[2, 1]) * 2.0 / (beta * beta))
    # η(D, T) from neutrality: (dn₋ − dn₊) = N_A dD
    dnet_deta = dne_deta - dnp_deta
    deta_dD = N_A / dnet_deta
    deta_dT = -dbeta_dT * (dne_db - dnp_db) / dnet_deta
    dnp_dD = dnp_deta * deta_dD
    dnp_dT = dnp_deta * deta_dT + dnp_db * dbeta_dT
    out[PAIR_P] = p_e + p_p
    out[PAIR_E] = E_e + Ek_p + 2.0 * MEC2 * n_p
    # S = (E + p − μ n) / T per species, with kinetic chemical potentials ηkT and η₊kT
    out[PAIR_S] = (E_e + p_e - eta * kT * n_e + Ek_p + p_p - eta_p * kT * n_p) / T
    out[PAIR_DPDD] = (dpe_deta + dpp_deta) * deta_dD
    out[PAIR_DPDT] = (dpe_deta + dpp_deta) * deta_dT + (dpe_db + dpp_db) * dbeta_dT
    out[PAIR_DEDD] = (dEe_deta + dEp_deta) * deta_dD + 2.0 * MEC2 * dnp_dD
    out[PAIR_DEDT] = (dEe_deta + dEp_deta) * deta_dT + (dEe_db + dEp_db) * dbeta_dT + 2.0 * MEC2 * dnp_dT
    out[PAIR_ETA] = eta
    out[PAIR_N_ELE] = n_e
    out[PAIR_N_POS] = n_p
