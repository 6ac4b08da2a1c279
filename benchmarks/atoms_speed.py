"""MD speed of the Deep Potential (float32, float64) side by side with ASE's EMT, its reference, on the same
rattled fcc Cu supercells, one after the other in one process: atom-steps per second of force evaluations as
velocity Verlet makes them (neighbour list rebuilt each step, forces only), at 1 thread and at 2.

Also the kernel's arithmetic: multiply-adds per pair in the embedding net (the dominant cost, x3 for the backward
pass) and the rate they run at. (MACE is not compared here: see docs/atoms.md.)
Run: python benchmarks/atoms_speed.py [--model runs/atoms/model] [--sizes 6,10] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's small products stay on one thread; torch's follow below

import torch  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from lawful.atoms.calculator import Calculator  # noqa: E402
from lawful.atoms.deepmd import flops_per_pair  # noqa: E402


def rate(calc, atoms, seconds: float) -> float:
    """Atom-steps per second of get_forces on ``atoms`` moved a little before every call."""
    a = atoms.copy()
    a.calc = calc
    a.get_forces()
    t, k = time.perf_counter(), 0
    while time.perf_counter() - t < seconds:
        a.positions += 1e-4
        a.get_forces()
        k += 1
    return len(a) * k / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="src/lawful/atoms/models/cu/model.pt")
    ap.add_argument("--sizes", default="6,10", help="cubic cells per side (4 atoms each): 6 -> 864, 10 -> 4000")
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        atoms = bulk("Cu", "fcc", a=3.59, cubic=True) * (n, n, n)
        atoms.rattle(0.05, seed=0)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            emt = rate(EMT(), atoms, args.seconds)
            rows.append((len(atoms), threads, "EMT (ASE)", emt, 1.0))
            for dtype in ("float32", "float64"):
                r = rate(Calculator(args.model, dtype=dtype), atoms, args.seconds)
                rows.append((len(atoms), threads, f"Deep Potential {dtype}", r, r / emt))
    model = Calculator(args.model).potential.members[0]
    print(f"{'atoms':>6} {'threads':>7}  {'calculator':<24} {'atom-steps/s':>12} {'vs EMT':>7}")
    for n_atoms, threads, name, r, ratio in rows:
        print(f"{n_atoms:>6} {threads:>7}  {name:<24} {r:>12.0f} {ratio:>7.2f}")
    pairs = 78  # neighbours of an fcc Cu atom within 6 A
    macs = flops_per_pair(model)
    best = max(r for *_, name, r, _ in rows if "float32" in name)
    print(f"\nembedding: {macs:.0f} multiply-adds per pair, x{pairs} pairs per atom, x3 with the backward pass: "
          f"{3 * macs * pairs / 1e3:.0f} kMAC per atom-step; at {best:.0f} atom-steps/s that is "
          f"{2 * 3 * macs * pairs * best / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
