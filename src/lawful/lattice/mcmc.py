"""Markov-chain samplers of e^{−S} for lattice φ⁴: local Metropolis, heat-bath (Ising limit) and HMC.

Every sampler is a small object holding hyperparameters; ``step(phi, gens)`` advances all chains by one
update (a sweep or a trajectory) *in place* and returns a :class:`StepInfo`. ``phi`` has shape ``(C, V)``;
``gens`` is a list of C numpy generators, one independent stream per chain (see :mod:`lawful.core.rng`).
HMC also reports ΔH, the invariant whose statistics (⟨e^{−ΔH}⟩ = 1, ⟨ΔH⟩ ∝ δτ⁴) tests check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawful.lattice import kernels
from lawful.lattice.actions import Phi4

INTEGRATORS = ("leapfrog", "omelyan")
SAMPLERS = ("hmc", "metropolis", "heatbath")


@dataclass
class StepInfo:
    """What one update did, per chain: acceptance rate (C,) and ΔH (C,; NaN for non-HMC samplers)."""

    acceptance: np.ndarray
    dH: np.ndarray


def _check_gens(phi: np.ndarray, gens: list[np.random.Generator], volume: int) -> None:
    """Refuse a state that is not ``(C, volume)`` C-contiguous float64, or a generator count other than C."""
    if phi.ndim != 2 or phi.shape[1] != volume or phi.dtype != np.float64 or not phi.flags.c_contiguous:
        raise ValueError(f"phi must be a C-contiguous float64 array of shape (C, {volume}), "
                         f"got {phi.dtype} {phi.shape}")
    if len(gens) != phi.shape[0]:
        raise ValueError(f"need one generator per chain: {phi.shape[0]} chains, {len(gens)} generators")


@dataclass(frozen=True)
class HMC:
    """Hybrid Monte Carlo: Gaussian momentum refresh, molecular dynamics of length ``traj_length`` in
    ``n_steps`` steps of the chosen reversible, area-preserving integrator, Metropolis test on ΔH.

    ``action`` is any action with ``n_dof``, ``integrate`` and ``hamiltonian`` (:class:`Phi4`, or
    :class:`lawful.lattice.u1.action.U1`)."""

    action: Any
    n_steps: int = 10
    traj_length: float = 1.0
    integrator: str = "omelyan"
    xi: float = kernels.OMELYAN_XI

    def __post_init__(self) -> None:
        if isinstance(self.n_steps, bool) or not isinstance(self.n_steps, (int, np.integer)) or self.n_steps < 1:
            raise ValueError(f"n_steps must be an integer >= 1, got {self.n_steps!r}")
        if not (self.traj_length > 0 and math.isfinite(self.traj_length)):
            raise ValueError(f"traj_length must be a positive finite number, got {self.traj_length!r}")
        if self.integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {INTEGRATORS}, got {self.integrator!r}")
        if math.isinf(getattr(self.action, "lam", 0.0)):
            raise ValueError("HMC needs a finite lambda; the Ising limit (lam=inf) is sampled by 'heatbath'")

    @property
    def dt(self) -> float:
        """MD step size δτ = τ / n_steps."""
        return self.traj_length / self.n_steps

    def integrate(self, phi: np.ndarray, p: np.ndarray, n_steps: int | None = None) -> None:
        """Run the MD integrator in place on ``(phi, p)`` (both ``(C, V)``)."""
        self.action.integrate(phi, p, self.integrator, self.n_steps if n_steps is None else n_steps, self.dt,
                              self.xi)

    def hamiltonian(self, phi: np.ndarray, p: np.ndarray) -> np.ndarray:
        """H = ½Σp² + S(φ) per chain."""
        return self.action.hamiltonian(phi, p)

    def step(self, phi: np.ndarray, gens: list[np.random.Generator]) -> StepInfo:
        """One HMC trajectory for every chain (in place)."""
        n_dof = self.action.n_dof
        _check_gens(phi, gens, n_dof)
        p = np.stack([g.standard_normal(n_dof) for g in gens])
        u = np.array([g.random() for g in gens])
        phi_old = phi.copy()
        h_old = self.hamiltonian(phi, p)
        self.integrate(phi, p)
        dH = self.hamiltonian(phi, p) - h_old
        # NaN/inf ΔH (a blown-up trajectory) is rejected: the comparison is False.
        accept = u < np.exp(-np.where(np.isnan(dH), np.inf, dH))
        phi[~accept] = phi_old[~accept]
        return StepInfo(acceptance=accept.astype(np.float64), dH=dH)


@dataclass(frozen=True)
class Metropolis:
    """Local Metropolis: each site in turn proposes φ_x + U(−δ, δ); ``step`` is one sweep over the lattice."""

    action: Phi4
    delta: float = 1.0

    def __post_init__(self) -> None:
        if not (self.delta > 0 and math.isfinite(self.delta)):
            raise ValueError(f"Metropolis step size delta must be positive and finite, got {self.delta!r}")
        if math.isinf(self.action.lam):
            raise ValueError("Metropolis needs a finite lambda; the Ising limit (lam=inf) is sampled by 'heatbath'")

    def step(self, phi: np.ndarray, gens: list[np.random.Generator]) -> StepInfo:
        lat = self.action.lattice
        _check_gens(phi, gens, lat.volume)
        shifts = np.stack([g.uniform(-self.delta, self.delta, lat.volume) for g in gens])
        uniforms = np.stack([g.random(lat.volume) for g in gens])
        acc = kernels.metropolis_sweep(phi, lat.fwd, lat.bwd, self.action.kappa, self.action.lam, shifts, uniforms)
        return StepInfo(acceptance=acc / lat.volume, dH=np.full(phi.shape[0], np.nan))


@dataclass(frozen=True)
class HeatBath:
    """Heat-bath sweeps in the Ising limit λ → ∞ (φ_x = ±1): every spin drawn from its exact conditional."""

    action: Phi4

    def __post_init__(self) -> None:
        if not math.isinf(self.action.lam):
            raise ValueError(f"heatbath samples the Ising limit lam=inf (phi = ±1); got lam={self.action.lam!r}. "
                             "Pass --lam inf, or use --sampler hmc|metropolis for finite lambda")

    def step(self, phi: np.ndarray, gens: list[np.random.Generator]) -> StepInfo:
        lat = self.action.lattice
        _check_gens(phi, gens, lat.volume)
        uniforms = np.stack([g.random(lat.volume) for g in gens])
        kernels.heatbath_sweep(phi, lat.fwd, lat.bwd, self.action.kappa, uniforms)
        n = phi.shape[0]
        return StepInfo(acceptance=np.ones(n), dH=np.full(n, np.nan))


def initial_configuration(action: Any, n_chains: int, gens: list[np.random.Generator], start: str) -> np.ndarray:
    """Starting states ``(C, n_dof)`` of ``action`` (φ⁴: :meth:`Phi4.initial`; U(1): hot = Haar, cold = 0)."""
    return action.initial(n_chains, gens, start)


def make_sampler(name: str, action: Phi4, *, n_steps: int = 10, traj_length: float = 1.0,
                 integrator: str = "omelyan", delta: float = 1.0) -> HMC | Metropolis | HeatBath:
    """Build the sampler called ``name`` (one of :data:`SAMPLERS`)."""
    if name == "hmc":
        return HMC(action, n_steps=n_steps, traj_length=traj_length, integrator=integrator)
    if name == "metropolis":
        return Metropolis(action, delta=delta)
    if name == "heatbath":
        return HeatBath(action)
    raise ValueError(f"sampler must be one of {SAMPLERS}, got {name!r}")
