"""``lawful atoms evaluate``: a trained potential against its reference, side by side.

Errors on the labelled frames of ``data`` (its ``train.extxyz`` or an extxyz file; give a data set the model was
not trained on, e.g. ``lawful atoms data --seed 1``): energy, force and stress RMSE. Properties of the model and
of the reference calculator computed the same way (:mod:`lawful.atoms.properties`; crystals only, and not with
``reference = "none"``). For a committee, the guard's
ROC AUC on the data's shift sets pooled with the in-domain frames (:func:`lawful.atoms.guard.roc_auc`). A force
parity plot goes beside the model when ``plots`` is set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PROPERTIES = ("a0", "B_gpa", "C11_gpa", "C12_gpa", "C44_gpa", "vacancy_ev")


def reference_calculator(name: str):
    """The reference calculator called ``name`` (``emt``)."""
    if name != "emt":
        raise ValueError(f"reference {name!r}: expected 'emt'")
    from ase.calculators.emt import EMT

    return EMT()


def evaluate(model: str | Path, data: str | Path, reference: str = "emt", plots: bool = True,
             dtype: str = "float64") -> dict:
    """The ``--json`` summary: the model's errors and properties, the reference's properties, their relative
    differences and (committees) the guard's AUC on the shift sets. ``reference``: emt or none (checked first)."""
    from ase.data import chemical_symbols

    from lawful.atoms.calculator import Calculator
    from lawful.atoms.errors import predictions, summarize
    from lawful.atoms.frames import read_labelled
    from lawful.atoms.potential import load
    from lawful.atoms.properties import properties
    from lawful.atoms.train import Tensors, data_file

    if reference not in ("emt", "none"):
        raise ValueError(f"reference {reference!r}: expected 'emt' or 'none'")
    potential = load(model, dtype)
    labelled = read_labelled(data_file(Path(data)), species=potential.species)
    tensors = Tensors(labelled, potential.species, potential.rcut, potential.dtype)
    pred = predictions(potential.members[0], tensors, np.arange(len(tensors)))
    model_row = summarize(pred)
    summary = {"model": model_row, "frames": len(tensors)}
    if reference != "none" and all(np.all(a.pbc) for a in labelled.frames):
        symbol = chemical_symbols[potential.species[0]]
        model_row.update(properties(Calculator(potential), symbol))
        ref_row = properties(reference_calculator(reference), symbol)
        summary.update(reference=ref_row, relative={k: model_row[k] / ref_row[k] - 1 for k in PROPERTIES})
    if len(potential.members) > 1 and potential.guard:
        summary["guard"] = guard_auc(potential, Path(data), labelled)
    if plots:
        from lawful.atoms.plots import parity_plot

        folder = Path(model) if Path(model).is_dir() else Path(model).parent
        summary["parity_plot"] = str(parity_plot(pred, folder))
    return summary


def guard_auc(potential, data: Path, labelled) -> dict:
    """The guard's ROC AUC on the in-domain frames pooled with each ``shift_*.extxyz`` beside ``data``."""
    from lawful.atoms.frames import read_labelled
    from lawful.atoms.guard import roc_auc

    folder = data if data.is_dir() else data.parent
    sets = {"in_domain": (labelled.frames, labelled.forces)}
    for path in sorted(folder.glob("shift_*.extxyz")):
        shifted = read_labelled(path, species=potential.species, need_stress=False)
        sets[path.stem.removeprefix("shift_")] = (shifted.frames, shifted.forces)
    return roc_auc(potential, sets)
