"""Config schemas of ``lawful burn surrogate generate|train|evaluate`` (CGS units, times in s)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import pydantic

from lawful.core.config import Config, FiniteFloat, LayerWidths


class GenerateConfig(Config):
    """Training states from the implicit integrator: one-zone trajectories sampled in phase space, plus the
    zone-steps of detonation runs."""

    network: Literal["aprox13", "c12"] = pydantic.Field("aprox13", description="reaction network: aprox13|c12")
    n_trajectories: int = pydantic.Field(1024, ge=1, description="one-zone burns from random initial states")
    trajectories_per_task: int = pydantic.Field(32, ge=1, description="trajectories per executor task")
    pairs_per_trajectory: int = pydantic.Field(48, ge=1, description="(state, dt, end state) pairs per trajectory")
    rho_min: FiniteFloat = pydantic.Field(2e6, gt=0.0, description="lowest initial density (g/cm^3)")
    rho_max: FiniteFloat = pydantic.Field(6e7, gt=0.0, description="highest initial density (g/cm^3)")
    T0_min: FiniteFloat = pydantic.Field(1.5e9, gt=0.0, description="lowest initial temperature (K)")
    T0_max: FiniteFloat = pydantic.Field(4.5e9, gt=0.0, description="highest initial temperature (K)")
    c12_min: FiniteFloat = pydantic.Field(0.3, ge=0.0, le=1.0, description="lowest initial X(c12); the rest o16")
    c12_max: FiniteFloat = pydantic.Field(0.7, ge=0.0, le=1.0, description="highest initial X(c12)")
    t_end: FiniteFloat = pydantic.Field(3e-2, gt=0.0, description="length of each trajectory (s)")
    dt_min: FiniteFloat = pydantic.Field(1e-7, gt=0.0, description="shortest burn step (s)")
    dt_max: FiniteFloat = pydantic.Field(1e-4, gt=0.0, description="longest burn step (s)")
    T_max: FiniteFloat = pydantic.Field(6.5e9, gt=0.0, description="states hotter than this (K) are left out")
    hydro_runs: list[str] = pydantic.Field(["128:1e7", "256:5e6", "256:2e7", "512:1e7"],
                                           description="detonation runs recorded, as 'zones:density' or "
                                           "'zones:density:length' (length in cm, default 2e7; the run lasts "
                                           "as long as the front takes to cross 72 % of it)")
    hydro_stride: int = pydantic.Field(2, ge=1, description="keep every k-th recorded hydro zone-step")
    rtol: FiniteFloat = pydantic.Field(1e-8, gt=0.0, lt=1.0, description="integrator relative tolerance")
    atol: FiniteFloat = pydantic.Field(1e-12, gt=0.0, lt=1.0, description="integrator absolute tolerance")
    held_out: FiniteFloat = pydantic.Field(0.1, ge=0.0, lt=1.0, description="fraction of groups held out")
    seed: int = pydantic.Field(0, ge=0, description="root seed")
    out: Path = pydantic.Field(Path("runs/surrogate/data"), description="output directory (resumed)")

    @pydantic.model_validator(mode="after")
    def _ranges(self) -> GenerateConfig:
        for lo, hi in (("rho_min", "rho_max"), ("T0_min", "T0_max"), ("c12_min", "c12_max"),
                       ("dt_min", "dt_max")):
            if getattr(self, lo) > getattr(self, hi):
                raise ValueError(f"{lo} = {getattr(self, lo)} exceeds {hi} = {getattr(self, hi)}")
        if self.dt_max >= self.t_end:
            raise ValueError(f"dt_max = {self.dt_max} must be shorter than t_end = {self.t_end}")
        for item in self.hydro_runs:
            hydro_run(item)
        return self


#: domain length (cm) of a recorded detonation whose spec names none, and that run's end time (s)
HYDRO_LENGTH, HYDRO_TMAX = 2e7, 1.2e-2


def hydro_run(item: str) -> tuple[int, float, float, float]:
    """(zones, density g/cm³, length cm, end time s) of a ``hydro_runs`` entry 'zones:density[:length]'; the end
    time grows with the length (the default problem's 1.2e-2 s per 2e7 cm)."""
    parts = item.split(":")
    try:
        n, rho = int(parts[0]), float(parts[1])
        length = float(parts[2]) if len(parts) == 3 else HYDRO_LENGTH
        ok = len(parts) in (2, 3) and n >= 8 and rho > 0 and length > 0
    except (ValueError, IndexError):
        ok = False
    if not ok:
        raise ValueError(f"hydro run {item!r} must look like zones:density[:length], e.g. 256:1e7 or 640:1e7:4e8")
    return n, rho, length, HYDRO_TMAX * length / HYDRO_LENGTH


class SurrogateTrainConfig(Config):
    """Fit a surrogate to a generated data set."""

    data: Path = pydantic.Field(Path("runs/surrogate/data"), description="directory written by generate")
    hidden: LayerWidths = pydantic.Field([384, 384, 384], description="hidden layer widths")
    steps: int = pydantic.Field(24000, ge=1, description="optimizer steps")
    seconds: FiniteFloat = pydantic.Field(3600.0, gt=0.0, description="wall-time budget (s)")
    batch_size: int = pydantic.Field(1024, ge=8, description="samples per step")
    lr: FiniteFloat = pydantic.Field(1e-3, gt=0.0, description="peak learning rate (cosine decay)")
    energy_weight: FiniteFloat = pydantic.Field(0.1, ge=0.0, description="weight of the energy-release loss")
    seed: int = pydantic.Field(0, ge=0, description="root seed")
    predictor_substeps: int = pydantic.Field(1, ge=1, le=16, description="RODAS3 substeps of the predictor "
                                             "the net corrects (k times its cost)")
    detector: bool = pydantic.Field(True, description="fit the error detector the guard refuses by")
    detector_steps: int = pydantic.Field(6000, ge=1, description="optimizer steps of the error detector")
    error_limit: FiniteFloat = pydantic.Field(
        1.0, gt=0.0, description="the guard refuses a zone whose predicted error exceeds error_limit x 1e-2")
    checkpoint_seconds: FiniteFloat = pydantic.Field(60.0, gt=0.0, description="wall time between checkpoints")
    out: Path = pydantic.Field(Path("runs/surrogate/model"), description="model directory (resumed)")

    #: keys a resumed run may change: its length, and what is fitted after the net (the detector)
    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset(
        {"steps", "seconds", "checkpoint_seconds", "out", "detector", "detector_steps", "error_limit"})
