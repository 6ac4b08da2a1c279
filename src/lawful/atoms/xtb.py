"""GFN2-xTB (``tblite``'s ASE calculator) as the cheap quantum baseline, computed once per molecule and cached.

:func:`qm9_baseline` gives xTB atomization energies (kcal/mol) of QM9 molecules: total energies less the free
atoms' xTB energies (:func:`free_atoms`, in their ground-state spin multiplicities), so that Δ = E_at(B3LYP) −
E_at(xTB) is small per atom. Molecules are fanned out in chunks through :func:`lawful.core.executor.run_tasks`
(serial, or Dask when asked), each task with one OpenMP thread (``threadpoolctl``), and the results go into an
HDF5 cache keyed by QM9 index (``index``, ``energy`` eV, ``converged``; method and tblite version as attributes),
rewritten atomically after every batch so an interrupted run keeps what it computed. A molecule whose SCF did not
converge is stored as such and reported, never given a zero.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lawful.atoms.qm9 import CHARGE, ELEMENTS, KCAL_EV, Molecules
from lawful.core.executor import run_tasks
from lawful.core.io import atomic_h5, cache_dir

METHOD = "GFN2-xTB"
#: ground-state spin multiplicities of the free atoms
MULTIPLICITY = {"H": 2, "C": 3, "N": 4, "O": 3, "F": 2}
#: molecules per executor task
CHUNK = 200


def default_cache() -> Path:
    """``<lawful cache>/xtb/qm9_gfn2.h5``."""
    return cache_dir() / "xtb" / "qm9_gfn2.h5"


def _tblite_version() -> str:
    from importlib.metadata import version

    return version("tblite")


def calculator(multiplicity: int | None = None):
    """``tblite``'s ASE calculator for GFN2-xTB, quiet; ``multiplicity`` 2S + 1 (default: tblite's guess)."""
    from tblite.ase import TBLite

    return TBLite(method=METHOD, multiplicity=multiplicity, verbosity=0)


def singlepoint(numbers: np.ndarray, positions: np.ndarray, multiplicity: int | None = None,
                forces: bool = False) -> tuple[float, np.ndarray | None]:
    """xTB energy (eV) and, if asked, forces (n, 3) eV/Å of one molecule; raises ``RuntimeError`` if the SCF fails."""
    import ase

    atoms = ase.Atoms(numbers=numbers, positions=positions)
    atoms.calc = calculator(multiplicity)
    energy = float(atoms.get_potential_energy())
    return energy, (atoms.get_forces() if forces else None)


def _chunk(task: tuple[list[np.ndarray], list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Energies (eV, NaN if not converged) and convergence flags of a chunk of molecules, on one thread."""
    from threadpoolctl import threadpool_limits

    numbers, positions = task
    energy = np.full(len(numbers), np.nan)
    ok = np.zeros(len(numbers), dtype=bool)
    with threadpool_limits(1):
        for k, (z, r) in enumerate(zip(numbers, positions)):
            try:
                energy[k] = singlepoint(z, r)[0]
                ok[k] = True
            except RuntimeError:
                pass
    return energy, ok


@functools.cache
def free_atoms() -> dict[str, float]:
    """xTB energies (eV) of the isolated atoms H, C, N, O, F in their ground-state multiplicities."""
    return {s: singlepoint(np.array([CHARGE[s]]), np.zeros((1, 3)), MULTIPLICITY[s])[0] for s in ELEMENTS}


def _read(path: Path) -> dict[int, tuple[float, bool]]:
    import h5py

    if not path.exists():
        return {}
    with h5py.File(path, "r") as fh:
        if fh.attrs.get("method") != METHOD or fh.attrs.get("tblite") != _tblite_version():
            return {}
        return {int(i): (float(e), bool(c)) for i, e, c in zip(fh["index"][:], fh["energy"][:], fh["converged"][:])}


def _write(path: Path, table: dict[int, tuple[float, bool]]) -> None:
    keys = np.array(sorted(table), dtype=np.int64)
    with atomic_h5(path) as fh:
        fh.attrs["method"] = METHOD
        fh.attrs["tblite"] = _tblite_version()
        fh["index"] = keys
        fh["energy"] = np.array([table[k][0] for k in keys])
        fh["converged"] = np.array([table[k][1] for k in keys])


def qm9_baseline(mols: Molecules, cache: Path | None = None, scheduler: str | None = None,
                 batch: int = 4000, progress: Callable[[int, int], None] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """xTB atomization energies (kcal/mol, NaN where the SCF failed), convergence flags, and how many were computed.

    Molecules already in ``cache`` (by QM9 index) are not recomputed; the rest run in batches of ``batch``
    molecules, the cache rewritten after each. ``progress(done, todo)`` is called after each batch.
    """
    path = Path(cache) if cache is not None else default_cache()
    table = _read(path)
    todo = [m for m in range(len(mols)) if int(mols.index[m]) not in table]
    for lo in range(0, len(todo), batch):
        rows = todo[lo:lo + batch]
        tasks = [([mols.molecule(m)[0] for m in rows[c:c + CHUNK]], [mols.molecule(m)[1] for m in rows[c:c + CHUNK]])
                 for c in range(0, len(rows), CHUNK)]
        results = run_tasks(_chunk, tasks, scheduler=scheduler)
        energy = np.concatenate([e for e, _ in results])
        ok = np.concatenate([c for _, c in results])
        table.update({int(mols.index[m]): (float(e), bool(c)) for m, e, c in zip(rows, energy, ok)})
        _write(path, table)
        if progress is not None:
            progress(lo + len(rows), len(todo))
    total = np.array([table[int(i)][0] for i in mols.index])
    converged = np.array([table[int(i)][1] for i in mols.index], dtype=bool)
    ref = free_atoms()
    per_atom = np.zeros(max(CHARGE.values()) + 1)
    for s in ELEMENTS:
        per_atom[CHARGE[s]] = ref[s]
    free = np.add.reduceat(per_atom[mols.charges], mols.offsets[:-1]) if len(mols) else np.zeros(0)
    return (total - free) / KCAL_EV, converged, len(todo)
