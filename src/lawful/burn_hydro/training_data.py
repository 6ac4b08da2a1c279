"""Training data for the burn surrogate: one-zone trajectories and the zone-steps of detonation runs.

This sits above :mod:`lawful.burn` and :mod:`lawful.hydro` because it drives hydro runs to record what the
implicit burner does in them; the one-zone part and the file format live in :mod:`lawful.burn.surrogate.data`.
Every task writes ``out/parts/<name>.npz`` atomically, a rerun skips the parts that exist (resume), and the
parts are merged into ``out/data.h5``.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np

from lawful.burn.surrogate.config import GenerateConfig, hydro_run
from lawful.burn.surrogate.data import DATA_FILE, FIELDS, HYDRO_GROUP, TrajectoryTask, energy_release, trajectory_part


@dataclasses.dataclass(frozen=True)
class HydroTask:
    cfg: GenerateConfig
    index: int
    n: int
    rho: float
    length: float
    tmax: float


class RecordingBurner:
    """Wrap a burner (``ImplicitBurner``) and keep every zone-step it burns: inputs and results. Its counters
    are the inner burner's."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[dict[str, np.ndarray]] = []

    def __call__(self, rho, T, X, dt):
        out = self.inner(rho, T, X, dt)
        self.calls.append({"rho": rho.copy(), "T": T.copy(), "X": X.copy(), "dt": np.full(len(rho), dt),
                           "X_new": out.X.copy(), "T_new": out.T.copy(), "ok": out.ok.copy()})
        return out

    def check_inputs(self, X: np.ndarray) -> None:
        self.inner.check_inputs(X)

    def state_dict(self) -> dict[str, float]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.inner.load_state_dict(state)

    def summary(self) -> dict:
        return self.inner.summary()


def _hydro_part(task: HydroTask) -> dict[str, np.ndarray]:
    """Run one detonation with the implicit burner at the data tolerance and return its zone-steps."""
    import tempfile

    from lawful.burn.network import Network
    from lawful.hydro.problems import detonation
    from lawful.hydro.run import run

    cfg = task.cfg
    with tempfile.TemporaryDirectory() as tmp:
        dcfg = detonation.Config(n=task.n, rho=task.rho, length=task.length, tmax=task.tmax, network=cfg.network,
                                 burn_rtol=cfg.rtol, burn_atol=cfg.atol, out=Path(tmp), n_snapshots=1)
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
    part = trajectory_part(task) if isinstance(task, TrajectoryTask) else _hydro_part(task)
    buf = io.BytesIO()
    np.savez(buf, **part)
    atomic_write_bytes(path, buf.getvalue())
    return str(path)


def tasks(cfg: GenerateConfig) -> list:
    """Every task of a generate run, in a fixed order (trajectory tasks, then hydro runs)."""
    from lawful.core.rng import spawn_seeds

    n_tasks = -(-cfg.n_trajectories // cfg.trajectories_per_task)
    seeds = spawn_seeds(cfg.seed, n_tasks)
    out: list = [TrajectoryTask(cfg, k, s) for k, s in enumerate(seeds)]
    for k, item in enumerate(cfg.hydro_runs):
        out.append(HydroTask(cfg, k, *hydro_run(item)))
    return out


def generate(cfg: GenerateConfig, scheduler: str | None = None, n_workers: int | None = None) -> Path:
    """Run (or resume) every task of ``cfg`` and merge the parts into ``out/data.h5``; returns its path."""
    from lawful.burn.network import Network
    from lawful.core.executor import run_tasks
    from lawful.core.io import atomic_h5, provenance, write_provenance
    from lawful.core.lifecycle import claim_run_directory

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_toml = claim_run_directory(cfg, out)  # refuses a directory that holds another run
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
    kind = "traj" if isinstance(task, TrajectoryTask) else "hydro"
    return Path(task.cfg.out) / "parts" / f"{kind}_{task.index:05d}.npz"


