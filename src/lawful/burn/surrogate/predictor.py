"""The physics half of the surrogate step: one linearly implicit (Rosenbrock–Euler) step per zone, in numba.

For the self-heating system y = (Y, T) of :mod:`lawful.burn.zone`, one step of length Δt solves

    (I − Δt J) Δy = Δt F(y₀)

with the analytic Jacobian J at the start state: one RHS, one Jacobian and one (n+1)² LU per zone, no Newton
iteration and no error control. It is L-stable, so it takes the stiff components to their quasi-equilibrium
however long Δt is, and it conserves Σ A ΔY = 0 in exact arithmetic (Σ_i A_i J_ij = 0). It is first-order
accurate only; the network learns the correction from it to the converged implicit solution.

The LU factors of (I − Δt J) are returned as well: the guard reuses them (:func:`newton_update`) to turn the
backward-Euler residual of the proposed end state into a simplified-Newton correction, the well-scaled measure
of how far a state is from solving the implicit equation (as an implicit integrator judges its Newton iterates).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lawful.burn.eos import eos_scratch
from lawful.burn.kernels import workspace
from lawful.burn.zone import _jac, _lu_factor, _lu_solve, _rhs, initial_state

#: zones per scratch allocation inside the kernel
_BLOCK = 64


@njit(cache=True, parallel=True)
def euler_step(rho, T, Y, dt, net, screen, eos_opts):
    """One linearly implicit Euler step for N zones (ρ, T, Δt [N]; Y [N, n] molar abundances).

    Returns ``(dY [N, n], dT [N], ok [N], lu [N, n+1, n+1], piv [N, n+1])``; ``ok`` is False where the RHS or
    the LU failed (dY, dT are then 0).
    """
    N, n = Y.shape
    nv = n + 1
    dY = np.zeros((N, n))
    dT = np.zeros(N)
    ok = np.zeros(N, dtype=np.bool_)
    lu = np.zeros((N, nv, nv))
    pivots = np.zeros((N, nv), dtype=np.int64)
    for b in prange((N + _BLOCK - 1) // _BLOCK):
        lam, dlam, work = workspace(net)
        f = np.empty(nv)
        dydT = np.empty(n)
        eos_out = np.empty(14)
        eos_tmp = np.empty(14)
        scratch = eos_scratch()
        for z in range(b * _BLOCK, min(N, (b + 1) * _BLOCK)):
            y = initial_state(Y[z], T[z], True)
            jac, piv = lu[z], pivots[z]
            eos_out[11] = np.nan
            if not _rhs(rho[z], y, T[z], net, screen, True, eos_opts, f, lam, dlam, work, eos_out, scratch):
                continue
            _jac(rho[z], y, T[z], net, screen, True, eos_opts, jac, lam, dlam, work, eos_out, dydT, f[n],
                 eos_tmp, scratch)
            h = dt[z]
            for i in range(nv):
                for j in range(nv):
                    jac[i, j] = -h * jac[i, j]
                jac[i, i] += 1.0
                f[i] *= h
            if not _lu_factor(jac, piv):
                continue
            _lu_solve(jac, piv, f)
            good = True
            for i in range(nv):
                good &= np.isfinite(f[i])
            if good:
                dY[z] = f[:n]
                dT[z] = f[n]
                ok[z] = True
    return dY, dT, ok, lu, pivots


@njit(cache=True, parallel=True)
def newton_update(rho, T_old, Y_old, T_new, Y_new, dt, lu, pivots, net, screen, eos_opts):
    """Simplified-Newton correction δ = (I − Δt J₀)⁻¹ r of proposed end states, r = y_new − y_old − Δt F(y_new)
    (the backward-Euler residual, one RHS per zone), with the LU factors of :func:`euler_step`.

    Returns ``(dY [N, n], ok [N])``: the Y part of δ, and False where F(y_new) could not be evaluated.
    """
    N, n = Y_new.shape
    nv = n + 1
    out = np.zeros((N, n))
    ok = np.zeros(N, dtype=np.bool_)
    for b in prange((N + _BLOCK - 1) // _BLOCK):
        lam, dlam, work = workspace(net)
        f = np.empty(nv)
        eos_out = np.empty(14)
        scratch = eos_scratch()
        for z in range(b * _BLOCK, min(N, (b + 1) * _BLOCK)):
            y = initial_state(Y_new[z], T_new[z], True)
            eos_out[11] = np.nan
            if not _rhs(rho[z], y, T_new[z], net, screen, True, eos_opts, f, lam, dlam, work, eos_out, scratch):
                continue
            for i in range(n):
                f[i] = Y_new[z, i] - Y_old[z, i] - dt[z] * f[i]
            f[n] = T_new[z] - T_old[z] - dt[z] * f[n]
            _lu_solve(lu[z], pivots[z], f)
            good = True
            for i in range(nv):
                good &= np.isfinite(f[i])
            if good:
                out[z] = f[:n]
                ok[z] = True
    return out, ok


class Prediction:
    """One linearly implicit Euler step of N zones: ``dX`` [N, n], ``dT`` [N], ``ok`` [N], and the LU factors
    that :meth:`correction` reuses."""

    def __init__(self, network, eos_opts, rho, T, X, dt):
        self.network, self.eos_opts = network, eos_opts
        self.rho = np.ascontiguousarray(rho, dtype=np.float64)
        self.T = np.ascontiguousarray(T, dtype=np.float64)
        self.Y = np.ascontiguousarray(X / network.A)
        self.dt = np.ascontiguousarray(dt, dtype=np.float64)
        dY, self.dT, self.ok, self._lu, self._piv = euler_step(self.rho, self.T, self.Y, self.dt, network.packed,
                                                               network.screen, eos_opts)
        self.dX = dY * network.A

    def correction(self, T_new, X_new) -> tuple[np.ndarray, np.ndarray]:
        """Simplified-Newton correction δX [N, n] of end states (T_new [N], X_new [N, n]) and ok [N]."""
        dY, ok = newton_update(self.rho, self.T, self.Y, np.ascontiguousarray(T_new, dtype=np.float64),
                               np.ascontiguousarray(X_new / self.network.A), self.dt, self._lu, self._piv,
                               self.network.packed, self.network.screen, self.eos_opts)
        return dY * self.network.A, ok


def predict(network, eos_opts, rho, T, X, dt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ΔX [N, n], ΔT [N] and ok [N] of one linearly implicit Euler step (CGS, s)."""
    p = Prediction(network, eos_opts, rho, T, X, dt)
    return p.dX, p.dT, p.ok
