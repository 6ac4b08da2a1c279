"""Config schemas of the burn commands (every field is also a command-line flag and a TOML key). CGS units."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pydantic

from lawful.core.config import Config, FiniteFloat


def parse_composition(text: str) -> dict[str, float]:
    """``"he4=1"`` or ``"c12=0.5,o16=0.5"`` → ``{"he4": 1.0, ...}``; ValueError naming the bad item."""
    out: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"composition item {item!r} must look like name=value, e.g. he4=1")
        try:
            out[name.strip().lower()] = float(value)
        except ValueError:
            raise ValueError(f"mass fraction in {item!r} is not a number") from None
    if not out:
        raise ValueError(f"composition {text!r} is empty; give e.g. he4=1 or c12=0.5,o16=0.5")
    return out


class BurnSettings(Config):
    """Network and integrator settings shared by the burn commands."""

    network: Literal["aprox13", "c12"] = pydantic.Field("aprox13", description="reaction network: aprox13|c12")
    screen: bool = pydantic.Field(True, description="screen5 electron screening")
    fixed_T: bool = pydantic.Field(False, description="hold T fixed (default: self-heating through the EOS)")
    eos_table: bool = pydantic.Field(False, description="self-heating c_v from the interpolated EOS table (fast, "
                                                        "~1e-6) instead of direct Fermi-Dirac quadrature")
    method: Literal["bdf", "rodas3"] = pydantic.Field("bdf", description="integrator: bdf (variable-order, "
                                                                        "Jacobian reuse) or rodas3 (Rosenbrock)")
    rtol: float = pydantic.Field(1e-6, gt=0.0, lt=1.0, description="relative tolerance (X and T)")
    atol: float = pydantic.Field(1e-8, gt=0.0, lt=1.0, description="absolute tolerance on mass fractions")
    max_steps: int = pydantic.Field(100_000, ge=1, description="step budget per zone")


class BurnCellConfig(BurnSettings):
    """One zone burned at constant density (``lawful burn cell``)."""

    rho: FiniteFloat = pydantic.Field(1e6, gt=0.0, description="density (g/cm^3)")
    T: FiniteFloat = pydantic.Field(3e9, gt=0.0, description="initial temperature (K)")
    X: str = pydantic.Field("he4=1", description="initial mass fractions, e.g. he4=1 or c12=0.5,o16=0.5")
    tmax: FiniteFloat = pydantic.Field(1e-2, gt=0.0, description="burn time (s)")
    n_out: int = pydantic.Field(100, ge=1, description="log-spaced output times for the curves")
    out: Path = pydantic.Field(Path("runs/burn_cell"), description="directory for the plot and history")

    @pydantic.field_validator("X")
    @classmethod
    def _composition(cls, value: str) -> str:
        parse_composition(value)
        return value


class BurnBatchConfig(BurnSettings):
    """Many zones from an HDF5 file burned for one time step (``lawful burn batch``)."""

    input: Path = pydantic.Field(Path("states.h5"), description="HDF5 with rho [N], T [N], X [N, n] (+ attr names)")
    dt: float = pydantic.Field(1e-6, gt=0.0, description="burn time (s)")
    out: Path = pydantic.Field(Path("runs/burn_batch.h5"), description="output HDF5")
    chunk: int = pydantic.Field(4096, ge=1, description="zones per task handed to the executor")
