"""Stellar EOS speed: lawful (direct Fermi–Dirac quadrature, and the interpolated table) vs pynucastro's
StellarEOS on the same states, plus the table's accuracy against the direct quadrature.

States: ρ log-uniform 1e2…1e10 g/cm³, T log-uniform 1e6…1e10 K, 50/50 C/O. pynucastro runs a subsample (it
takes tens of milliseconds per call). Also reports the worst relative difference in p and e on the subsample.
Run: python benchmarks/eos.py [--zones N]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numba
import numpy as np
import pynucastro as pyna

from lawful.burn.eos import StellarEOS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", type=int, default=100_000)
    ap.add_argument("--ref-zones", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rho = 10 ** rng.uniform(2, 10, args.zones)
    T = 10 ** rng.uniform(6, 10, args.zones)
    comp = pyna.Composition([pyna.Nucleus("c12"), pyna.Nucleus("o16")])
    comp.set_equal()
    eos, table = StellarEOS(), StellarEOS(table=True)
    rates = {}
    for label, model in (("direct", eos), ("table", table)):
        model(rho[:8], T[:8], comp.abar, comp.zbar)  # compile / load caches and the table
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            t = time.perf_counter()
            out = model(rho, T, comp.abar, comp.zbar)
            rates[label, threads] = args.zones / (time.perf_counter() - t)
            if label == "direct":
                ours = out
            else:
                tabled = out
    ref = pyna.StellarEOS()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        states = [ref.pe_state(rho=r, T=tt, comp=comp) for r, tt in zip(rho[: args.ref_zones], T[: args.ref_zones])]
    ref_rate = args.ref_zones / (time.perf_counter() - t)
    worst = max(max(abs(ours["p"][i] / s.p - 1), abs(ours["e"][i] / s.e - 1)) for i, s in enumerate(states))
    inv_rate = {}
    for label, model in (("direct", eos), ("table", table)):
        t = time.perf_counter()
        model.temperature(rho, ours["e"], comp.abar, comp.zbar, T_guess=2 * T)
        inv_rate[label] = args.zones / (time.perf_counter() - t)
    print("| EOS | zone-evaluations / s | vs pynucastro |")
    print("|---|---|---|")
    print(f"| pynucastro StellarEOS (1 core) | {ref_rate:.3g} | 1 |")
    for (label, threads), r in rates.items():
        print(f"| lawful StellarEOS, {label} ({threads} core{'s' if threads > 1 else ''}) | {r:.3g} | "
              f"{r / ref_rate:.0f}× |")
    for label, r in inv_rate.items():
        print(f"| lawful T(ρ, e) inversion, {label}, guess 2T ({numba.config.NUMBA_NUM_THREADS} cores) | {r:.3g} | |")
    print(f"\nworst |Δp/p|, |Δe/e| against pynucastro on {args.ref_zones} states: {worst:.1e}")
    best = max(rates["table", 1], rates["direct", 1])
    print(f"goal ≥ 1e6 zone-evaluations/s on one core: {'met' if best >= 1e6 else 'NOT met'} ({best / 1e6:.2f} of it)")
    print(f"\ntable vs direct quadrature on {args.zones} states (derivatives on their own scale, e.g. Δ(∂p/∂ρ)·ρ/p):")
    print("| quantity | median | 99th percentile | max |")
    print("|---|---|---|---|")
    errors = {
        "p": tabled["p"] / ours["p"] - 1, "e": tabled["e"] / ours["e"] - 1, "s": tabled["s"] / ours["s"] - 1,
        "c_v": tabled["cv"] / ours["cv"] - 1, "Γ₁": tabled["gamma1"] / ours["gamma1"] - 1,
        "c_s": tabled["cs"] / ours["cs"] - 1,
        "∂p/∂ρ": (tabled["dpdr"] - ours["dpdr"]) * rho / ours["p"],
        "∂p/∂T": (tabled["dpdT"] - ours["dpdT"]) * T / ours["p"],
        "∂e/∂ρ": (tabled["dedr"] - ours["dedr"]) * rho / ours["e"],
        "∂e/∂T": (tabled["dedT"] - ours["dedT"]) * T / ours["e"],
    }
    for name, err in errors.items():
        a = np.abs(err)
        print(f"| {name} | {np.median(a):.1e} | {np.percentile(a, 99):.1e} | {a.max():.1e} |")


if __name__ == "__main__":
    main()
