"""Config schemas of 2D U(1) gauge theory: a run (``lawful lattice run --theory u1``) and the training of a flow
(``lawful lattice train --theory u1``); every field is a flag and a TOML key."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import pydantic

from lawful.core.config import Config, FiniteFloat, LayerWidths

#: smallest L: the largest measured Wilson loop is 3 × 3
MIN_SIZE = 4


class U1RunConfig(Config):
    """A Markov chain (or the exact independent sampler) of 2D U(1) gauge theory with the Wilson action."""

    theory: Literal["u1"] = pydantic.Field("u1", description="lattice theory: phi4|u1")
    size: int = pydantic.Field(8, ge=MIN_SIZE, description="linear size L; V = L² plaquettes")
    beta: FiniteFloat = pydantic.Field(2.0, gt=0.0, description="gauge coupling β of S = -β Σ_P cos θ_P")
    sampler: Literal["hmc", "heatbath", "metropolis", "exact"] = pydantic.Field(
        "hmc", description="hmc|heatbath|metropolis|exact (independent configurations)")
    n_traj: int = pydantic.Field(5000, ge=1, description="measured updates (HMC trajectories or sweeps) per chain")
    n_therm: int = pydantic.Field(200, ge=0, description="updates before the thermalization cut (recorded too)")
    n_steps: int = pydantic.Field(10, ge=1, description="HMC: MD steps per trajectory")
    traj_length: FiniteFloat = pydantic.Field(1.0, gt=0.0, description="HMC: trajectory length τ")
    integrator: Literal["leapfrog", "omelyan"] = pydantic.Field("omelyan", description="HMC: leapfrog|omelyan (2MN)")
    delta: FiniteFloat = pydantic.Field(1.0, gt=0.0, description="Metropolis: proposal half-width δ (radians)")
    n_overrelax: int = pydantic.Field(1, ge=0, description="heatbath: over-relaxation sweeps after each sweep")
    instanton_moves: int = pydantic.Field(
        0, ge=0, description="instanton proposals (Q → Q ± 1, Metropolis) after every update (0: none)")
    start: Literal["hot", "cold"] = pydantic.Field("hot", description="initial links: hot (Haar random) or cold (0)")
    seed: int = pydantic.Field(1, ge=0, description="root seed; chain c uses the c-th spawned stream")
    n_chains: int = pydantic.Field(1, ge=1, le=4096, description="independent chains, batched in one kernel")
    save_every: int = pydantic.Field(0, ge=0, description="store configurations every k updates (0: never)")
    checkpoint_seconds: FiniteFloat = pydantic.Field(30.0, gt=0.0, description="wall time between checkpoints")
    out: Path = pydantic.Field(Path("runs/u1"), description="output directory (resumed if it holds this run)")

    @pydantic.model_validator(mode="after")
    def _exact_needs_no_moves(self) -> U1RunConfig:
        if self.sampler == "exact" and self.instanton_moves:
            raise ValueError(f"sampler 'exact' draws independent configurations; instanton_moves must be 0, "
                             f"got {self.instanton_moves}")
        return self

    @property
    def n_total(self) -> int:
        """Updates per chain including thermalization."""
        return self.n_therm + self.n_traj

    @property
    def volume(self) -> int:
        return self.size**2

    @property
    def label(self) -> str:
        """Short description for progress bars."""
        return f"U(1) L={self.size} β={self.beta:g}"

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"n_traj", "out", "checkpoint_seconds"})


class U1TrainConfig(Config):
    """Training of a gauge-equivariant flow for 2D U(1) by reverse KL, optionally after a forward-KL warm start
    (``lawful lattice train --theory u1``)."""

    theory: Literal["u1"] = pydantic.Field("u1", description="lattice theory: phi4|u1")
    sampler: Literal["flow"] = pydantic.Field("flow", description="flow (gauge-equivariant couplings)")
    size: int = pydantic.Field(8, ge=4, description="linear size L (a multiple of 4: the masks' period)")
    beta: FiniteFloat = pydantic.Field(2.0, gt=0.0, description="gauge coupling β")
    train_steps: int = pydantic.Field(100000, ge=0, description="optimizer steps (the run stops at either budget)")
    train_seconds: FiniteFloat = pydantic.Field(600.0, gt=0.0, description="wall-time budget in seconds")
    batch_size: int = pydantic.Field(128, ge=2, description="flow samples per step")
    lr: FiniteFloat = pydantic.Field(2e-3, gt=0.0,
                                     description="Adam learning rate (cosine decay over the budget that ends first)")
    n_layers: int = pydantic.Field(16, ge=2, description="coupling layers (8 update every link once)")
    hidden: LayerWidths = pydantic.Field([16, 16], description="hidden channels of each convolutional net")
    kernel: int = pydantic.Field(3, ge=1, description="convolution kernel size (odd)")
    bins: int = pydantic.Field(8, ge=2, description="bins of each circular spline")
    warm_start_steps: int = pydantic.Field(
        0, ge=0, description="forward-KL steps first, on n_data equilibrium fields of heat bath + over-relaxation + "
                             "instanton moves (reverse KL alone could not learn β = 6 at L = 16)")
    n_data: int = pydantic.Field(20000, ge=64, description="equilibrium fields for the warm start")
    gradient: Literal["path", "reparam"] = pydantic.Field(
        "path", description="reverse-KL gradient: path (the density's parameters held fixed; zero variance at the "
                            "optimum, one inverse pass more per step) or reparam (the plain reparametrization one)")
    init_from: Path | None = pydantic.Field(
        None, description="start from a trained flow's weights (same network; any β or L: transfer)")
    seed: int = pydantic.Field(1, ge=0, description="root seed (weights, samples)")
    device: str = pydantic.Field(
        "cpu", pattern=r"^(cpu|cuda(:\d+)?)$",
        description="torch device of the training: cpu, cuda or cuda:N (the prior's draws stay on the CPU, so a seed "
                    "gives the same z on any device; the model file is saved for the CPU)")
    checkpoint_seconds: float = pydantic.Field(60.0, gt=0.0, description="wall time between checkpoints")
    out: Path = pydantic.Field(Path("runs/u1flow8"), description="output directory (resumed if it holds this run)")

    @pydantic.field_validator("size")
    @classmethod
    def _stripes(cls, value: int) -> int:
        if value % 4:
            raise ValueError(f"the gauge-equivariant flow's masks have period 4: L must be a multiple of 4, "
                             f"got {value}")
        return value

    @pydantic.field_validator("kernel")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 != 1:
            raise ValueError(f"kernel size must be odd, got {value}")
        return value

    @property
    def label(self) -> str:
        return f"U(1) L={self.size} β={self.beta:g}"

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset(
        {"train_steps", "train_seconds", "out", "checkpoint_seconds", "device"})
