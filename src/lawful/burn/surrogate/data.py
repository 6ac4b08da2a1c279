"""Training data for the burn surrogate, generated with the implicit integrator (CGS; times in s).

Two sources, both fanned out through :func:`lawful.core.executor.run_tasks` (Dask when asked):

* **phase-space Monte Carlo**: one-zone self-heating burns from random initial states (ρ, T₀, C/O mixture) on a
  random grid of output times; every pair (t, t + Δt) of that grid is one example (the burn is autonomous, so
  the state at t + Δt *is* the state at t burned for Δt). The step Δt is log-uniform in [dt_min, dt_max].
* **hydro zone-steps**: detonation runs with the implicit burner at the data tolerance; every burned zone-step is
  an example (inputs and the burner's own result), so the data cover the states hydro actually visits.

Each task writes ``out/parts/<name>.npz`` atomically; a rerun skips the parts that exist (resume). The merged
set is ``out/data.h5``: ``rho`` [N], ``T`` [N], ``X`` [N, n], ``dt`` [N], ``X_new`` [N, n], ``T_new`` [N],
``enuc`` [N] (erg/g, from binding energies), ``group`` [N] (trajectory or hydro block), ``held_out`` [N] bool,
attributes ``names``, ``network`` and provenance.
"""

from __future__ import annotations

import dataclasses
import io
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
class _TrajectoryTask:
    cfg: GenerateConfig
    index: int
    seed: np.random.SeedSequence


@dataclasses.dataclass(frozen=True)
class _HydroTask:
    cfg: GenerateConfig
    index: int
    n: int
    rho: float


def _loguniform(rng: np.random.Generator, lo: float, hi: float, size) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def _trajectory_part(task: _TrajectoryTask) -> dict[str, np.ndarray]:
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


class RecordingBurner:
    """Wrap a burner (``ImplicitBurner``) and keep every zone-step it burns: inputs and results."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[dict[str, np.ndarray]] = []

    def __call__(self, rho, T, X, dt):
        out = self.inner(rho, T, X, dt)
        self.calls.append({"rho": rho.copy(), "T": T.copy(), "X": X.copy(), "dt": np.full(len(rho), dt),
                           "X_new": out.X.copy(), "T_new": out.T.copy(), "ok": out.ok.copy()})
        return out


def _hydro_part(task: _HydroTask) -> dict[str, np.ndarray]:
    """Run one detonation with the implicit burner at the data tolerance and return its zone-steps."""
    import tempfile

    from lawful.burn.network import Network
    from lawful.hydro.problems import detonation
    from lawful.hydro.run import run

    cfg = task.cfg
    with tempfile.TemporaryDirectory() as tmp:
        dcfg = detonation.Config(n=task.n, rho=task.rho, network=cfg.network, burn_rtol=cfg.rtol,
                                 burn_atol=cfg.atol, out=Path(tmp), n_snapshots=1)
        recorder: list[RecordingBurner] = []

        def wrap(setup):
            rec = RecordingBurner(setup.burn.burner)
            setup.burn.burner = rec
            recorder.append(rec)

        run(dcfg, "detonation", show_progress=False, on_setup=wrap)
    calls = recorder[0].calls
    rng = np.random.default_rng([cfg.seed, 1, task.index])
    parts = {k: np.concatenate([c[k] for c in calls]) for k in calls[0]}
    block = np.concatenate([np.full(len(c["rho"]), b // 10) for b, c in enumerate(calls)])
    keep = parts.pop("ok") & (parts["T"] <= cfg.T_max) & (rng.random(len(block)) < 1.0 / cfg.hydro_stride)
    net = Network(cfg.network)
    out = {k: v[keep] for k, v in parts.items()}
    out["enuc"] = energy_release(net, out["X"], out["X_new"])
    out["group"] = (HYDRO_GROUP * (task.index + 1) + block[keep]).astype(np.int64)
    return out


def _run_part(task) -> str:
    """Compute one task and write its part file atomically (runs in a worker); returns the path."""
    from lawful.core.io import atomic_write_bytes

    path = _part_path(task)
    part = _trajectory_part(task) if isinstance(task, _TrajectoryTask) else _hydro_part(task)
    buf = io.BytesIO()
    np.savez(buf, **part)
    atomic_write_bytes(path, buf.getvalue())
    return str(path)


def tasks(cfg: GenerateConfig) -> list:
    """Every task of a generate run, in a fixed order (trajectory tasks, then hydro runs)."""
    from lawful.core.rng import spawn_seeds

    n_tasks = -(-cfg.n_trajectories // cfg.trajectories_per_task)
    seeds = spawn_seeds(cfg.seed, n_tasks)
    out: list = [_TrajectoryTask(cfg, k, s) for k, s in enumerate(seeds)]
    for k, item in enumerate(cfg.hydro_runs):
        n, _, rho = item.partition(":")
        out.append(_HydroTask(cfg, k, int(n), float(rho)))
    return out


def generate(cfg: GenerateConfig, scheduler: str | None = None, n_workers: int | None = None) -> Path:
    """Run (or resume) every task of ``cfg`` and merge the parts into ``out/data.h5``; returns its path."""
    from lawful.burn.network import Network
    from lawful.core.config import check_same_run, to_toml_text
    from lawful.core.executor import run_tasks
    from lawful.core.io import (
        atomic_h5,
        atomic_write_bytes,
        provenance,
        write_provenance,
    )

    out = Path(cfg.out)
    cfg_toml = to_toml_text(cfg)
    if (out / "config.toml").exists():
        check_same_run(cfg, (out / "config.toml").read_text(), out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "config.toml", cfg_toml.encode())
    net = Network(cfg.network)  # builds the network cache once, before workers race for it
    todo = [t for t in tasks(cfg) if not _part_path(t).exists()]
    run_tasks(_run_part, todo, scheduler, n_workers)
    parts = [np.load(_part_path(t)) for t in tasks(cfg)]
    data = {k: np.concatenate([p[k] for p in parts]) for k in FIELDS}
    groups = np.unique(data["group"])
    rng = np.random.default_rng([cfg.seed, 2])
    held = rng.choice(groups, size=round(cfg.held_out * len(groups)), replace=False)
    with atomic_h5(out / DATA_FILE) as f:
        for k, v in data.items():
            f.create_dataset(k, data=v, compression="gzip" if v.ndim > 1 else None)
        f["held_out"] = np.isin(data["group"], held)
        f.attrs["names"] = list(net.names)
        f.attrs["network"] = cfg.network
        write_provenance(f, provenance(cfg_toml, cfg.seed))
    return out / DATA_FILE


def _part_path(task) -> Path:
    kind = "traj" if isinstance(task, _TrajectoryTask) else "hydro"
    return Path(task.cfg.out) / "parts" / f"{kind}_{task.index:05d}.npz"


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
