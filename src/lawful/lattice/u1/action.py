"""The Wilson action of 2D U(1) lattice gauge theory, S = −β Σ_P cos θ_P, on an L × L periodic lattice.

State: link angles ``theta`` ``(C, 2V)`` float64 (layout of :mod:`lawful.lattice.u1.kernels`); V = L² plaquettes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawful.lattice.geometry import Lattice
from lawful.lattice.u1 import kernels
from lawful.lattice.u1.config import MIN_SIZE


def check_size(size: int, multiple: int = 1, why: str = "") -> None:
    """Raise ``ValueError`` naming ``size`` unless it is an integer ≥ :data:`MIN_SIZE` and a multiple of
    ``multiple`` (``why`` says what needs that)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise ValueError(f"U(1) lattice size L must be an integer >= {MIN_SIZE} (3×3 Wilson loops are measured), "
                         f"got {size!r}")
    if size % multiple:
        raise ValueError(f"U(1) lattice size L must be a multiple of {multiple}{why}, got {size}")


def check_beta(beta: float) -> None:
    """Raise ``ValueError`` unless β is a positive finite number."""
    if not (isinstance(beta, (int, float, np.floating)) and math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a positive finite number (S = -beta Σ cos θ_P), got {beta!r}")


@dataclass(frozen=True)
class U1:
    """2D U(1) gauge theory with the Wilson action at coupling ``beta`` on an ``size`` × ``size`` torus."""

    size: int
    beta: float

    def __post_init__(self) -> None:
        check_size(self.size)
        check_beta(self.beta)
        object.__setattr__(self, "lattice", Lattice(2, int(self.size)))

    name = "u1"
    observables = kernels.OBSERVABLES

    @property
    def volume(self) -> int:
        """Plaquettes (= sites) V = L²."""
        return int(self.size) ** 2

    @property
    def n_dof(self) -> int:
        """Link angles per configuration, 2V."""
        return 2 * self.volume

    def action(self, theta: np.ndarray) -> np.ndarray:
        """S per chain, ``(C, 2V)`` → ``(C,)``."""
        return kernels.action(theta, self.lattice.fwd, self.beta)

    def force(self, theta: np.ndarray) -> np.ndarray:
        """F = −∂S/∂θ, ``(C, 2V)``."""
        return kernels.force(theta, self.lattice.fwd, self.lattice.bwd, self.beta)

    def measure(self, theta: np.ndarray) -> np.ndarray:
        """Observables of :data:`lawful.lattice.u1.kernels.OBSERVABLES` per chain, ``(C, 9)``."""
        return kernels.measure(theta, self.lattice.fwd, self.beta, int(self.size))

    def charge(self, theta: np.ndarray) -> np.ndarray:
        """Geometric topological charge Q = (1/2π) Σ_P arg e^{iθ_P} per chain (integers, as float)."""
        return self.measure(theta)[:, kernels.OBS_Q]

    def hamiltonian(self, theta: np.ndarray, p: np.ndarray) -> np.ndarray:
        """H = ½Σp² + S per chain."""
        return kernels.hamiltonian(theta, p, self.lattice.fwd, self.beta)

    def integrate(self, theta: np.ndarray, p: np.ndarray, integrator: str, n_steps: int, dt: float,
                  xi: float) -> None:
        """Molecular dynamics in place (leapfrog or Omelyan 2MN), then links wrapped into (−π, π]."""
        lat = self.lattice
        if integrator == "leapfrog":
            kernels.leapfrog(theta, p, lat.fwd, lat.bwd, self.beta, n_steps, dt)
        else:
            kernels.omelyan(theta, p, lat.fwd, lat.bwd, self.beta, n_steps, dt, xi)
        kernels.wrap_links(theta)

    def initial(self, n_chains: int, gens: list[np.random.Generator], start: str) -> np.ndarray:
        """Starting links ``(C, 2V)``: ``cold`` (θ = 0, Q = 0) or ``hot`` (uniform on (−π, π], Haar)."""
        if start == "cold":
            return np.zeros((n_chains, self.n_dof))
        if start != "hot":
            raise ValueError(f"start must be 'hot' or 'cold', got {start!r}")
        return np.stack([g.uniform(-math.pi, math.pi, self.n_dof) for g in gens])

    def instanton(self) -> np.ndarray:
        """Links ``(2V,)`` whose every plaquette is 2π/V (mod 2π): added to a configuration, they raise every
        plaquette by 2π/V and (unless one crosses π) Q by one. θ₁(t, y) = 2πt/V, θ₀(L − 1, y) = −2πy/L."""
        L = int(self.size)
        t, y = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
        links = np.zeros((2, L, L))
        links[1] = 2.0 * math.pi * t / self.volume
        links[0, L - 1] = -2.0 * math.pi * np.arange(L) / L
        return links.reshape(-1)

    def torch_plaquettes(self, theta: Any) -> Any:
        """Plaquette angles ``(B, L, L)`` of torch links ``(B, 2, L, L)`` (differentiable)."""
        import torch

        return theta[:, 0] + torch.roll(theta[:, 1], -1, dims=1) - torch.roll(theta[:, 0], -1, dims=2) - theta[:, 1]

    def action_torch(self, theta: Any) -> Any:
        """S for torch links ``(B, 2, L, L)`` → ``(B,)``, differentiable (used to train flows)."""
        return -self.beta * self.torch_plaquettes(theta).cos().flatten(1).sum(1)


def random_gauge(theta: np.ndarray, lattice: Lattice, rng: np.random.Generator) -> np.ndarray:
    """A random gauge transformation θ_μ(x) → θ_μ(x) + α(x) − α(x + μ̂), α uniform on (−π, π], of links
    ``(C, 2V)`` (one α per chain); plaquettes, S and Q do not change."""
    n, vol = theta.shape[0], lattice.volume
    alpha = rng.uniform(-math.pi, math.pi, (n, vol))
    out = theta.reshape(n, 2, vol) + alpha[:, None, :] - alpha[:, lattice.fwd.T.astype(np.int64)]
    return out.reshape(n, 2 * vol)
