"""Riemann solvers at one interface (numba): HLLC for any EOS, and Toro's exact solver for a γ-law gas.

Interface states are primitive: ρ (g/cm³), normal velocity u, transverse velocity v (cm/s), p (erg/cm³),
ρe (internal energy density, erg/cm³) and Γ₁ (sound speed c² = Γ₁ p / ρ). Fluxes are written into ``f`` in the
conserved order (ρ, ρu_n, ρu_t, ρE); the caller advects species with the mass flux from the upwind side.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def hllc(rl, ul, vl, pl, rel, gl, rr, ur, vr, pr, rer, gr):
    """HLLC flux (Toro, Spruce & Speares 1994) with Davis wave-speed estimates.

    The star-state energy formula does not assume an EOS, so a general EOS enters only through ρe and Γ₁.
    Returns the flux (ρ, ρu_n, ρu_t, ρE) and the contact speed S* (its sign tells which side is upwind).
    """
    cl = math.sqrt(gl * pl / rl)
    cr = math.sqrt(gr * pr / rr)
    sl = min(ul - cl, ur - cr)
    sr = max(ul + cl, ur + cr)
    El = rel + 0.5 * rl * (ul * ul + vl * vl)
    Er = rer + 0.5 * rr * (ur * ur + vr * vr)
    ml = rl * (sl - ul)
    mr = rr * (sr - ur)
    ss = (pr - pl + ul * ml - ur * mr) / (ml - mr)
    if sl >= 0.0:
        return rl * ul, rl * ul * ul + pl, rl * ul * vl, (El + pl) * ul, ss
    if sr <= 0.0:
        return rr * ur, rr * ur * ur + pr, rr * ur * vr, (Er + pr) * ur, ss
    # star state on the side of the contact that covers x/t = 0; F* = F_K + S_K (U*_K − U_K)
    if ss >= 0.0:
        r, u, v, p, E, s, m = rl, ul, vl, pl, El, sl, ml
    else:
        r, u, v, p, E, s, m = rr, ur, vr, pr, Er, sr, mr
    fac = m / (s - ss)
    es = E / r + (ss - u) * (ss + p / m)
    return (r * u + s * (fac - r), r * u * u + p + s * (fac * ss - r * u), r * u * v + s * (fac - r) * v,
            (E + p) * u + s * (fac * es - E), ss)


@njit(cache=True, inline="always")
def _pressure_function(p, rk, pk, ck, gamma):
    """Toro's f_K(p) and its derivative: shock (p > p_K) or rarefaction branch."""
    if p > pk:
        a = 2.0 / ((gamma + 1.0) * rk)
        b = (gamma - 1.0) / (gamma + 1.0) * pk
        s = math.sqrt(a / (p + b))
        return (p - pk) * s, s * (1.0 - 0.5 * (p - pk) / (p + b))
    r = p / pk
    e = (gamma - 1.0) / (2.0 * gamma)
    return 2.0 * ck / (gamma - 1.0) * (r**e - 1.0), r ** (-(gamma + 1.0) / (2.0 * gamma)) / (rk * ck)


@njit(cache=True)
def exact_star(rl, ul, pl, rr, ur, pr, gamma):
    """Star-region pressure and velocity of the γ-law Riemann problem (Newton iteration on p*; Toro ch. 4).

    Raises ``ValueError`` when the data generate vacuum.
    """
    cl = math.sqrt(gamma * pl / rl)
    cr = math.sqrt(gamma * pr / rr)
    if 2.0 * (cl + cr) / (gamma - 1.0) <= ur - ul:
        raise ValueError("Riemann data generate vacuum")
    # two-rarefaction guess, bounded below
    e = (gamma - 1.0) / (2.0 * gamma)
    p = ((cl + cr - 0.5 * (gamma - 1.0) * (ur - ul)) / (cl / pl**e + cr / pr**e)) ** (1.0 / e)
    p = max(p, 1e-12 * min(pl, pr))
    for _ in range(100):
        fl, dl = _pressure_function(p, rl, pl, cl, gamma)
        fr, dr = _pressure_function(p, rr, pr, cr, gamma)
        p_new = max(p - (fl + fr + ur - ul) / (dl + dr), 1e-12 * p)
        if abs(p_new - p) <= 1e-15 * (p_new + p):
            p = p_new
            break
        p = p_new
    fl, _ = _pressure_function(p, rl, pl, cl, gamma)
    fr, _ = _pressure_function(p, rr, pr, cr, gamma)
    return p, 0.5 * (ul + ur) + 0.5 * (fr - fl)


