"""A trained Deep Potential on disk and in memory: a committee of K members of one architecture.

Member 0 gives energies, forces and stress; the others exist to disagree with it (the guard,
:mod:`lawful.atoms.guard`). ``model.pt`` holds the species (atomic numbers), the architecture, every member's
weights, the training dtype, the guard's calibration and the training record; it loads with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

FORMAT = "lawful-deep-potential/1"
MODEL_FILE = "model.pt"


@dataclasses.dataclass
class Potential:
    """``species`` (atomic numbers, the model's type order), ``members`` (DeepPotential modules, member 0 the
    production model), ``guard`` (calibration of the committee disagreement, see :mod:`lawful.atoms.guard`) and
    ``record`` (training metadata)."""

    species: list[int]
    members: list
    guard: dict = dataclasses.field(default_factory=dict)
    record: dict = dataclasses.field(default_factory=dict)

    @property
    def rcut(self) -> float:
        return self.members[0].rcut

    @property
    def dtype(self):
        return next(self.members[0].parameters()).dtype

    def to(self, dtype) -> Potential:
        """A copy in torch ``dtype`` (float32 or float64)."""
        import copy

        return dataclasses.replace(self, members=[copy.deepcopy(m).to(dtype) for m in self.members])

    def evaluate(self, arrays: list, *, members: int = 1, stress: bool = True) -> list[dict]:
        """Energies (eV), atomic energies, forces (eV/Å) and stress (eV/Å³) of the frames ``arrays``
        (:class:`~lawful.atoms.frames.FrameArrays`) from the first ``members`` members: a list with one dict of
        numpy arrays per member (``energy`` [B], ``energies`` [N], ``forces`` [N, 3], ``stress`` [B, 3, 3])."""
        from lawful.atoms.frames import graph

        g = graph(arrays, self.dtype)
        out = []
        for model in self.members[:members]:
            ea, e, f, s = model.energy_forces_stress(*g.inputs(), stress=stress, **g.pairs())
            out.append({"energy": e.detach().numpy().astype(float), "energies": ea.detach().numpy().astype(float),
                        "forces": f.detach().numpy().astype(float),
                        "stress": None if s is None else s.detach().numpy().astype(float)})
        return out

    def save(self, path: str | Path) -> Path:
        """Write the potential to ``path`` (a file, or a directory that gets ``model.pt``) atomically."""
        from lawful.core.io import atomic_torch_save

        path = Path(path)
        if path.suffix != ".pt":
            path = path / MODEL_FILE
        atomic_torch_save(path, {"format": FORMAT, "species": list(self.species), "hyper": self.members[0].hyper(),
                    "dtype": str(self.dtype).removeprefix("torch."),
                    "members": [m.state_dict() for m in self.members], "guard": self.guard,
                    "record": self.record})
        return path


def build_members(species: list[int], hyper: dict, k: int, dtype) -> list:
    """``k`` untrained DeepPotential members with architecture ``hyper`` in torch ``dtype``."""
    from lawful.atoms.deepmd import DeepPotential

    h = dict(hyper)
    h.pop("n_types", None)
    return [DeepPotential(len(species), **{**h, "embed": tuple(h["embed"]), "fit": tuple(h["fit"])}).to(dtype)
            for _ in range(k)]


def load(path: str | Path, dtype: str | None = None) -> Potential:
    """Read a potential written by :meth:`Potential.save` (a file or its directory); ``dtype`` (``float32`` or
    ``float64``) converts it, else it keeps its training dtype."""
    import torch

    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise ValueError(f"{path}: no such model file (expected a {MODEL_FILE} written by `lawful atoms train`)")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path}: not a lawful Deep Potential (format {FORMAT!r})")
    name = dtype or blob["dtype"]
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype {name!r}: expected float32 or float64")
    members = build_members(blob["species"], blob["hyper"], len(blob["members"]), getattr(torch, name))
    for m, sd in zip(members, blob["members"]):
        m.load_state_dict(sd)
        m.eval()
    return Potential(list(blob["species"]), members, blob["guard"], blob["record"])


def shipped(name: str = "cu") -> Path:
    """The ``model.pt`` of a potential that ships with lawful (``cu``: a 3-member committee for EMT Cu; its
    ``train.toml`` beside it says how it was trained)."""
    path = Path(__file__).with_name("models") / name / MODEL_FILE
    if not path.is_file():
        raise ValueError(f"no shipped potential {name!r} (expected {path})")
    return path


def species_of(frames) -> list[int]:
    """The sorted atomic numbers present in ``frames``."""
    return sorted({int(z) for f in frames for z in np.unique(f.numbers)})
