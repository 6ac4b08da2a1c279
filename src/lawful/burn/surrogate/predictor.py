"""The physics half of the surrogate step: one RODAS3 step per zone (or a few substeps), in numba.

For the self-heating system y = (Y, T) of :mod:`lawful.burn.zone`, one step of RODAS3 (Sandu et al. 1997, the
kernel :func:`lawful.burn.rodas.rodas3_stages` that ``burn(..., method="rodas3")`` uses) over the whole Δt, with the
analytic Jacobian J at the start state and no error control: three RHS evaluations, one Jacobian and one (n+1)²
LU per zone. It is L-stable and stiffly accurate (it takes the stiff flows to their quasi-equilibrium for any
Δt), third order, and it conserves Σ A ΔY = 0 in exact arithmetic (Σ_i A_i J_ij = 0). Alone it is off by 0.14 %
(median) in the energy release of a held-out aprox13 step (ROS2, two stages: 0.55 %); the network learns the rest.
A model may ask for the step in k equal substeps (:class:`Prediction`, ``substeps``): k times the cost, and the
error of the strongly burning steps, which the net cannot learn away, falls with it (docs/burn.md).

The LU factors of G = I/(γΔt) − J (γ = 1/2) are returned as well: the guard reuses them (:func:`newton_update`)
to turn the backward-Euler residual of the proposed end state into a simplified-Newton correction, the
well-scaled measure of how far a state is from solving the implicit equation (as an implicit integrator judges
its Newton iterates).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lawful.burn.eos import EOS_E, EOS_ETA, N_EOS, eos_scratch
from lawful.burn.kernels import workspace
from lawful.burn.rodas import GAMMA, rodas3_scratch, rodas3_stages
from lawful.burn.zone import all_finite, initial_state, lu_solve, zone_rhs, zone_rhs_jac

#: zones per scratch allocation inside the kernel
_BLOCK = 64


@njit(cache=True, parallel=True)
def rodas3_step(rho, T, Y, dt, net, screen, eos_opts):
    """One RODAS3 step for N zones (ρ, T, Δt [N]; Y [N, n] molar abundances).

    Returns ``(dY [N, n], dT [N], eY [N, n], e0 [N], ok [N], lu [N, n+1, n+1], piv [N, n+1])``: ``eY`` is the
    embedded (order-2) error estimate K₄ of dY; ``e0`` the specific internal energy (erg/g) of the initial state,
    which the first RHS evaluates anyway; ``lu``, ``piv`` are the LU factors of G = I/(γΔt) − J; ``ok`` is False
    where an RHS or the LU failed or the step is unphysical (|ΔX_i| > 1, T ≤ 0); dY, dT, eY are then 0.
    """
    N, n = Y.shape
    nv = n + 1
    dY = np.zeros((N, n))
    dT = np.zeros(N)
    eY = np.zeros((N, n))
    e0 = np.full(N, np.nan)
    ok = np.zeros(N, dtype=np.bool_)
    lu = np.zeros((N, nv, nv))
    pivots = np.zeros((N, nv), dtype=np.int64)
    for b in prange((N + _BLOCK - 1) // _BLOCK):
        lam, dlam, work = workspace(net)
        f0, f, ystage, ynew, K = rodas3_scratch(nv)
        jac = np.empty((nv, nv))
        dydT = np.empty(n)
        eos_out = np.empty(N_EOS)
        eos_tmp = np.empty(N_EOS)
        scratch = eos_scratch()
        for z in range(b * _BLOCK, min(N, (b + 1) * _BLOCK)):
            y = initial_state(Y[z], T[z], True)
            eos_out[EOS_ETA] = np.nan
            if not zone_rhs_jac(rho[z], y, T[z], net, screen, True, eos_opts, f0, jac, lam, dlam, work, eos_out, dydT,
                            eos_tmp, scratch):
                continue
            e0[z] = eos_out[EOS_E]
            factored, good = rodas3_stages(rho[z], y, T[z], f0, jac, dt[z], net, screen, True, eos_opts, lu[z],
                                           pivots[z], K, ystage, f, ynew, lam, dlam, work, eos_out, scratch)
            if not factored:
                continue
            for i in range(n):  # a mass fraction cannot change by more than 1 (an intermediate stage went wild)
                good &= abs(ynew[i] - y[i]) * net.A[i] <= 1.0
            good &= ynew[n] > 0.0
            if good:
                for i in range(n):
                    dY[z, i] = ynew[i] - y[i]
                    eY[z, i] = K[3, i]
                dT[z] = ynew[n] - y[n]
                ok[z] = True
    return dY, dT, eY, e0, ok, lu, pivots


@njit(cache=True, parallel=True)
def newton_update(rho, T_old, Y_old, T_new, Y_new, dt, h, lu, pivots, factored, net, screen, eos_opts):
    """Simplified-Newton correction δ = (I − γhJ₀)⁻¹ r of proposed end states, r = y_new − y_old − Δt F(y_new)
    (the backward-Euler residual of the step Δt, one RHS per zone), with the LU factors of G = I/(γh) − J₀ from
    :func:`rodas3_step` over its step h [N] (so δ = G⁻¹ r / (γh)); h = Δt for a one-step predictor, its first
    substep otherwise.

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
        eos_out = np.empty(N_EOS)
        scratch = eos_scratch()
        for z in range(b * _BLOCK, min(N, (b + 1) * _BLOCK)):
            if not factored[z]:
                continue
            y = initial_state(Y_new[z], T_new[z], True)
            eos_out[EOS_ETA] = np.nan
            if not zone_rhs(rho[z], y, T_new[z], net, screen, True, eos_opts, f, lam, dlam, work, eos_out, scratch):
                continue
            for i in range(n):
                f[i] = Y_new[z, i] - Y_old[z, i] - dt[z] * f[i]
            f[n] = T_new[z] - T_old[z] - dt[z] * f[n]
            lu_solve(lu[z], pivots[z], f)
            for i in range(nv):
                f[i] /= GAMMA * h[z]
            if all_finite(f):
                out[z] = f[:n]
                ok[z] = True
    return out, ok


