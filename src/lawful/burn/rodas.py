"""RODAS3 (Sandu et al. 1997): a 4-stage, L-stable, stiffly accurate Rosenbrock method of order 3 with an
embedded order-2 error estimate, for one zone, in numba (``burn(..., method="rodas3")``).

A one-step method that needs a fresh Jacobian and LU every step; kept beside the default BDF as an independent
check. Error control on mass fractions X_i = A_i Y_i and on T: err = RMS(ΔX_i / (atol + rtol |X_i|),
ΔT / (rtol T)), step accepted if err ≤ 1. A non-finite stage rejects the step; a zone that cannot continue keeps
its last good state and reports why in its status.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from lawful.burn import zone
from lawful.burn.eos import EOS_ETA, N_EOS, eos_scratch
from lawful.burn.kernels import workspace
from lawful.burn.zone import all_finite, initial_state, lu_factor, lu_solve, record, zone_rhs, zone_rhs_jac

# RODAS3 in the KPP form: G = I/(hγ) − J;  G K_i = F(y + Σ A_ij K_j) + Σ (C_ij / h) K_j
GAMMA = 0.5
_A21, _A31, _A32, _A41, _A42, _A43 = 0.0, 2.0, 0.0, 2.0, 0.0, 1.0
_C21, _C31, _C32, _C41, _C42, _C43 = 4.0, 1.0, -1.0, 1.0, -1.0, -8.0 / 3.0
_M = (2.0, 0.0, 1.0, 1.0)  # y_new = y + Σ M_i K_i; the error estimate is K_4 itself (E = (0, 0, 0, 1))
_ORDER_ERR = 3.0
_FAC_MIN, _FAC_MAX, _FAC_SAFE = 0.2, 6.0, 0.9


@njit(cache=True)
def _error_norm(y0, y1, err, A, n, heat, rtol, atol):
    s = 0.0
    for i in range(n):
        sc = atol + rtol * max(abs(y0[i]), abs(y1[i])) * A[i]
        s += (err[i] * A[i] / sc) ** 2
    m = n
    if heat:
        s += (err[n] / (rtol * max(abs(y0[n]), abs(y1[n])))) ** 2
        m += 1
    return math.sqrt(s / m)


@njit(cache=True)
def rodas3_scratch(nv):
    """Work arrays of :func:`rodas3_stages` for nv unknowns: (f0, f, ystage, ynew [nv], K [4, nv])."""
    return np.empty(nv), np.empty(nv), np.empty(nv), np.empty(nv), np.empty((4, nv))


@njit(cache=True)
def rodas3_stages(rho, y, T0, f0, jac, h, net, screen, heat, eos_opts, G, piv, K, ystage, f, ynew, lam, dlam, work,
                  eos_out, scratch):
    """One RODAS3 step of length ``h`` (s) from y [nv] with F(y) = ``f0`` and Jacobian ``jac`` [nv, nv]: factors
    G = I/(hγ) − J into ``G``, ``piv``, fills the stages ``K`` [4, nv] and writes y + Σ M_i K_i into ``ynew``
    (K[3] is the embedded error estimate). Two RHS evaluations (stages 3 and 4; stage 2 reuses F(y)).

    Returns ``(factored, finite)``: whether the LU exists, and whether every stage and ``ynew`` are finite.
    ``ystage``, ``f`` [nv] are scratch.
    """
    nv = y.shape[0]
    for i in range(nv):
        for j in range(nv):
            G[i, j] = -jac[i, j]
        G[i, i] += 1.0 / (h * GAMMA)
    if not lu_factor(G, piv):
        return False, False
    # stage 1 (and 2: A21 = 0, so F is not re-evaluated)
    for i in range(nv):
        K[0, i] = f0[i]
    lu_solve(G, piv, K[0])
    for i in range(nv):
        K[1, i] = f0[i] + _C21 / h * K[0, i]
    lu_solve(G, piv, K[1])
    # stage 3
    for i in range(nv):
        ystage[i] = y[i] + _A31 * K[0, i] + _A32 * K[1, i]
    if not zone_rhs(rho, ystage, T0, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, scratch):
        return True, False
    for i in range(nv):
        K[2, i] = f[i] + (_C31 * K[0, i] + _C32 * K[1, i]) / h
    lu_solve(G, piv, K[2])
    # stage 4
    for i in range(nv):
        ystage[i] = y[i] + _A41 * K[0, i] + _A42 * K[1, i] + _A43 * K[2, i]
    if not zone_rhs(rho, ystage, T0, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, scratch):
        return True, False
    for i in range(nv):
        K[3, i] = f[i] + (_C41 * K[0, i] + _C42 * K[1, i] + _C43 * K[2, i]) / h
    lu_solve(G, piv, K[3])
    for i in range(nv):
        ynew[i] = y[i] + _M[0] * K[0, i] + _M[2] * K[2, i] + _M[3] * K[3, i]
    return True, all_finite(ynew)


@njit(cache=True)
def integrate_zone(rho, T0, Y0, t_out, net, screen, heat, eos_opts, rtol, atol, max_steps, y_out, stats):
    """Integrate one zone from t = 0 through the increasing times ``t_out`` [M] (s).

    Writes (Y, T) at each output time into ``y_out`` [M, n+1] and
    ``stats`` [6] = (status, accepted steps, rejected steps, RHS evaluations, Jacobians, LU factorizations).
    """
    n = Y0.shape[0]
    nv = n + 1 if heat else n
    A = net.A
    y = initial_state(Y0, T0, heat)
    f0, f, ystage, ynew, K = rodas3_scratch(nv)
    G = np.empty((nv, nv))
    jac = np.zeros((nv, nv))
    piv = np.empty(nv, dtype=np.int64)
    lam, dlam, work = workspace(net)
    dydT = np.empty(n)
    eos_out = np.empty(N_EOS)
    eos_out[EOS_ETA] = np.nan
    eos_tmp = np.empty(N_EOS)
    scratch = eos_scratch()
    status = zone.Status.SUCCESS
    accepted = 0
    rejected = 0
    n_rhs = 0
    n_jac = 0  # one at the start of each step; a rejected step retries with the same Jacobian
    t = 0.0
    t_end = t_out[t_out.shape[0] - 1]
    h = 1e-9 * t_end  # first trial step; the controller grows it by up to 6× per step
    h_min = 1e-16 * t_end
    k_out = 0
    have_f0 = False
    while k_out < t_out.shape[0]:
        target = t_out[k_out]
        if t >= target * (1.0 - 1e-15):
            record(y_out[k_out], y, heat, T0)
            k_out += 1
            continue
        if accepted + rejected >= max_steps:
            status = zone.Status.MAX_STEPS
            break
        h = min(h, target - t)
        if not have_f0:
            if not zone_rhs_jac(rho, y, T0, net, screen, heat, eos_opts, f0, jac, lam, dlam, work, eos_out, dydT,
                                eos_tmp, scratch):
                status = zone.Status.EOS_FAILED
                break
            n_rhs += 1
            n_jac += 1
            if not all_finite(f0):
                status = zone.Status.RATES_FAILED
                break
            have_f0 = True
        ok, finite = rodas3_stages(rho, y, T0, f0, jac, h, net, screen, heat, eos_opts, G, piv, K, ystage, f, ynew,
                                   lam, dlam, work, eos_out, scratch)
        if ok:
            n_rhs += 2
        if finite:
            err = _error_norm(y, ynew, K[3], A, n, heat, rtol, atol)
            finite = math.isfinite(err)
        if not finite:
            rejected += 1
            h *= 0.25
            if h < h_min:
                status = zone.Status.SINGULAR if not ok else zone.Status.STEP_TOO_SMALL
                break
            continue
        fac = min(_FAC_MAX, max(_FAC_MIN, _FAC_SAFE / max(err, 1e-10) ** (1.0 / _ORDER_ERR)))
        if err <= 1.0:
            t += h
            for i in range(nv):
                y[i] = ynew[i]
            accepted += 1
            have_f0 = False
            h *= fac
        else:
            rejected += 1
            h *= min(fac, 1.0)
            if h < h_min:
                status = zone.Status.STEP_TOO_SMALL
                break
    if status != zone.Status.SUCCESS:
        for k in range(k_out, t_out.shape[0]):
            record(y_out[k], y, heat, T0)
    stats[zone.Stat.STATUS] = status
    stats[zone.Stat.ACCEPTED] = accepted
    stats[zone.Stat.REJECTED] = rejected
    stats[zone.Stat.N_RHS] = n_rhs
    stats[zone.Stat.N_JAC] = n_jac
    stats[zone.Stat.N_LU] = accepted + rejected  # one LU per attempted step
