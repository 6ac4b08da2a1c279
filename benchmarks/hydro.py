"""Hydro throughput: zone updates per second of the pure-hydro Sod problem, lawful vs pyro2 (`pyro-hydro`,
its unsplit CTU compressible solver) on the same grids in the same run, a memory-bandwidth anchor for our
kernels, and the burn vs hydro share of the coupled detonation.

    python benchmarks/hydro.py [--sizes 1024 4096] [--sizes2d 128 256 512] [--steps 20] [--no-pyro]
                               [--detonation-n 256]

pyro2 is installed with `pip install -e '.[bench]'`. A zone update is one cell advanced by one time step.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def lawful_rate(nx: int, ny: int, steps: int) -> float:
    from lawful.hydro.eos import GammaLaw
    from lawful.hydro.mesh import Mesh
    from lawful.hydro.solver import Euler

    mesh = Mesh(nx=nx, ny=ny, ymax=ny / nx)
    solver = Euler(mesh, GammaLaw(1.4), cfl=0.8)
    left = np.broadcast_to(mesh.x < 0.5, (ny, nx))
    state = solver.init(np.where(left, 1.0, 0.125), 0.0, 0.0, p=np.where(left, 1.0, 0.1))
    solver(state, solver.timestep(state))  # compile / warm up
    start = time.perf_counter()
    for _ in range(steps):
        solver(state, solver.timestep(state))
    return steps * nx * ny / (time.perf_counter() - start)


def pyro_rate(nx: int, ny: int, steps: int) -> float:
    from pyro import Pyro

    p = Pyro("compressible")
    p.initialize_problem("sod", inputs_dict={
        "mesh.nx": nx, "mesh.ny": ny, "mesh.xmax": 1.0, "mesh.ymax": ny / nx, "driver.cfl": 0.8,
        "driver.verbose": 0, "io.do_io": 0, "vis.dovis": 0, "driver.max_steps": steps + 10, "driver.tmax": 1e9,
        "mesh.xlboundary": "outflow", "mesh.xrboundary": "outflow",
        "mesh.ylboundary": "outflow", "mesh.yrboundary": "outflow"})
    p.single_step()  # compile / warm up
    start = time.perf_counter()
    for _ in range(steps):
        p.single_step()
    return steps * nx * ny / (time.perf_counter() - start)


def stream_bandwidth(n: int = 1 << 24) -> float:
    """Bytes/s of a numba triad a = b + s c over arrays far larger than cache (3 × 8 B per element moved)."""
    from numba import njit, prange

    @njit(parallel=True)
    def triad(a, b, c, s):
        for i in prange(a.size):
            a[i] = b[i] + s * c[i]

    a, b, c = np.zeros(n), np.ones(n), np.ones(n)
    triad(a, b, c, 2.0)
    start = time.perf_counter()
    for _ in range(10):
        triad(a, b, c, 2.0)
    return 10 * 24 * n / (time.perf_counter() - start)


#: bytes our step moves per zone on a γ-law grid without species (nq = 6 primitives, nu = 4 conserved):
#: primitives 4r+6w, CFL 4r, slopes+predictor 6r+18w, x and y faces 2 × (18r + 4w), update 12r + 4w (doubles)
BYTES_PER_ZONE_2D = 8 * (10 + 4 + 24 + 44 + 16)
BYTES_PER_ZONE_1D = 8 * (10 + 4 + 24 + 22 + 12)


def detonation_share(n: int) -> dict:
    import tempfile

    from lawful.hydro.problems import detonation
    from lawful.hydro.run import run, summary

    with tempfile.TemporaryDirectory() as tmp:
        cfg = detonation.Config(n=n, tmax=6e-3, length=1e7, out=tmp, n_snapshots=1)
        run(detonation.Config(n=32, tmax=2e-4, length=1e7, out=tmp + "/warm", n_snapshots=1), "detonation",
            show_progress=False)  # compile first
        return summary(cfg, "detonation", run(cfg, "detonation", show_progress=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096], help="1D zone counts")
    ap.add_argument("--sizes2d", type=int, nargs="+", default=[128, 256, 512], help="2D n (n × n grids)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--no-pyro", action="store_true")
    ap.add_argument("--detonation-n", type=int, default=256)
    args = ap.parse_args()
    try:
        import pyro  # noqa: F401
        have_pyro = not args.no_pyro
    except ImportError:
        have_pyro = False
        print("pyro2 not installed (pip install -e '.[bench]'): its column is skipped")
    bw = stream_bandwidth()
    print(f"threads: {os.environ.get('NUMBA_NUM_THREADS', 'all')} ; triad bandwidth {bw / 1e9:.1f} GB/s")
    print(f"{'grid':>12} {'lawful zu/s':>13} {'pyro2 zu/s':>12} {'ratio':>7} {'% of bandwidth limit':>21}")
    grids = [(n, 1, BYTES_PER_ZONE_1D) for n in args.sizes] + [(n, n, BYTES_PER_ZONE_2D) for n in args.sizes2d]
    for nx, ny, nbytes in grids:
        ours = lawful_rate(nx, ny, args.steps)
        theirs = pyro_rate(nx, max(ny, 4), args.steps) if have_pyro else float("nan")
        label = f"{nx}" if ny == 1 else f"{nx}x{ny}"
        print(f"{label:>12} {ours:13.3e} {theirs:12.3e} {ours / theirs:7.1f} {100 * ours * nbytes / bw:20.0f}%")
    if args.detonation_n:
        s = detonation_share(args.detonation_n)
        print(f"\ndetonation n={args.detonation_n}, t={s['t']:.3g} s, {s['steps']} steps: "
              f"{s['seconds']:.1f} s, burn {100 * s['burn_fraction_of_time']:.1f}% of the step time, "
              f"{s['burn_integrator_steps_per_zone']:.1f} BDF steps per burned zone, "
              f"{s['zone_updates_per_second']:.3g} zone updates/s")


if __name__ == "__main__":
    main()
