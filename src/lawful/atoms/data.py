"""Reference data for interatomic potentials, labelled by ASE's EMT calculator (Å, eV, eV/Å, eV/Å³).

The training domain (``train.extxyz``): fcc supercells of ``element`` (2×2×2 or 3×3×3 cubic cells, 32 or 108
atoms) at EMT's own equilibrium lattice constant, each configuration one of

* **rattled**: Gaussian displacements of σ uniform in [``rattle_min``, ``rattle_max``] Å;
* **strained**: a random symmetric strain (isotropic part and shear, each component uniform in ±``strain_max``),
  then rattled by σ uniform in [0, ``rattle_min``] (the unrattled end pins the elastic constants);
* **thermal**: a Langevin run (1 fs, friction 0.02/fs) at T uniform in [``T_min``, ``T_max``] K, the last frame.

The *shift* sets (``shift_<name>.extxyz``), never trained on, are what the guard against domain shift must
flag: ``hot`` (Langevin at ``T_shift`` K), ``strain`` (±``strain_shift``), ``vacancy`` (one atom removed,
rattled), ``surface`` (a (111) slab with vacuum, rattled) and ``melt`` (Langevin at 3 × the melting point of EMT's
fcc, about 4000 K for Cu, long enough to lose the lattice).

Every frame carries ``energy``, ``free_energy`` and ``stress`` (3×3, ASE's sign: positive under tension) in its
info and ``forces`` in its arrays, as MACE and DeePMD read them; ``config_type`` names its kind. Frames are made
by independent tasks with their own seed streams (:mod:`lawful.core.rng`) through :func:`lawful.core.executor
.run_tasks` (Dask when asked), so the data do not depend on where they ran. ``config.toml`` and
``provenance.json`` sit beside the files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat

#: the elements ASE's EMT parametrizes as fcc metals, with their experimental melting points (K)
ELEMENTS = {"Cu": 1358.0, "Al": 933.0, "Ni": 1728.0, "Pd": 1828.0, "Ag": 1235.0, "Pt": 2041.0, "Au": 1337.0}
#: the range (Å) of ASE's EMT for every element: its neighbour list; the Fermi cutoff at 5.38 Å is 6e-6 there
EMT_RANGE = 5.88
KINDS = ("rattled", "strained", "thermal")
SHIFTS = ("hot", "strain", "vacancy", "surface", "melt")
TRAIN_FILE = "train.extxyz"


class DataConfig(Config):
    """What ``lawful atoms data`` generates (Å, K)."""

    element: str = pydantic.Field("Cu", description="fcc metal: Cu|Al|Ni|Pd|Ag|Pt|Au")
    n_configs: int = pydantic.Field(300, ge=1, description="training configurations (a third of each kind)")
    n_shift: int = pydantic.Field(20, ge=0, description="configurations per shift set")
    rattle_min: FiniteFloat = pydantic.Field(0.05, gt=0.0, description="smallest rattle sigma (A)")
    rattle_max: FiniteFloat = pydantic.Field(0.15, gt=0.0, description="largest rattle sigma (A)")
    strain_max: FiniteFloat = pydantic.Field(0.04, ge=0.0, lt=0.3, description="largest strain component")
    T_min: FiniteFloat = pydantic.Field(300.0, gt=0.0, description="lowest Langevin temperature (K)")
    T_max: FiniteFloat = pydantic.Field(900.0, gt=0.0, description="highest Langevin temperature (K)")
    md_steps: int = pydantic.Field(200, ge=1, description="Langevin steps (1 fs) before a thermal frame")
    T_shift: FiniteFloat = pydantic.Field(1500.0, gt=0.0, description="temperature of the 'hot' shift set (K)")
    strain_shift: FiniteFloat = pydantic.Field(0.08, gt=0.0, lt=0.3, description="strain of the 'strain' shift set")
    molecule: str = pydantic.Field("", description="molecular data instead: a name (ethanol, aspirin, ...) or FILE")
    calculator: Literal["emt", "xtb"] = pydantic.Field("emt", description="labels: emt (fcc metals) | xtb (molecules)")
    temperature: FiniteFloat = pydantic.Field(500.0, gt=0.0, description="molecules: Langevin temperature (K)")
    dt: FiniteFloat = pydantic.Field(0.5, gt=0.0, le=5.0, description="molecules: time step (fs)")
    stride: int = pydantic.Field(40, ge=1, description="molecules: steps between kept frames")
    equilibrate: FiniteFloat = pydantic.Field(500.0, ge=0.0, description="molecules: equilibration per chain (fs)")
    friction: FiniteFloat = pydantic.Field(0.01, gt=0.0, description="molecules: Langevin friction (1/fs)")
    n_test: int = pydantic.Field(200, ge=0, description="molecules: test frames (other chains)")
    unseen: str = pydantic.Field("dimethyl_ether", description="molecules: a molecule never trained on ('' none)")
    seed: int = pydantic.Field(0, ge=0, description="root seed")
    out: Path = pydantic.Field(Path("runs/atoms/data"), description="output directory")

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"out"})

    @pydantic.field_validator("element")
    @classmethod
    def _element(cls, value: str) -> str:
        if value not in ELEMENTS:
            raise ValueError(f"element {value!r} is not one EMT models as an fcc metal; expected one of "
                             f"{', '.join(ELEMENTS)}")
        return value

    @pydantic.model_validator(mode="after")
    def _ranges(self) -> DataConfig:
        if bool(self.molecule) != (self.calculator == "xtb"):
            raise ValueError("molecular data need both --molecule and --calculator xtb; fcc metals use emt "
                             f"(got molecule = {self.molecule!r}, calculator = {self.calculator!r})")
        for lo, hi in (("rattle_min", "rattle_max"), ("T_min", "T_max")):
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(f"{lo} = {getattr(self, lo)} exceeds {hi} = {getattr(self, hi)}")
        return self


@dataclasses.dataclass(frozen=True)
class FrameTask:
    """One configuration: its set (``train`` or a shift name), kind, seed stream, and the element's EMT
    lattice constant ``a0`` (Å), found once per run."""

    cfg: DataConfig
    dataset: str
    kind: str
    seed: np.random.SeedSequence
    a0: float


def lattice_constant(element: str) -> float:
    """EMT's equilibrium fcc lattice constant (Å) of ``element`` (:func:`lawful.atoms.properties.lattice_constant`,
    independent of ASE's tabulated value)."""
    from ase.calculators.emt import EMT

    from lawful.atoms.properties import lattice_constant as minimum

    return minimum(EMT(), element)


