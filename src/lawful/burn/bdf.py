"""Variable-order BDF (orders 1–5, the NDF variant of Shampine & Reichelt 1997, as in scipy's ``BDF``) for one
zone, in numba, with Jacobian and LU reuse: the Jacobian is recomputed only when the simplified Newton
iteration fails to converge or converged slowly (rate > 0.05) on the last step (about one step in 30 here), and
the iteration matrix I − cJ is refactorized only when h or the order changes. That reuse is what makes BDF
cheaper than a Rosenbrock method here, where each step needs a fresh Jacobian.

Newton follows CVODE rather than scipy: it stops when the estimated remaining error is below 0.1 of the local
error tolerance, and a step may converge after one iteration, judged with the rate remembered from earlier steps
(re-measured after 10 such steps and after a rejected step).

The state is kept as backward differences D [order + 3, n]; a step predicts y = Σ D_k, corrects it by Newton
on y − c f(y) − ψ = 0 (c = h / α_order), estimates the local error from the correction, and picks the next
order from the error estimates of orders k − 1, k, k + 1. Same unknowns, error norm, Jacobian and statuses as
:mod:`lawful.burn.zone`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from lawful.burn import zone
from lawful.burn.eos import EOS_ETA, N_EOS, eos_scratch
from lawful.burn.kernels import workspace
from lawful.burn.zone import all_finite, initial_state, lu_factor, lu_solve, record, zone_rhs, zone_rhs_jac

_MAX_ORDER = 5
_NEWTON_MAXITER = 4
_MIN_FACTOR, _MAX_FACTOR = 0.2, 10.0
_CRATE_DOWN = 0.3  # how fast the remembered convergence rate may fall per measurement (CVODE's CRDOWN)
_CRATE_MAX_USES = 10  # steps a remembered rate may serve before it is measured again
_RATE_STALE = 0.05  # a step whose Newton rate exceeded this refreshes the Jacobian before the next
_KAPPA = np.array([0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0])
_GAMMA = np.concatenate((np.zeros(1), np.cumsum(1.0 / np.arange(1, _MAX_ORDER + 1))))
_ALPHA = (1.0 - _KAPPA) * _GAMMA
_ERROR_CONST = _KAPPA * _GAMMA + 1.0 / np.arange(1, _MAX_ORDER + 2)


@njit(cache=True)
def _r_matrix(order, factor, M):
    """Shampine & Reichelt's R(order, factor) into ``M`` [order+1, order+1]:
    M[i, j] = Π_{r≤i} (r − 1 − factor·j) / r."""
    for j in range(order + 1):
        M[0, j] = 1.0
    for i in range(1, order + 1):
        M[i, 0] = 0.0
        for j in range(1, order + 1):
            M[i, j] = M[i - 1, j] * (i - 1 - factor * j) / i


@njit(cache=True)
def _change_D(D, order, factor):
    """Rescale the differences D[:order+1] for a step-size change by ``factor`` (Shampine & Reichelt, eq. 2.4):
    D ← (R U)ᵀ D with R = R(order, factor), U = R(order, 1)."""
    m = order + 1
    R = np.empty((m, m))
    U = np.empty((m, m))
    _r_matrix(order, factor, R)
    _r_matrix(order, 1.0, U)
    n = D.shape[1]
    new = np.zeros((m, n))
    for i in range(m):
        for k in range(m):
            c = 0.0  # (R U)[k, i]
            for q in range(m):
                c += R[k, q] * U[q, i]
            if c != 0.0:
                for col in range(n):
                    new[i, col] += c * D[k, col]
    for i in range(m):
        for col in range(n):
            D[i, col] = new[i, col]


@njit(cache=True)
def _norm(x, scale):
    s = 0.0
    for i in range(x.shape[0]):
        s += (x[i] / scale[i]) ** 2
    return math.sqrt(s / x.shape[0])


@njit(cache=True)
def _scale(y, A, n, heat, rtol, atol, out):
    """Error weights: atol + rtol |X| on mass fractions (in Y units), rtol |T| on temperature."""
    for i in range(n):
        out[i] = (atol + rtol * abs(y[i]) * A[i]) / A[i]
    if heat:
        out[n] = rtol * abs(y[n])


@njit(cache=True)
def integrate_zone(rho, T0, Y0, t_out, net, screen, heat, eos_opts, rtol, atol, max_steps, y_out, stats):
    """Integrate one zone through the increasing times ``t_out`` [M]; same outputs as
    :func:`lawful.burn.rodas.integrate_zone` (``stats`` [6] = status, accepted, rejected, RHS evaluations, Jacobians,
    LU factorizations)."""
    n = Y0.shape[0]
    nv = n + 1 if heat else n
    A = net.A
    lam, dlam, work = workspace(net)
    dydT = np.empty(n)
    eos_out, eos_tmp = np.empty(N_EOS), np.empty(N_EOS)
    eos_out[EOS_ETA] = np.nan
    scratch = eos_scratch()
    f = np.empty(nv)
    jac = np.zeros((nv, nv))
    lu = np.empty((nv, nv))
    piv = np.empty(nv, dtype=np.int64)
    D = np.zeros((_MAX_ORDER + 3, nv))
    y = initial_state(Y0, T0, heat)
    ypred = np.empty(nv)
    ynew = np.empty(nv)
    psi = np.empty(nv)
    d = np.empty(nv)
    dy = np.empty(nv)
    scale = np.empty(nv)
    err = np.empty(nv)
    tol_newton = max(10.0 * 2.220446049250313e-16 / rtol, 0.1)
    status, accepted, rejected, n_rhs, n_jac, n_lu = zone.Status.SUCCESS, 0, 0, 0, 0, 0
    crate = -1.0  # remembered Newton convergence rate (CVODE's crate); −1 while none is trusted
    crate_uses = 0  # steps accepted on crate alone since it was last measured
    jac_stale = False
    t = 0.0
    k_out = 0
    # initial state, Jacobian and step (Hairer, Nørsett & Wanner's starting-step heuristic)
    if not zone_rhs_jac(rho, y, T0, net, screen, heat, eos_opts, f, jac, lam, dlam, work, eos_out, dydT, eos_tmp,
                        scratch):
        status = zone.Status.EOS_FAILED
    elif not all_finite(f):
        status = zone.Status.RATES_FAILED
    n_rhs += 1
    n_jac += 1
    jac_current = True
    _scale(y, A, n, heat, rtol, atol, scale)
    d0 = _norm(y, scale)
    d1 = _norm(f, scale)
    t_end = t_out[t_out.shape[0] - 1]
    h = 1e-6 * t_end if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h = min(h, t_end)
    for i in range(nv):
        D[0, i] = y[i]
        D[1, i] = f[i] * h
    order = 1
    n_equal = 0
    lu_valid = False
    while status == zone.Status.SUCCESS and k_out < t_out.shape[0]:
        target = t_out[k_out]
        if t >= target * (1.0 - 1e-15):
            record(y_out[k_out], D[0], heat, T0)
            k_out += 1
            continue
        if accepted + rejected >= max_steps:
            status = zone.Status.MAX_STEPS
            break
        if t + h > target:  # land on the output time
            new_h = target - t
            _change_D(D, order, new_h / h)
            h = new_h
            n_equal = 0
            lu_valid = False
        if h < 1e-16 * t_end:
            status = zone.Status.STEP_TOO_SMALL
            break
        # predictor and the constant part of the corrector
        for i in range(nv):
            s = 0.0
            for k in range(order + 1):
                s += D[k, i]
            ypred[i] = s
            p = 0.0
            for k in range(1, order + 1):
                p += _GAMMA[k] * D[k, i]
            psi[i] = p / _ALPHA[order]
        c = h / _ALPHA[order]
        _scale(ypred, A, n, heat, rtol, atol, scale)
        if jac_stale and not jac_current:  # Newton failed, or converged slowly last step: a fresh Jacobian
            zone_rhs_jac(rho, D[0], T0, net, screen, heat, eos_opts, f, jac, lam, dlam, work, eos_out, dydT, eos_tmp,
                     scratch)
            n_rhs += 1
            n_jac += 1
            jac_current = True
            lu_valid = False
            crate = -1.0
        jac_stale = False
        n_iter = 0
        if not lu_valid:
            for i in range(nv):
                for j in range(nv):
                    lu[i, j] = -c * jac[i, j]
                lu[i, i] += 1.0
            n_lu += 1
            if not lu_factor(lu, piv):
                status = zone.Status.SINGULAR
                break
            lu_valid = True
        # simplified Newton on y − c f(y) − ψ = 0
        for i in range(nv):
            ynew[i] = ypred[i]
            d[i] = 0.0
        dy_norm_old = -1.0
        converged = False
        for it in range(_NEWTON_MAXITER):
            n_iter = it + 1
            ok = zone_rhs(rho, ynew, T0, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, scratch)
            n_rhs += 1
            if not (ok and all_finite(f)):
                break
            for i in range(nv):
                dy[i] = c * f[i] - psi[i] - d[i]
            lu_solve(lu, piv, dy)
            dy_norm = _norm(dy, scale)
            rate = dy_norm / dy_norm_old if dy_norm_old > 0.0 else -1.0
            if rate >= 1.0 or (rate > 0.0 and rate ** (_NEWTON_MAXITER - it) / (1.0 - rate) * dy_norm > tol_newton):
                break
            for i in range(nv):
                ynew[i] += dy[i]
                d[i] += dy[i]
            if rate > 0.0:
                crate = max(_CRATE_DOWN * crate, rate)
                crate_uses = 0
                jac_stale = rate > _RATE_STALE
            elif 0.0 < crate < 1.0 and crate_uses < _CRATE_MAX_USES:  # first iteration: the remembered rate
                rate = crate
            if dy_norm == 0.0 or (rate > 0.0 and rate / (1.0 - rate) * dy_norm < tol_newton):
                converged = True
                if it == 0:
                    crate_uses += 1
                break
            dy_norm_old = dy_norm
        if not converged and not jac_current:  # retry the step with a Jacobian refreshed at its start
            jac_stale = True
            continue
        if not converged:
            rejected += 1
            _change_D(D, order, 0.5)
            h *= 0.5
            n_equal = 0
            lu_valid = False
            continue
        safety = 0.9 * (2 * _NEWTON_MAXITER + 1) / (2 * _NEWTON_MAXITER + n_iter)
        _scale(ynew, A, n, heat, rtol, atol, scale)
        for i in range(nv):
            err[i] = _ERROR_CONST[order] * d[i]
        error_norm = _norm(err, scale)
        if not math.isfinite(error_norm) or error_norm > 1.0:
            rejected += 1
            crate = -1.0  # measure the convergence rate afresh
            factor = _MIN_FACTOR
            if math.isfinite(error_norm):
                factor = max(_MIN_FACTOR, safety * error_norm ** (-1.0 / (order + 1)))
            _change_D(D, order, factor)
            h *= factor
            n_equal = 0
            lu_valid = False
            continue
        # accept
        t += h
        accepted += 1
        n_equal += 1
        jac_current = False
        for i in range(nv):
            D[order + 2, i] = d[i] - D[order + 1, i]
            D[order + 1, i] = d[i]
        for k in range(order, -1, -1):
            for i in range(nv):
                D[k, i] += D[k + 1, i]
        if n_equal < order + 1:
            continue
        # order and step-size selection from the error estimates of orders k−1, k, k+1
        em = math.inf
        ep = math.inf
        if order > 1:
            for i in range(nv):
                err[i] = _ERROR_CONST[order - 1] * D[order, i]
            em = _norm(err, scale)
        if order < _MAX_ORDER:
            for i in range(nv):
                err[i] = _ERROR_CONST[order + 1] * D[order + 2, i]
            ep = _norm(err, scale)
        best, delta = 0.0, 0
        for dk, e in ((-1, em), (0, error_norm), (1, ep)):
            fac = math.inf if e == 0.0 else e ** (-1.0 / (order + dk + 1))
            if fac > best:
                best, delta = fac, dk
        order += delta
        factor = min(_MAX_FACTOR, safety * best)
        _change_D(D, order, factor)
        h *= factor
        n_equal = 0
        lu_valid = False
    if status != zone.Status.SUCCESS:
        for k in range(k_out, t_out.shape[0]):
            record(y_out[k], D[0], heat, T0)
    stats[zone.Stat.STATUS] = status
    stats[zone.Stat.ACCEPTED] = accepted
    stats[zone.Stat.REJECTED] = rejected
    stats[zone.Stat.N_RHS] = n_rhs
    stats[zone.Stat.N_JAC] = n_jac
    stats[zone.Stat.N_LU] = n_lu

