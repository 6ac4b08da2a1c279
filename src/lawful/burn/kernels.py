"""Numba kernels for a reaction network: rates with T-derivatives, dY/dt, the analytic Jacobian, energy.

The network arrives as the tuple :func:`pack` builds from :class:`lawful.burn.network.NetworkData`.
For one zone (ρ in g/cm³, T in K, molar abundances Y [n] in mol/g):

    λ_e(T)   = Σ_sets exp(a0 + a1/T9 + a2 T9^{-1/3} + a3 T9^{1/3} + a4 T9 + a5 T9^{5/3} + a6 ln T9)
               · exp(Σ ± ln G(T9)) · exp(Σ_pairs h_screen(ρ, T, Y))          (elementary rates)
    λ_k      = d + a·b / (c1 + c2 + c3)                                      (network rates)
    r_k      = prefactor_k ρ^{dens_exp_k} Π_reactants Y · λ_k                 (reactions / g / s / N_A)
    dY_i/dt  = Σ_k ν_ki r_k
    ε̇        = N_A · MeV · Σ_i B_i dY_i/dt   (erg/g/s, from binding energies B_i)

The Jacobian holds ∂(dY_i/dt)/∂Y_j (screening's weak composition dependence is neglected, as in
pynucastro and Microphysics) and ∂(dY_i/dt)/∂T (exact, including partition functions and screening).
Partition functions are interpolated linearly in T9 on one shared grid, as pynucastro's generated Python
networks do (np.interp).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from lawful.burn.screening import pair_constants, plasma_state, screen5

#: Avogadro's number (1/mol) and MeV in erg (pynucastro's values).
N_A = 6.02214076e23
MEV_TO_ERG = 1.6021766339999998e-06


def pack(data) -> tuple:
    """The network tuple the kernels take, from :class:`~lawful.burn.network.NetworkData`."""
    return (
        np.ascontiguousarray(data.A), np.ascontiguousarray(data.Z), np.ascontiguousarray(data.binding),
        np.ascontiguousarray(data.set_a), data.set_rate, int(data.n_elementary),
        data.pf_T9, np.ascontiguousarray(data.pf_logpf), np.union1d(data.pf_rate, data.scr_rate).astype(np.int64),
        data.pf_rate, data.pf_table, data.pf_sign,
        _screen_constants(data.scr_pairs), data.scr_rate, data.scr_pair,
        np.ascontiguousarray(data.combo), data.prefactor, data.dens_exp, np.ascontiguousarray(data.react),
        np.ascontiguousarray(data.nu),
    )


def _screen_constants(pairs: np.ndarray) -> np.ndarray:
    """[Q, 6] :func:`~lawful.burn.screening.pair_constants` of each screening pair (Z1, A1, Z2, A2)."""
    return np.array([pair_constants(*p) for p in pairs]).reshape(-1, 6)


@njit(cache=True)
def workspace(net):
    """Scratch arrays (λ [K], dλ/dT [K], work [4E + 2Q]) for :func:`network_rates` on network tuple ``net``."""
    k = net[15].shape[0]
    return np.empty(k), np.empty(k), np.empty(4 * net[5] + 2 * net[12].shape[0])


@njit(cache=True)
def network_rates(rho, T, Y, net, screen, lam, dlam, work, derivs=True):
    """Fill ``lam`` [K] with the network rates λ_k and, if ``derivs``, ``dlam`` [K] with dλ_k/dT (1/K).

    ``screen``: apply screen5 screening. ``work`` [4E + 2Q] (:func:`workspace`) is scratch. Partition-function
    and screening factors of a rate are summed in the exponent and applied with one exp per rate.
    """
    (_A, Z, _binding, set_a, set_rate, n_elem, pf_T9, pf_logpf, fac_rates, pf_rate, pf_table, pf_sign,
     scr_pairs, scr_rate, scr_pair, combo, _prefactor, _dens_exp, _react, _nu) = net
    e_val = work[:n_elem]
    e_dln = work[n_elem: 2 * n_elem]  # dλ_e/dT9 while accumulating, dλ_e/dT (1/K) at the end
    g_sum = work[2 * n_elem: 3 * n_elem]  # ln(partition functions × screening) per rate
    dg_sum = work[3 * n_elem: 4 * n_elem]  # its T9-derivative
    e_val[:] = 0.0
    if derivs:
        e_dln[:] = 0.0
    for e in fac_rates:
        g_sum[e] = 0.0
        dg_sum[e] = 0.0
    T9 = T * 1e-9
    T9i = 1.0 / T9
    T913 = np.cbrt(T9)
    T913i = 1.0 / T913
    T953 = T9 * T913 * T913
    lnT9 = math.log(T9)
    # d/dT9 of each basis function, times its coefficient below
    dT9i = -T9i * T9i
    dT913i = -T913i * T9i / 3.0
    dT913 = T913 * T9i / 3.0
    dT953 = 5.0 / 3.0 * T953 * T9i
    for s in range(set_a.shape[0]):
        a = set_a[s]
        v = math.exp(a[0] + a[1] * T9i + a[2] * T913i + a[3] * T913 + a[4] * T9 + a[5] * T953 + a[6] * lnT9)
        e_val[set_rate[s]] += v
        if derivs:
            e_dln[set_rate[s]] += v * (a[1] * dT9i + a[2] * dT913i + a[3] * dT913 + a[4] + a[5] * dT953
                                       + a[6] * T9i)
    if pf_rate.shape[0] > 0:
        # one segment search on the shared grid, then every table's log G and slope
        n_grid = pf_T9.shape[0]
        if T9 <= pf_T9[0] or T9 >= pf_T9[n_grid - 1]:
            j = 0 if T9 <= pf_T9[0] else n_grid - 2
            w = 0.0 if T9 <= pf_T9[0] else 1.0
            inside = 0.0
        else:
            lo, hi = 0, n_grid - 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if pf_T9[mid] <= T9:
                    lo = mid
                else:
                    hi = mid
            j = lo
            w = (T9 - pf_T9[j]) / (pf_T9[j + 1] - pf_T9[j])
            inside = 1.0
        inv_dx = inside / (pf_T9[j + 1] - pf_T9[j])
        for t in range(pf_rate.shape[0]):
            row = pf_logpf[pf_table[t]]
            e = pf_rate[t]
            g_sum[e] += pf_sign[t] * (row[j] + w * (row[j + 1] - row[j]))
            dg_sum[e] += pf_sign[t] * (row[j + 1] - row[j]) * inv_dx
    if screen and scr_pairs.shape[0] > 0:
        qlam0z, taufac, aa = plasma_state(rho, T, Y, Z)
        n_pairs = scr_pairs.shape[0]
        h = work[4 * n_elem: 4 * n_elem + n_pairs]
        dh = work[4 * n_elem + n_pairs: 4 * n_elem + 2 * n_pairs]
        for q in range(n_pairs):
            h[q], dh[q] = screen5(T, qlam0z, taufac, aa, scr_pairs[q])
        for t in range(scr_rate.shape[0]):
            q = scr_pair[t]
            g_sum[scr_rate[t]] += h[q]
            dg_sum[scr_rate[t]] += dh[q] * 1e9
    for e in fac_rates:
        f = math.exp(g_sum[e])
        if derivs:
            e_dln[e] = e_dln[e] * f + e_val[e] * f * dg_sum[e]
        e_val[e] *= f
    if derivs:
        for e in range(n_elem):
            e_dln[e] *= 1e-9
    for k in range(combo.shape[0]):
        c = combo[k]
        val = 0.0
        der = 0.0
        if c[0] >= 0:
            val = e_val[c[0]]
            der = e_dln[c[0]]
        if c[1] >= 0:
            den = 0.0
            dden = 0.0
            for j in range(3, 6):
                if c[j] >= 0:
                    den += e_val[c[j]]
                    dden += e_dln[c[j]]
            ra, rb = e_val[c[1]], e_val[c[2]]
            dra, drb = e_dln[c[1]], e_dln[c[2]]
            if den > 0.0:
                val += ra * rb / den
                der += (dra * rb + ra * drb) / den - ra * rb * dden / (den * den)
        lam[k] = val
        if derivs:
            dlam[k] = der


@njit(cache=True, inline="always")
def _reaction_flow(k, rho_pow, Y, react, prefactor, dens_exp, skip):
    """prefactor ρ^e Π_{reactants except slot ``skip``} Y (the rate r_k without λ_k); ``rho_pow`` = (1, ρ, ρ², ρ³)."""
    f = prefactor[k] * rho_pow[int(dens_exp[k])]
    for j in range(react.shape[1]):
        if react[k, j] >= 0 and j != skip:
            f *= Y[react[k, j]]
    return f


@njit(cache=True)
def ydot(rho, Y, net, lam, out):
    """dY/dt [n] into ``out`` from the rates ``lam``; returns ε̇ in erg/g/s."""
    binding, react, prefactor, dens_exp, nu = net[2], net[18], net[16], net[17], net[19]
    rho_pow = (1.0, rho, rho * rho, rho * rho * rho)
    out[:] = 0.0
    for k in range(lam.shape[0]):
        r = _reaction_flow(k, rho_pow, Y, react, prefactor, dens_exp, -1) * lam[k]
        for i in range(out.shape[0]):
            if nu[k, i] != 0.0:
                out[i] += nu[k, i] * r
    e = 0.0
    for i in range(out.shape[0]):
        e += binding[i] * out[i]
    return e * N_A * MEV_TO_ERG


@njit(cache=True)
def jacobian(rho, Y, net, lam, dlam, jac, dydT):
    """∂(dY_i/dt)/∂Y_j into ``jac`` [n, n] and ∂(dY_i/dt)/∂T into ``dydT`` [n]."""
    react, prefactor, dens_exp, nu = net[18], net[16], net[17], net[19]
    jac[:, :] = 0.0
    dydT[:] = 0.0
    n_react = react.shape[1]
    rho_pow = (1.0, rho, rho * rho, rho * rho * rho)
    for k in range(lam.shape[0]):
        full = _reaction_flow(k, rho_pow, Y, react, prefactor, dens_exp, -1)
        for i in range(nu.shape[1]):
            if nu[k, i] != 0.0:
                dydT[i] += nu[k, i] * full * dlam[k]
        for s in range(n_react):
            j = react[k, s]
            if j < 0:
                continue
            # ∂/∂Y_j of the product: drop one factor Y_j per occurrence (product rule over repeated slots)
            d = _reaction_flow(k, rho_pow, Y, react, prefactor, dens_exp, s) * lam[k]
            for i in range(nu.shape[1]):
                if nu[k, i] != 0.0:
                    jac[i, j] += nu[k, i] * d


@njit(cache=True, parallel=True)
def rhs_batch(rho, T, Y, net, screen):
    """dY/dt [N, n] and ε̇ [N] (erg/g/s) for N zones (ρ [N], T [N], Y [N, n])."""
    N, n = Y.shape
    out = np.empty((N, n))
    enuc = np.empty(N)
    for z in prange(N):
        lam, dlam, work = workspace(net)
        network_rates(rho[z], T[z], Y[z], net, screen, lam, dlam, work, False)
        enuc[z] = ydot(rho[z], Y[z], net, lam, out[z])
    return out, enuc
