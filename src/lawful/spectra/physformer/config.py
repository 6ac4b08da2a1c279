"""Configuration of a PhysFormer-family generator (:mod:`~lawful.spectra.physformer.training`)."""

from __future__ import annotations

from typing import ClassVar, Literal

import pydantic

from lawful.core.config import Config, FiniteFloat
from lawful.core.schedule import EPOCHS_HELP


class PhysTrainConfig(Config):
    """One generator of the PhysFormer family."""

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"train_seconds", "epochs", "n_val"})

    model: Literal["physformer", "ae", "payne", "speculator"] = "physformer"
    train_seconds: FiniteFloat = pydantic.Field(600.0, gt=0, description="wall-clock budget (s)")
    epochs: int = pydantic.Field(1000, ge=1, description=EPOCHS_HELP)
    batch: int = pydantic.Field(128, ge=1)
    lr: FiniteFloat = pydantic.Field(2e-3, gt=0)
    width: int = pydantic.Field(256, ge=8, description="hidden width of the generator's networks")
    depth: int = pydantic.Field(3, ge=1, description="hidden layers of the generator's trunk")
    n_free: int = pydantic.Field(3, ge=0, le=16, description="free latent dimensions (autoencoders)")
    oversample: FiniteFloat = pydantic.Field(3.0, ge=2.0, le=8.0,
                                             description="physformer: rest-frame pixels per λ/R")
    n_pca: int = pydantic.Field(32, ge=2, description="speculator: principal components")
    resolution: FiniteFloat = pydantic.Field(1800.0, ge=100, le=1e5, description="R of the LSF")
    vmic_scatter: FiniteFloat = pydantic.Field(0.3, ge=0, le=2, description="v_mic scatter about the giant "
                                                                           "relation (km/s)")
    snr_min: FiniteFloat = pydantic.Field(5.0, gt=0, description="denoising: lowest SNR of the encoder's input")
    snr_max: FiniteFloat = pydantic.Field(200.0, gt=0, description="denoising: highest SNR")
    label_weight: FiniteFloat = pydantic.Field(1.0, ge=0, description="weight of the encoder's label loss")
    n_train: int | None = pydantic.Field(None, ge=10, description="use only the first N training spectra")
    n_val: int = pydantic.Field(500, ge=10, description="validation spectra")
    seed: int = pydantic.Field(0, ge=0)

    @pydantic.model_validator(mode="after")
    def _snr_order(self) -> "PhysTrainConfig":
        if self.snr_min >= self.snr_max:
            raise ValueError(f"snr_min = {self.snr_min:g} must be below snr_max = {self.snr_max:g}")
        return self
