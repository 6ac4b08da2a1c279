"""2D Kelvin–Helmholtz instability in degenerate carbon–oxygen matter (stellar EOS, 3-isotope carbon network).

A band of C/O fuel (|y − L/2| < L/4) streams at +u against inert ¹⁶O at −u (smooth tanh layers, periodic box,
uniform density); temperatures put the layers in pressure balance, and a sinusoidal v_y seeds the instability.
With ``--burner implicit`` the fuel runs away (¹²C + ¹²C) while the layers roll up; ``--burner none`` shows the
same flow without burning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pydantic

from lawful.hydro.config import HydroRunConfig


class Config(HydroRunConfig):
    out: Path = pydantic.Field(Path("runs/kh"), description="output directory (resumed if it holds this run)")
    n: int = pydantic.Field(64, ge=8, le=4096, description="zones per side (n x n)")
    tmax: float = pydantic.Field(0.12, gt=0.0, description="end time (s)")
    burner: Literal["implicit", "surrogate", "none"] = pydantic.Field("implicit", description="nuclear burning")
    length: float = pydantic.Field(1e7, gt=0.0, description="box side (cm)")
    rho: float = pydantic.Field(1e7, gt=0.0, description="density (g/cm^3)")
    T_fuel: float = pydantic.Field(1.5e9, gt=0.0, description="fuel-band temperature (K)")
    fuel: str = pydantic.Field("c12=0.5,o16=0.5", description="band composition")
    ambient: str = pydantic.Field("o16=1", description="composition outside the band")
    velocity: float = pydantic.Field(1.6e8, gt=0.0, description="stream speed +-u (cm/s)")
    layer_width: float = pydantic.Field(0.025, gt=0.0, lt=0.25, description="tanh layer width / L")
    perturbation: float = pydantic.Field(0.05, ge=0.0, lt=1.0, description="seed v_y amplitude / u")
    network: str = pydantic.Field("c12", description="reaction network: c12|aprox13")
    eos_table: bool = pydantic.Field(True, description="tabulated pair EOS")


def _balanced_temperature(eos, rho, p_target, X, T0) -> np.ndarray:
    """T with p(ρ, T, X) = p_target by vectorized Newton on ∂p/∂T (all zones at once)."""
    T = np.array(T0, dtype=np.float64)
    for _ in range(50):
        th = eos.thermo(rho, T, X)
        dT = (p_target - th["p"]) / th["dpdT"]
        T = np.clip(T + dT, 0.5 * T, 2.0 * T)
        if np.all(np.abs(dT) < 1e-12 * T):
            return T
    raise ValueError("no temperature puts the kh layers in pressure balance; change T_fuel or the compositions")


def setup(cfg: Config):
    from lawful.burn.config import parse_composition
    from lawful.burn.network import Network
    from lawful.hydro.eos import StellarGas
    from lawful.hydro.mesh import Mesh
    from lawful.hydro.run import Setup, with_burning
    from lawful.hydro.solver import Euler

    net = Network(cfg.network)
    X_in = net.composition(parse_composition(cfg.fuel))
    X_out = net.composition(parse_composition(cfg.ambient))
    L = cfg.length
    mesh = Mesh(nx=cfg.n, ny=cfg.n, xmax=L, ymax=L, bc=("periodic",) * 4)
    eos = StellarGas(net, table=cfg.eos_table)
    solver = Euler(mesh, eos, limiter=cfg.limiter, riemann=cfg.riemann, cfl=cfg.cfl)
    x, y = np.meshgrid(mesh.x, mesh.y)
    w = cfg.layer_width * L
    band = 0.5 * (np.tanh((y - 0.25 * L) / w) - np.tanh((y - 0.75 * L) / w))
    X = band[None] * X_in[:, None, None] + (1 - band[None]) * X_out[:, None, None]
    p0 = eos.thermo(np.array([cfg.rho]), np.array([cfg.T_fuel]), X_in[:, None])["p"][0]
    rho = np.full(x.size, cfg.rho)
    T = _balanced_temperature(eos, rho, p0, X.reshape(len(X_in), -1), np.full(x.size, cfg.T_fuel)).reshape(x.shape)
    u = cfg.velocity * (2 * band - 1)
    sig = 0.05 * L
    v = cfg.perturbation * cfg.velocity * np.sin(4 * np.pi * x / L) * (
        np.exp(-((y - 0.25 * L) ** 2) / (2 * sig**2)) + np.exp(-((y - 0.75 * L) ** 2) / (2 * sig**2)))
    state = solver.init(cfg.rho, u, v, T=T, X=X)
    step, burn = with_burning(cfg, solver, net, eos.eos)

    def record(s):
        from lawful.hydro.kernels import QR, QV

        q = solver.primitives(s)
        act = mesh.active
        rho_, v_ = q[QR][act], q[QV][act]
        return {"ekin_y": float(0.5 * (rho_ * v_ * v_).sum() * mesh.cell_volume),
                "T_max": float(s.T[act].max())}

    return Setup(solver, state, step, burn, tuple(net.names), record)


def measure(cfg: Config, run) -> dict:
    """Growth of the transverse kinetic energy, the fuel burned and the peak temperature."""
    from lawful.hydro.kernels import QX

    h = run.history
    solver, state = run.setup.solver, run.setup.state
    q = solver.primitives(state)
    act = solver.mesh.active
    names = run.setup.species
    X = q[QX:][(slice(None), *act)]
    mass = (q[0][act]).sum() * solver.mesh.cell_volume
    out = {"ekin_y_initial": h["ekin_y"][0] if h.get("ekin_y") else float("nan"),
           "ekin_y_final": h["ekin_y"][-1] if h.get("ekin_y") else float("nan"),
           "T_max": float(state.T[act].max())}
    out["mass_fractions"] = {n: float((X[k] * q[0][act]).sum() * solver.mesh.cell_volume / mass)
                             for k, n in enumerate(names)}
    return out
