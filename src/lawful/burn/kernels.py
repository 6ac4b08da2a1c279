"""Numba kernels for a reaction network: rates with T-derivatives, dY/dt, the analytic Jacobian, energy.

The network arrives as the :class:`PackedNetwork` :func:`pack` builds from :class:`lawful.burn.network.NetworkData`.
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
from collections import namedtuple

import numpy as np
from numba import njit, prange

from lawful.burn.screening import pair_constants, plasma_state, screen5

#: Avogadro's number (1/mol) and MeV in erg (pynucastro's values).
N_A = 6.02214076e23
MEV_TO_ERG = 1.6021766339999998e-06


#: The network as the kernels take it (numba reads a namedtuple of arrays like a tuple, fields by name).
PackedNetwork = namedtuple("PackedNetwork", [
    "A", "Z", "binding",  # [n] mass number, charge, binding energy (MeV)
    "set_a", "set_rate", "n_elem",  # REACLIB coefficients [S, 7], elementary rate of each set [S], E
    "pf_T9", "pf_logpf", "pf_rate", "pf_table", "pf_sign",  # partition-function grid, tables, their rates
    "scr_pairs", "scr_rate", "scr_pair",  # screening constants [Q, 6], screened rates and their pair
    "combo", "prefactor", "dens_exp", "react",  # network rates from elementary ones, r_k factors
    "nu_idx", "nu_val",  # nonzero ν_ki of each network rate: species [K, m] (−1 padded), value [K, m]
])


def pack(data) -> PackedNetwork:
    """The network the kernels take, from :class:`~lawful.burn.network.NetworkData`."""
    return PackedNetwork(
        np.ascontiguousarray(data.A), np.ascontiguousarray(data.Z), np.ascontiguousarray(data.binding),
        np.ascontiguousarray(data.set_a), data.set_rate, int(data.n_elementary),
        data.pf_T9, np.ascontiguousarray(data.pf_logpf), data.pf_rate, data.pf_table, data.pf_sign,
        _screen_constants(data.scr_pairs), data.scr_rate, data.scr_pair,
        np.ascontiguousarray(data.combo), data.prefactor, data.dens_exp, np.ascontiguousarray(data.react),
        *_sparse_rows(data.nu),
    )


def _sparse_rows(nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero entries of each row of ``nu`` [K, n]: species indices [K, m] (−1 padded) and values [K, m]."""
    m = max(1, int((nu != 0).sum(axis=1).max(initial=0)))
    idx = -np.ones((nu.shape[0], m), dtype=np.int64)
    val = np.zeros((nu.shape[0], m))
    for k, row in enumerate(nu):
        (nz,) = np.nonzero(row)
        idx[k, : nz.size] = nz
        val[k, : nz.size] = row[nz]
    return idx, val


def _screen_constants(pairs: np.ndarray) -> np.ndarray:
    """[Q, 6] :func:`~lawful.burn.screening.pair_constants` of each screening pair (Z1, A1, Z2, A2)."""
    return np.array([pair_constants(*p) for p in pairs]).reshape(-1, 6)


@njit(cache=True)
def workspace(net):
    """Scratch arrays (λ [K], dλ/dT [K], work [4E + 2Q]) for :func:`network_rates` on ``net`` (:func:`pack`)."""
    k = net.combo.shape[0]
    return np.empty(k), np.empty(k), np.empty(4 * net.n_elem + 2 * net.scr_pairs.shape[0])


