"""TorchScript export of a trained Deep Potential: one file that C++ (LAMMPS plugins, libtorch) or Python loads
without lawful.

The exported module's ``forward(pos [N, 3], cell [3, 3], types [N], i [P], j [P], shift [P, 3])`` takes one
frame with its neighbour list (full list within ``rcut``, pair vector r_j − r_i + shift·cell; any list builder
works, e.g. vesin) and returns (energy [] eV, forces [N, 3] eV/Å, stress [3, 3] eV/Å³, ASE's sign). ``rcut`` and
``species`` (atomic numbers in type order) are attributes of the module.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lawful.atoms.deepmd import DeepPotential


class Exported(torch.nn.Module):
    """Member 0 of a potential behind a one-frame interface (module docstring)."""

    def __init__(self, model: DeepPotential, species: list[int]):
        super().__init__()
        self.model = model
        self.rcut = float(model.rcut)
        self.species = list(species)

    def forward(self, pos: torch.Tensor, cell: torch.Tensor, types: torch.Tensor, i: torch.Tensor, j: torch.Tensor,
                shift: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        frame = torch.zeros(pos.shape[0], dtype=torch.int64, device=pos.device)
        offset = shift.to(pos.dtype) @ cell
        _, e, f, s = self.model.energy_forces_stress(pos, cell.unsqueeze(0), types.long(), frame, i.long(), j.long(),
                                                     offset, 1)
        assert s is not None
        return e[0], f, s[0]


def export(model: str | Path, out: str | Path, dtype: str | None = None) -> Path:
    """Script member 0 of the potential at ``model`` (in ``dtype``) and write it to ``out`` (a .pt file)."""
    import io

    from lawful.atoms.potential import load
    from lawful.core.io import atomic_write_bytes

    potential = load(model, dtype)
    scripted = torch.jit.script(Exported(potential.members[0], potential.species))
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    out = Path(out)
    atomic_write_bytes(out, buf.getvalue())
    return out
