"""Config schema of a lattice φ⁴ run (every field is also a ``lawful lattice run`` flag and a TOML key)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar, Literal

import pydantic

from lawful.core.config import Config, FiniteFloat


class Phi4RunConfig(Config):
    """A Markov-chain run of lattice φ⁴ theory (lattice units)."""

    theory: Literal["phi4"] = pydantic.Field("phi4", description="lattice theory: phi4|u1")
    dim: int = pydantic.Field(3, ge=1, le=4, description="space-time dimension D (1..4)")
    size: int = pydantic.Field(6, ge=2, description="linear size L; V = L^D sites")
    kappa: FiniteFloat = pydantic.Field(0.185825, description="hopping parameter κ")
    lam: float = pydantic.Field(1.1689, ge=0.0, description="quartic coupling λ (inf: Ising limit, heatbath)")
    sampler: Literal["hmc", "metropolis", "heatbath"] = pydantic.Field("hmc", description="hmc|metropolis|heatbath")
    n_traj: int = pydantic.Field(5000, ge=1, description="measured updates (HMC trajectories or sweeps) per chain")
    n_therm: int = pydantic.Field(500, ge=0, description="updates before the thermalization cut (recorded too)")
    n_steps: int = pydantic.Field(10, ge=1, description="HMC: MD steps per trajectory")
    traj_length: FiniteFloat = pydantic.Field(1.0, gt=0.0, description="HMC: trajectory length τ")
    integrator: Literal["leapfrog", "omelyan"] = pydantic.Field("omelyan", description="HMC: leapfrog|omelyan (2MN)")
    delta: FiniteFloat = pydantic.Field(1.0, gt=0.0, description="Metropolis: proposal half-width δ")
    start: Literal["hot", "cold"] = pydantic.Field("hot", description="initial field: hot (random) or cold (φ=1)")
    seed: int = pydantic.Field(1, ge=0, description="root seed; chain c uses the c-th spawned stream")
    n_chains: int = pydantic.Field(1, ge=1, le=4096, description="independent chains, batched in one kernel")
    save_every: int = pydantic.Field(0, ge=0, description="store configurations every k updates (0: never)")
    checkpoint_seconds: FiniteFloat = pydantic.Field(30.0, gt=0.0, description="wall time between checkpoints")
    out: Path = pydantic.Field(Path("runs/phi4"), description="output directory (resumed if it holds this run)")

    @pydantic.model_validator(mode="after")
    def _sampler_needs(self) -> Phi4RunConfig:
        if self.sampler == "heatbath" and not math.isinf(self.lam):
            raise ValueError(f"sampler 'heatbath' samples the Ising limit lam=inf; got lam={self.lam}. "
                             "Set lam=inf, or choose sampler hmc|metropolis for finite lambda")
        if self.sampler != "heatbath" and math.isinf(self.lam):
            raise ValueError(f"lam=inf (Ising limit) needs sampler 'heatbath', got sampler {self.sampler!r}")
        return self

    @property
    def n_total(self) -> int:
        """Updates per chain including thermalization."""
        return self.n_therm + self.n_traj

    @property
    def volume(self) -> int:
        return self.size**self.dim

    @property
    def label(self) -> str:
        """Short description for progress bars."""
        return f"L={self.size} D={self.dim}"

    #: keys that may change when a run is resumed (extending it, moving it, checkpoint cadence)
    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"n_traj", "out", "checkpoint_seconds"})
