"""Config schemas of ``lawful lattice train`` (learn a sampler) and ``lawful lattice sample`` (run the MH guard)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import pydantic

from lawful.core.config import Config, FiniteFloat, LayerWidths

_PARITY = {  # field: (must be odd, what is wrong otherwise)
    "size": (0, "checkerboard models need an even lattice size"),
    "n_layers": (0, "n_layers must be even (both checkerboard parities are updated)"),
    "kernel": (1, "kernel size must be odd"),
}


class TrainConfig(Config):
    """Training of a normalizing flow (reverse KL) or a diffusion model (denoising score matching) for φ⁴."""

    theory: Literal["phi4"] = pydantic.Field("phi4", description="lattice theory: phi4|u1")
    sampler: Literal["flow", "diffusion"] = pydantic.Field("flow", description="flow|diffusion")
    dim: int = pydantic.Field(2, ge=1, le=3, description="lattice dimension D (1..3)")
    size: int = pydantic.Field(8, ge=2, description="linear size L (even)")
    kappa: FiniteFloat = pydantic.Field(0.25, description="hopping parameter κ")
    lam: FiniteFloat = pydantic.Field(0.5, ge=0.0, description="quartic coupling λ (finite)")
    train_steps: int = pydantic.Field(3000, ge=0, description="optimizer steps (the run stops at either budget)")
    train_seconds: FiniteFloat = pydantic.Field(1800.0, gt=0.0, description="wall-time budget in seconds")
    batch_size: int = pydantic.Field(128, ge=2, description="samples (flow) or training fields (diffusion) per step")
    lr: FiniteFloat = pydantic.Field(2e-3, gt=0.0,
                                     description="Adam learning rate (cosine decay over the budget that ends first)")
    n_layers: int = pydantic.Field(8, ge=2, description="flow: coupling layers (even)")
    coupling: Literal["affine", "spline"] = pydantic.Field(
        "spline", description="flow: rational-quadratic spline + affine couplings, or affine (real NVP) alone")
    bins: int = pydantic.Field(8, ge=2, description="flow: spline bins on [-4, 4] (coupling = spline)")
    spectral: bool = pydantic.Field(
        True, description="flow: a learned Gaussian layer 1/(a + b p^2 + c p^4) in momentum space before the couplings")
    hidden: LayerWidths = pydantic.Field([32, 32], description="hidden channels of each convolutional net")
    kernel: int = pydantic.Field(3, ge=1, description="convolution kernel size (odd)")
    warm_start_steps: int = pydantic.Field(300, ge=0, description="flow: forward-KL steps first, on the "
                                                                 "equilibrium fields (φ⁴: HMC; u1: heat bath + "
                                                                 "instanton moves)")
    n_data: int = pydantic.Field(20000, ge=64, description="equilibrium fields for diffusion "
                                                     "training / flow warm start")
    ode_steps: int = pydantic.Field(24, ge=2, description="diffusion: Heun steps of the probability-flow ODE")
    sigma_max: FiniteFloat = pydantic.Field(20.0, gt=0.0, description="diffusion: largest noise level")
    sigma_log_mean: FiniteFloat = pydantic.Field(
        -1.2, description="diffusion: mean of ln σ of the training noise (lognormal, EDM's P_mean)")
    sigma_log_std: FiniteFloat = pydantic.Field(
        1.2, gt=0.0, description="diffusion: standard deviation of ln σ of the training noise (EDM's P_std)")
    spectral_skip: bool = pydantic.Field(
        True, description="diffusion: skip term = the Gaussian-optimal denoiser with the data's power spectrum "
                          "(no: EDM's c_skip x)")
    init_from: Path | None = pydantic.Field(
        None, description="start from a trained model's weights (same sampler and network; any L: transfer)")
    seed: int = pydantic.Field(1, ge=0, description="root seed (weights, samples, HMC data)")
    checkpoint_seconds: float = pydantic.Field(60.0, gt=0.0, description="wall time between checkpoints")
    out: Path = pydantic.Field(Path("runs/flow8"), description="output directory (resumed if it holds this run)")

    @pydantic.field_validator("size", "n_layers", "kernel")
    @classmethod
    def _parity(cls, value: int, info: pydantic.ValidationInfo) -> int:
        """Checkerboards need an even L and an even number of couplings; kernels are centred on a site."""
        must_be_odd, message = _PARITY[info.field_name]
        if value % 2 != must_be_odd:
            raise ValueError(f"{message}, got {value}")
        return value

    @property
    def label(self) -> str:
        return f"L={self.size} D={self.dim}"

    #: keys that may change when training is resumed (extend it, move it, checkpoint cadence)
    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset(
        {"train_steps", "train_seconds", "out", "checkpoint_seconds"})
    #: what runs written before these keys existed used (their defaults changed since)
    LEGACY_DEFAULTS: ClassVar[dict[str, object]] = {"coupling": "affine", "spectral": False, "spectral_skip": False}


class SampleConfig(Config):
    """An independence Metropolis–Hastings chain fed by a trained model's proposals."""

    model: Path = pydantic.Field(Path("runs/flow8"), description="directory of a trained model (model.pt)")
    n: int = pydantic.Field(20000, ge=1, description="MH steps (proposals) per chain after thermalization")
    n_therm: int = pydantic.Field(100, ge=0, description="MH steps before the thermalization cut")
    n_chains: int = pydantic.Field(1, ge=1, le=64, description="independent MH chains")
    batch_size: int = pydantic.Field(1024, ge=1, description="proposals generated per batch")
    ode_steps: int | None = pydantic.Field(
        None, ge=2, description="diffusion: ODE steps (default: the trained count, raised until the estimated spread "
                                "of log q's discretization error is <= 0.01, at most 8x)")
    divergence: Literal["exact", "hutchinson"] = pydantic.Field(
        "exact", description="diffusion: exact divergence, or a stochastic trace (inexact, flagged)")
    precision: Literal["float32", "float64"] = pydantic.Field(
        "float32", description="arithmetic of the proposals (S is always float64)")
    dim: int | None = pydantic.Field(None, description="expected lattice dimension (error if the model differs)")
    size: int | None = pydantic.Field(None, description="expected lattice size (error if the model differs)")
    kappa: float | None = pydantic.Field(None, description="expected κ (error if the model differs)")
    lam: float | None = pydantic.Field(None, description="expected λ (error if the model differs)")
    beta: float | None = pydantic.Field(None, description="U(1): expected β (error if the model differs)")
    hmc_every: int = pydantic.Field(
        0, ge=0, description="flow: one HMC trajectory after every k MH steps (0: MH steps only)")
    hmc_steps: int = pydantic.Field(10, ge=1, description="Omelyan steps of each interleaved HMC trajectory")
    hmc_traj_length: FiniteFloat = pydantic.Field(1.0, gt=0.0, description="length of each interleaved trajectory")
    seed: int = pydantic.Field(1, ge=0, description="root seed of proposals and accept/reject")
    checkpoint_seconds: float = pydantic.Field(30.0, gt=0.0, description="wall time between checkpoints")
    out: Path | None = pydantic.Field(None, description="output directory [default: MODEL/chain]")

    @property
    def n_total(self) -> int:
        return self.n + self.n_therm

    @property
    def expect(self) -> dict[str, float | None]:
        """What the model must have been trained for (None: anything)."""
        return {"dim": self.dim, "size": self.size, "kappa": self.kappa, "lam": self.lam, "beta": self.beta}

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"n", "out", "checkpoint_seconds"})
