"""Stellar equation of state: ideal ions + blackbody radiation + electrons and positrons at any degeneracy
and relativity, by direct Fermi–Dirac quadrature, in numba and vectorized over zones.

Electrons (β = kT / m_e c², η = kinetic chemical potential / kT, positrons at η₊ = −η − 2/β):
    n = C β^{3/2} (F_{1/2} + β F_{3/2}),  p = ⅔ C m_e c² β^{5/2} (F_{3/2} + ½ β F_{5/2}),
    E = C m_e c² β^{5/2} (F_{3/2} + β F_{5/2})  (+ 2 m_e c² n₊ for positrons),   C = 8π√2 (m_e c / h)³,
with the generalized Fermi–Dirac integrals F_k(η, β) = ∫₀^∞ x^k √(1 + βx/2) / (e^{x−η} + 1) dx and η fixed by
charge neutrality n₋ − n₊ = ρ N_A Ye. These are the formulas of pynucastro's ``StellarEOS`` (the test reference);
the quadrature here is Gauss–Legendre in z = √x on panels placed around η, ≈1e-12 relative.
Ions: ideal gas with the mean mass number Ā (Sackur–Tetrode entropy with Ā, as in the Helmholtz EOS).
Coulomb corrections (Yakovlev & Shalybkov 1989 fit, as in Timmes & Swesty 2000) are optional; they
correct p, e and their derivatives (not s).

Units CGS: ρ in g/cm³, T in K, e in erg/g, p in erg/cm³, s and c_v in erg/g/K.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import njit, prange

from lawful.burn.pair_gas import (
    A_RAD,
    K_B,
    M_U,
    N_A,
    PAIR_DEDD,
    PAIR_DEDT,
    PAIR_DPDD,
    PAIR_DPDT,
    PAIR_E,
    PAIR_ETA,
    PAIR_N_ELE,
    PAIR_N_POS,
    PAIR_P,
    PAIR_S,
    Q_E,
    H,
    pair_gas,
)

#: Validity range of :func:`eos` (ρ in g/cm³, T in K); inputs outside are rejected.
RHO_RANGE = (1e-10, 1e13)
T_RANGE = (1e4, 1e11)

#: Columns of the EOS output array, in order.
EOS_FIELDS = ("p", "e", "s", "cv", "cp", "gamma1", "cs", "dpdr", "dpdT", "dedr", "dedT", "eta", "n_ele", "n_pos")
#: Column indices into an EOS output row (numba reads them as compile-time constants).
(EOS_P, EOS_E, EOS_S, EOS_CV, EOS_CP, EOS_GAMMA1, EOS_CS, EOS_DPDR, EOS_DPDT, EOS_DEDR, EOS_DEDT, EOS_ETA, EOS_N_ELE,
 EOS_N_POS) = range(len(EOS_FIELDS))
#: Length of an EOS output row.
N_EOS = len(EOS_FIELDS)


@njit(cache=True, inline="always")
def _weights(z, dx, w, dw, ddw):
    """Quintic Hermite weights on a cell of width dx at fraction z: value, first and second x-derivatives.

    ``w[a, m]`` multiplies the m-th derivative stored at node a (0 = left, 1 = right).
    """
    for a in range(2):
        s = z if a == 0 else 1.0 - z
        sign = 1.0 if a == 0 else -1.0  # d/dx of a function of (1 − z) flips sign
        p0 = s * s * s * (s * (-6.0 * s + 15.0) - 10.0) + 1.0
        p1 = s * (s * s * (s * (-3.0 * s + 8.0) - 6.0) + 1.0)
        p2 = 0.5 * s * s * (s * (s * (-s + 3.0) - 3.0) + 1.0)
        d0 = s * s * (s * (-30.0 * s + 60.0) - 30.0)
        d1 = s * s * (s * (-15.0 * s + 32.0) - 18.0) + 1.0
        d2 = 0.5 * s * (s * (s * (-5.0 * s + 12.0) - 9.0) + 2.0)
        e0 = s * (s * (-120.0 * s + 180.0) - 60.0)
        e1 = s * (s * (-60.0 * s + 96.0) - 36.0)
        e2 = 0.5 * (s * (s * (-20.0 * s + 36.0) - 18.0) + 2.0)
        w[a, 0] = p0
        w[a, 1] = sign * p1 * dx
        w[a, 2] = p2 * dx * dx
        dw[a, 0] = sign * d0 / dx
        dw[a, 1] = d1
        dw[a, 2] = sign * d2 * dx
        ddw[a, 0] = e0 / (dx * dx)
        ddw[a, 1] = sign * e1 / dx
        ddw[a, 2] = e2


@njit(cache=True, inline="always")
def _cubic_weights(z, dx, w):
    """Cubic Hermite weights: ``w[a, m]`` multiplies the m-th derivative (m = 0, 1) stored at node a."""
    w[0, 0] = z * z * (2.0 * z - 3.0) + 1.0
    w[0, 1] = z * (z * (z - 2.0) + 1.0) * dx
    w[1, 0] = z * z * (3.0 - 2.0 * z)
    w[1, 1] = z * z * (z - 1.0) * dx


#: index of ∂^m_D ∂^n_T f in the node record, for m, n = 0…2
_SLOT = np.array([[0, 2, 4], [1, 5, 7], [3, 6, 8]])


@njit(cache=True)
def pair_gas_table(D, T, tab, lo_d, step_d, lo_t, step_t, out, w):
    """The pair gas at (D, T) from the table, into ``out`` [10] like :func:`lawful.burn.pair_gas.pair_gas`
    (n₋ and n₊ are not tabulated: NaN); ``w`` [8, 2, 3] is scratch for the Hermite weights.
    Returns False outside the table."""
    nd, nt = tab.shape[0], tab.shape[1]
    xd = (math.log10(D) - lo_d) / step_d
    xt = (math.log10(T) - lo_t) / step_t
    if not (0.0 <= xd <= nd - 1 and 0.0 <= xt <= nt - 1):
        return False
    i = min(int(xd), nd - 2)
    j = min(int(xt), nt - 2)
    d0 = 10.0 ** (lo_d + step_d * i)
    d1 = 10.0 ** (lo_d + step_d * (i + 1))
    t0 = 10.0 ** (lo_t + step_t * j)
    t1 = 10.0 ** (lo_t + step_t * (j + 1))
    wd, dwd, ddwd, wt, dwt, ddwt, wd3, wt3 = w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]
    _weights((D - d0) / (d1 - d0), d1 - d0, wd, dwd, ddwd)
    _weights((T - t0) / (t1 - t0), t1 - t0, wt, dwt, ddwt)
    _cubic_weights((D - d0) / (d1 - d0), d1 - d0, wd3)
    _cubic_weights((T - t0) / (t1 - t0), t1 - t0, wt3)
    f = fd = ft = fdd = fdt = ftt = 0.0
    for a in range(2):
        for b in range(2):
            node = tab[i + a, j + b]
            for m in range(3):
                for n in range(3):
                    v = node[_SLOT[m, n]]
                    f += v * wd[a, m] * wt[b, n]
                    fd += v * dwd[a, m] * wt[b, n]
                    ft += v * wd[a, m] * dwt[b, n]
                    fdd += v * ddwd[a, m] * wt[b, n]
                    fdt += v * dwd[a, m] * dwt[b, n]
                    ftt += v * wd[a, m] * ddwt[b, n]
    # ∂p/∂D from its own bicubic Hermite table (columns 9–12: g, g_D, g_T, g_DT; table columns, not EOS ones)
    g = 0.0
    for a in range(2):
        for b in range(2):
            node = tab[i + a, j + b]
            g += (node[9] * wd3[a, 0] * wt3[b, 0] + node[10] * wd3[a, 1] * wt3[b, 0]
                  + node[11] * wd3[a, 0] * wt3[b, 1] + node[12] * wd3[a, 1] * wt3[b, 1])
    out[PAIR_P] = D * D * fd
    out[PAIR_E] = D * (f - T * ft)
    out[PAIR_S] = -D * ft
    out[PAIR_DPDD] = g
    out[PAIR_DPDT] = D * D * fdt
    out[PAIR_DEDD] = f + D * fd - T * (ft + D * fdt)
    out[PAIR_DEDT] = -D * T * ftt
    out[PAIR_ETA] = (f + D * fd) / (N_A * K_B * T)
    out[PAIR_N_ELE] = np.nan
    out[PAIR_N_POS] = np.nan
    return True


#: EOS options as the kernels take them: (coulomb, positrons, table [nD, nT, 9] or empty, lo_d, step_d, lo_t, step_t)
NO_TABLE = np.zeros((0, 0, 13))


@njit(cache=True)
def eos_scratch():
    """Per-thread scratch for :func:`eos_zone`: (Fermi integrals e⁻ [3, 3], e⁺ [3, 3], pair gas [10],
    Hermite weights [8, 2, 3])."""
    return np.empty((3, 3)), np.empty((3, 3)), np.empty(10), np.empty((8, 2, 3))


@njit(cache=True)
def eos_zone(rho, T, abar, zbar, opts, out, scratch, eta_guess):
    """Full EOS for one zone into ``out`` [len(EOS_FIELDS)]; ``eta_guess`` starts the η solve (NaN: none).

    ``opts``: see :meth:`StellarEOS.options`. With a table the pair gas is interpolated (direct quadrature
    outside the table's range).
    """
    coulomb, positrons, tab, lo_d, step_d, lo_t, step_t = opts
    fe, fp, pair, w = scratch
    ye = zbar / abar
    if tab.shape[0] == 0 or not pair_gas_table(rho * ye, T, tab, lo_d, step_d, lo_t, step_t, pair, w):
        pair_gas(rho * ye, T, positrons, eta_guess, fe, fp, pair)
    _add_ions_radiation(rho, T, abar, zbar, ye, coulomb, pair, out)


@njit(cache=True)
def _add_ions_radiation(rho, T, abar, zbar, ye, coulomb, pair, out):
    """Combine the pair gas ``pair`` [10] (at D = ρ Ye) with ions, radiation and optional Coulomb terms."""
    kT = K_B * T
    p_ep, E_ep, eta, n_e, n_p = pair[PAIR_P], pair[PAIR_E], pair[PAIR_ETA], pair[PAIR_N_ELE], pair[PAIR_N_POS]
    s_ep = pair[PAIR_S] / rho
    dp_ep_dr = pair[PAIR_DPDD] * ye
    dp_ep_dT = pair[PAIR_DPDT]
    dE_ep_dr = pair[PAIR_DEDD] * ye
    dE_ep_dT = pair[PAIR_DEDT]
    # ions
    n_i = rho * N_A / abar
    p_i = n_i * kT
    mi = abar * M_U
    s_i = N_A * K_B / abar * (2.5 + math.log(mi / rho * (2.0 * math.pi * mi * kT / (H * H)) ** 1.5))
    # radiation
    p_r = A_RAD * T**4 / 3.0
    p = p_i + p_r + p_ep
    e = 1.5 * p_i / rho + 3.0 * p_r / rho + E_ep / rho
    s = s_i + 4.0 * p_r / (rho * T) + s_ep
    dpdr = p_i / rho + dp_ep_dr
    dpdT = p_i / T + 4.0 * p_r / T + dp_ep_dT
    dedr = -3.0 * p_r / (rho * rho) + (dE_ep_dr - E_ep / rho) / rho
    dedT = 1.5 * p_i / (rho * T) + 12.0 * p_r / (rho * T) + dE_ep_dT / rho
    if coulomb:
        # Yakovlev & Shalybkov (1989) one-component-plasma fit, Helmholtz form (Timmes & Swesty 2000)
        a1, b1, c1, d1 = -0.898004, 0.96786, 0.220703, -0.86097
        a2, b2, c2 = 0.29561, 1.9885, 0.288675
        ai = (3.0 * abar / (4.0 * math.pi * rho * N_A)) ** (1.0 / 3.0)  # ion-sphere radius, cm
        plasg = zbar * zbar * Q_E * Q_E / (ai * kT)  # ion coupling parameter Γ
        if plasg >= 1.0:
            x = plasg**0.25
            u0 = a1 * plasg + b1 * x + c1 / x + d1
            du_dg = a1 + 0.25 * b1 / x**3 - 0.25 * c1 / x**5
        else:
            y = plasg**b2
            u0 = -3.0 * c2 * plasg * math.sqrt(plasg) + a2 * y
            du_dg = -4.5 * c2 * math.sqrt(plasg) + a2 * b2 * y / plasg
        # energy per gram u0 n_i kT / ρ, pressure u0 n_i kT / 3; Γ ∝ ρ^{1/3}/T
        ecoul = u0 * n_i * kT / rho
        pcoul = u0 * n_i * kT / 3.0
        dg_dr = plasg / (3.0 * rho)
        dg_dT = -plasg / T
        if p + pcoul > 0.0:  # as in Helmholtz: drop the correction where it would make p negative
            p += pcoul
            e += ecoul
            dpdr += pcoul / rho + n_i * kT / 3.0 * du_dg * dg_dr
            dpdT += pcoul / T + n_i * kT / 3.0 * du_dg * dg_dT
            dedr += n_i * kT / rho * du_dg * dg_dr
            dedT += ecoul / T + n_i * kT / rho * du_dg * dg_dT
    cv = dedT
    dT_dr_s = (p / (rho * rho) - dedr) / dedT
    gamma1 = rho / p * (dpdr + dpdT * dT_dr_s)
    cp = cv + (p / (rho * rho) - dedr) * dpdT / dpdr
    out[EOS_P] = p
    out[EOS_E] = e
    out[EOS_S] = s
    out[EOS_CV] = cv
    out[EOS_CP] = cp
    out[EOS_GAMMA1] = gamma1
    out[EOS_CS] = math.sqrt(gamma1 * p / rho)
    out[EOS_DPDR] = dpdr
    out[EOS_DPDT] = dpdT
    out[EOS_DEDR] = dedr
    out[EOS_DEDT] = dedT
    out[EOS_ETA] = eta
    out[EOS_N_ELE] = n_e
    out[EOS_N_POS] = n_p


@njit(cache=True, parallel=True)
def eos_kernel(rho, T, abar, zbar, opts):
    """EOS for N zones (all inputs [N]); returns [N, len(EOS_FIELDS)]."""
    n = rho.shape[0]
    out = np.empty((n, N_EOS))
    block = 256  # zones per scratch allocation
    for b in prange((n + block - 1) // block):
        scratch = eos_scratch()
        for i in range(b * block, min(n, (b + 1) * block)):
            eos_zone(rho[i], T[i], abar[i], zbar[i], opts, out[i], scratch, np.nan)
    return out


@njit(cache=True, parallel=True)
def temperature_from_energy(rho, e, abar, zbar, T_guess, opts, rtol):
    """Invert e(ρ, T) for T on N zones by safeguarded Newton (bracketed in :data:`T_RANGE`).

    Returns ``(T [N], converged [N] bool)``; a zone with a non-finite ``e`` is not iterated (T = NaN, not
    converged).
    """
    n = rho.shape[0]
    T_out = np.empty(n)
    ok = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        if not math.isfinite(e[i]):
            T_out[i] = np.nan
            continue
        scratch = eos_scratch()
        res = np.empty(N_EOS)
        lo, hi = 1e4, 1e11
        T = min(max(T_guess[i], lo), hi)
        res[EOS_ETA] = np.nan
        for _ in range(100):
            eos_zone(rho[i], T, abar[i], zbar[i], opts, res, scratch, res[EOS_ETA])
            f = res[EOS_E] - e[i]
            if f > 0.0:
                hi = T
            else:
                lo = T
            new = T - f / res[EOS_DEDT]
            if not (lo < new < hi):
                new = math.sqrt(lo * hi)
            if abs(new - T) <= rtol * T:
                T = new
                ok[i] = True
                break
            T = new
        T_out[i] = T
    return T_out, ok


@dataclasses.dataclass(frozen=True)
class StellarEOS:
    """Vectorized stellar EOS. ``coulomb`` adds the ion Coulomb correction; ``positrons`` the pair gas;
    ``table`` interpolates the pair gas in the cached Helmholtz-type table (:mod:`lawful.burn.eos_table`;
    ~1e-6 accurate, many times faster) instead of direct Fermi–Dirac quadrature."""

    coulomb: bool = False
    positrons: bool = True
    table: bool = False

    def options(self) -> tuple:
        """The options tuple the numba kernels take (loads or generates the table when ``table``)."""
        if self.table:
            if not self.positrons:
                raise ValueError("the EOS table includes positrons; use table=False with positrons=False")
            from lawful.burn.eos_table import load_table

            return (self.coulomb, True, *load_table())
        return (self.coulomb, self.positrons, NO_TABLE, 0.0, 1.0, 0.0, 1.0)

    def __call__(self, rho, T, abar, zbar) -> dict[str, np.ndarray]:
        """Thermodynamics at (ρ, T) with mean mass number ``abar`` and charge ``zbar`` (arrays broadcast).

        Returns a dict of arrays keyed by :data:`EOS_FIELDS`.
        """
        rho, T, abar, zbar = (np.ascontiguousarray(a, dtype=np.float64).ravel() for a in np.broadcast_arrays(rho, T, abar, zbar))
        check_state(rho, T)
        out = eos_kernel(rho, T, abar, zbar, self.options())
        return {name: out[:, j] for j, name in enumerate(EOS_FIELDS)}

    def temperature(self, rho, e, abar, zbar, T_guess=1e9, rtol: float = 1e-12) -> np.ndarray:
        """T(ρ, e) for arrays; raises ``ValueError`` naming the zones where Newton did not converge."""
        rho, e, abar, zbar, T_guess = (
            np.ascontiguousarray(a, dtype=np.float64).ravel() for a in np.broadcast_arrays(rho, e, abar, zbar, T_guess)
        )
        T, ok = temperature_from_energy(rho, e, abar, zbar, T_guess, self.options(), rtol)
        if not ok.all():
            bad = np.flatnonzero(~ok)[:5]
            raise ValueError(f"T(ρ, e) did not converge in zones {bad.tolist()} (e = {e[bad].tolist()} erg/g)")
        return T


def check_state(rho, T) -> None:
    """Raise ``ValueError`` naming the first ρ or T outside :data:`RHO_RANGE` / :data:`T_RANGE`."""
    rho, T = np.asarray(rho), np.asarray(T)
    for name, arr, (lo, hi), unit in (("rho", rho, RHO_RANGE, "g/cm^3"), ("T", T, T_RANGE, "K")):
        bad = ~((arr >= lo) & (arr <= hi))
        if bad.any():
            v = arr[bad].flat[0]
            raise ValueError(f"{name} = {v:.6g} {unit} is outside the EOS range [{lo:.0e}, {hi:.0e}]")
