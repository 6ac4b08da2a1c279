"""Active learning as DP-GEN does it: explore → select → label → retrain, until the committee rarely disagrees.

Iteration k trains a committee on the data so far (``iter_<k>/model.pt``), then explores: Langevin MD with
member 0 at each stage of ``temperatures`` × ``strains`` (an fcc supercell of the element at EMT's a₀,
isotropically strained), scoring every ``sample_every``-th frame by the committee's force deviation
(:func:`lawful.atoms.guard.committee_outputs`). Frames scoring above the threshold are *flagged*: ``trust_lo``
(eV/Å), or the first iteration's calibrated one, kept fixed after it as DP-GEN keeps its trust levels (a later,
worse-fitted committee would otherwise calibrate itself a laxer threshold and stop the loop early);
those below ``trust_hi`` × the threshold (wilder ones are unphysical and would mislead the fit) are candidates, of
which up to ``max_select`` (evenly spread) are labelled by the reference (EMT) and added to the training set
(``iter_<k>/added.extxyz``). The loop ends when the flagged share of an exploration is at most ``target`` (or
after ``iterations``). Each finished iteration is recorded in ``state.json``; the same command resumes after the
last one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat, FloatList


class LearnConfig(Config):
    """What ``lawful atoms learn`` runs (K, fs, s)."""

    data: Path = pydantic.Field(Path("runs/atoms/data"), description="initial data directory (train.extxyz)")
    out: Path = pydantic.Field(Path("runs/atoms/learn"), description="output directory")
    iterations: int = pydantic.Field(4, ge=1, description="most explore-select-label-retrain rounds")
    committee: int = pydantic.Field(4, ge=2, description="committee members")
    train_seconds: FiniteFloat = pydantic.Field(120.0, gt=0.0, description="training budget per member (s)")
    train_steps: int = pydantic.Field(1_000_000, ge=1, description="training steps per member (at most)")
    temperatures: FloatList = pydantic.Field([300.0, 900.0, 1500.0], description="exploration temperatures (K)")
    strains: FloatList = pydantic.Field([0.0, 0.06], description="isotropic exploration strains")
    supercell: int = pydantic.Field(2, ge=1, le=6, description="cubic cells per side of the explored supercell")
    explore_steps: int = pydantic.Field(400, ge=1, description="MD steps per stage (2 fs)")
    sample_every: int = pydantic.Field(10, ge=1, description="score every n-th frame")
    trust_lo: FiniteFloat = pydantic.Field(0.0, ge=0.0, description="flag threshold (eV/A; 0: the first "
                                                                   "iteration's calibrated one, kept after)")
    trust_hi: FiniteFloat = pydantic.Field(4.0, gt=1.0, description="candidates score below this x threshold")
    max_select: int = pydantic.Field(30, ge=1, description="frames labelled per iteration")
    target: FiniteFloat = pydantic.Field(0.05, ge=0.0, le=1.0, description="stop when the flagged share is below")
    seed: int = pydantic.Field(0, ge=0, description="root seed")
    train_set: dict = pydantic.Field({}, description="other lawful atoms train keys (embed, fit, rcut, ...)")

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"out", "iterations", "target"})


def explore(potential, cfg: LearnConfig, iteration: int) -> list[dict]:
    """Every stage's sampled frames with their committee scores: [{T, strain, frames, scores}]."""
    from ase import units
    from ase.build import bulk
    from ase.data import chemical_symbols
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import Stationary, thermalize_momenta

    from lawful.atoms.calculator import Calculator
    from lawful.atoms.data import lattice_constant
    from lawful.atoms.guard import committee_outputs

    symbol = chemical_symbols[potential.species[0]]
    calc = Calculator(potential)
    a0 = lattice_constant(symbol)  # the reference's: an early model may have no minimum of its own
    stages = []
    for s, (T, strain) in enumerate((T, e) for T in cfg.temperatures for e in cfg.strains):
        rng = np.random.default_rng([cfg.seed, iteration, s])
        atoms = bulk(symbol, "fcc", a=a0 * (1 + strain), cubic=True) * ((cfg.supercell,) * 3)
        atoms.calc = calc
        thermalize_momenta(atoms, temperature_K=T, rng=rng)
        Stationary(atoms)
        dyn = Langevin(atoms, 2 * units.fs, temperature_K=T, friction=0.02 / units.fs, rng=rng, fixcm=False)
        frames = []
        for _ in range(cfg.explore_steps // cfg.sample_every):
            try:
                dyn.run(cfg.sample_every)
            except ValueError:  # atoms too close: the model let them collide; the stage ends here
                break
            frames.append(atoms.copy())
        scores = [o["score"] for o in committee_outputs(potential, frames)] if frames else []
        stages.append({"T": T, "strain": strain, "frames": frames, "scores": np.array(scores)})
    return stages


def select(stages: list[dict], threshold: float, cfg: LearnConfig) -> list:
    """Candidates (flagged, below ``trust_hi`` × threshold) of all stages, up to ``max_select`` evenly spread."""
    cands = [f for st in stages for f, sc in zip(st["frames"], st["scores"])
             if threshold < sc < cfg.trust_hi * threshold]
    if len(cands) <= cfg.max_select:
        return cands
    pick = np.linspace(0, len(cands) - 1, cfg.max_select).round().astype(int)
    return [cands[k] for k in pick]


def label(frames: list) -> list:
    """``frames`` labelled by EMT (energy, forces, stress as single-point results)."""
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    out = []
    for atoms in frames:
        atoms = atoms.copy()
        atoms.positions = np.round(atoms.positions, 8)
        atoms.calc = EMT()
        e, f, s = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress(voigt=False)
        atoms.calc = SinglePointCalculator(atoms, energy=e, free_energy=e, forces=f, stress=s)
        atoms.info["config_type"] = "learned"
        out.append(atoms)
    return out


def learn(cfg: LearnConfig, *, show_progress: bool | None = None) -> list[dict]:
    """Run (or resume) the loop; returns one row per iteration (also in ``out/state.json``)."""
    from ase.io import read, write

    from lawful.atoms.potential import load
    from lawful.atoms.train import TrainConfig, data_file, train
    from lawful.core.io import atomic_write_bytes
    from lawful.core.lifecycle import check_run_directory, claim_run_directory

    out = Path(cfg.out)
    check_run_directory(cfg, out)
    base = read(data_file(cfg.data), ":")
    out.mkdir(parents=True, exist_ok=True)
    claim_run_directory(cfg, out)
    state_path = out / "state.json"
    rows = json.loads(state_path.read_text()) if state_path.exists() else []
    added = [f for r in rows for f in read(out / f"iter_{r['iteration']}" / "added.extxyz", ":")]
    for k in range(len(rows), cfg.iterations):
        if rows and rows[-1]["flagged_share"] <= cfg.target:
            break
        folder = out / f"iter_{k}"
        folder.mkdir(exist_ok=True)
        write(folder / "train.extxyz", base + added)
        tcfg = TrainConfig(**{**cfg.train_set, "data": folder / "train.extxyz", "out": folder,
                              "committee": cfg.committee, "train_seconds": cfg.train_seconds,
                              "steps": cfg.train_steps, "seed": cfg.seed + k})
        potential = load(train(tcfg, show_progress=show_progress))
        stages = explore(potential, cfg, k)
        threshold = cfg.trust_lo or (rows[0]["threshold"] if rows else potential.guard["threshold"])
        scores = np.concatenate([st["scores"] for st in stages])
        new = label(select(stages, threshold, cfg))
        write(folder / "added.extxyz", new)
        added += new
        rows.append({"iteration": k, "training_frames": len(base) + len(added) - len(new),
                     "validation_force_rmse_mev_a": potential.record["validation"]["force_rmse_mev_a"],
                     "explored": int(scores.size), "flagged_share": float(np.mean(scores > threshold)),
                     "selected": len(new), "threshold": threshold,
                     "by_stage": [{"T": st["T"], "strain": st["strain"], "frames": len(st["frames"]),
                                   "flagged": float(np.mean(st["scores"] > threshold)) if len(st["scores"]) else 1.0}
                                  for st in stages]})
        atomic_write_bytes(state_path, json.dumps(rows, indent=1).encode())
    return rows
