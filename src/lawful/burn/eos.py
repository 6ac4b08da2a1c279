"""Stellar equation of state: ideal ions + blackbody radiation + electrons and positrons at any degeneracy
and relativity, by direct Fermi–Dirac quadrature, in numba and vectorized over zones.

Electrons (β = kT / m_e c², η = kinetic chemical potential / kT, positrons at η₊ = −η − 2/β):
    n = C β^{3/2} (F_{1/2} + β F_{3/2}),  p = ⅔ C m_e c² β^{5/2} (F_{3/2} + ½ β F_{5/2}),
    E = C m_e c² β^{5/2} (F_{3/2} + β F_{5/2})  (+ 2 m_e c² n₊ for positrons),   C = 8π√2 (m_e c / h)³,
with the generalized Fermi–Dirac integrals F_k(η, β) = ∫₀^∞ x^k √(1 + βx/2) / (e^{x−η} + 1) dx and η fixed by
charge neutrality n₋ − n₊ = ρ N_A Ye. These are the formulas of pynucastro's ``StellarEOS`` (the test reference);
the quadrature here is Gauss–Legendre in z = √x on panels placed around η, ≈1e-12 relative.
Ions: ideal gas with the mean mass number Ā (Sackur–Tetrode entropy with Ā, as in the Helmholtz EOS).
Coulomb corrections (Yakovlev & Shalybkov 1989 fit, as in Timmes & Swesty 2000) are optional; they
correct p, e and their derivatives (not s).

Units CGS: ρ in g/cm³, T in K, e in erg/g, p in erg/cm³, s and c_v in erg/g/K.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import njit, prange

# pynucastro's CGS constants
_M_U = 1.66053906892e-24
_M_E = 9.1093837139e-28
_C = 29979245800.0
_H = 6.62607015e-27
_K_B = 1.3806490000000002e-16
_A_RAD = 7.565733250280009e-15
_N_A = 6.02214076e23
_Q_E = 4.803204712570263e-10

_MEC2 = _M_E * _C * _C
_COEFF = 8.0 * math.pi * math.sqrt(2.0) * (_M_E * _C / _H) ** 3

#: Validity range of :func:`eos` (ρ in g/cm³, T in K); inputs outside are rejected.
RHO_RANGE = (1e-10, 1e13)
T_RANGE = (1e4, 1e11)

#: Columns of the EOS output array, in order.
EOS_FIELDS = ("p", "e", "s", "cv", "cp", "gamma1", "cs", "dpdr", "dpdT", "dedr", "dedT", "eta", "n_ele", "n_pos")
_NF = len(EOS_FIELDS)

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
    kT = beta * _MEC2
    # initial guess: interpolate between the non-degenerate and the degenerate limits
    lam3 = (_H * _H / (2.0 * math.pi * _M_E * kT)) ** 1.5
    eta_nd = math.log(max(n_target * lam3 / 2.0, 1e-300))
    xf = _H / (_M_E * _C) * (3.0 * n_target / (8.0 * math.pi)) ** (1.0 / 3.0)
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


#: Columns of :func:`_pair_gas`'s output: pressure, energy and entropy densities of the e⁻e⁺ gas and derivatives
#: with respect to D = ρ Ye (g/cm³) and T, then η, n₋, n₊.
PAIR_FIELDS = ("p", "E", "S", "dpdD", "dpdT", "dEdD", "dEdT", "eta", "n_ele", "n_pos")


@njit(cache=True)
def _pair_gas(D, T, with_positrons, eta_guess, fe, fp, out):
    """Electron–positron gas with net electron density D N_A (D = ρ Ye in g/cm³) at T, into ``out`` [10].

    Densities per volume: p (erg/cm³), E (erg/cm³; positron rest mass included), S (erg/cm³/K); see
    :data:`PAIR_FIELDS`. ``eta_guess`` starts the η solve (NaN: none).
    """
    kT = _K_B * T
    beta = kT / _MEC2
    eta = _solve_eta(D * _N_A, beta, fe, fp, with_positrons, eta_guess)
    b12 = math.sqrt(beta)
    b32 = beta * b12
    b52 = beta * b32
    pc = _COEFF * (2.0 / 3.0) * _MEC2
    ec = _COEFF * _MEC2
    dbeta_dT = _K_B / _MEC2
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
    deta_dD = _N_A / dnet_deta
    deta_dT = -dbeta_dT * (dne_db - dnp_db) / dnet_deta
    dnp_dD = dnp_deta * deta_dD
    dnp_dT = dnp_deta * deta_dT + dnp_db * dbeta_dT
    out[0] = p_e + p_p
    out[1] = E_e + Ek_p + 2.0 * _MEC2 * n_p
    # S = (E + p − μ n) / T per species, with kinetic chemical potentials ηkT and η₊kT
    out[2] = (E_e + p_e - eta * kT * n_e + Ek_p + p_p - eta_p * kT * n_p) / T
    out[3] = (dpe_deta + dpp_deta) * deta_dD
    out[4] = (dpe_deta + dpp_deta) * deta_dT + (dpe_db + dpp_db) * dbeta_dT
    out[5] = (dEe_deta + dEp_deta) * deta_dD + 2.0 * _MEC2 * dnp_dD
    out[6] = (dEe_deta + dEp_deta) * deta_dT + (dEe_db + dEp_db) * dbeta_dT + 2.0 * _MEC2 * dnp_dT
    out[7] = eta
    out[8] = n_e
    out[9] = n_p


@njit(cache=True, inline="always")
def _weights(z, dx, w, dw, ddw):
    """Quintic Hermite weights on a cell of width dx at fraction z: value, first and second x-derivatives.

    ``w[a, m]`` multiplies the m-th derivative stored at node a (0 = left, 1 = right).
    """
    for a in range(2):
        s = z if a == 0 else 1.0 - z
        sign = 1.0 if a == 0 else -1.0  # d/dx of a function of (1 − z) flips sign
        p0 = s * s * s * (s * (-6.0 * s + 15.0) - 10.0) + 1.0
        p1 = s * (s * s * (s * (-3.0 * s + 8.0) - 6.0) + 1.0)
        p2 = 0.5 * s * s * (s * (s * (-s + 3.0) - 3.0) + 1.0)
        d0 = s * s * (s * (-30.0 * s + 60.0) - 30.0)
        d1 = s * s * (s * (-15.0 * s + 32.0) - 18.0) + 1.0
        d2 = 0.5 * s * (s * (s * (-5.0 * s + 12.0) - 9.0) + 2.0)
        e0 = s * (s * (-120.0 * s + 180.0) - 60.0)
        e1 = s * (s * (-60.0 * s + 96.0) - 36.0)
        e2 = 0.5 * (s * (s * (-20.0 * s + 36.0) - 18.0) + 2.0)
        w[a, 0] = p0
        w[a, 1] = sign * p1 * dx
        w[a, 2] = p2 * dx * dx
        dw[a, 0] = sign * d0 / dx
        dw[a, 1] = d1
        dw[a, 2] = sign * d2 * dx
        ddw[a, 0] = e0 / (dx * dx)
        ddw[a, 1] = sign * e1 / dx
        ddw[a, 2] = e2


@njit(cache=True, inline="always")
def _cubic_weights(z, dx, w):
    """Cubic Hermite weights: ``w[a, m]`` multiplies the m-th derivative (m = 0, 1) stored at node a."""
    w[0, 0] = z * z * (2.0 * z - 3.0) + 1.0
    w[0, 1] = z * (z * (z - 2.0) + 1.0) * dx
    w[1, 0] = z * z * (3.0 - 2.0 * z)
    w[1, 1] = z * z * (z - 1.0) * dx


#: index of ∂^m_D ∂^n_T f in the node record, for m, n = 0…2
_SLOT = np.array([[0, 2, 4], [1, 5, 7], [3, 6, 8]])


@njit(cache=True)
def pair_gas_table(D, T, tab, lo_d, step_d, lo_t, step_t, out, w):
    """The pair gas at (D, T) from the table, into ``out`` [10] like :func:`lawful.burn.eos._pair_gas`
    (n₋ and n₊ are not tabulated: NaN); ``w`` [8, 2, 3] is scratch for the Hermite weights.
    Returns False outside the table."""
    nd, nt = tab.shape[0], tab.shape[1]
    xd = (math.log10(D) - lo_d) / step_d
    xt = (math.log10(T) - lo_t) / step_t
    if not (0.0 <= xd <= nd - 1 and 0.0 <= xt <= nt - 1):
        return False
    i = min(int(xd), nd - 2)
    j = min(int(xt), nt - 2)
    d0 = 10.0 ** (lo_d + step_d * i)
    d1 = 10.0 ** (lo_d + step_d * (i + 1))
    t0 = 10.0 ** (lo_t + step_t * j)
    t1 = 10.0 ** (lo_t + step_t * (j + 1))
    wd, dwd, ddwd, wt, dwt, ddwt, wd3, wt3 = w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]
    _weights((D - d0) / (d1 - d0), d1 - d0, wd, dwd, ddwd)
    _weights((T - t0) / (t1 - t0), t1 - t0, wt, dwt, ddwt)
    _cubic_weights((D - d0) / (d1 - d0), d1 - d0, wd3)
    _cubic_weights((T - t0) / (t1 - t0), t1 - t0, wt3)
    f = fd = ft = fdd = fdt = ftt = 0.0
    for a in range(2):
        for b in range(2):
            node = tab[i + a, j + b]
            for m in range(3):
                for n in range(3):
                    v = node[_SLOT[m, n]]
                    f += v * wd[a, m] * wt[b, n]
                    fd += v * dwd[a, m] * wt[b, n]
                    ft += v * wd[a, m] * dwt[b, n]
                    fdd += v * ddwd[a, m] * wt[b, n]
                    fdt += v * dwd[a, m] * dwt[b, n]
                    ftt += v * wd[a, m] * ddwt[b, n]
    # ∂p/∂D from its own bicubic Hermite table (columns 9–12: g, g_D, g_T, g_DT)
    g = 0.0
    for a in range(2):
        for b in range(2):
            node = tab[i + a, j + b]
            g += (node[9] * wd3[a, 0] * wt3[b, 0] + node[10] * wd3[a, 1] * wt3[b, 0]
                  + node[11] * wd3[a, 0] * wt3[b, 1] + node[12] * wd3[a, 1] * wt3[b, 1])
    out[0] = D * D * fd
    out[1] = D * (f - T * ft)
    out[2] = -D * ft
    out[3] = g
    out[4] = D * D * fdt
    out[5] = f + D * fd - T * (ft + D * fdt)
    out[6] = -D * T * ftt
    out[7] = (f + D * fd) / (_N_A * _K_B * T)
    out[8] = np.nan
    out[9] = np.nan
    return True


#: EOS options as the kernels take them: (coulomb, positrons, table [nD, nT, 9] or empty, lo_d, step_d, lo_t, step_t)
NO_TABLE = np.zeros((0, 0, 13))


@njit(cache=True)
def eos_scratch():
    """Per-thread scratch for :func:`_eos_zone`: (Fermi integrals e⁻ [3, 3], e⁺ [3, 3], pair gas [10],
    Hermite weights [8, 2, 3])."""
    return np.empty((3, 3)), np.empty((3, 3)), np.empty(10), np.empty((8, 2, 3))


@njit(cache=True)
def _eos_zone(rho, T, abar, zbar, opts, out, scratch, eta_guess):
    """Full EOS for one zone into ``out`` [len(EOS_FIELDS)]; ``eta_guess`` starts the η solve (NaN: none).

    ``opts``: see :meth:`StellarEOS.options`. With a table the pair gas is interpolated (direct quadrature
    outside the table's range).
    """
    coulomb, positrons, tab, lo_d, step_d, lo_t, step_t = opts
    fe, fp, pair, w = scratch
    ye = zbar / abar
    if tab.shape[0] == 0 or not pair_gas_table(rho * ye, T, tab, lo_d, step_d, lo_t, step_t, pair, w):
        _pair_gas(rho * ye, T, positrons, eta_guess, fe, fp, pair)
    _add_ions_radiation(rho, T, abar, zbar, ye, coulomb, pair, out)


@njit(cache=True)
def _add_ions_radiation(rho, T, abar, zbar, ye, coulomb, pair, out):
    """Combine the pair gas ``pair`` [10] (at D = ρ Ye) with ions, radiation and optional Coulomb terms."""
    kT = _K_B * T
    p_ep, E_ep, eta, n_e, n_p = pair[0], pair[1], pair[7], pair[8], pair[9]
    s_ep = pair[2] / rho
    dp_ep_dr = pair[3] * ye
    dp_ep_dT = pair[4]
    dE_ep_dr = pair[5] * ye
    dE_ep_dT = pair[6]
    # ions
    n_i = rho * _N_A / abar
    p_i = n_i * kT
    mi = abar * _M_U
    s_i = _N_A * _K_B / abar * (2.5 + math.log(mi / rho * (2.0 * math.pi * mi * kT / (_H * _H)) ** 1.5))
    # radiation
    p_r = _A_RAD * T**4 / 3.0
    p = p_i + p_r + p_ep
    e = 1.5 * p_i / rho + 3.0 * p_r / rho + E_ep / rho
    s = s_i + 4.0 * p_r / (rho * T) + s_ep
    dpdr = p_i / rho + dp_ep_dr
    dpdT = p_i / T + 4.0 * p_r / T + dp_ep_dT
    dedr = -3.0 * p_r / (rho * rho) + (dE_ep_dr - E_ep / rho) / rho
    dedT = 1.5 * p_i / (rho * T) + 12.0 * p_r / (rho * T) + dE_ep_dT / rho
    if coulomb:
        # Yakovlev & Shalybkov (1989) one-component-plasma fit, Helmholtz form (Timmes & Swesty 2000)
        a1, b1, c1, d1 = -0.898004, 0.96786, 0.220703, -0.86097
        a2, b2, c2 = 0.29561, 1.9885, 0.288675
        ai = (3.0 * abar / (4.0 * math.pi * rho * _N_A)) ** (1.0 / 3.0)  # ion-sphere radius, cm
        plasg = zbar * zbar * _Q_E * _Q_E / (ai * kT)  # ion coupling parameter Γ
        if plasg >= 1.0:
            x = plasg**0.25
            u0 = a1 * plasg + b1 * x + c1 / x + d1
            du_dg = a1 + 0.25 * b1 / x**3 - 0.25 * c1 / x**5
        else:
            y = plasg**b2
            u0 = -3.0 * c2 * plasg * math.sqrt(plasg) + a2 * y
            du_dg = -4.5 * c2 * math.sqrt(plasg) + a2 * b2 * y / plasg
        # energy per gram u0 n_i kT / ρ, pressure u0 n_i kT / 3; Γ ∝ ρ^{1/3}/T
        ecoul = u0 * n_i * kT / rho
        pcoul = u0 * n_i * kT / 3.0
        dg_dr = plasg / (3.0 * rho)
        dg_dT = -plasg / T
        if p + pcoul > 0.0:  # as in Helmholtz: drop the correction where it would make p negative
            p += pcoul
            e += ecoul
            dpdr += pcoul / rho + n_i * kT / 3.0 * du_dg * dg_dr
            dpdT += pcoul / T + n_i * kT / 3.0 * du_dg * dg_dT
            dedr += n_i * kT / rho * du_dg * dg_dr
            dedT += ecoul / T + n_i * kT / rho * du_dg * dg_dT
    cv = dedT
    dT_dr_s = (p / (rho * rho) - dedr) / dedT
    gamma1 = rho / p * (dpdr + dpdT * dT_dr_s)
    cp = cv + (p / (rho * rho) - dedr) * dpdT / dpdr
    out[0] = p
    out[1] = e
    out[2] = s
    out[3] = cv
    out[4] = cp
    out[5] = gamma1
    out[6] = math.sqrt(gamma1 * p / rho)
    out[7] = dpdr
    out[8] = dpdT
    out[9] = dedr
    out[10] = dedT
    out[11] = eta
    out[12] = n_e
    out[13] = n_p


@njit(cache=True, parallel=True)
def eos_kernel(rho, T, abar, zbar, opts):
    """EOS for N zones (all inputs [N]); returns [N, len(EOS_FIELDS)]."""
    n = rho.shape[0]
    out = np.empty((n, _NF))
    block = 256  # zones per scratch allocation
    for b in prange((n + block - 1) // block):
        scratch = eos_scratch()
        for i in range(b * block, min(n, (b + 1) * block)):
            _eos_zone(rho[i], T[i], abar[i], zbar[i], opts, out[i], scratch, np.nan)
    return out


@njit(cache=True, parallel=True)
def temperature_from_energy(rho, e, abar, zbar, T_guess, opts, rtol):
    """Invert e(ρ, T) for T on N zones by safeguarded Newton (bracketed in :data:`T_RANGE`).

    Returns ``(T [N], converged [N] bool)``; a zone with a non-finite ``e`` is not iterated (T = NaN, not
    converged).
    """
    n = rho.shape[0]
    T_out = np.empty(n)
    ok = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        if not math.isfinite(e[i]):
            T_out[i] = np.nan
            continue
        scratch = eos_scratch()
        res = np.empty(_NF)
        lo, hi = 1e4, 1e11
        T = min(max(T_guess[i], lo), hi)
        res[11] = np.nan
        for _ in range(100):
            _eos_zone(rho[i], T, abar[i], zbar[i], opts, res, scratch, res[11])
            f = res[1] - e[i]
            if f > 0.0:
                hi = T
            else:
                lo = T
            new = T - f / res[10]
            if not (lo < new < hi):
                new = math.sqrt(lo * hi)
            if abs(new - T) <= rtol * T:
                T = new
                ok[i] = True
                break
            T = new
        T_out[i] = T
    return T_out, ok


@dataclasses.dataclass(frozen=True)
class StellarEOS:
    """Vectorized stellar EOS. ``coulomb`` adds the ion Coulomb correction; ``positrons`` the pair gas;
    ``table`` interpolates the pair gas in the cached Helmholtz-type table (:mod:`lawful.burn.eos_table`;
    ~1e-6 accurate, many times faster) instead of direct Fermi–Dirac quadrature."""

    coulomb: bool = False
    positrons: bool = True
    table: bool = False

    def options(self) -> tuple:
        """The options tuple the numba kernels take (loads or generates the table when ``table``)."""
        if self.table:
            if not self.positrons:
                raise ValueError("the EOS table includes positrons; use table=False with positrons=False")
            from lawful.burn.eos_table import load_table

            return (self.coulomb, True, *load_table())
        return (self.coulomb, self.positrons, NO_TABLE, 0.0, 1.0, 0.0, 1.0)

    def __call__(self, rho, T, abar, zbar) -> dict[str, np.ndarray]:
        """Thermodynamics at (ρ, T) with mean mass number ``abar`` and charge ``zbar`` (arrays broadcast).

        Returns a dict of arrays keyed by :data:`EOS_FIELDS`.
        """
        rho, T, abar, zbar = (np.ascontiguousarray(a, dtype=np.float64).ravel() for a in np.broadcast_arrays(rho, T, abar, zbar))
        check_state(rho, T)
        out = eos_kernel(rho, T, abar, zbar, self.options())
        return {name: out[:, j] for j, name in enumerate(EOS_FIELDS)}

    def temperature(self, rho, e, abar, zbar, T_guess=1e9, rtol: float = 1e-12) -> np.ndarray:
        """T(ρ, e) for arrays; raises ``ValueError`` naming the zones where Newton did not converge."""
        rho, e, abar, zbar, T_guess = (
            np.ascontiguousarray(a, dtype=np.float64).ravel() for a in np.broadcast_arrays(rho, e, abar, zbar, T_guess)
        )
        T, ok = temperature_from_energy(rho, e, abar, zbar, T_guess, self.options(), rtol)
        if not ok.all():
            bad = np.flatnonzero(~ok)[:5]
            raise ValueError(f"T(ρ, e) did not converge in zones {bad.tolist()} (e = {e[bad].tolist()} erg/g)")
        return T


def check_state(rho, T) -> None:
    """Raise ``ValueError`` naming the first ρ or T outside :data:`RHO_RANGE` / :data:`T_RANGE`."""
    rho, T = np.asarray(rho), np.asarray(T)
    for name, arr, (lo, hi), unit in (("rho", rho, RHO_RANGE, "g/cm^3"), ("T", T, T_RANGE, "K")):
        bad = ~((arr >= lo) & (arr <= hi))
        if bad.any():
            v = arr[bad].flat[0]
            raise ValueError(f"{name} = {v:.6g} {unit} is outside the EOS range [{lo:.0e}, {hi:.0e}]")
