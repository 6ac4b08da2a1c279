"""The physics half of the surrogate step: one ROS2 step per zone, in numba.

For the self-heating system y = (Y, T) of :mod:`lawful.burn.zone`, ROS2 (Verwer, Spee, Blom & Hundsdorfer 1999)
with the analytic Jacobian J at the start state and γ = 1 + 1/√2:

    G = I − γ Δt J,   G k₁ = F(y₀),   G k₂ = F(y₀ + Δt k₁) − 2 k₁,   Δy = Δt (3/2 k₁ + 1/2 k₂)

two RHS evaluations, one Jacobian and one (n+1)² LU per zone, no Newton iteration and no error control. It is
L-stable (it takes the stiff flows to their quasi-equilibrium for any Δt) and second order, and it conserves
Σ A ΔY = 0 in exact arithmetic (Σ_i A_i J_ij = 0). Alone it is off by 0.55 % (median) in the energy release of
an aprox13 step (the linearly implicit Euler step: 1.6 %); the network learns the rest.

The LU factors of G are returned as well: the guard reuses them (:func:`newton_update`) to turn the
backward-Euler residual of the proposed end state into a simplified-Newton correction, the well-scaled measure
of how far a state is from solving the implicit equation (as an implicit integrator judges its Newton iterates).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lawful.burn.eos import eos_scratch
from lawful.burn.kernels import workspace
from lawful.burn.zone import _finite, _lu_factor, _lu_solve, _rhs, _rhs_jac, initial_state

#: zones per scratch allocation inside the kernel
_BLOCK = 64
#: ROS2's γ = 1 + 1/√2 (L-stable; Verwer et al. 1999)
_GAMMA = 1.0 + 1.0 / np.sqrt(2.0)


@njit(cache=True, parallel=True)
def ros2_step(rho, T, Y, dt, net, screen, eos_opts):
    """One ROS2 step for N zones (ρ, T, Δt [N]; Y [N, n] molar abundances): with G = I − γΔtJ(y₀),
    G k₁ = F(y₀), G k₂ = F(y₀ + Δt k₁) − 2k₁, Δy = Δt (3/2 k₁ + 1/2 k₂).

    Returns ``(dY [N, n], dT [N], ok [N], lu [N, n+1, n+1], piv [N, n+1])`` (the LU factors of G); ``ok`` is
    False where an RHS or the LU failed or the step is unphysical (|ΔX_i| > 1, T ≤ 0); dY, dT are then 0.
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
        k1 = np.empty(nv)
        k2 = np.empty(nv)
        y1 = np.empty(nv)
        dydT = np.empty(n)
        eos_out = np.empty(14)
        eos_tmp = np.empty(14)
        scratch = eos_scratch()
        for z in range(b * _BLOCK, min(N, (b + 1) * _BLOCK)):
            y = initial_state(Y[z], T[z], True)
            G, piv = lu[z], pivots[z]
            h = dt[z]
            eos_out[11] = np.nan
            if not _rhs_jac(rho[z], y, T[z], net, screen, True, eos_opts, k1, G, lam, dlam, work, eos_out, dydT,
                            eos_tmp, scratch):
                continue
            for i in range(nv):
                for j in range(nv):
                    G[i, j] = -_GAMMA * h * G[i, j]
                G[i, i] += 1.0
            if not _lu_factor(G, piv):
                continue
            _lu_solve(G, piv, k1)
            for i in range(nv):
                y1[i] = y[i] + h * k1[i]
            if not _rhs(rho[z], y1, T[z], net, screen, True, eos_opts, k2, lam, dlam, work, eos_out, scratch):
                continue
            for i in range(nv):
                k2[i] -= 2.0 * k1[i]
            _lu_solve(G, piv, k2)
            good = True
            for i in range(nv):
                k2[i] = h * (1.5 * k1[i] + 0.5 * k2[i])
                good &= np.isfinite(k2[i])
            for i in range(n):  # a mass fraction cannot change by more than 1 (an intermediate stage went wild)
                good &= abs(k2[i]) * net.A[i] <= 1.0
            good &= y[n] + k2[n] > 0.0
            if good:
                dY[z] = k2[:n]
                dT[z] = k2[n]
                ok[z] = True
    return dY, dT, ok, lu, pivots


@njit(cache=True, parallel=True)
def newton_update(rho, T_old, Y_old, T_new, Y_new, dt, lu, pivots, factored, net, screen, eos_opts):
    """Simplified-Newton correction δ = G⁻¹ r (G = I − γΔtJ₀, the predictor's matrix) of proposed end states, r = y_new − y_old − Δt F(y_new)
    (the backward-Euler residual, one RHS per zone), with the LU factors of :func:`ros2_step`.

    ``factored`` [N]: where the predictor's LU exists (elsewhere ok is False and nothing is solved).
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
            if not factored[z]:
                continue
            y = initial_state(Y_new[z], T_new[z], True)
            eos_out[11] = np.nan
            if not _rhs(rho[z], y, T_new[z], net, screen, True, eos_opts, f, lam, dlam, work, eos_out, scratch):
                continue
            for i in range(n):
                f[i] = Y_new[z, i] - Y_old[z, i] - dt[z] * f[i]
            f[n] = T_new[z] - T_old[z] - dt[z] * f[n]
            _lu_solve(lu[z], pivots[z], f)
            if _finite(f):
                out[z] = f[:n]
                ok[z] = True
    return out, ok


class Prediction:
    """One ROS2 step of N zones: ``dX`` [N, n], ``dT`` [N], ``ok`` [N], and the LU factors that
    :meth:`correction` reuses."""

    def __init__(self, network, eos_opts, rho, T, X, dt):
        self.network, self.eos_opts = network, eos_opts
        self.rho = np.ascontiguousarray(rho, dtype=np.float64)
        self.T = np.ascontiguousarray(T, dtype=np.float64)
        self.Y = np.ascontiguousarray(X / network.A)
        self.dt = np.ascontiguousarray(dt, dtype=np.float64)
        dY, self.dT, self.ok, self._lu, self._piv = ros2_step(self.rho, self.T, self.Y, self.dt, network.packed,
                                                               network.screen, eos_opts)
        self.dX = dY * network.A

    def correction(self, T_new, X_new) -> tuple[np.ndarray, np.ndarray]:
        """Simplified-Newton correction δX [N, n] of end states (T_new [N], X_new [N, n]) and ok [N]."""
        dY, ok = newton_update(self.rho, self.T, self.Y, np.ascontiguousarray(T_new, dtype=np.float64),
                               np.ascontiguousarray(X_new / self.network.A), self.dt, self._lu, self._piv,
                               self.ok, self.network.packed, self.network.screen, self.eos_opts)
        return dY * self.network.A, ok


def predict(network, eos_opts, rho, T, X, dt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ΔX [N, n], ΔT [N] and ok [N] of one ROS2 step (CGS, s)."""
    p = Prediction(network, eos_opts, rho, T, X, dt)
    return p.dX, p.dT, p.ok
