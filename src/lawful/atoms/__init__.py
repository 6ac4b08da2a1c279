"""Atoms: interatomic potentials learned from a classical reference (ASE units: Å, eV, eV/Å, eV/Å³, fs).

So far: reference data (:mod:`lawful.atoms.data`): EMT-labelled fcc configurations, in domain and shifted,
written as extended XYZ. Public names, imported on first use: ``from lawful.atoms import DataConfig, generate``.
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {"DataConfig": "data", "generate": "data", "ELEMENTS": "data"})
