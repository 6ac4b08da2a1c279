"""Batched stiff integrator for reaction networks: RODAS3 (Sandu et al. 1997), a 4-stage, L-stable,
stiffly accurate Rosenbrock method of order 3 with an embedded order-2 error estimate, in numba.

Every zone is integrated independently with its own adaptive step (zones run in parallel over cores).
Unknowns: molar abundances Y [n] (mol/g) and, in self-heating mode, the temperature T (K) with

    dT/dt = ε̇(ρ, T, Y) / c_v(ρ, T, Y)         (ε̇ from binding energies, c_v from the stellar EOS).

The Jacobian is analytic (:func:`lawful.burn.kernels.jacobian`); in self-heating mode the derivatives of c_v
in the T row come from EOS differences (neglecting them, as Microphysics does, turns the method into a
W-method of lower order: the global error then fell only as rtol^½ in our tests). A Rosenbrock step is a linear combination of G⁻¹F stages, and both
F and J annihilate the baryon (Σ A_i Y_i) and charge (Σ Z_i Y_i) vectors, so those invariants hold to round-off.

Error control on mass fractions X_i = A_i Y_i and on T: err = RMS(ΔX_i / (atol + rtol |X_i|), ΔT / (rtol T)),
step accepted if err ≤ 1. A zone never returns NaN: a non-finite stage rejects the step, and a zone that cannot
continue keeps its last good state and reports why in its :class:`Status`.
"""

from __future__ import annotations

import dataclasses
import enum
import math

import numpy as np
from numba import njit, prange

from lawful.burn.eos import _eos_zone
from lawful.burn.kernels import MEV_TO_ERG, N_A, jacobian, network_rates, workspace, ydot


class Status(enum.IntEnum):
    """Outcome of one zone's integration."""

    SUCCESS = 0
    MAX_STEPS = 1  #: the step budget ran out before t_end
    STEP_TOO_SMALL = 2  #: the step size fell below 1e-16 × t_end (e.g. repeated non-finite stages)
    SINGULAR = 3  #: the iteration matrix could not be factorized
    EOS_FAILED = 4  #: the temperature left the EOS range in self-heating mode


# RODAS3 in the KPP form: G = I/(hγ) − J;  G K_i = F(y + Σ A_ij K_j) + Σ (C_ij / h) K_j
_GAMMA = 0.5
_A21, _A31, _A32, _A41, _A42, _A43 = 0.0, 2.0, 0.0, 2.0, 0.0, 1.0
_C21, _C31, _C32, _C41, _C42, _C43 = 4.0, 1.0, -1.0, 1.0, -1.0, -8.0 / 3.0
_M = (2.0, 0.0, 1.0, 1.0)  # y_new = y + Σ M_i K_i; the error estimate is K_4 itself (E = (0, 0, 0, 1))
_ORDER_ERR = 3.0
_FAC_MIN, _FAC_MAX, _FAC_SAFE = 0.2, 6.0, 0.9
_T_MIN, _T_MAX = 1e4, 1e11


