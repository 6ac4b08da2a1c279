"""Training data for the burn surrogate, generated with the implicit integrator (CGS; times in s).

Two sources, both fanned out through :func:`lawful.core.executor.run_tasks` (Dask when asked) by
:func:`lawful.burn_hydro.training_data.generate` (which sits above burn and hydro, since it drives hydro runs):

* **phase-space Monte Carlo**: one-zone self-heating burns from random initial states (ρ, T₀, C/O mixture) on a
  random grid of output times; every pair (t, t + Δt) of that grid is one example (the burn is autonomous, so
  the state at t + Δt *is* the state at t burned for Δt). The step Δt is log-uniform in [dt_min, dt_max].
* **hydro zone-steps**: detonation runs with the implicit burner at the data tolerance; every burned zone-step is
  an example (inputs and the burner's own result), so the data cover the states hydro actually visits.

This module holds the one-zone part (:func:`trajectory_part`), the file format and its reader. Each task
writes ``out/parts/<name>.npz`` atomically; a rerun skips the parts that exist (resume). The merged set is
``out/data.h5``: ``rho`` [N], ``T`` [N], ``X`` [N, n], ``dt`` [N], ``X_new`` [N, n], ``T_new`` [N],
``enuc`` [N] (erg/g, from binding energies), ``group`` [N] (trajectory or hydro block), ``held_out`` [N] bool,
attributes ``names``, ``network`` and provenance.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from lawful.burn.surrogate.config import GenerateConfig

FIELDS = ("rho", "T", "X", "dt", "X_new", "T_new", "enuc", "group")
DATA_FILE = "data.h5"
#: group ids of hydro zone-steps start here (hydro run k: HYDRO_GROUP·(k+1) + block); trajectories lie below
HYDRO_GROUP = 10**9


def from_hydro(group: np.ndarray) -> np.ndarray:
    """True where a sample's ``group`` id marks a recorded hydro zone-step (not a one-zone trajectory)."""
    return np.asarray(group) >= HYDRO_GROUP


def energy_release(network, X_old: np.ndarray, X_new: np.ndarray) -> np.ndarray:
    """Specific energy released (erg/g) by a composition change, from binding energies: N_A MeV Σ B ΔY."""
    from lawful.burn.kernels import MEV_TO_ERG, N_A

    return ((X_new - X_old) / network.A * network.binding).sum(axis=-1) * (N_A * MEV_TO_ERG)


@dataclasses.dataclass(frozen=True)
class TrajectoryTask:
    cfg: GenerateConfig
    index: int
    seed: np.random.SeedSequence


def _loguniform(rng: np.random.Generator, lo: float, hi: float, size) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def trajectory_part(task: TrajectoryTask) -> dict[str, np.ndarray]:
    """Burn ``trajectories_per_task`` random initial states on one shared random time grid; return the pairs."""
    from lawful.burn.eos import StellarEOS
    from lawful.burn.integrate import Status, burn
    from lawful.burn.network import Network

    cfg, rng = task.cfg, np.random.default_rng(task.seed)
    net = Network(cfg.network)
    first = task.index * cfg.trajectories_per_task
    m = min(cfg.trajectories_per_task, cfg.n_trajectories - first)
    rho = _loguniform(rng, cfg.rho_min, cfg.rho_max, m)
    T0 = _loguniform(rng, cfg.T0_min, cfg.T0_max, m)
    X0 = np.zeros((m, len(net.names)))
    c = rng.uniform(cfg.c12_min, cfg.c12_max, m)
    X0[:, net.names.index("c12")], X0[:, net.names.index("o16")] = c, 1.0 - c
    P = cfg.pairs_per_trajectory
    start = np.concatenate([[0.0], _loguniform(rng, cfg.dt_min, cfg.t_end - cfg.dt_max, P - 1)])
    end = start + _loguniform(rng, cfg.dt_min, cfg.dt_max, P)
    grid = np.unique(np.concatenate([start[1:], end]))
    r = burn(net, rho, T0, X0, grid, rtol=cfg.rtol, atol=cfg.atol, eos=StellarEOS(table=True))
    X = np.concatenate([X0[:, None, :], r.X], axis=1)  # index 0 is t = 0
    T = np.concatenate([T0[:, None], r.T], axis=1)
    times = np.concatenate([[0.0], grid])
    i, j = np.searchsorted(times, start), np.searchsorted(times, end)
    zone = np.repeat(np.arange(m), P)
    i, j = np.tile(i, m), np.tile(j, m)
    keep = (r.status[zone] == Status.SUCCESS) & (T[zone, i] <= cfg.T_max)
    zone, i, j = zone[keep], i[keep], j[keep]
    return {"rho": rho[zone], "T": T[zone, i], "X": X[zone, i], "dt": times[j] - times[i], "X_new": X[zone, j],
            "T_new": T[zone, j], "enuc": energy_release(net, X[zone, i], X[zone, j]),
            "group": (first + zone).astype(np.int64)}


def load(path: Path, network=None, fields: tuple[str, ...] = (*FIELDS, "held_out")) -> dict[str, np.ndarray]:
    """Read ``fields`` of ``data.h5`` (or a directory holding it) plus ``network``; checks the network when one
    is given."""
    import h5py

    path = Path(path)
    if path.is_dir():
        path = path / DATA_FILE
    if not path.exists():
        raise FileNotFoundError(f"no surrogate data at {path}; run `lawful burn surrogate generate` first")
    with h5py.File(path, "r") as f:
        if network is not None and f.attrs["network"] != network.name:
            raise ValueError(f"{path} holds {f.attrs['network']} data; expected {network.name}")
        out = {k: f[k][()] for k in fields}
        out["network"] = str(f.attrs["network"])
    return out
