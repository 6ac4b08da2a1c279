"""Burners with one thread, with two, and beside a competing process: per-zone cost of realistic hydro calls.

A coupled detonation (aprox13, ρ = 2e7 g/cm³, another density than the training runs) is run once with the
implicit burner and every burn call it makes is recorded: all burning zones of one Strang half-step in one call,
as ``lawful hydro run`` makes them. Each setting then replays the same calls in a fresh process (thread pools
are set once per process, :mod:`lawful.core.threads`) with the implicit burner and the shipped surrogate
behind its guard, and reports µs per zone-step (best of ``--repeats``):

* ``1 thread`` / ``2 threads``: the machine otherwise idle;
* ``… + competitor``: another process spins on core 0 the whole time (a hydro rank, a second job).

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
import time
from pathlib import Path

import numpy as np


def record_calls(path: Path, n: int, tmax: float) -> int:
    """Run the detonation with the implicit burner, save its burn calls to ``path`` (npz); returns zone-steps."""
    from lawful.burn_hydro.training_data import RecordingBurner
    from lawful.hydro.problems import detonation
    from lawful.hydro.run import run

    recorders = []

    def wrap(setup):
        recorders.append(RecordingBurner(setup.burn.burner))
        setup.burn.burner = recorders[-1]

    with tempfile.TemporaryDirectory() as tmp:
        run(detonation.Config(n=n, tmax=tmax, rho=2e7, out=Path(tmp), n_snapshots=1), "detonation",
            show_progress=False, on_setup=wrap)
    calls = recorders[0].calls
    arrays = {f"{k}_{i}": c[k] for i, c in enumerate(calls) for k in ("rho", "T", "X", "dt")}
    np.savez(path, n_calls=len(calls), **arrays)
    return sum(len(c["rho"]) for c in calls)


def worker(path: Path, repeats: int) -> dict:
    """Replay the recorded calls with each burner; µs per zone-step, best of ``repeats``."""
    from lawful.burn.eos import StellarEOS
    from lawful.burn.network import Network
    from lawful.burn.registry import make_burner
    from lawful.core.threads import set_threads

    threads = set_threads()
    f = np.load(path)
    calls = [tuple(f[f"{k}_{i}"] for k in ("rho", "T", "X", "dt")) for i in range(int(f["n_calls"]))]
    zones = sum(len(c[0]) for c in calls)
    net, eos = Network("aprox13"), StellarEOS(table=True)
    out = {"threads": threads, "zone_steps": zones, "calls": len(calls)}
    for name in ("implicit", "surrogate"):
        burner = make_burner(name, net, eos)
        burner(*calls[0][:3], float(calls[0][3][0]))  # compile, load, warm caches
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for rho, T, X, dt in calls:
                burner(rho, T, X, float(dt[0]))
            best = min(best, time.perf_counter() - start)
        out[name] = 1e6 * best / zones
        if name == "surrogate":
            out["surrogate_fraction"] = burner.surrogate_fraction
    return out


SPIN = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"


def run_setting(path: Path, threads: int, competitor: bool, repeats: int) -> dict:
    env = {**os.environ, "LAWFUL_THREADS": str(threads)}
    for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY"):
        env.pop(var, None)
    spin = subprocess.Popen([sys.executable, "-c", SPIN]) if competitor else None
    try:
        res = subprocess.run([sys.executable, __file__, "--worker", str(path), "--repeats", str(repeats)],
                             env=env, check=True, capture_output=True, text=True)
    finally:
        if spin is not None:
            spin.kill()
            spin.wait()
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

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.npz"
        zones = record_calls(path, args.n, args.tmax)
        rows = {}
        for threads, competitor in ((1, False), (2, False), (1, True), (2, True)):
            rows[threads, competitor] = run_setting(path, threads, competitor, args.repeats)
    first = rows[1, False]
    table = Table(title=f"burn cost per zone-step, aprox13 detonation n={args.n} ρ=2e7: {zones} zone-steps in "
                        f"{first['calls']} calls (mean {zones / first['calls']:.0f} zones per call); surrogate "
                        f"share {first['surrogate_fraction']:.3f}")
    for col in ("setting", "implicit [µs]", "surrogate [µs]", "speed-up", "implicit / alone", "surrogate / alone"):
        table.add_column(col, justify="right")
    for (threads, competitor), r in rows.items():
        alone = rows[threads, False]
        table.add_row(f"{threads} thread{'s' if threads > 1 else ''}" + (" + competitor" if competitor else ""),
                      f"{r['implicit']:.1f}", f"{r['surrogate']:.1f}", f"{r['implicit'] / r['surrogate']:.2f}×",
                      f"{r['implicit'] / alone['implicit']:.2f}", f"{r['surrogate'] / alone['surrogate']:.2f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