@njit(cache=True)
def _lu_factor(a, piv):
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
def _lu_solve(a, piv, b):
    """Solve in place with the factors from :func:`_lu_factor`."""
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
def _rhs(rho, y, T_fixed, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, fe, fp):
    """F(y) into ``f``; y = Y (fixed T) or (Y, T). Returns False if the EOS cannot be evaluated."""
    n = net[0].shape[0]
    T = y[n] if heat else T_fixed
    if heat and not (_T_MIN <= T <= _T_MAX):
        return False
    Y = y[:n]
    network_rates(rho, T, Y, net, screen, lam, dlam, work, False)
    enuc = ydot(rho, Y, net, lam, f[:n])
    if heat:
        abar, zbar = _abar_zbar(Y, net[1])
        _eos_zone(rho, T, abar, zbar, eos_opts, eos_out, fe, fp, eos_out[11])
        f[n] = enuc / eos_out[3]
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
def _jac(rho, y, T_fixed, net, screen, heat, eos_opts, jac, lam, dlam, work, eos_out, dydT, dTdt, eos_tmp, fe, fp):
    """Analytic network Jacobian into ``jac``; in self-heating mode also the T row and column.

    The T row of dT/dt = ε̇/c_v needs ∂c_v/∂T and ∂c_v/∂Y (through Ā and Z̄); those come from one-sided
    differences of the EOS (relative step 1e-7), so the iteration matrix is exact to ~1e-7 and RODAS3 keeps
    its order. ``eos_out`` holds the EOS at y (from the last RHS call), ``dTdt`` = ε̇/c_v there.
    """
    n = net[0].shape[0]
    T = y[n] if heat else T_fixed
    Y = y[:n]
    network_rates(rho, T, Y, net, screen, lam, dlam, work)
    jacobian(rho, Y, net, lam, dlam, jac[:n, :n], dydT)
    if heat:
        binding, Z = net[2], net[1]
        cv = eos_out[3]
        c = N_A * MEV_TO_ERG / cv
        abar, zbar = _abar_zbar(Y, Z)
        d = 1e-7
        _eos_zone(rho, T * (1.0 + d), abar, zbar, eos_opts, eos_tmp, fe, fp, eos_out[11])
        dcv_dT = (eos_tmp[3] - cv) / (d * T)
        _eos_zone(rho, T, abar * (1.0 + d), zbar, eos_opts, eos_tmp, fe, fp, eos_out[11])
        dcv_da = (eos_tmp[3] - cv) / (d * abar)
        _eos_zone(rho, T, abar, zbar * (1.0 + d), eos_opts, eos_tmp, fe, fp, eos_out[11])
        dcv_dz = (eos_tmp[3] - cv) / (d * zbar)
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
def integrate_zone(rho, T0, Y0, t_out, net, screen, heat, eos_opts, rtol, atol, max_steps, y_out, stats):
    """Integrate one zone from t = 0 through the increasing times ``t_out`` [M] (s).

    Writes (Y, T) at each output time into ``y_out`` [M, n+1] and
    ``stats`` [4] = (status, accepted steps, rejected steps, RHS evaluations).
    """
    n = Y0.shape[0]
    nv = n + 1 if heat else n
    A = net[0]
    y = np.empty(nv)
    y[:n] = Y0
    if heat:
        y[n] = T0
    ynew = np.empty(nv)
    ystage = np.empty(nv)
    f0 = np.empty(nv)
    f = np.empty(nv)
    K = np.empty((4, nv))
    G = np.empty((nv, nv))
    jac = np.zeros((nv, nv))
    piv = np.empty(nv, dtype=np.int64)
    lam, dlam, work = workspace(net)
    dydT = np.empty(n)
    eos_out = np.empty(14)
    eos_out[11] = np.nan
    eos_tmp = np.empty(14)
    fe = np.empty((3, 3))
    fp = np.empty((3, 3))
    status = 0
    accepted = 0
    rejected = 0
    n_rhs = 0
    t = 0.0
    t_end = t_out[t_out.shape[0] - 1]
    h = 1e-9 * t_end  # first trial step; the controller grows it by up to 6× per step
    h_min = 1e-16 * t_end
    k_out = 0
    have_f0 = False
    while k_out < t_out.shape[0]:
        target = t_out[k_out]
        if t >= target * (1.0 - 1e-15):
            y_out[k_out, :nv] = y
            if not heat:
                y_out[k_out, n] = T0
            k_out += 1
            continue
        if accepted + rejected >= max_steps:
            status = 1
            break
        h = min(h, target - t)
        if not have_f0:
            if not _rhs(rho, y, T0, net, screen, heat, eos_opts, f0, lam, dlam, work, eos_out, fe, fp):
                status = 4
                break
            n_rhs += 1
            _jac(rho, y, T0, net, screen, heat, eos_opts, jac, lam, dlam, work, eos_out, dydT, f0[nv - 1], eos_tmp,
                 fe, fp)
            have_f0 = True
        # iteration matrix G = I/(hγ) − J
        for i in range(nv):
            for j in range(nv):
                G[i, j] = -jac[i, j]
            G[i, i] += 1.0 / (h * _GAMMA)
        ok = _lu_factor(G, piv)
        finite = ok
        if ok:
            # stage 1 (and 2: A21 = 0, so F is not re-evaluated)
            for i in range(nv):
                K[0, i] = f0[i]
            _lu_solve(G, piv, K[0])
            for i in range(nv):
                K[1, i] = f0[i] + _C21 / h * K[0, i]
            _lu_solve(G, piv, K[1])
            # stage 3
            for i in range(nv):
                ystage[i] = y[i] + _A31 * K[0, i] + _A32 * K[1, i]
            finite = _rhs(rho, ystage, T0, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, fe, fp)
            n_rhs += 1
            for i in range(nv):
                K[2, i] = f[i] + (_C31 * K[0, i] + _C32 * K[1, i]) / h
            _lu_solve(G, piv, K[2])
            # stage 4
            for i in range(nv):
                ystage[i] = y[i] + _A41 * K[0, i] + _A42 * K[1, i] + _A43 * K[2, i]
            finite = finite and _rhs(rho, ystage, T0, net, screen, heat, eos_opts, f, lam, dlam, work, eos_out, fe, fp)
            n_rhs += 1
            for i in range(nv):
                K[3, i] = f[i] + (_C41 * K[0, i] + _C42 * K[1, i] + _C43 * K[2, i]) / h
            _lu_solve(G, piv, K[3])
            for i in range(nv):
                ynew[i] = y[i] + _M[0] * K[0, i] + _M[2] * K[2, i] + _M[3] * K[3, i]
                if not math.isfinite(ynew[i]):
                    finite = False
        if finite:
            err = _error_norm(y, ynew, K[3], A, n, heat, rtol, atol)
            finite = math.isfinite(err)
        if not finite:
            rejected += 1
            h *= 0.25
            if h < h_min:
                status = 3 if not ok else 2
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
                status = 2
                break
    if status != 0:
        for k in range(k_out, t_out.shape[0]):
            y_out[k, :nv] = y
            if not heat:
                y_out[k, n] = T0
    stats[0] = status
    stats[1] = accepted
    stats[2] = rejected
    stats[3] = n_rhs


