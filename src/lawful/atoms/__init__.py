"""Atoms: interatomic potentials learned from a classical reference (ASE units: Å, eV, eV/Å, eV/Å³, fs).

Reference data (:mod:`~lawful.atoms.data`, EMT), the Deep Potential se_e2_a (:mod:`~lawful.atoms.deepmd`) trained
by :mod:`~lawful.atoms.train`, its ASE calculator (:class:`Calculator`) and the committee guard with a reference
behind it (:class:`GuardedCalculator`), MD with an energy ledger (:mod:`~lawful.atoms.md`), properties against
the reference (:mod:`~lawful.atoms.evaluate`), active learning (:mod:`~lawful.atoms.learn`) and TorchScript
export (:mod:`~lawful.atoms.export`). Molecules: xTB MD data (:mod:`~lawful.atoms.molecules`), QM9 from its
wheel (:mod:`~lawful.atoms.qm9`), representations and kernel ridge regression with Δ-learning on GFN2-xTB
(:mod:`~lawful.atoms.representations`, :mod:`~lawful.atoms.krr`, :mod:`~lawful.atoms.chemspace`,
:mod:`~lawful.atoms.xtb`) and GDML (:mod:`~lawful.atoms.gdml`). Public names (classes; the verbs stay in
their modules) are imported on first use.
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "DataConfig": "data", "generate": "data", "ELEMENTS": "data",
    "DeepPotential": "deepmd", "Potential": "potential", "load": "potential", "shipped": "potential",
    "TrainConfig": "train", "Calculator": "calculator", "GuardedCalculator": "guard", "OutOfDomain": "guard",
    "MDConfig": "md", "LearnConfig": "learn", "QM9Config": "chemspace", "Molecules": "qm9", "GDML": "gdml",
})
