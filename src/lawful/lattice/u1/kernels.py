"""Numba kernels of 2D U(1) lattice gauge theory with the Wilson action (the hot paths), batched over chains.

Links: ``theta`` ``(C, 2V)`` float64, link (μ, x) at index μV + x (so ``theta.reshape(C, 2, L, L)`` is the torch
layout), sites x numbered as in :class:`lawful.lattice.geometry.Lattice` (D = 2; ``fwd``/``bwd`` its neighbour
tables). The plaquette at x is P(x) = θ₀(x) + θ₁(x + 0̂) − θ₀(x + 1̂) − θ₁(x) and S = −β Σ_x cos P(x).

Each link sits in two plaquettes; its local action is −β Re[e^{iθ} z] = −β k cos(θ + ψ) with the staple sum
z = k e^{iψ} of the other three links of both (:func:`_staple`). So its conditional density is von Mises with
mean −ψ and concentration βk (heat bath), its reflection θ → −2ψ − θ leaves S unchanged (over-relaxation), and
the HMC force is −∂S/∂θ, which :func:`_kick` takes from the plaquettes' sines (one sine per plaquette).

Random numbers come from the caller: explicit arrays, or (heat bath, whose von Mises draws use a variable number of
uniforms) one seed per chain and sweep drawn from that chain's generator, which seeds numba's own generator.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: columns of :func:`measure`: action, mean plaquette ⟨cos P⟩, geometric charge Q, Wilson loops W(R×T) averaged
#: over sites and both orientations, and |P̄|² of the mean Polyakov loop in direction 0
OBSERVABLES = ("S", "plaquette", "Q", "W11", "W12", "W22", "W23", "W33", "poly2")
LOOPS = ((1, 1), (1, 2), (2, 2), (2, 3), (3, 3))
OBS_S, OBS_PLAQ, OBS_Q = 0, 1, 2
TWO_PI = 2.0 * math.pi


@njit(cache=True, inline="always")
def wrap(a):
    """The angle ``a`` mapped into (−π, π]."""
    return a - TWO_PI * math.ceil((a - math.pi) / TWO_PI)


@njit(cache=True)
def plaquettes(theta, fwd):
    """Plaquette angles P(x) ``(C, V)``, not wrapped (a sum of four link angles)."""
    n_chain = theta.shape[0]
    vol = fwd.shape[0]
    out = np.empty((n_chain, vol))
    for c in range(n_chain):
        th = theta[c]
        for x in range(vol):
            out[c, x] = th[x] + th[vol + fwd[x, 0]] - th[fwd[x, 1]] - th[vol + x]
    return out


@njit(cache=True)
def action(theta, fwd, beta):
    """S = −β Σ_x cos P(x) per chain, shape ``(C,)``."""
    p = plaquettes(theta, fwd)
    out = np.empty(theta.shape[0])
    for c in range(theta.shape[0]):
        s = 0.0
        for x in range(p.shape[1]):
            s += math.cos(p[c, x])
        out[c] = -beta * s
    return out


@njit(cache=True)
def hamiltonian(theta, p, fwd, beta):
    """H = ½ Σ p² + S per chain, shape ``(C,)``."""
    h = action(theta, fwd, beta)
    for c in range(theta.shape[0]):
        h[c] += 0.5 * np.dot(p[c], p[c])
    return h


@njit(cache=True)
def _kick(theta, p, fwd, bwd, beta, eps, sines):
    """p ← p + eps · F with F = −∂S/∂θ: F₀(x) = −β[sin P(x) − sin P(x − 1̂)], F₁(x) = −β[sin P(x − 0̂) − sin P(x)].

    ``sines`` ``(V,)`` is scratch space."""
    n_chain = theta.shape[0]
    vol = fwd.shape[0]
    b = beta * eps
    for c in range(n_chain):
        th = theta[c]
        pc = p[c]
        for x in range(vol):
            sines[x] = math.sin(th[x] + th[vol + fwd[x, 0]] - th[fwd[x, 1]] - th[vol + x])
        for x in range(vol):
            s = sines[x]
            pc[x] -= b * (s - sines[bwd[x, 1]])
            pc[vol + x] -= b * (sines[bwd[x, 0]] - s)


@njit(cache=True)
def _drift(theta, p, eps):
    """θ ← θ + eps · p."""
    for c in range(theta.shape[0]):
        for i in range(theta.shape[1]):
            theta[c, i] += eps * p[c, i]


@njit(cache=True)
def force(theta, fwd, bwd, beta):
    """F = −∂S/∂θ, shape ``(C, 2V)`` (for tests; the integrators fuse it into the kick)."""
    f = np.zeros_like(theta)
    _kick(theta, f, fwd, bwd, beta, 1.0, np.empty(fwd.shape[0]))
    return f


@njit(cache=True)
def leapfrog(theta, p, fwd, bwd, beta, n_steps, dt):
    """Leapfrog (kick–drift–kick), ``n_steps + 1`` force evaluations."""
    sines = np.empty(fwd.shape[0])
    _kick(theta, p, fwd, bwd, beta, 0.5 * dt, sines)
    for i in range(n_steps):
        _drift(theta, p, dt)
        _kick(theta, p, fwd, bwd, beta, dt if i < n_steps - 1 else 0.5 * dt, sines)


@njit(cache=True)
def omelyan(theta, p, fwd, bwd, beta, n_steps, dt, xi):
    """Omelyan 2MN with merged outer kicks, ``2 n_steps + 1`` force evaluations (as for φ⁴)."""
    sines = np.empty(fwd.shape[0])
    _kick(theta, p, fwd, bwd, beta, xi * dt, sines)
    for i in range(n_steps):
        _drift(theta, p, 0.5 * dt)
        _kick(theta, p, fwd, bwd, beta, (1.0 - 2.0 * xi) * dt, sines)
        _drift(theta, p, 0.5 * dt)
        _kick(theta, p, fwd, bwd, beta, (2.0 * xi if i < n_steps - 1 else xi) * dt, sines)


@njit(cache=True)
def wrap_links(theta):
    """Map every link angle into (−π, π] in place (S does not change)."""
    for c in range(theta.shape[0]):
        for i in range(theta.shape[1]):
            theta[c, i] = wrap(theta[c, i])


@njit(cache=True, inline="always")
def _staple(th, fwd, bwd, vol, mu, x):
    """``(k, ψ)`` of link (μ, x): its two plaquettes contribute −β k cos(θ + ψ) to S."""
    if mu == 0:
        a = th[vol + fwd[x, 0]] - th[fwd[x, 1]] - th[vol + x]         # P(x) − θ₀(x)
        y = bwd[x, 1]
        b = th[y] + th[vol + fwd[y, 0]] - th[vol + y]                 # P(x − 1̂) + θ₀(x)
        zr = math.cos(a) + math.cos(b)
        zi = math.sin(a) - math.sin(b)
    else:
        a = th[x] + th[vol + fwd[x, 0]] - th[fwd[x, 1]]               # P(x) + θ₁(x)
        y = bwd[x, 0]
        b = th[y] - th[fwd[y, 1]] - th[vol + y]                       # P(x − 0̂) − θ₁(x)
        zr = math.cos(a) + math.cos(b)
        zi = math.sin(b) - math.sin(a)
    return math.hypot(zr, zi), math.atan2(zi, zr)


@njit(cache=True)
def heatbath_sweep(theta, fwd, bwd, beta, seeds, n_overrelax):
    """One heat-bath sweep (each link drawn from its von Mises conditional), then ``n_overrelax`` over-relaxation
    sweeps θ → −2ψ − θ; lexicographic over (μ, x). ``seeds`` ``(C,)`` seed numba's generator per chain."""
    n_chain = theta.shape[0]
    vol = fwd.shape[0]
    for c in range(n_chain):
        np.random.seed(seeds[c])
        th = theta[c]
        for sweep in range(1 + n_overrelax):
            for mu in range(2):
                for x in range(vol):
                    k, psi = _staple(th, fwd, bwd, vol, mu, x)
                    if sweep == 0:
                        th[mu * vol + x] = wrap(np.random.vonmises(-psi, beta * k))
                    else:
                        th[mu * vol + x] = wrap(-2.0 * psi - th[mu * vol + x])


