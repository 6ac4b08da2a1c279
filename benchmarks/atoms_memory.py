"""Peak memory of Deep Potential training on 1000 frames of Cu108 (the issue's goal: within 2 GB), against the
memory of the process before the data are read, in one run.

The frames are rattled fcc Cu108 supercells labelled by EMT (energies, forces, stress); training runs --steps
steps of the default architecture (rcut 6 Å, about 78 neighbours per atom: 8.4 million pairs in all).
Run: python benchmarks/atoms_memory.py [--frames 1000] [--steps 20]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

import numpy as np


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    import torch
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    from lawful.atoms.train import TrainConfig, train

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(args.frames):
        atoms = bulk("Cu", "fcc", a=3.59, cubic=True) * (3, 3, 3)
        atoms.positions += rng.normal(scale=0.1, size=atoms.positions.shape)
        atoms.calc = EMT()
        e, f, s = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress(voigt=False)
        atoms.calc = SinglePointCalculator(atoms, energy=e, forces=f, stress=s)
        frames.append(atoms)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cu108.extxyz"
        write(path, frames)
        del frames
        before = peak_mib()
        train(TrainConfig(data=path, out=Path(tmp) / "model", steps=args.steps, eval_every=10**9),
              show_progress=False)
    print(f"{'frames':>7} {'atoms':>7} {'peak before (MiB)':>18} {'peak training (MiB)':>20} {'goal (MiB)':>11}")
    print(f"{args.frames:>7} {108 * args.frames:>7} {before:>18.0f} {peak_mib():>20.0f} {2048:>11}")


if __name__ == "__main__":
    main()
