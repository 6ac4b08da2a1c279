"""Samplers of e^{−S} for 2D U(1) gauge theory. Each has ``step(theta, gens)`` advancing all chains ``(C, 2V)``
in place by one update and returning a :class:`lawful.lattice.mcmc.StepInfo`; HMC is
:class:`lawful.lattice.mcmc.HMC` (it runs on any action).

* :class:`HeatBath`: every link drawn from its von Mises conditional, then over-relaxation sweeps;
* :class:`Metropolis`: single-link proposals θ + U(−δ, δ);
* :class:`WithInstantons`: any of them followed by global instanton proposals θ → θ ± θ_inst (every plaquette
  shifted by ±2π/V, so Q → Q ± 1), accepted with min(1, e^{−ΔS}): the topology-changing move a practitioner adds;
* :class:`ExactSampler`: independent configurations. The wrapped plaquettes are independent von Mises(0, β)
  variables except for one constraint, Σ_P θ_P ∈ 2πℤ: V − 1 of them are drawn, the last is fixed by the
  constraint and accepted with probability e^{β(cos θ_V − 1)} (else all are redrawn). Links are rebuilt in an axial
  gauge with uniformly random holonomies (Polyakov loops, which S does not see) and then gauge-transformed at
  random. Acceptance is ≈ I₀(β) e^{−β} (0.15 at β = 7): a test oracle and the reference no Markov chain beats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawful.lattice.mcmc import HMC, StepInfo, _check_gens
from lawful.lattice.u1 import kernels
from lawful.lattice.u1.action import U1, random_gauge

SAMPLERS = ("hmc", "heatbath", "metropolis", "exact")


def _seeds(gens: list[np.random.Generator]) -> np.ndarray:
    """One 63-bit seed per chain for numba's generator, drawn from the chain's own stream."""
    return np.array([g.integers(0, 2**63 - 1) for g in gens], dtype=np.int64)


@dataclass(frozen=True)
class HeatBath:
    """Heat-bath sweeps (exact von Mises draws per link) each followed by ``n_overrelax`` over-relaxation sweeps."""

    action: U1
    n_overrelax: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.n_overrelax, bool) or not isinstance(self.n_overrelax, (int, np.integer)) \
                or self.n_overrelax < 0:
            raise ValueError(f"n_overrelax must be an integer >= 0, got {self.n_overrelax!r}")

    def step(self, theta: np.ndarray, gens: list[np.random.Generator]) -> StepInfo:
        _check_gens(theta, gens, self.action.n_dof)
        lat = self.action.lattice
        kernels.heatbath_sweep(theta, lat.fwd, lat.bwd, self.action.beta, _seeds(gens), self.n_overrelax)
        n = theta.shape[0]
        return StepInfo(acceptance=np.ones(n), dH=np.full(n, np.nan))


@dataclass(frozen=True)
class Metropolis:
    """Single-link Metropolis sweeps with proposals θ + U(−δ, δ)."""

    action: U1
    delta: float = 1.0

    def __post_init__(self) -> None:
        if not (self.delta > 0 and math.isfinite(self.delta)):
            raise ValueError(f"Metropolis step size delta must be positive and finite, got {self.delta!r}")

    def step(self, theta: np.ndarray, gens: list[np.random.Generator]) -> StepInfo:
        n_dof = self.action.n_dof
        _check_gens(theta, gens, n_dof)
        shifts = np.stack([g.uniform(-self.delta, self.delta, n_dof) for g in gens])
        uniforms = np.stack([g.random(n_dof) for g in gens])
        lat = self.action.lattice
        acc = kernels.metropolis_sweep(theta, lat.fwd, lat.bwd, self.action.beta, shifts, uniforms)
        return StepInfo(acceptance=acc / n_dof, dH=np.full(theta.shape[0], np.nan))


def instanton_moves(action: U1, theta: np.ndarray, gens: list[np.random.Generator], n_moves: int) -> np.ndarray:
    """``n_moves`` Metropolis proposals θ → θ ± θ_inst per chain (sign ±1 with probability ½: a symmetric
    proposal), in place; returns the accepted fraction per chain ``(C,)``."""
    inst = action.instanton()
    accepted = np.zeros(theta.shape[0])
    s_old = action.action(theta)
    for _ in range(n_moves):
        sign = np.array([1.0 if g.random() < 0.5 else -1.0 for g in gens])
        log_u = np.log([g.random() for g in gens])
        proposal = theta + sign[:, None] * inst[None, :]
        s_new = action.action(proposal)
        accept = log_u < s_old - s_new
        theta[accept] = proposal[accept]
        s_old = np.where(accept, s_new, s_old)
        accepted += accept
    kernels.wrap_links(theta)
    return accepted / max(n_moves, 1)


@dataclass(frozen=True)
class WithInstantons:
    """``base.step`` followed by ``n_moves`` instanton proposals; acceptance reported is the base sampler's."""

    base: Any
    n_moves: int = 1

    @property
    def action(self) -> U1:
        return self.base.action

    def step(self, theta: np.ndarray, gens: list[np.random.Generator]) -> StepInfo:
        info = self.base.step(theta, gens)
        instanton_moves(self.action, theta, gens, self.n_moves)
        return info


