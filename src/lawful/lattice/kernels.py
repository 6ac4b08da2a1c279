"""Numba kernels for lattice φ⁴ (the hot paths). All arrays are batched over chains.

Action (lattice units), summed over sites x and directions μ:
    S = Σ_x [ −2κ Σ_μ φ_x φ_{x+μ} + φ_x² + λ (φ_x² − 1)² ]
Force F_x = −∂S/∂φ_x = 2κ Σ_μ (φ_{x+μ} + φ_{x−μ}) − 2φ_x − 4λ φ_x (φ_x² − 1).

Shapes: ``phi``, ``p`` are ``(C, V)`` float64 (C chains, V sites); ``fwd``, ``bwd`` are ``(V, D)`` uint32
neighbour tables from :class:`lawful.lattice.geometry.Lattice`. Random numbers are drawn by the caller from
explicit numpy generators and passed in, so the kernels are deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lawful.lattice.observables import OBS_ABS_M, OBS_M, OBS_M2, OBS_M4, OBS_S, OBS_W, OBSERVABLES

#: Omelyan–Mryglod–Folk 2MN parameter minimising the leading error of the shadow Hamiltonian.
OMELYAN_XI = 0.1931833



@njit(cache=True, inline="always")
def _neighbour_sum(ph, fwd, bwd, x):
    """Σ_μ (φ_{x+μ} + φ_{x−μ}) for one chain's field ``ph`` (V,)."""
    nb = 0.0
    for mu in range(fwd.shape[1]):
        nb += ph[fwd[x, mu]] + ph[bwd[x, mu]]
    return nb


@njit(cache=True)
def _kick(phi, p, fwd, bwd, kappa, lam, eps):
    """p ← p + eps · F(φ) for every chain and site."""
    n_chain, vol = phi.shape
    k2 = 2.0 * kappa
    l4 = 4.0 * lam
    for c in range(n_chain):
        ph = phi[c]
        pc = p[c]
        for x in range(vol):
            f = ph[x]
            pc[x] += eps * (k2 * _neighbour_sum(ph, fwd, bwd, x) - 2.0 * f - l4 * f * (f * f - 1.0))


@njit(cache=True)
def _drift(phi, p, eps):
    """φ ← φ + eps · p."""
    n_chain, vol = phi.shape
    for c in range(n_chain):
        for x in range(vol):
            phi[c, x] += eps * p[c, x]


@njit(cache=True)
def action(phi, fwd, kappa, lam):
    """Action S of each chain's configuration; shape ``(C,)`` (the last column of :func:`measure`)."""
    return measure(phi, fwd, kappa, lam)[:, OBS_S].copy()


@njit(cache=True)
def hamiltonian(phi, p, fwd, kappa, lam):
    """H = ½ Σ p² + S(φ) for each chain; shape ``(C,)``."""
    h = action(phi, fwd, kappa, lam)
    for c in range(phi.shape[0]):
        h[c] += 0.5 * np.dot(p[c], p[c])
    return h


@njit(cache=True)
def force(phi, fwd, bwd, kappa, lam):
    """Force F = −∂S/∂φ, shape ``(C, V)`` (for tests and diagnostics; the integrators fuse it into the kick)."""
    f = np.zeros_like(phi)
    _kick(phi, f, fwd, bwd, kappa, lam, 1.0)
    return f


@njit(cache=True)
def leapfrog(phi, p, fwd, bwd, kappa, lam, n_steps, dt):
    """Leapfrog (kick–drift–kick) for ``n_steps`` steps of size ``dt``; ``n_steps + 1`` force evaluations."""
    _kick(phi, p, fwd, bwd, kappa, lam, 0.5 * dt)
    for i in range(n_steps):
        _drift(phi, p, dt)
        _kick(phi, p, fwd, bwd, kappa, lam, dt if i < n_steps - 1 else 0.5 * dt)