@njit(cache=True)
def network_rates(rho, T, Y, net, screen, lam, dlam, work, derivs=True):
    """Fill ``lam`` [K] with the network rates λ_k and, if ``derivs``, ``dlam`` [K] with dλ_k/dT (1/K).

    ``screen``: apply screen5 screening. ``work`` [4E + 2Q] (:func:`workspace`) is scratch. The logarithms of
    a rate's partition-function and screening factors are added to the exponent of each of its REACLIB sets,
    so every set costs one exp and nothing else does.
    """
    n_elem = net.n_elem
    e_val = work[:n_elem]
    e_dln = work[n_elem: 2 * n_elem]  # dλ_e/dT9 while accumulating, dλ_e/dT (1/K) at the end
    g_sum = work[2 * n_elem: 3 * n_elem]  # ln(partition functions × screening) per rate
    dg_sum = work[3 * n_elem: 4 * n_elem]  # its T9-derivative
    e_val[:] = 0.0
    e_dln[:] = 0.0
    g_sum[:] = 0.0
    dg_sum[:] = 0.0
    T9 = T * 1e-9
    if net.pf_rate.shape[0] > 0:
        # one segment search on the shared grid, then every table's log G and slope
        pf_T9, pf_logpf = net.pf_T9, net.pf_logpf
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
        for t in range(net.pf_rate.shape[0]):
            g0 = pf_logpf[net.pf_table[t], j]
            g1 = pf_logpf[net.pf_table[t], j + 1]
            e = net.pf_rate[t]
            g_sum[e] += net.pf_sign[t] * (g0 + w * (g1 - g0))
            dg_sum[e] += net.pf_sign[t] * (g1 - g0) * inv_dx
    if screen and net.scr_pairs.shape[0] > 0:
        qlam0z, taufac, aa = plasma_state(rho, T, Y, net.Z)
        n_pairs = net.scr_pairs.shape[0]
        h = work[4 * n_elem: 4 * n_elem + n_pairs]
        dh = work[4 * n_elem + n_pairs: 4 * n_elem + 2 * n_pairs]
        for q in range(n_pairs):
            h[q], dh[q] = screen5(T, qlam0z, taufac, aa, net.scr_pairs, q)
        for t in range(net.scr_rate.shape[0]):
            q = net.scr_pair[t]
            g_sum[net.scr_rate[t]] += h[q]
            dg_sum[net.scr_rate[t]] += dh[q] * 1e9
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
    set_a, set_rate = net.set_a, net.set_rate
    for s in range(set_a.shape[0]):
        e = set_rate[s]
        v = math.exp(set_a[s, 0] + set_a[s, 1] * T9i + set_a[s, 2] * T913i + set_a[s, 3] * T913
                     + set_a[s, 4] * T9 + set_a[s, 5] * T953 + set_a[s, 6] * lnT9 + g_sum[e])
        e_val[e] += v
        if derivs:
            e_dln[e] += v * (set_a[s, 1] * dT9i + set_a[s, 2] * dT913i + set_a[s, 3] * dT913 + set_a[s, 4]
                             + set_a[s, 5] * dT953 + set_a[s, 6] * T9i + dg_sum[e])
    if derivs:
        for e in range(n_elem):
            e_dln[e] *= 1e-9
    combo = net.combo
    for k in range(combo.shape[0]):
        val = 0.0
        der = 0.0
        if combo[k, 0] >= 0:
            val = e_val[combo[k, 0]]
            der = e_dln[combo[k, 0]]
        if combo[k, 1] >= 0:
            den = 0.0
            dden = 0.0
            for j in range(3, 6):
                if combo[k, j] >= 0:
                    den += e_val[combo[k, j]]
                    dden += e_dln[combo[k, j]]
            ra, rb = e_val[combo[k, 1]], e_val[combo[k, 2]]
            dra, drb = e_dln[combo[k, 1]], e_dln[combo[k, 2]]
            if den > 0.0:
                q = ra * rb / den
                val += q
                if derivs:  # (no den²: it underflows to 0 where den ~ 1e-170, at low T)
                    der += (dra * rb + ra * drb - q * dden) / den
        lam[k] = val
        if derivs:
            dlam[k] = der


# The flow r_k / λ_k = prefactor ρ^e Π Y is written out inside each loop below: as a jitted helper function
# the same arithmetic ran 8× slower (measured in numba 0.6x).


@njit(cache=True)
def ydot(rho, Y, net, lam, out):
    """dY/dt [n] into ``out`` from the rates ``lam``; returns ε̇ in erg/g/s."""
    react, prefactor, dens_exp, nu_idx, nu_val = net.react, net.prefactor, net.dens_exp, net.nu_idx, net.nu_val
    out[:] = 0.0
    for k in range(lam.shape[0]):
        r = prefactor[k] * lam[k]
        for _ in range(int(dens_exp[k])):
            r *= rho
        for s in range(react.shape[1]):
            if react[k, s] < 0:
                break
            r *= Y[react[k, s]]
        for m in range(nu_idx.shape[1]):
            if nu_idx[k, m] < 0:
                break
            out[nu_idx[k, m]] += nu_val[k, m] * r
    e = 0.0
    for i in range(out.shape[0]):
        e += net.binding[i] * out[i]
    return e * N_A * MEV_TO_ERG


@njit(cache=True)
def jacobian(rho, Y, net, lam, dlam, jac, dydT):
    """∂(dY_i/dt)/∂Y_j into ``jac`` [n, n] and ∂(dY_i/dt)/∂T into ``dydT`` [n]."""
    react, prefactor, dens_exp, nu_idx, nu_val = net.react, net.prefactor, net.dens_exp, net.nu_idx, net.nu_val
    jac[:, :] = 0.0
    dydT[:] = 0.0
    n_react = react.shape[1]
    for k in range(lam.shape[0]):
        base = prefactor[k]
        for _ in range(int(dens_exp[k])):
            base *= rho
        full = base * dlam[k]
        for s in range(n_react):
            if react[k, s] < 0:
                break
            full *= Y[react[k, s]]
        for m in range(nu_idx.shape[1]):
            if nu_idx[k, m] < 0:
                break
            dydT[nu_idx[k, m]] += nu_val[k, m] * full
        for s in range(n_react):
            j = react[k, s]
            if j < 0:
                break
            # ∂/∂Y_j of the product: drop one factor Y_j per occurrence (product rule over repeated slots)
            d = base * lam[k]
            for s2 in range(n_react):
                if react[k, s2] < 0:
                    break
                if s2 != s:
                    d *= Y[react[k, s2]]
            for m in range(nu_idx.shape[1]):
                if nu_idx[k, m] < 0:
                    break
                jac[nu_idx[k, m], j] += nu_val[k, m] * d


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