@njit(cache=True)
def exact_sample(rl, ul, pl, rr, ur, pr, gamma, ps, us, xi):
    """Exact solution (ρ, u, p) at similarity coordinate ξ = x/t given the star state (Toro §4.5)."""
    g = gamma
    if xi <= us:
        r, u, p, c, sgn = rl, ul, pl, math.sqrt(g * pl / rl), 1.0
    else:
        r, u, p, c, sgn = rr, ur, pr, math.sqrt(g * pr / rr), -1.0
    # the right side is mirrored (x → −x, u → −u) onto the left-side formulas
    x = sgn * xi
    un, usn = sgn * u, sgn * us
    if ps > p:  # shock
        s = un - c * math.sqrt((g + 1.0) / (2.0 * g) * ps / p + (g - 1.0) / (2.0 * g))
        if x <= s:
            return r, u, p
        rs = r * (ps / p + (g - 1.0) / (g + 1.0)) / ((g - 1.0) / (g + 1.0) * ps / p + 1.0)
        return rs, us, ps
    cs = c * (ps / p) ** ((g - 1.0) / (2.0 * g))
    head, tail = un - c, usn - cs
    if x <= head:
        return r, u, p
    if x >= tail:
        return r * (ps / p) ** (1.0 / g), us, ps
    cf = 2.0 / (g + 1.0) * (c + 0.5 * (g - 1.0) * (un - x))
    uf = 2.0 / (g + 1.0) * (c + 0.5 * (g - 1.0) * un + x)
    return r * (cf / c) ** (2.0 / (g - 1.0)), sgn * uf, p * (cf / c) ** (2.0 * g / (g - 1.0))


@njit(cache=True, inline="always")
def exact_flux(rl, ul, vl, pl, rr, ur, vr, pr, gamma):
    """Godunov flux (ρ, ρu_n, ρu_t, ρE) from the exact γ-law solution at x/t = 0, and u* (contact speed)."""
    ps, us = exact_star(rl, ul, pl, rr, ur, pr, gamma)
    r, u, p = exact_sample(rl, ul, pl, rr, ur, pr, gamma, ps, us, 0.0)
    v = vl if us >= 0.0 else vr
    E = p / (gamma - 1.0) + 0.5 * r * (u * u + v * v)
    return r * u, r * u * u + p, r * u * v, (E + p) * u, us


def exact_solution(left: tuple[float, float, float], right: tuple[float, float, float], gamma: float,
                   x: np.ndarray, t: float, x0: float = 0.0) -> dict[str, np.ndarray | float]:
    """Exact γ-law Riemann solution at time ``t`` for a discontinuity at ``x0``.

    ``left``/``right`` are (ρ, u, p). Returns ρ, u, p, e arrays on ``x`` and the star values ``p_star``,
    ``u_star``, ``rho_star_left``, ``rho_star_right`` and the right shock speed ``shock_speed`` when there is one.
    """
    if t <= 0:
        raise ValueError(f"t = {t} must be positive")
    rl, ul, pl = left
    rr, ur, pr = right
    ps, us = exact_star(rl, ul, pl, rr, ur, pr, gamma)
    xi = (np.asarray(x, dtype=np.float64) - x0) / t
    sol = np.array([exact_sample(rl, ul, pl, rr, ur, pr, gamma, ps, us, s) for s in xi]).reshape(-1, 3)
    g = gamma

    def star_density(r, p):
        if ps > p:
            return r * (ps / p + (g - 1) / (g + 1)) / ((g - 1) / (g + 1) * ps / p + 1)
        return r * (ps / p) ** (1 / g)

    out = {"rho": sol[:, 0], "u": sol[:, 1], "p": sol[:, 2], "e": sol[:, 2] / ((g - 1) * sol[:, 0]),
           "p_star": ps, "u_star": us, "rho_star_left": star_density(rl, pl),
           "rho_star_right": star_density(rr, pr)}
    if ps > pr:
        cr = np.sqrt(g * pr / rr)
        out["shock_speed"] = ur + cr * np.sqrt((g + 1) / (2 * g) * ps / pr + (g - 1) / (2 * g))
    return out
