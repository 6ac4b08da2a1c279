"""Configurations as the model sees them: validated, with neighbour lists (vesin) and labels, batched for torch.

A frame is one configuration (an ``ase.Atoms``). :func:`read_labelled` reads extended XYZ with configurable label
keys (as MACE does: ``energy_key``, ``forces_key``, ``stress_key``), checks every frame before any work and names
the file, frame and key of what is wrong. :func:`graph` turns frames into one :class:`Graph` of concatenated atoms
and pairs, the input of :meth:`lawful.atoms.deepmd.DeepPotential.energy_forces_stress`. Units: Å, eV, eV/Å, eV/Å³.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

#: atoms closer than this (Å) are refused: no potential trained on condensed matter means anything there
MIN_DISTANCE = 0.5


@dataclasses.dataclass(frozen=True)
class LabelKeys:
    """Where labels live in an extxyz frame: ``info[energy]``, ``arrays[forces]``, ``info[stress]`` (3×3 or
    Voigt 6, ASE's sign); ASE's own names also match its single-point results."""

    energy: str = "energy"
    forces: str = "forces"
    stress: str = "stress"


def check_atoms(atoms, where: str, species: list[int] | None = None, distances: bool = True) -> None:
    """Raise ``ValueError`` naming ``where`` (file and frame) if ``atoms`` has NaN positions, a degenerate cell
    along a periodic direction, a species outside ``species`` or (``distances``) atoms closer than
    :data:`MIN_DISTANCE` (:func:`frame_arrays` checks distances from its own neighbour list)."""
    import vesin

    pos = np.asarray(atoms.positions, dtype=float)
    if not np.all(np.isfinite(pos)):
        bad = int(np.flatnonzero(~np.isfinite(pos).all(axis=1))[0])
        raise ValueError(f"{where}: atom {bad} has non-finite position {pos[bad].tolist()}")
    if species is not None:
        unknown = sorted(set(atoms.numbers.tolist()) - set(species))
        if unknown:
            from ase.data import chemical_symbols

            raise ValueError(f"{where}: species {[chemical_symbols[z] for z in unknown]} unknown to the model, "
                             f"which knows {[chemical_symbols[z] for z in species]}")
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if pbc.any():
        cell = atoms.cell.array
        volume = abs(np.linalg.det(cell)) if pbc.all() else np.prod(np.linalg.norm(cell[pbc], axis=1))
        if not np.isfinite(volume) or volume < 1e-6:
            raise ValueError(f"{where}: degenerate cell {cell.tolist()} (volume {volume:.3g} Å³) with pbc "
                             f"{pbc.tolist()}")
    if distances and len(atoms) > 1:
        check_distances(*vesin.NeighborList(cutoff=MIN_DISTANCE, full_list=False).compute(
            pos, _box(atoms), pbc if pbc.any() else False, "ijd"), where)


def check_distances(i: np.ndarray, j: np.ndarray, d: np.ndarray, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` and the atoms if a pair distance d (Å) is below :data:`MIN_DISTANCE`."""
    if len(d) and d.min() < MIN_DISTANCE:
        k = int(np.argmin(d))
        raise ValueError(f"{where}: atoms {int(i[k])} and {int(j[k])} are {d[k]:.3f} Å apart, closer than "
                         f"{MIN_DISTANCE} Å")


def _box(atoms) -> np.ndarray:
    """The cell vesin should use: the atoms' cell, or a zero box for an open system."""
    return atoms.cell.array if np.any(atoms.pbc) else np.zeros((3, 3))


def neighbours(atoms, rcut: float, where: str = "atoms") -> tuple[np.ndarray, ...]:
    """Full neighbour list within ``rcut`` (Å), grouped by centre atom: centre i, neighbour j [P] (int64), integer
    cell shifts S [P, 3] (r_j − r_i + S·cell is the pair vector) and each pair's index among the P/2 unordered pairs
    [P] (a pair and its mirror share it). Built from vesin's half list; refuses pairs closer than
    :data:`MIN_DISTANCE` (naming ``where``)."""
    import vesin

    pbc = np.asarray(atoms.pbc, dtype=bool)
    i, j, s, d = vesin.NeighborList(cutoff=rcut, full_list=False).compute(
        np.asarray(atoms.positions, dtype=float), _box(atoms), pbc if pbc.any() else False, "ijSd")
    check_distances(i, j, d, where)
    pair = np.arange(len(i))
    fi, fj = np.concatenate([i, j]), np.concatenate([j, i])
    order = np.argsort(fi, kind="stable")
    return (fi[order].astype(np.int64), fj[order].astype(np.int64), np.concatenate([s, -s])[order].astype(np.int64),
            np.concatenate([pair, pair])[order])


def _label(atoms, key: str, kind: str):
    """The label ``key`` of ``atoms`` (info or arrays, else ASE's single-point result of the same name)."""
    store = atoms.info if kind == "info" else atoms.arrays
    if key in store:
        return np.asarray(store[key], dtype=float)
    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    if key in results:
        return np.asarray(results[key], dtype=float)
    return None


def stress_matrix(value: np.ndarray) -> np.ndarray:
    """A stress given as 3×3, 9 or Voigt 6 (xx yy zz yz xz xy) as a 3×3 matrix."""
    value = np.asarray(value, dtype=float).reshape(-1)
    if value.size == 9:
        return value.reshape(3, 3)
    if value.size == 6:
        xx, yy, zz, yz, xz, xy = value
        return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    raise ValueError(f"stress has {value.size} components; expected 9 or 6 (Voigt)")


@dataclasses.dataclass
class Labelled:
    """Frames with their labels: ``energy`` [B] (eV), ``forces`` (list of [n_b, 3], eV/Å), ``stress`` [B, 3, 3]
    (eV/Å³; NaN for frames without one, e.g. open systems)."""

    frames: list
    energy: np.ndarray
    forces: list
    stress: np.ndarray


def read_labelled(path: str | Path, keys: LabelKeys = LabelKeys(), *, need_forces: bool = True,
                  need_stress: bool = True, species: list[int] | None = None) -> Labelled:
    """Read every frame of the extxyz ``path`` with its labels, checking each first (:func:`check_atoms`); a
    missing label the loss needs names the file, frame and key. Stress is required of periodic frames when
    ``need_stress``; open frames get NaN."""
    from ase.io import read

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file (expected an extended XYZ file of labelled frames)")
    frames = read(path, ":")
    if not frames:
        raise ValueError(f"{path}: holds no frames")
    energy, forces, stress = np.empty(len(frames)), [], np.full((len(frames), 3, 3), np.nan)
    for b, atoms in enumerate(frames):
        where = f"{path}, frame {b}"
        check_atoms(atoms, where, species)
        e = _label(atoms, keys.energy, "info")
        if e is None or e.size != 1 or not np.isfinite(e).all():
            raise ValueError(f"{where}: no finite energy under key {keys.energy!r} (set energy_key)")
        energy[b] = float(e.reshape(()))
        f = _label(atoms, keys.forces, "arrays")
        if f is None and need_forces:
            raise ValueError(f"{where}: no forces under key {keys.forces!r} (set forces_key, or a zero force "
                             f"weight)")
        if f is not None and (f.shape != (len(atoms), 3) or not np.isfinite(f).all()):
            raise ValueError(f"{where}: forces under {keys.forces!r} have shape {f.shape} or non-finite values; "
                             f"expected finite [{len(atoms)}, 3]")
        forces.append(f if f is not None else np.full((len(atoms), 3), np.nan))
        s = _label(atoms, keys.stress, "info")
        if s is not None and np.all(atoms.pbc):
            stress[b] = stress_matrix(s)
        elif need_stress and np.all(atoms.pbc):
            raise ValueError(f"{where}: no stress under key {keys.stress!r} (set stress_key, or a zero stress "
                             f"weight)")
    return Labelled(frames, energy, forces, stress)


@dataclasses.dataclass
class Graph:
    """Frames concatenated for one model call (torch tensors): ``pos`` [N, 3], ``cell`` [B, 3, 3], ``types`` [N],
    ``frame`` [N] (each atom's frame), pairs ``i``, ``j`` [P] and their periodic ``offset`` S·cell [P, 3] (Å),
    ``n_atoms`` [B], and for the unordered pairs ``rep`` [P/2] (one of its two ordered pairs) and ``half`` [P] (each
    ordered pair's unordered one): a pair and its mirror have the same distance, so a one-species embedding is
    evaluated once per unordered pair."""

    pos: object
    cell: object
    types: object
    frame: object
    i: object
    j: object
    offset: object
    n_atoms: object
    rep: object
    half: object

    @property
    def n_frames(self) -> int:
        return int(self.cell.shape[0])

    def inputs(self) -> tuple:
        """The positional arguments of :meth:`~lawful.atoms.deepmd.DeepPotential.energy_forces_stress`."""
        return self.pos, self.cell, self.types, self.frame, self.i, self.j, self.offset, self.n_frames

    def pairs(self) -> dict:
        """The keyword arguments that let a one-species model embed each unordered pair once."""
        return {"rep": self.rep, "half": self.half}


@dataclasses.dataclass
class FrameArrays:
    """One frame's model inputs as numpy arrays, made once: positions [N, 3], cell [3, 3], type indices [N],
    pairs i, j [P] (int32, grouped by i), integer cell shifts [P, 3] (int8; small, for 1000s of frames) and each
    pair's unordered pair ``half`` [P] and one ordered pair of each unordered one ``rep`` [P/2] (int32;
    :func:`neighbours`)."""

    pos: np.ndarray
    cell: np.ndarray
    types: np.ndarray
    i: np.ndarray
    j: np.ndarray
    shift: np.ndarray
    half: np.ndarray
    rep: np.ndarray


def frame_arrays(atoms, species: list[int], rcut: float, where: str = "atoms") -> FrameArrays:
    """``atoms`` as :class:`FrameArrays` for a model of ``species`` (atomic numbers) with cutoff ``rcut``."""
    lookup = np.full(119, -1, dtype=np.int64)
    lookup[np.asarray(species)] = np.arange(len(species))
    i, j, s, half = neighbours(atoms, rcut, where)
    rep = np.empty(half.shape[0] // 2, dtype=np.int32)
    rep[half] = np.arange(half.shape[0])
    cell = atoms.cell.array if np.all(atoms.pbc) else np.zeros((3, 3))
    return FrameArrays(np.asarray(atoms.positions, dtype=float), np.asarray(cell, dtype=float),
                       lookup[atoms.numbers], i.astype(np.int32), j.astype(np.int32), s.astype(np.int8),
                       half.astype(np.int32), rep)


def _offsets(a: FrameArrays) -> np.ndarray:
    """S·cell [P, 3] (Å) by broadcasting: a BLAS call for a [P, 3]·[3, 3] product spawns threads that fight a busy
    machine (measured 15 ms instead of 1 with the other core loaded)."""
    s = a.shift.astype(np.float64)
    return s[:, 0:1] * a.cell[0] + s[:, 1:2] * a.cell[1] + s[:, 2:3] * a.cell[2]


def graph(arrays: list[FrameArrays], dtype) -> Graph:
    """One :class:`Graph` of the frames ``arrays`` in torch ``dtype``."""
    import torch

    sizes = np.array([a.pos.shape[0] for a in arrays])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_pairs = np.array([a.i.shape[0] for a in arrays])
    pair_offsets = np.concatenate([[0], np.cumsum(n_pairs)[:-1]])
    half_offsets = pair_offsets // 2
    cat = np.concatenate
    return Graph(torch.as_tensor(cat([a.pos for a in arrays]), dtype=dtype),
                 torch.as_tensor(np.stack([a.cell for a in arrays]), dtype=dtype),
                 torch.as_tensor(cat([a.types for a in arrays])),
                 torch.as_tensor(np.repeat(np.arange(len(arrays)), sizes)),
                 torch.as_tensor(cat([a.i.astype(np.int64) + o for a, o in zip(arrays, offsets)])),
                 torch.as_tensor(cat([a.j.astype(np.int64) + o for a, o in zip(arrays, offsets)])),
                 torch.as_tensor(cat([_offsets(a) for a in arrays]), dtype=dtype),
                 torch.as_tensor(sizes),
                 torch.as_tensor(cat([a.rep.astype(np.int64) + o for a, o in zip(arrays, pair_offsets)])),
                 torch.as_tensor(cat([a.half.astype(np.int64) + o for a, o in zip(arrays, half_offsets)])))


def write_sets(out: Path, sets: dict[str, tuple[str, list]], cfg_toml: str, seed: int) -> dict[str, Path]:
    """Write each named set of labelled frames, ``{name: (file name, frames)}``, as extended XYZ into ``out``
    atomically (empty sets are skipped), with ``provenance.json``; returns the files by set name."""
    import io
    import json

    from ase.io import write

    from lawful.core.io import atomic_write_bytes, provenance

    files = {}
    for name, (file_name, frames) in sets.items():
        if not frames:
            continue
        buf = io.StringIO()
        write(buf, frames, format="extxyz")
        files[name] = Path(out) / file_name
        atomic_write_bytes(files[name], buf.getvalue().encode())
    prov = {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in provenance(cfg_toml, seed).items()}
    atomic_write_bytes(Path(out) / "provenance.json", json.dumps(prov, indent=1).encode())
    return files
