"""Many-zone burns from and to HDF5, fanned out through :func:`lawful.core.executor.run_tasks`.

Input file: datasets ``rho`` [N] (g/cm³), ``T`` [N] (K), ``X`` [N, n] and attribute ``names`` (nucleus order
of the columns of X; it may be a subset or permutation of the network's nuclei). Output file: ``X`` [N, n]
(network order, attribute ``names``), ``T`` [N], ``enuc`` [N] (erg/g), ``status`` [N], ``steps`` [N], plus
provenance attributes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from lawful.burn.config import BurnBatchConfig


def write_states(path: Path, rho, T, X, names) -> None:
    """Write an input file for :func:`run_batch` (atomically)."""
    from lawful.core.io import atomic_h5

    with atomic_h5(Path(path)) as f:
        f["rho"] = np.asarray(rho, dtype=np.float64)
        f["T"] = np.asarray(T, dtype=np.float64)
        f["X"] = np.asarray(X, dtype=np.float64)
        f.attrs["names"] = [str(n) for n in names]


def read_states(path: Path, network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ρ [N], T [N], X [N, n] in network order) from ``path``, validated before any work."""
    import h5py

    from lawful.burn.eos import check_state
    from lawful.burn.network import check_mass_fractions

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file {path} does not exist")
    with h5py.File(path, "r") as f:
        missing = [k for k in ("rho", "T", "X") if k not in f]
        if missing or "names" not in f.attrs:
            raise ValueError(f"{path} needs datasets rho, T, X and attribute names; missing {missing or ['names']}")
        rho, T, Xin = f["rho"][()], f["T"][()], f["X"][()]
        names = [str(n).lower() for n in f.attrs["names"]]
    N = rho.shape[0]
    if T.shape != (N,) or Xin.shape != (N, len(names)):
        raise ValueError(f"{path}: shapes rho {rho.shape}, T {T.shape}, X {Xin.shape} do not match "
                         f"N = {N} zones × {len(names)} names")
    X = np.zeros((N, len(network.names)))
    for j, name in enumerate(names):
        if name not in network.names:
            raise ValueError(f"{path}: nucleus {name!r} is not in network {network.name} "
                             f"({', '.join(network.names)})")
        X[:, network.names.index(name)] = Xin[:, j]
    for name, arr in (("rho", rho), ("T", T)):
        if not (np.isfinite(arr).all() and (arr > 0).all()):
            i = int(np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))[0])
            raise ValueError(f"{path}: {name}[{i}] = {arr[i]} must be positive and finite")
    check_state(rho, T)
    check_mass_fractions(X)
    return rho, T, X


@dataclasses.dataclass(frozen=True)
class _Chunk:
    cfg: BurnBatchConfig
    rho: np.ndarray
    T: np.ndarray
    X: np.ndarray


def _burn_chunk(chunk: _Chunk) -> dict[str, np.ndarray]:
    """Burn one chunk (runs in a Dask worker or in-process)."""
    from lawful.burn.eos import StellarEOS
    from lawful.burn.integrate import burn
    from lawful.burn.network import Network

    cfg = chunk.cfg
    net = Network(cfg.network, screen=cfg.screen)
    r = burn(net, chunk.rho, chunk.T, chunk.X, [cfg.dt], self_heating=not cfg.fixed_T, rtol=cfg.rtol,
             atol=cfg.atol, max_steps=cfg.max_steps, eos=StellarEOS(table=cfg.eos_table), method=cfg.method)
    return {"X": r.X[:, -1], "T": r.T[:, -1], "enuc": r.enuc[:, -1], "status": r.status, "steps": r.steps}


def run_batch(cfg: BurnBatchConfig, scheduler: str | None = None, n_workers: int | None = None) -> dict:
    """Burn every zone of ``cfg.input`` for ``cfg.dt`` and write ``cfg.out``; returns the output arrays."""
    from lawful.burn.network import Network
    from lawful.core.config import to_toml_text
    from lawful.core.executor import run_tasks
    from lawful.core.io import atomic_h5, provenance, write_provenance

    net = Network(cfg.network, screen=cfg.screen)
    rho, T, X = read_states(cfg.input, net)
    chunks = [_Chunk(cfg, rho[i: i + cfg.chunk], T[i: i + cfg.chunk], X[i: i + cfg.chunk])
              for i in range(0, len(rho), cfg.chunk)]
    parts = run_tasks(_burn_chunk, chunks, scheduler, n_workers)
    result = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    with atomic_h5(cfg.out) as f:
        for k, v in result.items():
            f[k] = v
        f.attrs["names"] = list(net.names)
        write_provenance(f, provenance(to_toml_text(cfg), None))
    return result
