"""rMD17-like molecular data made here: GFN2-xTB Langevin MD of one molecule, energies and forces (Å, eV, eV/Å).

A molecule is a name of :data:`SMILES` (ethanol, aspirin, …) embedded in 3D by RDKit (ETKDG, seeded) or a
structure file ASE reads; either way it is first relaxed with xTB (BFGS to 0.01 eV/Å). Frames come from
independent Langevin chains (:data:`CHAIN_FRAMES` frames each, own seed stream, run through the executor): each
chain draws Maxwell–Boltzmann velocities, equilibrates for ``equilibrate_steps`` and then keeps one frame every
``stride`` steps of ``dt`` fs, far enough apart that consecutive frames are decorrelated (20 fs by default,
longer than the ~10 fs period of C–H stretches). Sets written beside ``config.toml``:

* ``train.extxyz``: ``n_configs`` frames at ``temperature``;
* ``test.extxyz``: ``n_test`` frames at ``temperature`` from other chains (never trained on);
* ``shift_hot.extxyz``: ``n_shift`` frames at ``T_shift``;
* ``shift_unseen.extxyz``: ``n_shift`` frames of the ``unseen`` molecule at ``temperature``.

Every frame carries ``energy``, ``free_energy`` (xTB total energy, eV) and ``forces``; no cell, no stress.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from lawful.atoms.xtb import calculator as xtb_calculator

#: named molecules: SMILES for RDKit
SMILES = {"ethanol": "CCO", "aspirin": "CC(=O)Oc1ccccc1C(=O)O", "dimethyl_ether": "COC", "methanol": "CO",
          "acetic_acid": "CC(=O)O", "propanol": "CCCO", "benzene": "c1ccccc1", "toluene": "Cc1ccccc1",
          "salicylic_acid": "OC(=O)c1ccccc1O", "malonaldehyde": "O=CCC=O", "uracil": "O=C1C=CNC(=O)N1"}
#: frames per Langevin chain (one executor task)
CHAIN_FRAMES = 100


def build_molecule(spec: str, seed: int = 0):
    """``ase.Atoms`` of a named molecule (:data:`SMILES`) or a structure file, relaxed with xTB; raises on
    anything else."""
    from ase import Atoms
    from ase.optimize import BFGS

    if spec in SMILES:
        from rdkit import Chem
        from rdkit.Chem import AllChem

        mol = Chem.AddHs(Chem.MolFromSmiles(SMILES[spec]))
        params = AllChem.ETKDGv3()
        params.randomSeed = int(seed) + 1
        if AllChem.EmbedMolecule(mol, params) != 0:
            raise ValueError(f"RDKit could not embed {spec!r} in 3D")
        atoms = Atoms([a.GetAtomicNum() for a in mol.GetAtoms()], mol.GetConformer().GetPositions())
    elif Path(spec).is_file():
        from ase.io import read

        atoms = read(spec, index=0)
        atoms = Atoms(atoms.numbers, atoms.positions)
    else:
        raise ValueError(f"molecule {spec!r} is neither a name ({', '.join(SMILES)}) nor a structure file")
    atoms.calc = xtb_calculator()
    BFGS(atoms, logfile=None).run(fmax=0.01, steps=500)
    return Atoms(atoms.numbers, atoms.positions)


@dataclasses.dataclass(frozen=True)
class Chain:
    """One Langevin chain: its set, start structure (numbers, positions), temperature (K), frames, seed."""

    dataset: str
    numbers: np.ndarray
    positions: np.ndarray
    temperature: float
    n_frames: int
    dt: float
    stride: int
    equilibrate_steps: int
    friction: float
    seed: np.random.SeedSequence


def run_chain(chain: Chain) -> list:
    """The labelled frames of ``chain`` (``ase.Atoms`` with a SinglePointCalculator), on one thread."""
    from ase import Atoms, units
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(chain.seed)
    atoms = Atoms(chain.numbers, chain.positions)
    frames = []
    with threadpool_limits(1):
        atoms.calc = xtb_calculator()
        thermalize_momenta(atoms, temperature_K=chain.temperature, rng=rng)
        Stationary(atoms)
        ZeroRotation(atoms)
        dyn = Langevin(atoms, chain.dt * units.fs, temperature_K=chain.temperature,
                       friction=chain.friction / units.fs, rng=rng, fixcm=False)
        dyn.run(chain.equilibrate_steps)
        for _ in range(chain.n_frames):
            dyn.run(chain.stride)
            # positions as extxyz stores them (8 decimals), so the labels belong to the positions in the file
            frame = Atoms(atoms.numbers, np.round(atoms.positions, 8),
                          info={"config_type": chain.dataset, "temperature": chain.temperature})
            frame.calc = xtb_calculator()
            energy, forces = frame.get_potential_energy(), frame.get_forces()
            frame.calc = SinglePointCalculator(frame, energy=energy, free_energy=energy, forces=forces)
            frames.append(frame)
    return frames


def chains(cfg, start, unseen) -> list[Chain]:
    """Every chain of a run (``cfg`` a molecular :class:`lawful.atoms.data.DataConfig`) in a fixed order."""
    from lawful.core.rng import spawn_seeds

    plan = []
    for dataset, atoms, temperature, n in (("train", start, cfg.temperature, cfg.n_configs),
                                           ("test", start, cfg.temperature, cfg.n_test),
                                           ("hot", start, cfg.T_shift, cfg.n_shift),
                                           ("unseen", unseen, cfg.temperature, cfg.n_shift)):
        if atoms is None or n == 0:
            continue
        sizes = [CHAIN_FRAMES] * (n // CHAIN_FRAMES) + ([n % CHAIN_FRAMES] if n % CHAIN_FRAMES else [])
        plan += [(dataset, atoms, temperature, k) for k in sizes]
    seeds = spawn_seeds(cfg.seed, len(plan))
    eq = int(math.ceil(cfg.equilibrate / cfg.dt))
    return [Chain(d, a.numbers.copy(), a.positions.copy(), t, k, cfg.dt, cfg.stride, eq, cfg.friction, s)
            for (d, a, t, k), s in zip(plan, seeds)]


def generate(cfg, scheduler: str | None = None, n_workers: int | None = None) -> dict[str, Path]:
    """Run every chain of ``cfg`` and write the sets (see the module docstring) atomically; files by set name."""
    from lawful.atoms.frames import write_sets
    from lawful.core.executor import run_tasks
    from lawful.core.lifecycle import claim_run_directory

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_toml = claim_run_directory(cfg, out)  # refuses a directory that holds another run, before any work
    start = build_molecule(cfg.molecule, cfg.seed)
    unseen = build_molecule(cfg.unseen, cfg.seed) if cfg.unseen and cfg.n_shift else None
    todo = chains(cfg, start, unseen)
    results = run_tasks(run_chain, todo, scheduler, n_workers)
    names = {"train": "train.extxyz", "test": "test.extxyz", "hot": "shift_hot.extxyz",
             "unseen": "shift_unseen.extxyz"}
    sets = {dataset: (name, [f for c, frames in zip(todo, results) if c.dataset == dataset for f in frames])
            for dataset, name in names.items()}
    return write_sets(out, sets, cfg_toml, cfg.seed)
