"""Sod's shock tube (γ-law gas) against the exact Riemann solution; ``ny > 1`` runs it on a 2D mesh along x."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydantic

from lawful.hydro.config import HydroRunConfig


class Config(HydroRunConfig):
    out: Path = pydantic.Field(Path("runs/sod"), description="output directory (resumed if it holds this run)")
    gamma: float = pydantic.Field(1.4, gt=1.0, description="adiabatic index")
    rho_l: float = pydantic.Field(1.0, gt=0.0, description="left density")
    u_l: float = pydantic.Field(0.0, description="left velocity")
    p_l: float = pydantic.Field(1.0, gt=0.0, description="left pressure")
    rho_r: float = pydantic.Field(0.125, gt=0.0, description="right density")
    u_r: float = pydantic.Field(0.0, description="right velocity")
    p_r: float = pydantic.Field(0.1, gt=0.0, description="right pressure")
    x0: float = pydantic.Field(0.5, gt=0.0, lt=1.0, description="initial discontinuity on [0, 1]")
    ny: int = pydantic.Field(1, ge=1, description="rows (1: a 1D mesh; >= 4: 2D mesh, periodic in y)")


def setup(cfg: Config):
    from lawful.hydro.eos import GammaLaw
    from lawful.hydro.mesh import Mesh
    from lawful.hydro.run import Setup, hydro_only
    from lawful.hydro.solver import Euler

    hydro_only(cfg, "sod")
    bc = ("outflow", "outflow") + (("periodic", "periodic") if cfg.ny > 1 else ("outflow", "outflow"))
    mesh = Mesh(nx=cfg.n, ny=cfg.ny, ymax=cfg.ny / cfg.n, bc=bc)
    solver = Euler(mesh, GammaLaw(cfg.gamma), limiter=cfg.limiter, riemann=cfg.riemann, cfl=cfg.cfl)
    left = mesh.x < cfg.x0
    state = solver.init(np.where(left, cfg.rho_l, cfg.rho_r), np.where(left, cfg.u_l, cfg.u_r),
                        p=np.where(left, cfg.p_l, cfg.p_r))
    return Setup(solver, state, solver)


def exact(cfg: Config, x: np.ndarray, t: float) -> dict:
    """The exact solution at time t on cell centres x."""
    from lawful.hydro.riemann import exact_solution

    return exact_solution((cfg.rho_l, cfg.u_l, cfg.p_l), (cfg.rho_r, cfg.u_r, cfg.p_r), cfg.gamma, x, t, cfg.x0)


def measure(cfg: Config, run) -> dict:
    """L1 errors (mean |numerical − exact| over cells and rows) of ρ, u, p, and the exact star state."""
    from lawful.hydro.kernels import QP, QR, QU

    solver, state = run.setup.solver, run.setup.state
    q = solver.primitives(state)
    act = solver.mesh.active
    ex = exact(cfg, solver.mesh.x, state.t)
    out = {f"l1_{name}": float(np.abs(q[k][act] - ex[name][None, :]).mean())
           for name, k in (("rho", QR), ("u", QU), ("p", QP))}
    out.update({k: float(ex[k]) for k in ("p_star", "u_star", "rho_star_left", "rho_star_right", "shock_speed")
                if k in ex})
    return out
