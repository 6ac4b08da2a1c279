"""Config schema shared by every hydro problem (each problem module subclasses it with its own keys). CGS."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import pydantic

from lawful.core.config import Config


class HydroRunConfig(Config):
    """Solver, burner, output and checkpoint settings of a ``lawful hydro run``."""

    n: int = pydantic.Field(256, ge=8, le=1 << 16, description="zones along x (2D problems scale y with it)")
    tmax: float = pydantic.Field(0.2, gt=0.0, description="end time (s)")
    cfl: float = pydantic.Field(0.8, gt=0.0, lt=1.0, description="Courant number, in (0, 1)")
    limiter: Literal["minmod", "mc", "vanleer"] = pydantic.Field("mc", description="slope limiter")
    riemann: Literal["hllc", "exact"] = pydantic.Field("hllc", description="Riemann solver (exact: gamma-law only)")
    burner: Literal["implicit", "surrogate", "none"] = pydantic.Field("none", description="nuclear burning")
    burn_model: str = pydantic.Field("", description="surrogate model directory (empty: the one shipped for the "
                                                     "network)")
    burn_error_limit: float = pydantic.Field(0.0, ge=0.0, description="surrogate: refuse zones whose predicted "
                                             "error exceeds this x 1e-2 (0: the model's own limit)")
    burn_max_substeps: int = pydantic.Field(4, ge=1, le=64, description="surrogate: take a step longer than "
                                            "its training data as up to this many guarded sub-steps")
    burn_untrained: Literal["error", "implicit"] = pydantic.Field(
        "error", description="surrogate: a fuel it was not trained on is an error, or burns implicitly")
    burn_T_min: float = pydantic.Field(0.0, ge=0.0, description="zones below this T (K) do not burn")
    burn_in_shocks: bool = pydantic.Field(True, description="burn inside shocks (off: Castro-style detector)")
    burn_rtol: float = pydantic.Field(1e-6, gt=0.0, lt=1.0, description="implicit burner relative tolerance")
    burn_atol: float = pydantic.Field(1e-8, gt=0.0, lt=1.0, description="implicit burner absolute tolerance "
                                                                       "(molar abundances Y = X/A)")
    init_shrink: float = pydantic.Field(1.0, gt=0.0, le=1.0, description="first step = init_shrink x CFL step")
    dt_growth: float = pydantic.Field(1.1, ge=1.0, description="max ratio of consecutive time steps")
    n_snapshots: int = pydantic.Field(4, ge=1, le=10000, description="snapshots after t = 0 (equally spaced)")
    checkpoint_seconds: float = pydantic.Field(60.0, gt=0.0, description="wall time between checkpoints")
    max_steps: int = pydantic.Field(1_000_000, ge=1, description="stop after this many steps")
    out: Path = pydantic.Field(Path("runs/hydro"), description="output directory (resumed if it holds this run)")

    #: keys that may change when a run is resumed
    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"tmax", "out", "checkpoint_seconds", "max_steps",
                                                             "n_snapshots"})

    @pydantic.model_validator(mode="after")
    def _surrogate_keys(self) -> HydroRunConfig:
        """The surrogate's keys mean nothing to another burner: refuse them rather than ignore them."""
        if self.burner != "surrogate":
            for key, unset in (("burn_model", ""), ("burn_error_limit", 0.0), ("burn_max_substeps", 4),
                               ("burn_untrained", "error")):
                if getattr(self, key) != unset:
                    raise ValueError(f"{key} = {getattr(self, key)!r} applies to burner = 'surrogate' only; "
                                     f"this run has burner = {self.burner!r}")
        return self
