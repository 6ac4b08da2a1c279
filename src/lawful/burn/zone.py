"""Per-zone pieces shared by the integrators (:mod:`lawful.burn.rodas`, :mod:`lawful.burn.bdf`): the ODE
right-hand side, its Jacobian, a small dense LU, and the per-zone :class:`Status`.

Unknowns: molar abundances Y [n] (mol/g) and, in self-heating mode, the temperature T (K) with

    dT/dt = ε̇(ρ, T, Y) / c_v(ρ, T, Y)         (ε̇ from binding energies, c_v from the stellar EOS).

The Jacobian is analytic (:func:`lawful.burn.kernels.jacobian`); in self-heating mode the derivatives of c_v
in the T row come from EOS differences (neglecting them, as Microphysics does, turns RODAS3 into a W-method of
lower order: the global error then fell only as rtol^½ in our tests).
"""

from __future__ import annotations

import enum
import math

import numpy as np
from numba import njit

from lawful.burn.eos import EOS_CV, EOS_ETA, eos_zone
from lawful.burn.kernels import MEV_TO_ERG, N_A, jacobian, network_rates, ydot


class Status(enum.IntEnum):
    """Outcome of one zone's integration."""

    SUCCESS = 0
    MAX_STEPS = 1  #: the step budget ran out before t_end
    STEP_TOO_SMALL = 2  #: the step size fell below 1e-16 × t_end (e.g. repeated non-finite stages)
    SINGULAR = 3  #: the iteration matrix could not be factorized
    EOS_FAILED = 4  #: the temperature left the EOS range in self-heating mode
    RATES_FAILED = 5  #: dY/dt is not finite at a step's start (rates overflow: e.g. strong screening far below the
    #: temperatures REACLIB's fits cover)


class Stat(enum.IntEnum):
    """Columns of a zone's ``stats`` row (numba indexes with the members as with ints)."""

    STATUS = 0  #: the zone's :class:`Status`
    ACCEPTED = 1  #: accepted steps
    REJECTED = 2  #: rejected steps
    N_RHS = 3  #: right-hand-side evaluations
    N_JAC = 4  #: Jacobian evaluations
    N_LU = 5  #: LU factorizations

#: temperatures the EOS accepts in self-heating mode (K)
_T_MIN, _T_MAX = 1e4, 1e11


