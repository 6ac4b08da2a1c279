"""The φ⁴ action in D = 1…4 dimensions (2D U(1) gauge theory: :mod:`lawful.lattice.u1.action`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawful.lattice import kernels
from lawful.lattice.geometry import Lattice
from lawful.lattice.observables import OBSERVABLES


@dataclass(frozen=True)
class Phi4:
    """The φ⁴ action S = Σ_x [−2κ Σ_μ φ_x φ_{x+μ} + φ_x² + λ(φ_x² − 1)²] on ``lattice`` (lattice units)."""

    lattice: Lattice
    kappa: float
    lam: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.kappa):
            raise ValueError(f"kappa must be a finite number, got {self.kappa!r}")
        if not self.lam >= 0.0:
            raise ValueError(f"lambda must be >= 0 (lam=inf is the Ising limit), got {self.lam!r}")

    name = "phi4"
    observables = OBSERVABLES

    @property
    def n_dof(self) -> int:
        """Field components per configuration, V."""
        return self.lattice.volume

    def initial(self, n_chains: int, gens: list[np.random.Generator], start: str) -> np.ndarray:
        """Starting fields ``(C, V)``: ``cold`` (φ = 1, ordered) or ``hot`` (random: U(−1, 1), or ±1 for Ising).

        The hot start stays inside the wells φ ≈ ±1: Gaussian tails (|φ| ≈ 3–4 on some site) make the MD
        integrator unstable at δτ ≈ 0.1 and can leave an HMC chain that never accepts.
        """
        vol = self.lattice.volume
        if start == "cold":
            return np.ones((n_chains, vol))
        if start != "hot":
            raise ValueError(f"start must be 'hot' or 'cold', got {start!r}")
        if math.isinf(self.lam):
            return np.stack([np.where(g.random(vol) < 0.5, -1.0, 1.0) for g in gens])
        return np.stack([g.uniform(-1.0, 1.0, vol) for g in gens])

    def hamiltonian(self, phi: np.ndarray, p: np.ndarray) -> np.ndarray:
        """H = ½Σp² + S(φ) per chain."""
        return kernels.hamiltonian(phi, p, self.lattice.fwd, self.kappa, self.lam)

    def integrate(self, phi: np.ndarray, p: np.ndarray, integrator: str, n_steps: int, dt: float,
                  xi: float) -> None:
        """Molecular dynamics in place: ``integrator`` is leapfrog or omelyan (2MN with parameter ``xi``)."""
        lat = self.lattice
        if integrator == "leapfrog":
            kernels.leapfrog(phi, p, lat.fwd, lat.bwd, self.kappa, self.lam, n_steps, dt)
        else:
            kernels.omelyan(phi, p, lat.fwd, lat.bwd, self.kappa, self.lam, n_steps, dt, xi)

    def action(self, phi: np.ndarray) -> np.ndarray:
        """S for each chain; ``phi`` shape ``(C, V)`` -> ``(C,)``."""
        return kernels.action(phi, self.lattice.fwd, self.kappa, self.lam)

    def force(self, phi: np.ndarray) -> np.ndarray:
        """F = −∂S/∂φ, shape ``(C, V)``."""
        return kernels.force(phi, self.lattice.fwd, self.lattice.bwd, self.kappa, self.lam)

    def action_torch(self, phi: Any) -> Any:
        """S for a batch of torch fields ``(B, L, …, L)`` -> ``(B,)``, differentiable (used to train samplers)."""
        import torch

        if math.isinf(self.lam):
            raise ValueError("the Ising limit (lam=inf) has no differentiable action")
        hop = sum(phi * torch.roll(phi, -1, dims=mu + 1) for mu in range(self.lattice.dim))
        sq = phi * phi
        dens = -2.0 * self.kappa * hop + sq + self.lam * (sq - 1.0) ** 2
        return dens.flatten(1).sum(1)

    def measure(self, phi: np.ndarray) -> np.ndarray:
        """Observables of :data:`lawful.lattice.observables.OBSERVABLES` per chain, shape ``(C, 6)``.

        In the Ising limit (λ = ∞, φ = ±1) the potential term vanishes and S = −κW + V.
        """
        lam = 0.0 if math.isinf(self.lam) else self.lam
        return kernels.measure(phi, self.lattice.fwd, self.kappa, lam)
