"""A Gaussian density pulse advected once across a periodic domain at uniform velocity and pressure (γ-law):
a smooth problem whose exact solution is the initial profile, for measuring the order of accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydantic

from lawful.hydro.config import HydroRunConfig


class Config(HydroRunConfig):
    out: Path = pydantic.Field(Path("runs/advect"), description="output directory (resumed if it holds this run)")
    n: int = pydantic.Field(128, ge=8, le=1 << 16, description="zones")
    tmax: float = pydantic.Field(1.0, gt=0.0, description="end time (one crossing at u = 1)")
    gamma: float = pydantic.Field(1.4, gt=1.0, description="adiabatic index")
    amplitude: float = pydantic.Field(0.5, gt=-1.0, description="pulse height over ρ = 1")
    width: float = pydantic.Field(0.1, gt=0.0, description="Gaussian width σ on [0, 1]")
    u: float = pydantic.Field(1.0, description="advection velocity")
    p: float = pydantic.Field(1.0, gt=0.0, description="pressure")


def _profile(cfg: Config, x: np.ndarray) -> np.ndarray:
    d = x % 1.0 - 0.5  # periodic distance from the centre x = 0.5
    return 1.0 + cfg.amplitude * np.exp(-0.5 * (d / cfg.width) ** 2)


def setup(cfg: Config):
    from lawful.hydro.eos import GammaLaw
    from lawful.hydro.mesh import Mesh
    from lawful.hydro.run import Setup, hydro_only
    from lawful.hydro.solver import Euler

    hydro_only(cfg, "advect")
    mesh = Mesh(nx=cfg.n, bc=("periodic", "periodic", "outflow", "outflow"))
    solver = Euler(mesh, GammaLaw(cfg.gamma), limiter=cfg.limiter, riemann=cfg.riemann, cfl=cfg.cfl)
    return Setup(solver, solver.init(_profile(cfg, mesh.x), cfg.u, p=cfg.p), solver)


def measure(cfg: Config, run) -> dict:
    """L1 error of ρ against the exactly advected profile."""
    solver, state = run.setup.solver, run.setup.state
    x = solver.mesh.x - cfg.u * state.t
    rho = state.U[0][solver.mesh.active]
    return {"l1_rho": float(np.abs(rho - _profile(cfg, x)[None, :]).mean())}
