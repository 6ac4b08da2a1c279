"""Burn cost per zone-step: lawful's batched BDF and RODAS3 vs scipy BDF (analytic Jacobian), and a compiled limit.

Workload (issue 4): 10⁴ aprox13 zones at ρ = 1e7 g/cm³, T = 3e9…6e9 K, 50/50 C/O, Δt = 1e-7, 1e-6, 1e-5 s
(a third of the zones each), rtol 1e-6 / atol 1e-8 (Microphysics VODE defaults), screening on. scipy runs a random subsample of the same
states (it costs tens of ms per zone). Modes: fixed T, and self-heating through the EOS (direct quadrature, and the interpolated table).

Compiled limit: the integrators count their RHS evaluations, Jacobians (each comes with an RHS from the same rates)
and LU factorizations per zone; we time each kernel (and the EOS call each RHS and, three times, each
self-heating Jacobian makes, and a triangular solve) in a tight numba loop and multiply by what each zone used. Run: python benchmarks/burn_integrator.py [--zones N]
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np
from numba import njit

from lawful.burn import kernels as K
from lawful.burn.eos import StellarEOS, eos_scratch, eos_zone
from lawful.burn.integrate import burn
from lawful.burn.network import Network
from lawful.burn.zone import lu_factor, lu_solve, zone_rhs, zone_rhs_jac


@njit(cache=False)
def _rhs_loop(rho, T, Y, net, reps):
    """``reps`` evaluations of rates + dY/dt (the caller times the loop)."""
    n = Y.shape[0]
    lam, dlam, work = K.workspace(net)
    out = np.empty(n)
    acc = 0.0
    for _ in range(reps):
        K.network_rates(rho, T, Y, net, True, lam, dlam, work, False)
        acc += K.ydot(rho, Y, net, lam, out)
    return acc


@njit(cache=False)
def _rhs_jac_loop(rho, T, Y, net, reps):
    """``reps`` evaluations of rates with T-derivatives + dY/dt + Jacobian (what ``zone.zone_rhs_jac`` does)."""
    n = Y.shape[0]
    lam, dlam, work = K.workspace(net)
    out, jac, dydT = np.empty(n), np.empty((n, n)), np.empty(n)
    for _ in range(reps):
        K.network_rates(rho, T, Y, net, True, lam, dlam, work)
        K.ydot(rho, Y, net, lam, out)
        K.jacobian(rho, Y, net, lam, dlam, jac, dydT)
    return jac[0, 0]


@njit(cache=False)
def _lu_loop(a, reps):
    """``reps`` LU factorizations of a copy of ``a``."""
    piv = np.empty(a.shape[0], dtype=np.int64)
    g = np.empty_like(a)
    for _ in range(reps):
        g[:, :] = a
        lu_factor(g, piv)
    return g[0, 0]


@njit(cache=False)
def _solve_loop(a, reps):
    """``reps`` forward/back substitutions with the factors of ``a``."""
    piv = np.empty(a.shape[0], dtype=np.int64)
    g = a.copy()
    lu_factor(g, piv)
    b = np.ones(a.shape[0])
    for _ in range(reps):
        lu_solve(g, piv, b)
    return b[0]


@njit(cache=False)
def _eos_loop(rho, T, abar, zbar, opts, reps):
    out = np.empty(14)
    scratch = eos_scratch()
    eos_zone(rho, T, abar, zbar, opts, out, scratch, np.nan)
    for _ in range(reps):
        eos_zone(rho, T * 1.0000001, abar, zbar, opts, out, scratch, out[11])
    return out[3]


def _per_call(fn, *args, reps=20000):
    fn(*args, 10)
    t = time.perf_counter()
    fn(*args, reps)
    return (time.perf_counter() - t) / reps


def _scipy_zone(net, rho, T0, X0, dt, heat, eos_opts):
    """scipy BDF on one zone with the same RHS and the same analytic Jacobian (incl. the T row)."""
    from scipy.integrate import solve_ivp

    n = len(net.names)
    lam, dlam, work = K.workspace(net.packed)
    eos_out, eos_tmp = np.full(14, np.nan), np.empty(14)
    scratch = eos_scratch()

    def f(_, y):
        out = np.empty(n + 1 if heat else n)
        zone_rhs(rho, y, T0, net.packed, True, heat, eos_opts, out, lam, dlam, work, eos_out, scratch)
        return out

    def jac(_, y):
        nv = n + 1 if heat else n
        J = np.zeros((nv, nv))
        zone_rhs_jac(rho, y, T0, net.packed, True, heat, eos_opts, np.empty(nv), J, lam, dlam, work, eos_out,
                 np.empty(n), eos_tmp, scratch)
        return J

    y0 = np.append(X0 / net.A, T0) if heat else X0 / net.A
    sol = solve_ivp(f, (0.0, dt), y0, method="BDF", jac=jac, rtol=1e-6, atol=1e-8 / net.A.max())
    return sol


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", type=int, default=10_000)
    ap.add_argument("--scipy-zones", type=int, default=30)
    ap.add_argument("--methods", nargs="+", default=["bdf", "rodas3"], choices=["bdf", "rodas3"])
    args = ap.parse_args()
    net = Network("aprox13")
    rng = np.random.default_rng(0)
    N = args.zones
    T = rng.uniform(3e9, 6e9, N)
    rho = np.full(N, 1e7)
    X0 = net.composition({"c12": 0.5, "o16": 0.5})
    dts = (1e-7, 1e-6, 1e-5)
    groups = np.array_split(np.arange(N), len(dts))
    burn(net, rho[:4], T[:4], X0, [1e-7])  # compile / load caches
    burn(net, rho[:4], T[:4], X0, [1e-7], self_heating=False)
    Y = X0 / net.A
    abar = 1 / Y.sum()
    costs = {
        "rhs": _per_call(_rhs_loop, 1e7, 4e9, Y, net.packed),
        "rhs_jac": _per_call(_rhs_jac_loop, 1e7, 4e9, Y, net.packed),
        "eos": _per_call(_eos_loop, 1e7, 4e9, abar, abar * (net.Z @ Y), StellarEOS().options()),
        "eos_table": _per_call(_eos_loop, 1e7, 4e9, abar, abar * (net.Z @ Y), StellarEOS(table=True).options()),
    }
    a = np.eye(14) * 1e7 + rng.normal(size=(14, 14))
    costs["lu"] = _per_call(_lu_loop, a)
    costs["solve"] = _per_call(_solve_loop, a)
    print(f"kernel costs per call (one core): rates+dY/dt {costs['rhs'] * 1e6:.2f} µs, rates+dY/dt+Jacobian "
          f"{costs['rhs_jac'] * 1e6:.2f} µs, LU (14×14) {costs['lu'] * 1e6:.2f} µs, solve {costs['solve'] * 1e6:.2f} µs, "
          f"EOS (warm η) {costs['eos'] * 1e6:.2f} µs, EOS table {costs['eos_table'] * 1e6:.2f} µs")
    print()
    print("| mode | method | Δt (s) | zones | steps/zone | RHS, Jacobians, LUs per step | lawful µs/zone-step (1 core) "
          "| compiled limit µs | lawful/limit | scipy BDF ms/zone-step | speed-up vs scipy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    import numba

    modes = (("fixed T", False, StellarEOS()), ("self-heating, direct EOS", True, StellarEOS()),
             ("self-heating, EOS table", True, StellarEOS(table=True)))
    for (mode, heat, eos), method in itertools.product(modes, args.methods):
        opts = eos.options()
        burn(net, rho[:2], T[:2], X0, [1e-7], self_heating=heat, eos=eos, method=method)  # compile
        for dt, idx in zip(dts, groups):
            numba.set_num_threads(1)
            t = time.perf_counter()
            r = burn(net, rho[idx], T[idx], X0, [dt], self_heating=heat, eos=eos, method=method)
            ours = (time.perf_counter() - t) / len(idx)
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
            assert r.ok, np.unique(r.status, return_counts=True)
            steps = (r.steps + r.rejected).mean()
            eos_cost = costs["eos_table" if eos.table else "eos"] if heat else 0.0
            # every kernel call the integrator counted, at its tight-loop cost: an RHS that comes with a Jacobian
            # (zone.zone_rhs_jac) is one combined call, which in self-heating mode makes 3 more EOS calls (∂c_v/∂T,
            # ∂c_v/∂Ā, ∂c_v/∂Z̄); BDF solves once per Newton iteration (≈ per RHS), RODAS3 4 times per step
            solves = r.n_rhs.mean() if method == "bdf" else 4 * steps
            limit = ((r.n_rhs - r.n_jac).mean() * (costs["rhs"] + eos_cost)
                     + r.n_jac.mean() * (costs["rhs_jac"] + 4 * eos_cost)
                     + r.n_lu.mean() * costs["lu"] + solves * costs["solve"])
            sub = rng.choice(idx, size=min(args.scipy_zones, len(idx)), replace=False)
            with warnings.catch_warnings():  # compile scipy's numba callbacks outside the timing
                warnings.simplefilter("ignore")
                _scipy_zone(net, rho[sub[0]], T[sub[0]], X0, 1e-12, heat, opts)
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for z in sub:
                    sol = _scipy_zone(net, rho[z], T[z], X0, dt, heat, opts)
                    assert sol.success
            scipy = (time.perf_counter() - t) / len(sub)
            per_step = " / ".join(f"{c.mean() / steps:.2f}" for c in (r.n_rhs, r.n_jac, r.n_lu))
            print(f"| {mode} | {method} | {dt:.0e} | {len(idx)} | {steps:.1f} | {per_step} | "
                  f"{ours * 1e6:.1f} | {limit * 1e6:.1f} | {ours / limit:.2f} | {scipy * 1e3:.2f} | "
                  f"{scipy / ours:.2f}× |")


if __name__ == "__main__":
    main()
