"""Electron screening (screen5 of Wallace, Woosley & Weaver 1982) with its temperature derivative, in numba.

pynucastro's ``screen5`` returns only the factor; an implicit integrator with a self-heating temperature
equation also needs ∂(ln f)/∂T, so the same formulas are written here with forward-mode derivatives.
Tests compare the value against pynucastro's ``screen5`` and the derivative against finite differences.

Plasma parameters follow pynucastro's ``PlasmaState`` (Graboske 1973 weak screening, Alastuey & Jancovici
1978 strong screening with Itoh 1979 plasma parameters); units CGS, T in K.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# CGS constants, the values pynucastro's screening uses (pynucastro.constants).
_Q_E = 4.803204712570263e-10  # elementary charge, esu
_K_B = 1.380649e-16  # Boltzmann constant, erg/K
_HBAR = 1.0545718176461565e-27  # erg s
_M_U_C18 = 1.6605390666e-24  # atomic mass unit (C12 = 12), g

#: (27 π² e⁴ m_u / (2 k ħ²))^{1/3} / 3 (Itoh 1979 eq. 6, with the extra 1/3).
TAU_FACTOR = np.cbrt(27 * np.pi**2 * _Q_E**4 * _M_U_C18 / (2 * _K_B * _HBAR**2)) / 3
#: e² / ((3 m_u / 4π)^{1/3} k) (Itoh 1979 eq. 4).
GAMMA_FACTOR = _Q_E**2 / (np.cbrt(3 * _M_U_C18 / (4 * np.pi)) * _K_B)


@njit(cache=True)
def plasma_state(rho, T, Y, Z):
    """Plasma parameters for screening: (qlam0z, taufac, aa) at ``T``, each ∝ a power of T.

    ``Y`` [n] molar abundances, ``Z`` [n] charges. Returns ``(qlam0z, taufac, aa)``; their T-derivatives
    are −1.5 qlam0z/T, −taufac/(3T) and −aa/T.
    """
    ytot = 0.0
    zy = 0.0
    z2y = 0.0
    for i in range(Y.shape[0]):
        ytot += Y[i]
        zy += Z[i] * Y[i]
        z2y += Z[i] * Z[i] * Y[i]
    zbar = zy / ytot
    z2bar = z2y / ytot
    rr = rho * ytot
    qlam0z = 1.88e8 / T * math.sqrt(rr / T * (z2bar + zbar))
    taufac = TAU_FACTOR / np.cbrt(T)
    aa = GAMMA_FACTOR / T * np.cbrt(rr * zbar)
    return qlam0z, taufac, aa


def pair_constants(z1: float, a1: float, z2: float, a2: float) -> np.ndarray:
    """Per-pair constants of :func:`screen5` (computed once per network, not per call):
    (Z1 Z2, (Z1+Z2)^{1/3}, ẑ = (Z1+Z2)^{5/3} − Z1^{5/3} − Z2^{5/3}, the same with 5/12, (5/3) ln(Z1Z2/(Z1+Z2)),
    (Z1² Z2² A1 A2 / (A1+A2))^{1/3})."""
    return np.array([
        z1 * z2, np.cbrt(z1 + z2),
        (z1 + z2) ** (5 / 3) - z1 ** (5 / 3) - z2 ** (5 / 3),
        (z1 + z2) ** (5 / 12) - z1 ** (5 / 12) - z2 ** (5 / 12),
        (5 / 3) * np.log(z1 * z2 / (z1 + z2)),
        np.cbrt(z1**2 * z2**2 * a1 * a2 / (a1 + a2)),
    ])


@njit(cache=True)
def screen5(T, qlam0z, taufac, aa, const, q):
    """ln of the screening enhancement for pair ``q`` and its derivative d/dT (1/K).

    ``const`` [Q, 6]: every pair's :func:`pair_constants` (the array and an index, not a row view: that call
    was twice as slow). Returns ``(h, dh_dT)``; ``h = ln f ≥ 0``.
    """
    fact = np.cbrt(2.0)
    gamefx = 0.3
    gamefs = 0.8
    bb, zs13, zhat, zhat2, lzav, aznut = const[q, 0], const[q, 1], const[q, 2], const[q, 3], const[q, 4], const[q, 5]

    gamp = aa
    dgamp = -aa / T
    qq = fact * bb / zs13
    gamef = qq * gamp
    dgamef = qq * dgamp
    tau12 = taufac * aznut
    dtau12 = -tau12 / (3.0 * T)
    alph12 = gamef / tau12
    dalph12 = dgamef / tau12 - gamef * dtau12 / (tau12 * tau12)
    if alph12 > 1.6:
        alph12 = 1.6
        dalph12 = 0.0
        gamef = 1.6 * tau12
        dgamef = 1.6 * dtau12
        gamp = gamef * zs13 / (fact * bb)
        dgamp = dgamef * zs13 / (fact * bb)

    h12w = bb * qlam0z
    dh12w = -1.5 * h12w / T
    h12 = h12w
    dh12 = dh12w
    if gamef > gamefx:
        gamp14 = math.sqrt(math.sqrt(gamp))
        dgamp14 = 0.25 * gamp14 / gamp * dgamp
        cc = 0.896434 * gamp * zhat - 3.44740 * gamp14 * zhat2 - 0.5551 * (math.log(gamp) + lzav) - 2.996
        dcc = 0.896434 * dgamp * zhat - 3.44740 * dgamp14 * zhat2 - 0.5551 * dgamp / gamp
        a3 = alph12 * alph12 * alph12
        da3 = 3.0 * alph12 * alph12 * dalph12
        q = 0.014 + 0.0128 * alph12
        dq = 0.0128 * dalph12
        r = 5.0 / 32.0 - alph12 * q
        dr = -dalph12 * q - alph12 * dq
        s = tau12 * r
        ds = dtau12 * r + tau12 * dr
        t = -0.0098 + 0.0048 * alph12
        dt = 0.0048 * dalph12
        u = 0.0055 + alph12 * t
        du = dalph12 * t + alph12 * dt
        v = gamef * alph12 * u
        dv = dgamef * alph12 * u + gamef * dalph12 * u + gamef * alph12 * du
        hs = cc - a3 * (s + v)
        dhs = dcc - da3 * (s + v) - a3 * (ds + dv)
        quantum = 1.0 - 0.0562 * a3
        if quantum > 0.77:
            hs += math.log(quantum)
            dhs += -0.0562 * da3 / quantum
        else:
            hs += math.log(0.77)
        if gamef <= gamefs:
            dgam = 1.0 / (gamefs - gamefx)
            wr = dgam * (gamefs - gamef)
            ws = dgam * (gamef - gamefx)
            h12 = h12w * wr + hs * ws
            dh12 = dh12w * wr - h12w * dgam * dgamef + dhs * ws + hs * dgam * dgamef
        else:
            h12 = hs
            dh12 = dhs
    if h12 < 0.0:
        return 0.0, 0.0
    return h12, dh12
