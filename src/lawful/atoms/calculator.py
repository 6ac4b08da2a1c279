"""The Deep Potential as an ASE calculator, so every ASE tool (``ase.md``, ``ase.optimize``, ``ase.eos``,
``FrechetCellFilter``) works unchanged. Energies in eV, forces in eV/Å, stress in eV/Å³ (ASE's sign)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase.calculators.calculator import Calculator as AseCalculator
from ase.calculators.calculator import PropertyNotImplementedError, all_changes


def as_potential(model, dtype: str | None = None):
    """``model`` as a :class:`~lawful.atoms.potential.Potential`: a path is loaded, a Potential converted to
    ``dtype`` when one is given."""
    from lawful.atoms.potential import Potential, load

    if isinstance(model, (str, Path)):
        return load(model, dtype)
    if not isinstance(model, Potential):
        raise TypeError(f"model must be a Potential or a path to model.pt, got {type(model).__name__}")
    if dtype is not None:
        import torch

        return model.to(getattr(torch, dtype))
    return model


class Calculator(AseCalculator):
    """ASE calculator of a trained Deep Potential (member 0 of its committee). ``model``: a
    :class:`~lawful.atoms.potential.Potential` or the path of its ``model.pt``; ``dtype``: ``float32`` or
    ``float64`` (default: the training dtype). Each call checks the atoms (:func:`lawful.atoms.frames
    .check_atoms`) and rebuilds the neighbour list with vesin."""

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, model, dtype: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.potential = as_potential(model, dtype)

    def member_outputs(self, properties, members: int = 1) -> list[dict]:
        """Check ``self.atoms`` and evaluate the first ``members`` committee members on it
        (:meth:`~lawful.atoms.potential.Potential.evaluate`; stress only when asked)."""
        from lawful.atoms.frames import check_atoms, frame_arrays

        want_stress = "stress" in properties
        if want_stress and not np.all(self.atoms.pbc):
            raise PropertyNotImplementedError(
                f"stress asked of a system with pbc {self.atoms.pbc.tolist()}: stress needs a periodic cell")
        where = "atoms given to the Deep Potential"
        check_atoms(self.atoms, where, self.potential.species, distances=False)
        arrays = frame_arrays(self.atoms, self.potential.species, self.potential.rcut, where)
        return self.potential.evaluate([arrays], members=members, stress=want_stress)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = ase_results(self.member_outputs(properties)[0])


def ase_results(out: dict) -> dict:
    """One frame's output of :meth:`~lawful.atoms.potential.Potential.evaluate` as ASE results (stress in Voigt
    order xx yy zz yz xz xy)."""
    energy = float(out["energy"][0])
    results = {"energy": energy, "free_energy": energy, "energies": out["energies"], "forces": out["forces"]}
    if out["stress"] is not None:
        s = out["stress"][0]
        results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
    return results