@njit(cache=True, parallel=True)
def integrate_batch(rho, T, Y, t_out, net, screen, heat, eos_opts, rtol, atol, max_steps):
    """Integrate N zones (ρ [N], T [N], Y [N, n]) to the times ``t_out`` [M].

    Returns ``(y_out [N, M, n+1], stats [N, 4])`` (see :func:`integrate_zone`).
    """
    N, n = Y.shape
    y_out = np.empty((N, t_out.shape[0], n + 1))
    stats = np.zeros((N, 4), dtype=np.int64)
    for z in prange(N):
        integrate_zone(rho[z], T[z], Y[z], t_out, net, screen, heat, eos_opts, rtol, atol, max_steps, y_out[z],
                       stats[z])
    return y_out, stats


def restore_invariants(Y: np.ndarray, Y0: np.ndarray, A: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Remove round-off drift: clip negative Y (they lie within the tolerance) and project each state back onto
    the baryon (Σ A Y) and charge (Σ Z Y) values of ``Y0``, with a correction proportional to Y.

    ``Y`` [N, M, n], ``Y0`` [N, n]. The integrators conserve both in exact arithmetic; in floating point an
    ill-conditioned iteration matrix (|hJ| up to ~1e10) lets ΣX drift by up to ~1e-8 over thousands of steps.
    """
    Y = np.clip(Y, 0.0, None)
    M = np.stack([A, Z])  # [2, n]
    target = Y0 @ M.T  # [N, 2]
    r = target[:, None, :] - Y @ M.T  # [N, M, 2] residual
    G = np.einsum("ai,nmi,bi->nmab", M, Y, M)  # M diag(Y) Mᵀ, rank 1 when every Z/A is equal
    lam = np.einsum("nmab,nmb->nma", np.linalg.pinv(G), r)
    return Y + Y * (lam @ M)


@dataclasses.dataclass
class BurnResult:
    """Outcome of :func:`burn` for N zones and M output times.

    ``t`` [M] (s); ``X`` [N, M, n] mass fractions; ``T`` [N, M] (K); ``enuc`` [N, M] specific energy released
    since t = 0 (erg/g, from binding energies); ``status`` [N] (:class:`Status` values); ``steps``,
    ``rejected``, ``n_rhs`` [N] counters.
    """

    names: tuple[str, ...]
    t: np.ndarray
    X: np.ndarray
    T: np.ndarray
    enuc: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    rejected: np.ndarray
    n_rhs: np.ndarray

    @property
    def ok(self) -> bool:
        return bool((self.status == Status.SUCCESS).all())


def burn(network, rho, T, X, t_out, *, self_heating: bool = True, rtol: float = 1e-6, atol: float = 1e-8,
         max_steps: int = 100_000, eos=None, method: str = "bdf") -> BurnResult:
    """Burn N zones at constant density from t = 0 through the output times ``t_out`` (s).

    ``rho``, ``T`` scalars or [N] (g/cm³, K); ``X`` [n] or [N, n] mass fractions in ``network.names`` order.
    ``self_heating`` couples T through dT/dt = ε̇ / c_v with c_v from ``eos`` (a :class:`StellarEOS`; default
    direct quadrature without Coulomb corrections; ``StellarEOS(table=True)`` is faster); otherwise T stays fixed. Inputs are validated before any
    work (ValueError naming the bad value). ``method``: ``"bdf"`` (variable-order BDF with Jacobian reuse,
    :mod:`lawful.burn.bdf`) or ``"rodas3"`` (this module's Rosenbrock method).
    """
    from lawful.burn.eos import StellarEOS, check_state
    from lawful.burn.network import _as_zones, check_mass_fractions

    rho, T, X = _as_zones(rho, T, X, len(network.names))
    check_state(rho, T)
    check_mass_fractions(X)
    t_out = np.atleast_1d(np.asarray(t_out, dtype=np.float64))
    if not (np.isfinite(t_out).all() and (t_out > 0).all() and (np.diff(t_out) > 0).all()):
        raise ValueError(f"output times must be positive and increasing; got {t_out.tolist()[:5]}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (0 < v < 1):
            raise ValueError(f"{name} = {v} must lie in (0, 1)")
    if method not in ("bdf", "rodas3"):
        raise ValueError(f"method = {method!r}; expected 'bdf' or 'rodas3'")
    if max_steps < 1:
        raise ValueError(f"max_steps = {max_steps} must be ≥ 1")
    Y0 = X / network.A
    eos_opts = (eos if eos is not None else StellarEOS()).options()
    if method == "bdf":
        from lawful.burn.bdf import integrate_batch_bdf as kernel
    else:
        kernel = integrate_batch
    y_out, stats = kernel(rho, T, Y0, t_out, network.packed, network.screen, self_heating, eos_opts, rtol, atol,
                          int(max_steps))
    n = len(network.names)
    Y = restore_invariants(y_out[:, :, :n], Y0, network.A, network.Z)
    dB = ((Y - Y0[:, None, :]) * network.binding).sum(axis=-1)
    return BurnResult(
        names=network.names, t=t_out, X=Y * network.A, T=y_out[:, :, n], enuc=dB * N_A * MEV_TO_ERG,
        status=stats[:, 0].copy(), steps=stats[:, 1].copy(), rejected=stats[:, 2].copy(), n_rhs=stats[:, 3].copy(),
    )