class Prediction:
    """The predictor of N zones: ``substeps`` RODAS3 steps of Δt/substeps each, chained (a substep starts where the
    previous one ended, with negative X clipped to 0; the last one is not clipped). ``dX`` [N, n] and ``dT`` [N]
    are the total change, ``eX`` [N, n] the sum of the substeps' embedded error estimates, ``e0`` [N] (erg/g) the
    internal energy at the start (NaN where the RHS failed), ``ok`` [N] where every substep could be taken; the LU
    factors of the first substep are kept for :meth:`correction`."""

    def __init__(self, network, eos_opts, rho, T, X, dt, substeps: int = 1):
        self.network, self.eos_opts = network, eos_opts
        self.rho = np.ascontiguousarray(rho, dtype=np.float64)
        self.T = np.ascontiguousarray(T, dtype=np.float64)
        self.Y = np.ascontiguousarray(X / network.A)
        self.dt = np.ascontiguousarray(dt, dtype=np.float64)
        self.h = self.dt / substeps
        Y, T_k = self.Y, self.T
        for k in range(substeps):
            dY, dT, eY, e0, ok, lu, piv = rodas3_step(self.rho, T_k, Y, self.h, network.packed, network.screen,
                                                      eos_opts)
            if k == 0:
                self.e0, self.ok, self._lu, self._piv, eY_sum = e0, ok, lu, piv, eY
            else:
                self.ok &= ok
                eY_sum = eY_sum + eY
            Y = np.where(self.ok[:, None], Y + dY, Y)
            if k < substeps - 1:  # the next substep starts from a physical state
                Y = np.maximum(Y, 0.0)
            T_k = np.where(self.ok, T_k + dT, T_k)
        self.dX = np.where(self.ok[:, None], (Y - self.Y) * network.A, 0.0)
        self.dT = np.where(self.ok, T_k - self.T, 0.0)
        self.eX = np.where(self.ok[:, None], eY_sum * network.A, 0.0)

    def correction(self, T_new, X_new) -> tuple[np.ndarray, np.ndarray]:
        """Simplified-Newton correction δX [N, n] of end states (T_new [N], X_new [N, n]) and ok [N]."""
        dY, ok = newton_update(self.rho, self.T, self.Y, np.ascontiguousarray(T_new, dtype=np.float64),
                               np.ascontiguousarray(X_new / self.network.A), self.dt, self.h, self._lu, self._piv,
                               self.ok, self.network.packed, self.network.screen, self.eos_opts)
        return dY * self.network.A, ok


def predict(network, eos_opts, rho, T, X, dt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ΔX [N, n], ΔT [N] and ok [N] of one RODAS3 step (CGS, s)."""
    p = Prediction(network, eos_opts, rho, T, X, dt)
    return p.dX, p.dT, p.ok
