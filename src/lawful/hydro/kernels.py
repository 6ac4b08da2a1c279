"""Numba kernels of the finite-volume Euler solver: ghost cells, limited slopes, the unsplit MUSCL–Hancock
predictor, interface fluxes and the conservative update.

Arrays are [variable, y, x] with ``ng`` ghost cells on each side of every active direction (a 1D mesh has one
row and no ghost rows). Conserved variables ``U``: ρ, ρu, ρv, ρE, ρX_k (CGS). Primitive variables ``q``: ρ, u, v,
p, ρe, Γ₁, X_k. Every loop runs over a flattened (row, column) index in ``prange``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lawful.hydro.riemann import exact_flux, hllc

UR, UMX, UMY, UE, UX = 0, 1, 2, 3, 4
QR, QU, QV, QP, QRE, QG, QX = 0, 1, 2, 3, 4, 5, 6
#: boundary codes per side (x-low, x-high, y-low, y-high)
BOUNDARIES = {"outflow": 0, "reflect": 1, "periodic": 2}
LIMITERS = {"minmod": 0, "mc": 1, "vanleer": 2}
RIEMANN = {"hllc": 0, "exact": 1}


@njit(cache=True)
def _ghost_value(n, g, i, code, lo):
    """Source index (in the padded axis of n active cells) of ghost ``i`` and the sign for a normal vector."""
    if code == 2:  # periodic
        return (i + n if lo else i - n), 1.0
    if code == 1:  # reflect: mirror across the face
        return (2 * g - 1 - i if lo else 2 * (n + g) - 1 - i), -1.0
    return (g if lo else n + g - 1), 1.0  # outflow: zero gradient


@njit(cache=True, parallel=True)
def fill_ghosts(A, ng, bc, normal_x, normal_y):
    """Fill the ghost cells of A [nv, ny_t, nx_t] in place; ``bc`` [4] codes (x-lo, x-hi, y-lo, y-hi).

    ``normal_x``/``normal_y`` index the variable that flips sign at a reflecting x/y wall (−1: none).
    """
    nv, nyt, nxt = A.shape
    nx = nxt - 2 * ng
    for j in prange(nyt):
        for side in range(2):
            for k in range(ng):
                i = k if side == 0 else nx + ng + k
                src, sgn = _ghost_value(nx, ng, i, bc[side], side == 0)
                for v in range(nv):
                    A[v, j, i] = A[v, j, src] * (sgn if v == normal_x else 1.0)
    if nyt > 1:
        ny = nyt - 2 * ng
        for i in prange(nxt):
            for side in range(2):
                for k in range(ng):
                    j = k if side == 0 else ny + ng + k
                    src, sgn = _ghost_value(ny, ng, j, bc[2 + side], side == 0)
                    for v in range(nv):
                        A[v, j, i] = A[v, src, i] * (sgn if v == normal_y else 1.0)


@njit(cache=True, parallel=True)
def conserved_to_primitive(U, q, gamma):
    """Fill ρ, u, v, ρe, X_k of ``q`` from ``U`` over every cell; with ``gamma`` > 0 also p and Γ₁ (γ-law gas).

    A general EOS fills p and Γ₁ afterwards from (ρ, e, X).
    """
    nv, nyt, nxt = U.shape
    ns = nv - UX
    for n in prange(nyt * nxt):
        j, i = n // nxt, n % nxt
        r = U[UR, j, i]
        u = U[UMX, j, i] / r
        v = U[UMY, j, i] / r
        re = U[UE, j, i] - 0.5 * r * (u * u + v * v)
        q[QR, j, i] = r
        q[QU, j, i] = u
        q[QV, j, i] = v
        q[QRE, j, i] = re
        for k in range(ns):
            q[QX + k, j, i] = U[UX + k, j, i] / r
        if gamma > 0.0:
            q[QP, j, i] = (gamma - 1.0) * re
            q[QG, j, i] = gamma


@njit(cache=True, parallel=True)
def max_signal_rate(q, ng, dx, dy):
    """max over active cells of (|u| + c)/dx + (|v| + c)/dy (1/s); the CFL step is cfl / this."""
    _, nyt, nxt = q.shape
    two_d = nyt > 1
    j0 = ng if two_d else 0
    nj = nyt - 2 * ng if two_d else 1
    nx = nxt - 2 * ng
    rates = np.zeros(nj)
    for jj in prange(nj):
        j = j0 + jj
        best = 0.0
        for i in range(ng, ng + nx):
            c = np.sqrt(q[QG, j, i] * q[QP, j, i] / q[QR, j, i])
            s = (abs(q[QU, j, i]) + c) / dx
            if two_d:
                s += (abs(q[QV, j, i]) + c) / dy
            if not s <= best:  # NaN propagates into the rate
                best = s
        rates[jj] = best
    return rates.max()


@njit(cache=True, inline="always")
def _limited(dl, dr, lim):
    """Limited slope from the left and right differences: minmod (0), monotonized central (1), van Leer (2)."""
    if dl * dr <= 0.0:
        return 0.0
    if lim == 0:
        return dl if abs(dl) < abs(dr) else dr
    if lim == 1:
        s = 1.0 if dl > 0.0 else -1.0
        return s * min(2.0 * abs(dl), 2.0 * abs(dr), 0.5 * abs(dl + dr))
    return 2.0 * dl * dr / (dl + dr)


@njit(cache=True, parallel=True)
def slopes_and_predictor(q, dqx, dqy, qh, dt, dx, dy, lim):
    """Limited slopes (differences per cell) and the MUSCL–Hancock half-step primitive state qh.

    Computed on every cell that has both neighbours (all but the outermost ghost layer).
    """
    nq, nyt, nxt = q.shape
    ns = nq - QX
    two_d = nyt > 1
    j0, j1 = (1, nyt - 1) if two_d else (0, 1)
    ni = nxt - 2
    h = 0.5 * dt
    for n in prange((j1 - j0) * ni):
        j, i = j0 + n // ni, 1 + n % ni
        for v in range(nq):
            dqx[v, j, i] = _limited(q[v, j, i] - q[v, j, i - 1], q[v, j, i + 1] - q[v, j, i], lim)
            dqy[v, j, i] = _limited(q[v, j, i] - q[v, j - 1, i], q[v, j + 1, i] - q[v, j, i], lim) if two_d else 0.0
        r, u, vv, p, re, g = q[QR, j, i], q[QU, j, i], q[QV, j, i], q[QP, j, i], q[QRE, j, i], q[QG, j, i]
        ax, ay = h / dx, h / dy
        dux, dvy = dqx[QU, j, i] * ax, dqy[QV, j, i] * ay
        div = dux + dvy
        qh[QR, j, i] = r - u * dqx[QR, j, i] * ax - vv * dqy[QR, j, i] * ay - r * div
        qh[QU, j, i] = u - u * dux - vv * dqy[QU, j, i] * ay - dqx[QP, j, i] * ax / r
        qh[QV, j, i] = vv - u * dqx[QV, j, i] * ax - vv * dvy - dqy[QP, j, i] * ay / r
        qh[QP, j, i] = p - u * dqx[QP, j, i] * ax - vv * dqy[QP, j, i] * ay - g * p * div
        qh[QRE, j, i] = re - u * dqx[QRE, j, i] * ax - vv * dqy[QRE, j, i] * ay - (re + p) * div
        for v in range(QG, QG + 1 + ns):
            qh[v, j, i] = q[v, j, i] - u * dqx[v, j, i] * ax - vv * dqy[v, j, i] * ay


@njit(cache=True, inline="always")
def _face_state(q, dq, qh, j, i, sgn, v):
    """Reconstructed value of primitive ``v`` at the face on side ``sgn`` (+1 right, −1 left) of cell (j, i)."""
    return qh[v, j, i] + 0.5 * sgn * dq[v, j, i]


@njit(cache=True, inline="always")
def _usable(q, dq, qh, j, i, sgn):
    """True when the reconstructed face state has positive ρ, p and ρe (else the face falls back to first order)."""
    return (_face_state(q, dq, qh, j, i, sgn, QR) > 0.0 and _face_state(q, dq, qh, j, i, sgn, QP) > 0.0
            and _face_state(q, dq, qh, j, i, sgn, QRE) > 0.0)


@njit(cache=True, inline="always")
def _side(q, dq, qh, j, i, sgn, v, second):
    return _face_state(q, dq, qh, j, i, sgn, v) if second else q[v, j, i]


@njit(cache=True, parallel=True)
def face_fluxes(q, dq, qh, F, ng, axis, riemann, gamma):
    """Fluxes F [nu, ny_t, nx_t] through the low face of every active cell and the high face of the last one.

    ``axis`` 0: x faces (normal u), 1: y faces (normal v). Species are advected with the mass flux from the
    upwind side of the contact, their face fractions normalized to sum to one (Plewa & Müller 1999), so
    Σ_k F(ρX_k) = F(ρ) and Σ_k ρX_k = ρ is kept to round-off.
    """
    nq, nyt, nxt = q.shape
    ns = nq - QX
    two_d = nyt > 1
    nx, ny = nxt - 2 * ng, (nyt - 2 * ng if two_d else 1)
    j0 = ng if two_d else 0
    nfi, nfj = (nx + 1, ny) if axis == 0 else (nx, ny + 1)
    qn, qt = (QU, QV) if axis == 0 else (QV, QU)
    fn, ft = (UMX, UMY) if axis == 0 else (UMY, UMX)
    for n in prange(nfi * nfj):
        j, i = j0 + n // nfi, ng + n % nfi
        jl, il = (j, i - 1) if axis == 0 else (j - 1, i)
        sl = _usable(q, dq, qh, jl, il, 1.0)
        sr = _usable(q, dq, qh, j, i, -1.0)
        rl, ul, vl = _side(q, dq, qh, jl, il, 1.0, QR, sl), _side(q, dq, qh, jl, il, 1.0, qn, sl), \
            _side(q, dq, qh, jl, il, 1.0, qt, sl)
        pl, rel, gl = _side(q, dq, qh, jl, il, 1.0, QP, sl), _side(q, dq, qh, jl, il, 1.0, QRE, sl), \
            _side(q, dq, qh, jl, il, 1.0, QG, sl)
        rr, ur, vr = _side(q, dq, qh, j, i, -1.0, QR, sr), _side(q, dq, qh, j, i, -1.0, qn, sr), \
            _side(q, dq, qh, j, i, -1.0, qt, sr)
        pr, rer, gr = _side(q, dq, qh, j, i, -1.0, QP, sr), _side(q, dq, qh, j, i, -1.0, QRE, sr), \
            _side(q, dq, qh, j, i, -1.0, QG, sr)
        if riemann == 1:
            f0, f1, f2, f3, ss = exact_flux(rl, ul, vl, pl, rr, ur, vr, pr, gamma)
        else:
            f0, f1, f2, f3, ss = hllc(rl, ul, vl, pl, rel, gl, rr, ur, vr, pr, rer, gr)
        F[UR, j, i] = f0
        F[fn, j, i] = f1
        F[ft, j, i] = f2
        F[UE, j, i] = f3
        if ns > 0:
            up = ss >= 0.0
            ju, iu = (jl, il) if up else (j, i)
            su = sl if up else sr
            sgn = 1.0 if up else -1.0
            total = 0.0
            for k in range(ns):
                total += max(_side(q, dq, qh, ju, iu, sgn, QX + k, su), 0.0)
            for k in range(ns):
                F[UX + k, j, i] = f0 * max(_side(q, dq, qh, ju, iu, sgn, QX + k, su), 0.0) / total


@njit(cache=True, parallel=True)
def conservative_update(U, Fx, Fy, ng, dtdx, dtdy):
    """U ← U − Δt/Δx (F_{i+½} − F_{i−½}) − Δt/Δy (G_{j+½} − G_{j−½}) on the active cells."""
    nv, nyt, nxt = U.shape
    two_d = nyt > 1
    nx, ny = nxt - 2 * ng, (nyt - 2 * ng if two_d else 1)
    j0 = ng if two_d else 0
    for n in prange(nx * ny):
        j, i = j0 + n // nx, ng + n % nx
        for v in range(nv):
            d = dtdx * (Fx[v, j, i + 1] - Fx[v, j, i])
            if two_d:
                d += dtdy * (Fy[v, j + 1, i] - Fy[v, j, i])
            U[v, j, i] -= d