def _random_strain(rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A symmetric strain with every component uniform in ±amplitude."""
    eps = rng.uniform(-amplitude, amplitude, (3, 3))
    return 0.5 * (eps + eps.T)


def _langevin(atoms, T: float, steps: int, rng: np.random.Generator) -> None:
    from ase import units
    from ase.calculators.emt import EMT
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import thermalize_momenta

    atoms.calc = EMT()
    thermalize_momenta(atoms, temperature_K=T, rng=rng)
    Langevin(atoms, 1.0 * units.fs, temperature_K=T, friction=0.02 / units.fs, rng=rng, fixcm=False).run(steps)


def make_frame(task: FrameTask):
    """The configuration of ``task``, labelled by EMT (an ``ase.Atoms`` with a SinglePointCalculator)."""
    from ase import Atoms
    from ase.build import bulk, fcc111
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    cfg, rng, a0 = task.cfg, np.random.default_rng(task.seed), task.a0
    n = int(rng.choice([2, 3]))
    atoms = bulk(cfg.element, "fcc", a=a0, cubic=True) * (n, n, n)
    rattle = rng.uniform(cfg.rattle_min, cfg.rattle_max)
    kind = task.kind
    if kind in ("strained", "strain"):
        amplitude = cfg.strain_max if kind == "strained" else cfg.strain_shift
        eps = _random_strain(rng, amplitude)
        if kind == "strain":  # the shift set: every component beyond the training range
            eps = np.sign(eps) * np.maximum(np.abs(eps), cfg.strain_max * 1.25)
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
        rattle = rng.uniform(0.0, cfg.rattle_min)
    if kind == "vacancy":
        del atoms[int(rng.integers(len(atoms)))]
    if kind == "surface":
        atoms = fcc111(cfg.element, size=(3, 3, 4), a=a0, vacuum=8.0, periodic=True)
    if kind in ("thermal", "hot", "melt"):
        T = {"thermal": rng.uniform(cfg.T_min, cfg.T_max), "hot": cfg.T_shift,
             "melt": 3.0 * ELEMENTS[cfg.element]}[kind]
        _langevin(atoms, T, cfg.md_steps * (5 if kind == "melt" else 1), rng)
        atoms.info["temperature"] = T
    else:
        atoms.positions += rng.normal(scale=rattle, size=atoms.positions.shape)
        atoms.info["rattle"] = rattle
    # positions as extxyz stores them (8 decimals), so the labels belong to the positions in the file
    frame = Atoms(atoms.numbers, np.round(atoms.positions, 8), cell=atoms.cell, pbc=True,
                  info={**{k: v for k, v in atoms.info.items() if k in ("rattle", "temperature")}, "config_type": kind})
    frame.calc = EMT()
    energy, forces, stress = frame.get_potential_energy(), frame.get_forces(), frame.get_stress(voigt=False)
    frame.calc = SinglePointCalculator(frame, energy=energy, free_energy=energy, forces=forces, stress=stress)
    return frame


def tasks(cfg: DataConfig) -> list[FrameTask]:
    """Every frame of a run in a fixed order: the training set (kinds in turn), then each shift set."""
    from lawful.core.rng import spawn_seeds

    plan = [("train", KINDS[k % len(KINDS)]) for k in range(cfg.n_configs)]
    plan += [(name, name) for name in SHIFTS for _ in range(cfg.n_shift)]
    a0 = lattice_constant(cfg.element)
    return [FrameTask(cfg, dataset, kind, s, a0) for (dataset, kind), s in zip(plan, spawn_seeds(cfg.seed, len(plan)))]


def generate(cfg: DataConfig, scheduler: str | None = None, n_workers: int | None = None) -> dict[str, Path]:
    """Make every frame of ``cfg`` and write ``train.extxyz`` and ``shift_<name>.extxyz`` into ``cfg.out``
    atomically, with ``config.toml`` and ``provenance.json``; returns the files by set name."""
    from lawful.atoms.frames import write_sets
    from lawful.core.executor import run_tasks
    from lawful.core.lifecycle import claim_run_directory

    if cfg.molecule:
        from lawful.atoms.molecules import generate as molecular

        return molecular(cfg, scheduler, n_workers)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_toml = claim_run_directory(cfg, out)  # refuses a directory that holds another run
    todo = tasks(cfg)
    frames = run_tasks(make_frame, todo, scheduler, n_workers)
    sets = {name: (TRAIN_FILE if name == "train" else f"shift_{name}.extxyz",
                   [f for t, f in zip(todo, frames) if t.dataset == name]) for name in ("train", *SHIFTS)}
    return write_sets(out, sets, cfg_toml, cfg.seed)
