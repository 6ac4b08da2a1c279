"""QM9 from the ``qm9pack`` wheel: 130 831 molecules (B3LYP/6-31G(2df,p) geometries, Å) and their energies.

:func:`load` reads the wheel's CSV files (its coordinates are Python-literal lists) into flat arrays,
:class:`Molecules`, without importing ``qm9pack`` itself (its ``__init__`` needs ``pkg_resources``). Energies are
atomization energies in kcal/mol: the molecule's energy (U0 by default) less the free atoms' energies that QM9
gives for its five elements (:data:`ATOM_REFERENCE`, Hartree, Ramakrishnan et al. 2014, ``atomref.txt``).
:func:`split` draws seeded, disjoint test / train index sets.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np

#: kcal/mol per Hartree (CODATA 2018, as QM9 and qmllib use)
HARTREE_KCAL = 627.509474
#: eV per kcal/mol
KCAL_EV = 0.0433641043
ELEMENTS = ("H", "C", "N", "O", "F")
CHARGE = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}
#: QM9's free-atom energies (Hartree): U0, U (298.15 K), H and G for each element
ATOM_REFERENCE = {
    "U0": {"H": -0.500273, "C": -37.846772, "N": -54.583861, "O": -75.064579, "F": -99.718730},
    "U": {"H": -0.498857, "C": -37.845355, "N": -54.582445, "O": -75.063162, "F": -99.717314},
    "H": {"H": -0.497912, "C": -37.844411, "N": -54.581501, "O": -75.062219, "F": -99.716370},
    "G": {"H": -0.510927, "C": -37.861317, "N": -54.598897, "O": -75.079532, "F": -99.733544},
}
#: the wheel's column for each property
COLUMN = {"U0": "InternalEnergy_0K_au", "U": "InternalEnergy_298K_au", "H": "Enthalphy_298K_au",
          "G": "GibbsFreeEnergy_298K_au"}
N_MOLECULES = 130_831


@dataclasses.dataclass(frozen=True)
class Molecules:
    """Molecules as flat arrays: molecule m owns atoms ``offsets[m]:offsets[m+1]``.

    ``charges`` (n_atoms,) int, ``positions`` (n_atoms, 3) Å, ``offsets`` (n_mol + 1,), ``energy`` (n_mol,)
    atomization energy in kcal/mol, ``index`` (n_mol,) QM9's molecule number (1 … 133 885).
    """

    charges: np.ndarray
    positions: np.ndarray
    offsets: np.ndarray
    energy: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.energy)

    @property
    def sizes(self) -> np.ndarray:
        """Atoms per molecule, (n_mol,)."""
        return np.diff(self.offsets)

    def molecule(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Charges (n,) and positions (n, 3) Å of molecule ``m``."""
        lo, hi = self.offsets[m], self.offsets[m + 1]
        return self.charges[lo:hi], self.positions[lo:hi]

    def subset(self, rows: np.ndarray) -> Molecules:
        """The molecules at ``rows`` (positions in this set), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"rows must lie in [0, {len(self)}), got {rows.min()} … {rows.max()}")
        sizes = self.sizes[rows]
        starts = np.r_[0, np.cumsum(sizes)][:-1]
        atoms = np.repeat(self.offsets[rows] - starts, sizes) + np.arange(int(sizes.sum()))
        return Molecules(self.charges[atoms], self.positions[atoms], np.r_[0, np.cumsum(sizes)],
                         self.energy[rows], self.index[rows])

    def atoms(self, m: int):
        """Molecule ``m`` as ``ase.Atoms`` with its energy (eV) in ``info['energy_atomization']``."""
        import ase

        z, r = self.molecule(m)
        at = ase.Atoms(numbers=z, positions=r)
        at.info["energy_atomization"] = float(self.energy[m]) * KCAL_EV
        at.info["qm9_index"] = int(self.index[m])
        return at


def data_dir() -> Path:
    """The folder of the ``qm9pack`` wheel's CSV files."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("QM9 needs the qm9pack wheel: pip install 'qm9pack>=1.0.3'")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _floats(column) -> np.ndarray:
    """The numbers of a column of Python-literal lists, flattened (they may end in ``0.``, not JSON)."""
    text = ",".join(column.str.replace("[", "", regex=False).str.replace("]", "", regex=False))
    return np.array(text.split(","), dtype=float)


def load(prop: str = "U0") -> Molecules:
    """All of QM9 with atomization energies of ``prop`` (U0, U, H or G) in kcal/mol; ~2 s."""
    import pandas as pd

    if prop not in COLUMN:
        raise ValueError(f"prop = {prop!r}; expected one of {', '.join(COLUMN)}")
    folder = data_dir()
    cols = ["Index", "N_atoms", "Elements", "XYZ_Ang", COLUMN[prop]]
    frame = pd.concat([pd.read_csv(folder / f"qm9_part{i}.csv", usecols=cols) for i in (1, 2, 3)],
                      ignore_index=True)
    symbols = ",".join(frame.Elements.str.slice(1, -1)).replace("'", "").replace(" ", "").split(",")
    unknown = set(symbols) - set(ELEMENTS)
    if unknown:
        raise ValueError(f"QM9 data hold elements {sorted(unknown)} outside {ELEMENTS}")
    charges = np.array([CHARGE[s] for s in symbols], dtype=np.int64)
    positions = _floats(frame.XYZ_Ang).reshape(-1, 3)
    sizes = frame.N_atoms.to_numpy(dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)]
    if offsets[-1] != len(charges) or len(positions) != len(charges):
        raise ValueError(f"QM9 CSV inconsistent: {offsets[-1]} atoms by N_atoms, {len(charges)} symbols, "
                         f"{len(positions)} positions")
    reference = np.array([0.0] + [ATOM_REFERENCE[prop][s] for s in ELEMENTS])[_element_rows(charges)]
    free_atoms = np.add.reduceat(reference, offsets[:-1])
    energy = (frame[COLUMN[prop]].to_numpy() - free_atoms) * HARTREE_KCAL
    return Molecules(charges, positions, offsets, energy, frame.Index.to_numpy(dtype=np.int64))


def _element_rows(charges: np.ndarray) -> np.ndarray:
    """1 … 5: the row of each atom's element in :data:`ELEMENTS`."""
    table = np.zeros(max(CHARGE.values()) + 1, dtype=np.int64)
    for k, s in enumerate(ELEMENTS):
        table[CHARGE[s]] = k + 1
    return table[charges]


def split(n_total: int, n_train: int, n_test: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded disjoint (train, test) rows of ``n_total`` molecules; the test set depends on ``seed`` only.

    Learning curves over N reuse one test set and nested training sets (the first N of one permutation).
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if value < 1:
            raise ValueError(f"{name} = {value}; expected a positive count")
    if n_train + n_test > n_total:
        raise ValueError(f"n_train + n_test = {n_train} + {n_test} exceeds the {n_total} molecules available")
    order = np.random.default_rng(seed).permutation(n_total)
    return order[n_test:n_test + n_train], order[:n_test]
