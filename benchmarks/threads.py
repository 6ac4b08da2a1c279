"""Burners with one thread, with two, and beside a competing process: per-zone cost of realistic hydro calls.

A coupled detonation (aprox13, ρ = 2e7 g/cm³, another density than the training runs) is run once with the
implicit burner and every burn call it makes is recorded: all burning zones of one Strang half-step in one call,
as ``lawful hydro run`` makes them. Each setting then replays the same calls in a fresh process (thread pools
are set once per process, :mod:`lawful.core.threads`) with the implicit burner and the shipped surrogate
behind its guard, and reports µs per zone-step (best of ``--repeats``):

* ``1 thread`` / ``2 threads``: the machine otherwise idle;
* ``… + competitor``: another process spins on core 0 the whole time (a hydro rank, a second job);

each with lawful's OpenMP spin count (:data:`lawful.core.threads.SPIN_COUNT`) and with OpenMP's own default, the
anchor the issue measured.

The goal (issue 22): the surrogate's speed-up kept with one thread, and each burner under contention no more
than 2× slower than alone at the same thread count.

    python benchmarks/threads.py [--n 256] [--tmax 4e-3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def record_calls(path: Path, n: int, tmax: float) -> int:
    """Record the burn calls of the detonation into ``path`` (npz); returns the zone-steps."""
    from lawful.burn_hydro.replay import record_detonation_calls

    calls = record_detonation_calls("aprox13", n=n, rho=2e7, tmax=tmax)
    arrays = {f"{k}_{i}": v for i, c in enumerate(calls) for k, v in zip(("rho", "T", "X", "dt"), c)}
    np.savez(path, n_calls=len(calls), **arrays)
    return sum(len(c[0]) for c in calls)


def worker(path: Path, repeats: int) -> dict:
    """Replay the recorded calls with each burner; µs per zone-step, best of ``repeats``."""
    from lawful.burn.burner import cost_per_zone_step
    from lawful.burn.eos import StellarEOS
    from lawful.burn.network import Network
    from lawful.burn.registry import make_burner
    from lawful.core.threads import set_threads

    threads = set_threads()
    f = np.load(path)
    calls = [(f[f"rho_{i}"], f[f"T_{i}"], f[f"X_{i}"], float(f[f"dt_{i}"])) for i in range(int(f["n_calls"]))]
    net, eos = Network("aprox13"), StellarEOS(table=True)
    burners = {name: make_burner(name, net, eos) for name in ("implicit", "surrogate")}
    cost = cost_per_zone_step(burners, calls, repeats)
    return {"threads": threads, "calls": len(calls), "implicit": 1e6 * cost["implicit"],
            "surrogate": 1e6 * cost["surrogate"], "surrogate_fraction": burners["surrogate"].surrogate_fraction}


RIVAL = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"


def run_setting(path: Path, threads: int, competitor: bool, repeats: int, spin: str | None) -> dict:
    env = {**os.environ, "LAWFUL_THREADS": str(threads)}
    for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        env.pop(var, None)
    if spin is not None:
        env["GOMP_SPINCOUNT"] = spin
    rival = subprocess.Popen([sys.executable, "-c", RIVAL]) if competitor else None
    try:
        res = subprocess.run([sys.executable, __file__, "--worker", str(path), "--repeats", str(repeats)],
                             env=env, check=True, capture_output=True, text=True)
    finally:
        if rival is not None:
            rival.kill()
            rival.wait()
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=256, help="detonation zones")
    ap.add_argument("--tmax", type=float, default=4e-3, help="detonation end time (s)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeats)))
        return
    from rich.console import Console
    from rich.table import Table

    spins = {"lawful": None, "OpenMP's 300000": "300000"}  # GOMP_SPINCOUNT: ours (core.threads) and the default
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.npz"
        zones = record_calls(path, args.n, args.tmax)
        rows = {}
        for label, spin in spins.items():
            for threads, competitor in ((1, False), (2, False), (1, True), (2, True)):
                rows[label, threads, competitor] = run_setting(path, threads, competitor, args.repeats, spin)
    first = rows["lawful", 1, False]
    table = Table(title=f"burn cost per zone-step, aprox13 detonation n={args.n} ρ=2e7: {zones} zone-steps in "
                        f"{first['calls']} calls (mean {zones / first['calls']:.0f} zones per call); surrogate "
                        f"share {first['surrogate_fraction']:.3f}")
    for col in ("OpenMP spin", "setting", "implicit [µs]", "surrogate [µs]", "speed-up", "implicit / alone",
                "surrogate / alone"):
        table.add_column(col, justify="right")
    for (label, threads, competitor), r in rows.items():
        alone = rows[label, threads, False]
        table.add_row(label, f"{threads} thread{'s' if threads > 1 else ''}" + (" + competitor" if competitor else ""),
                      f"{r['implicit']:.1f}", f"{r['surrogate']:.1f}", f"{r['implicit'] / r['surrogate']:.2f}×",
                      f"{r['implicit'] / alone['implicit']:.2f}", f"{r['surrogate'] / alone['surrogate']:.2f}")
    Console(width=170).print(table)


if __name__ == "__main__":
    main()
