"""Stellar EOS speed: lawful (numba, direct Fermi–Dirac quadrature) vs pynucastro's StellarEOS, same states.

States: ρ log-uniform 1e2…1e10 g/cm³, T log-uniform 1e6…1e10 K, 50/50 C/O. pynucastro runs a subsample (it
takes milliseconds per call). Also reports the worst relative difference in p and e on the subsample.
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
    eos = StellarEOS()
    eos(rho[:8], T[:8], comp.abar, comp.zbar)  # compile / load cache
    rates = {}
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        t = time.perf_counter()
        ours = eos(rho, T, comp.abar, comp.zbar)
        rates[threads] = args.zones / (time.perf_counter() - t)
    ref = pyna.StellarEOS()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        states = [ref.pe_state(rho=r, T=tt, comp=comp) for r, tt in zip(rho[: args.ref_zones], T[: args.ref_zones])]
    ref_rate = args.ref_zones / (time.perf_counter() - t)
    worst = max(max(abs(ours["p"][i] / s.p - 1), abs(ours["e"][i] / s.e - 1)) for i, s in enumerate(states))
    t = time.perf_counter()
    eos.temperature(rho, ours["e"], comp.abar, comp.zbar, T_guess=2 * T)
    inv_rate = args.zones / (time.perf_counter() - t)
    print("| EOS | zone-evaluations / s | vs pynucastro |")
    print("|---|---|---|")
    print(f"| pynucastro StellarEOS (1 core) | {ref_rate:.3g} | 1 |")
    for threads, r in rates.items():
        print(f"| lawful StellarEOS ({threads} core{'s' if threads > 1 else ''}) | {r:.3g} | {r / ref_rate:.0f}× |")
    print(f"| lawful T(ρ, e) inversion, guess 2T ({numba.config.NUMBA_NUM_THREADS} cores) | {inv_rate:.3g} | |")
    print(f"\nworst |Δp/p|, |Δe/e| against pynucastro on {args.ref_zones} states: {worst:.1e}")
    print(f"goal ≥ 1e6 zone-evaluations/s on one core: {'met' if rates[1] >= 1e6 else 'NOT met'} "
          f"({rates[1] / 1e6:.2f} of it)")


if __name__ == "__main__":
    main()
