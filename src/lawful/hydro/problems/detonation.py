"""A carbon–oxygen detonation: uniform cold fuel ignited by a hot region at the reflecting left wall, aprox13
network, stellar EOS. The front position (the leading jump of the y-averaged pressure) is recorded every step and
its speed fitted over the later part of the run, to compare with the Chapman–Jouguet speed.

1D by default; ``ny`` > 1 makes it 2D (square cells, periodic in y) with the igniting region's edge rippled by
``ripple`` × its width over one wavelength in y, so the front starts curved and its transverse structure can grow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pydantic

from lawful.hydro.config import HydroRunConfig


class Config(HydroRunConfig):
    out: Path = pydantic.Field(Path("runs/detonation"), description="output directory (resumed if it holds this run)")
    n: int = pydantic.Field(256, ge=8, le=1 << 16, description="zones")
    tmax: float = pydantic.Field(1.2e-2, gt=0.0, description="end time (s)")
    burner: Literal["implicit", "surrogate", "none"] = pydantic.Field("implicit", description="nuclear burning")
    burn_T_min: float = pydantic.Field(5e8, ge=0.0, description="zones below this T (K) do not burn")
    init_shrink: float = pydantic.Field(0.1, gt=0.0, le=1.0, description="first step = init_shrink x CFL step")
    length: float = pydantic.Field(2e7, gt=0.0, description="domain length (cm)")
    rho: float = pydantic.Field(1e7, gt=0.0, description="fuel density (g/cm^3)")
    T_fuel: float = pydantic.Field(1e8, gt=0.0, description="fuel temperature (K)")
    T_hot: float = pydantic.Field(4e9, gt=0.0, description="temperature of the igniting region (K)")
    hot_width: float = pydantic.Field(0.05, gt=0.0, lt=1.0, description="igniting region, fraction of length")
    fuel: str = pydantic.Field("c12=0.5,o16=0.5", description="fuel mass fractions")
    network: str = pydantic.Field("aprox13", description="reaction network: aprox13|c12")
    eos_table: bool = pydantic.Field(True, description="tabulated pair EOS (else direct Fermi-Dirac quadrature)")
    ny: int = pydantic.Field(1, ge=1, le=1 << 12, description="zones along y (1: 1D; 2D: square cells, "
                                                              "periodic in y)")
    ripple: float = pydantic.Field(0.2, ge=0.0, lt=1.0, description="2D: ripple of the igniting region's edge, "
                                                                    "fraction of its width")
    fit_from: float = pydantic.Field(0.5, ge=0.0, lt=1.0, description="fit the front speed over t >= fit_from*tmax")


def setup(cfg: Config):
    from lawful.burn.config import parse_composition
    from lawful.burn.network import Network
    from lawful.hydro.eos import StellarGas
    from lawful.hydro.mesh import Mesh
    from lawful.hydro.run import Setup, with_burning
    from lawful.hydro.solver import Euler

    net = Network(cfg.network)
    X = net.composition(parse_composition(cfg.fuel))
    if cfg.ny == 1:
        mesh = Mesh(nx=cfg.n, xmax=cfg.length, bc=("reflect", "outflow", "outflow", "outflow"))
        edge = cfg.hot_width * cfg.length
        x = mesh.x
    else:
        ymax = cfg.length * cfg.ny / cfg.n
        mesh = Mesh(nx=cfg.n, ny=cfg.ny, xmax=cfg.length, ymax=ymax, bc=("reflect", "outflow", "periodic", "periodic"))
        x, y = np.meshgrid(mesh.x, mesh.y)
        edge = cfg.hot_width * cfg.length * (1.0 + cfg.ripple * np.sin(2 * np.pi * y / ymax))
    eos = StellarGas(net, table=cfg.eos_table)
    solver = Euler(mesh, eos, limiter=cfg.limiter, riemann=cfg.riemann, cfl=cfg.cfl)
    T = np.where(x < edge, cfg.T_hot, cfg.T_fuel)
    state = solver.init(cfg.rho, 0.0, T=T, X=X)
    step, burn = with_burning(cfg, solver, net, eos.eos)
    p_fuel = float(solver.primitives(state)[3][mesh.active][:, -1].mean())

    def record(s):
        return {"front": front_position(solver, s, p_fuel)}

    return Setup(solver, state, step, burn, tuple(net.names), record)


def front_position(solver, state, p_fuel: float) -> float:
    """x (cm) of the leading pressure jump: the last place the y-averaged p crosses twice the fuel pressure
    ``p_fuel``, or halfway from p_fuel to the peak pressure when that is lower (degenerate fuel at ρ ≳ 1e8 g/cm³,
    where the jump is less than a factor 2); linearly interpolated."""
    from lawful.hydro.kernels import QP

    p = solver.primitives(state)[QP][solver.mesh.active].mean(axis=0)
    p_threshold = min(2.0 * p_fuel, 0.5 * (p_fuel + p.max()))
    x = solver.mesh.x
    above = np.flatnonzero(p > p_threshold)
    if above.size == 0:
        return float("nan")
    i = above[-1]
    if i + 1 >= p.size:
        return float(x[-1])
    return float(x[i] + (p[i] - p_threshold) / (p[i] - p[i + 1]) * (x[i + 1] - x[i]))


def measure(cfg: Config, run) -> dict:
    """Front speed (cm/s; least-squares slope of the front position over t >= fit_from·tmax, with its
    standard error), the speeds over the first and second half of that window, and the post-detonation state
    (y-averaged in 2D)."""
    from lawful.hydro.kernels import QP, QR, QX

    t, x = np.asarray(run.history.get("t", [])), np.asarray(run.history.get("front", []))
    keep = (t >= cfg.fit_from * t.max()) & np.isfinite(x) if t.size else np.zeros(0, bool)
    out: dict = {"front_speed": float("nan")}
    if keep.sum() >= 4:
        tt, xx = t[keep], x[keep]
        A = np.vstack([tt, np.ones_like(tt)]).T
        coef = np.linalg.lstsq(A, xx, rcond=None)[0]
        resid = xx - A @ coef
        cov = np.linalg.inv(A.T @ A) * (resid @ resid) / max(len(tt) - 2, 1)
        half = len(tt) // 2
        out.update({"front_speed": float(coef[0]), "front_speed_err": float(np.sqrt(cov[0, 0])),
                    "front_speed_early": float(np.polyfit(tt[:half], xx[:half], 1)[0]),
                    "front_speed_late": float(np.polyfit(tt[half:], xx[half:], 1)[0]),
                    "front_position": float(x[-1])})
    solver, state = run.setup.solver, run.setup.state
    q = solver.primitives(state)
    act = solver.mesh.active
    rho, p, T = q[QR][act].mean(axis=0), q[QP][act].mean(axis=0), state.T[act].mean(axis=0)
    X = q[QX:][(slice(None), *act)].mean(axis=1)
    names = run.setup.species
    ash = (solver.mesh.x > 0.5 * x[-1]) & (solver.mesh.x < 0.9 * x[-1]) if x.size else np.zeros(rho.size, bool)
    if ash.any():
        Xa = X[:, ash].mean(axis=1)
        out["ash"] = {"rho": float(rho[ash].mean()), "T": float(T[ash].mean()), "p": float(p[ash].mean()),
                      "X": {n: float(v) for n, v in zip(names, Xa) if v > 1e-3}}
    k = int(np.argmax(p))
    out["peak"] = {"x": float(solver.mesh.x[k]), "rho": float(rho[k]), "T": float(T[k]), "p": float(p[k])}
    return out