@njit(cache=True)
def metropolis_sweep(theta, fwd, bwd, beta, shifts, uniforms):
    """One sweep of single-link Metropolis updates θ → θ + shifts (``(C, 2V)``, e.g. uniform in [−δ, δ]) with
    accept uniforms ``(C, 2V)``. Returns accepted updates per chain."""
    n_chain = theta.shape[0]
    vol = fwd.shape[0]
    acc = np.zeros(n_chain, dtype=np.int64)
    for c in range(n_chain):
        th = theta[c]
        for mu in range(2):
            for x in range(vol):
                i = mu * vol + x
                k, psi = _staple(th, fwd, bwd, vol, mu, x)
                new = wrap(th[i] + shifts[c, i])
                ds = -beta * k * (math.cos(new + psi) - math.cos(th[i] + psi))
                if ds <= 0.0 or uniforms[c, i] < math.exp(-ds):
                    th[i] = new
                    acc[c] += 1
    return acc


@njit(cache=True)
def measure(theta, fwd, beta, size):
    """Observables per chain, ``(C, len(OBSERVABLES))``: see :data:`OBSERVABLES`. Wilson loops need L ≥ 4.

    A loop's phase is the sum of the (unwrapped) plaquette angles it encloses, summed here from a 2D prefix sum."""
    n_chain = theta.shape[0]
    vol = fwd.shape[0]
    L = size
    p = plaquettes(theta, fwd)
    out = np.zeros((n_chain, len(OBSERVABLES)))
    pref = np.zeros((2 * L + 1, 2 * L + 1))                  # prefix sums over the doubled (periodic) lattice
    for c in range(n_chain):
        s = 0.0
        q = 0.0
        for x in range(vol):
            s += math.cos(p[c, x])
            q += wrap(p[c, x])
        out[c, 0] = -beta * s
        out[c, 1] = s / vol
        out[c, 2] = round(q / TWO_PI)
        for i in range(2 * L):
            for j in range(2 * L):
                pref[i + 1, j + 1] = pref[i, j + 1] + pref[i + 1, j] - pref[i, j] + p[c, (i % L) * L + (j % L)]
        for k in range(len(LOOPS)):
            r, t = LOOPS[k]
            w = 0.0
            for i in range(L):
                for j in range(L):
                    w += math.cos(pref[i + r, j + t] - pref[i, j + t] - pref[i + r, j] + pref[i, j])
                    if r != t:
                        w += math.cos(pref[i + t, j + r] - pref[i, j + r] - pref[i + t, j] + pref[i, j])
            out[c, 3 + k] = w / (vol * (1 if r == t else 2))
        re = 0.0
        im = 0.0
        th = theta[c]
        for y in range(L):
            line = 0.0
            for t in range(L):
                line += th[t * L + y]
            re += math.cos(line)
            im += math.sin(line)
        out[c, 8] = (re * re + im * im) / (L * L)
    return out
