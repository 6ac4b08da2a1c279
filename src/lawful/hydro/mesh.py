"""Uniform Cartesian meshes in 1D and 2D with ghost cells, and their boundary conditions (CGS lengths)."""

from __future__ import annotations

import dataclasses

import numpy as np

from lawful.hydro.kernels import BOUNDARIES

SIDES = ("xlo", "xhi", "ylo", "yhi")


@dataclasses.dataclass(frozen=True)
class Mesh:
    """``nx`` × ``ny`` active cells on [xmin, xmax] × [ymin, ymax] (``ny = 1``: a 1D mesh with no y ghosts).

    Arrays on the mesh are [variable, ny_t, nx_t] with ``ng`` ghost cells per side of each active direction.
    ``bc`` maps each side (xlo, xhi, ylo, yhi) to outflow | reflect | periodic.
    """

    nx: int
    ny: int = 1
    xmin: float = 0.0
    xmax: float = 1.0
    ymin: float = 0.0
    ymax: float = 1.0
    bc: tuple[str, str, str, str] = ("outflow", "outflow", "outflow", "outflow")
    ng: int = 2

    def __post_init__(self) -> None:
        if self.nx < 4 or self.ny < 1 or (self.ny > 1 and self.ny < 4):
            raise ValueError(f"mesh {self.nx} x {self.ny} too small; need nx >= 4 and ny = 1 or ny >= 4")
        if not (self.xmax > self.xmin and self.ymax > self.ymin):
            raise ValueError(f"empty domain [{self.xmin}, {self.xmax}] x [{self.ymin}, {self.ymax}]")
        for side, name in zip(SIDES, self.bc):
            if name not in BOUNDARIES:
                raise ValueError(f"boundary {side} = {name!r}; expected one of {sorted(BOUNDARIES)}")
        for a, b, axis in ((0, 1, "x"), (2, 3, "y")):
            if (self.bc[a] == "periodic") != (self.bc[b] == "periodic"):
                raise ValueError(f"periodic boundaries come in pairs: {axis}lo = {self.bc[a]!r}, "
                                 f"{axis}hi = {self.bc[b]!r}")

    @property
    def ndim(self) -> int:
        return 1 if self.ny == 1 else 2

    @property
    def dx(self) -> float:
        return (self.xmax - self.xmin) / self.nx

    @property
    def dy(self) -> float:
        return (self.ymax - self.ymin) / self.ny

    @property
    def cell_volume(self) -> float:
        """cm (1D), cm² (2D): the measure that turns densities into totals."""
        return self.dx * (self.dy if self.ndim == 2 else 1.0)

    @property
    def padded_shape(self) -> tuple[int, int]:
        return (self.ny + 2 * self.ng if self.ndim == 2 else 1, self.nx + 2 * self.ng)

    @property
    def active(self) -> tuple[slice, slice]:
        """Index of the active cells in the last two axes of a padded array."""
        g = self.ng
        return (slice(g, -g) if self.ndim == 2 else slice(None), slice(g, -g))

    @property
    def x(self) -> np.ndarray:
        """Cell centres along x, [nx]."""
        return self.xmin + (np.arange(self.nx) + 0.5) * self.dx

    @property
    def y(self) -> np.ndarray:
        """Cell centres along y, [ny]."""
        return self.ymin + (np.arange(self.ny) + 0.5) * self.dy

    @property
    def bc_codes(self) -> np.ndarray:
        return np.array([BOUNDARIES[b] for b in self.bc], dtype=np.int64)