@njit(cache=True)
def lu_factor(a, piv):
    """In-place LU with partial pivoting of the square ``a``; returns False if singular."""
    n = a.shape[0]
    for k in range(n):
        p = k
        big = abs(a[k, k])
        for i in range(k + 1, n):
            if abs(a[i, k]) > big:
                big = abs(a[i, k])
                p = i
        piv[k] = p
        if big == 0.0 or not math.isfinite(big):
            return False
        if p != k:
            for j in range(n):
                a[k, j], a[p, j] = a[p, j], a[k, j]
        inv = 1.0 / a[k, k]
        for i in range(k + 1, n):
            a[i, k] *= inv
            f = a[i, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    a[i, j] -= f * a[k, j]
    return True


@njit(cache=True)
def lu_solve(a, piv, b):
    """Solve in place with the factors from :func:`lu_factor`."""
    n = a.shape[0]
    for k in range(n):
        p = piv[k]
        if p != k:
            b[k], b[p] = b[p], b[k]
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= a[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= a[i, j] * b[j]
        b[i] = s / a[i, i]


@njit(cache=True)
def zone_rhs(rho, y, T_fixed, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, scratch, derivs=False):
    """F(y) into ``f``; y = Y (fixed T) or (Y, T). Returns False if the EOS cannot be evaluated.

    ``derivs``: also leave dλ/dT in ``dlam``, for a Jacobian at the same y (:func:`zone_rhs_jac`)."""
    n = net.A.shape[0]
    T = y[n] if heat else T_fixed
    if heat and not (_T_MIN <= T <= _T_MAX):
        return False
    Y = y[:n]
    network_rates(rho, T, Y, net, screen, lam, dlam, work, derivs)
    enuc = ydot(rho, Y, net, lam, f[:n])
    if heat:
        abar, zbar = _abar_zbar(Y, net.Z)
        eos_zone(rho, T, abar, zbar, eos_opts, eos_out, scratch, eos_out[EOS_ETA])
        f[n] = enuc / eos_out[EOS_CV]
    return True


@njit(cache=True)
def all_finite(f):
    """True if every entry of ``f`` is finite."""
    for i in range(f.shape[0]):
        if not math.isfinite(f[i]):
            return False
    return True


@njit(cache=True)
def _abar_zbar(Y, Z):
    ytot = 0.0
    zy = 0.0
    for i in range(Y.shape[0]):
        ytot += Y[i]
        zy += Z[i] * Y[i]
    return 1.0 / ytot, zy / ytot


@njit(cache=True)
def zone_rhs_jac(rho, y, T_fixed, net, screen, heat, eos_opts, f, jac, lam, dlam, work, eos_out, dydT, eos_tmp,
                 scratch):
    """F(y) into ``f`` and the analytic Jacobian into ``jac`` (in self-heating mode with the T row and column),
    from one evaluation of the rates and their T-derivatives. Returns False if the EOS cannot be evaluated.

    The T row of dT/dt = ε̇/c_v needs ∂c_v/∂T and ∂c_v/∂Y (through Ā and Z̄); those come from one-sided
    differences of the EOS (relative step 1e-7), so the iteration matrix is exact to ~1e-7 and RODAS3 keeps
    its order.
    """
    if not zone_rhs(rho, y, T_fixed, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, scratch, True):
        return False
    n = net.A.shape[0]
    T = y[n] if heat else T_fixed
    Y = y[:n]
    jacobian(rho, Y, net, lam, dlam, jac[:n, :n], dydT)
    if heat:
        dTdt = f[n]
        binding, Z = net.binding, net.Z
        cv = eos_out[EOS_CV]
        c = N_A * MEV_TO_ERG / cv
        abar, zbar = _abar_zbar(Y, Z)
        d = 1e-7
        eos_zone(rho, T * (1.0 + d), abar, zbar, eos_opts, eos_tmp, scratch, eos_out[EOS_ETA])
        dcv_dT = (eos_tmp[EOS_CV] - cv) / (d * T)
        eos_zone(rho, T, abar * (1.0 + d), zbar, eos_opts, eos_tmp, scratch, eos_out[EOS_ETA])
        dcv_da = (eos_tmp[EOS_CV] - cv) / (d * abar)
        eos_zone(rho, T, abar, zbar * (1.0 + d), eos_opts, eos_tmp, scratch, eos_out[EOS_ETA])
        dcv_dz = (eos_tmp[EOS_CV] - cv) / (d * zbar)
        g = dTdt / cv  # ε̇ / c_v²
        for i in range(n):
            jac[i, n] = dydT[i]
        for j in range(n + 1):
            s = 0.0
            for i in range(n):
                s += binding[i] * jac[i, j]
            jac[n, j] = c * s
        for j in range(n):  # ∂Ā/∂Y_j = −Ā², ∂Z̄/∂Y_j = (Z_j − Z̄) Ā
            jac[n, j] -= g * (dcv_da * (-abar * abar) + dcv_dz * (Z[j] - zbar) * abar)
        jac[n, n] -= g * dcv_dT
    return True


@njit(cache=True)
def initial_state(Y0, T0, heat):
    """The unknowns at t = 0: Y0 [n], plus T0 when ``heat``."""
    n = Y0.shape[0]
    y = np.empty(n + 1 if heat else n)
    y[:n] = Y0
    if heat:
        y[n] = T0
    return y


@njit(cache=True)
def record(row, y, heat, T0):
    """Write the state ``y`` into an output row [n+1] (Y, T); a fixed T is copied in."""
    row[: y.shape[0]] = y
    if not heat:
        row[row.shape[0] - 1] = T0