def exact_plaquettes(beta: float, volume: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """``n`` independent sets of wrapped plaquette angles ``(n, V)`` from the exact distribution, and the
    acceptance of the constraint step (see the module docstring). Candidates are drawn in batches sized by the
    expected acceptance I₀(β)e^{−β} (that of a uniformly distributed last plaquette)."""
    from scipy.special import ive

    expected = float(ive(0, beta))
    out, tried = [], 0
    got = 0
    while got < n:
        batch = int(1.5 * (n - got) / expected) + 4
        free = rng.vonmises(0.0, beta, (batch, volume - 1))
        last = -np.sum(free, axis=1)
        last = last - 2.0 * math.pi * np.ceil((last - math.pi) / (2.0 * math.pi))   # wrap into (−π, π]
        keep = np.log(rng.random(batch)) < beta * (np.cos(last) - 1.0)
        tried += batch
        if np.any(keep):
            out.append(np.concatenate([free[keep], last[keep, None]], axis=1))
            got += int(np.sum(keep))
    return np.concatenate(out)[:n], got / tried


def links_from_plaquettes(plaq: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Links ``(n, 2V)`` with the wrapped plaquette angles ``plaq`` ``(n, V)`` (Σ = 2πQ each) and random
    holonomies, in the axial gauge θ₀ = 0 off the last time slice (then to be gauge-transformed at random).

    With P(t, y) = θ₀(t, y) + θ₁(t + 1, y) − θ₀(t, y + 1) − θ₁(t, y): θ₁(t + 1, y) = θ₁(t, y) + P(t, y) for
    t < L − 1, θ₁(0, y) = h₁ δ_{y0}, and on t = L − 1, θ₀(L − 1, y + 1) = θ₀(L − 1, y) − Σ_t P(t, y), θ₀(L − 1, 0) = h₀.
    """
    n, L = plaq.shape[0], size
    p = plaq.reshape(n, L, L)
    links = np.zeros((n, 2, L, L))
    h0, h1 = rng.uniform(-math.pi, math.pi, (2, n))
    links[:, 1, 0, 0] = h1
    links[:, 1, 1:, :] = links[:, 1, :1, :] + np.cumsum(p[:, :-1, :], axis=1)
    rows = np.sum(p, axis=1)                                       # (n, L): Σ_t P(t, y)
    links[:, 0, L - 1, 0] = h0
    links[:, 0, L - 1, 1:] = h0[:, None] - np.cumsum(rows[:, :-1], axis=1)
    flat = links.reshape(n, 2 * L * L)
    kernels.wrap_links(flat)
    return flat


@dataclass(frozen=True)
class ExactSampler:
    """Independent exact configurations (see the module docstring); ``step`` replaces every chain's links."""

    action: U1

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """``n`` independent configurations ``(n, 2V)`` and the acceptance of the constraint step."""
        plaq, acc = exact_plaquettes(self.action.beta, self.action.volume, n, rng)
        links = links_from_plaquettes(plaq, int(self.action.size), rng)
        links = random_gauge(links, self.action.lattice, rng)
        kernels.wrap_links(links)
        return links, acc

    def step(self, theta: np.ndarray, gens: list[np.random.Generator]) -> StepInfo:
        _check_gens(theta, gens, self.action.n_dof)
        acc = np.empty(theta.shape[0])
        for c, g in enumerate(gens):
            links, acc[c] = self.sample(1, g)
            theta[c] = links[0]
        return StepInfo(acceptance=acc, dH=np.full(theta.shape[0], np.nan))


def make_sampler(name: str, action: U1, *, n_steps: int = 10, traj_length: float = 1.0,
                 integrator: str = "omelyan", delta: float = 1.0, n_overrelax: int = 1,
                 instanton_moves: int = 0) -> Any:
    """The sampler ``name`` (one of :data:`SAMPLERS`), followed by ``instanton_moves`` instanton proposals per
    update when that is > 0 (not for ``exact``, which needs none)."""
    if name == "hmc":
        base: Any = HMC(action, n_steps=n_steps, traj_length=traj_length, integrator=integrator)
    elif name == "heatbath":
        base = HeatBath(action, n_overrelax)
    elif name == "metropolis":
        base = Metropolis(action, delta)
    elif name == "exact":
        if instanton_moves:
            raise ValueError("the exact sampler draws independent configurations; instanton_moves must be 0")
        return ExactSampler(action)
    else:
        raise ValueError(f"U(1) sampler must be one of {SAMPLERS}, got {name!r}")
    return WithInstantons(base, instanton_moves) if instanton_moves else base