@njit(cache=True)
def omelyan(phi, p, fwd, bwd, kappa, lam, n_steps, dt, xi):
    """Omelyan 2MN: P(ξδτ) Q(δτ/2) P((1−2ξ)δτ) Q(δτ/2) P(ξδτ) per step, with the outer kicks of neighbouring
    steps merged: ``2 n_steps + 1`` force evaluations."""
    _kick(phi, p, fwd, bwd, kappa, lam, xi * dt)
    for i in range(n_steps):
        _drift(phi, p, 0.5 * dt)
        _kick(phi, p, fwd, bwd, kappa, lam, (1.0 - 2.0 * xi) * dt)
        _drift(phi, p, 0.5 * dt)
        _kick(phi, p, fwd, bwd, kappa, lam, (2.0 * xi if i < n_steps - 1 else xi) * dt)


@njit(cache=True)
def measure(phi, fwd, kappa, lam):
    """Per-configuration observables, shape ``(C, 6)`` with columns :data:`OBSERVABLES`:
    m = Σφ, |m|, m², m⁴, W = 2 Σ_{x,μ} φ_x φ_{x+μ} (so ∂S/∂κ = −W), and the action S."""
    n_chain, vol = phi.shape
    dim = fwd.shape[1]
    out = np.empty((n_chain, len(OBSERVABLES)))
    for c in range(n_chain):
        ph = phi[c]
        m = 0.0
        w = 0.0
        local = 0.0
        for x in range(vol):
            f = ph[x]
            nb = 0.0
            for mu in range(dim):
                nb += ph[fwd[x, mu]]
            f2 = f * f
            m += f
            w += f * nb
            local += f2 + lam * (f2 - 1.0) * (f2 - 1.0)
        m2 = m * m
        out[c, OBS_M] = m
        out[c, OBS_ABS_M] = abs(m)
        out[c, OBS_M2] = m2
        out[c, OBS_M4] = m2 * m2
        out[c, OBS_W] = 2.0 * w
        out[c, OBS_S] = -2.0 * kappa * w + local
    return out


@njit(cache=True)
def metropolis_sweep(phi, fwd, bwd, kappa, lam, shifts, uniforms):
    """One lexicographic sweep of single-site Metropolis updates φ_x → φ_x + shifts[c, x].

    ``shifts`` and ``uniforms`` are ``(C, V)``: proposals (e.g. uniform in [−δ, δ]) and U(0,1) numbers for the
    accept test. Each site update satisfies detailed balance for e^{−S}. Returns accepted updates per chain.
    """
    n_chain, vol = phi.shape
    acc = np.zeros(n_chain, dtype=np.int64)
    for c in range(n_chain):
        ph = phi[c]
        for x in range(vol):
            nb = _neighbour_sum(ph, fwd, bwd, x)
            old = ph[x]
            new = old + shifts[c, x]
            o2 = old * old
            n2 = new * new
            ds = (-2.0 * kappa * nb * (new - old) + n2 - o2
                  + lam * ((n2 - 1.0) * (n2 - 1.0) - (o2 - 1.0) * (o2 - 1.0)))
            if ds <= 0.0 or uniforms[c, x] < np.exp(-ds):
                ph[x] = new
                acc[c] += 1
    return acc


@njit(cache=True)
def heatbath_sweep(phi, fwd, bwd, kappa, uniforms):
    """One lexicographic heat-bath sweep in the Ising limit λ → ∞ (φ = ±1, S = −2κ Σ φ_x φ_{x+μ} + const).

    Each spin is drawn from its exact conditional: P(φ_x = +1) = 1 / (1 + exp(−4κ h_x)), h_x = Σ_{±μ} φ_{x±μ}.
    """
    n_chain, vol = phi.shape
    for c in range(n_chain):
        ph = phi[c]
        for x in range(vol):
            h = _neighbour_sum(ph, fwd, bwd, x)
            ph[x] = 1.0 if uniforms[c, x] < 1.0 / (1.0 + np.exp(-4.0 * kappa * h)) else -1.0
