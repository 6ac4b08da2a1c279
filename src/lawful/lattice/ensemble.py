"""The on-disk ensemble of a lattice run (HDF5), which is also its checkpoint.

Layout of ``<out>/ensemble.h5`` (rewritten atomically at every checkpoint, so it is always complete):

* root attributes: provenance (``lawful_version``, ``git_hash``, ``config`` as TOML, ``seed``, ``created``),
  ``n_done`` (updates per chain so far, thermalization included), ``n_therm``, ``volume``, ``complete``;
* ``measurements/<name>``: float64 ``(C, n_done)`` for the theory's observables (φ⁴: ``m, abs_m, m2, m4, W, S``;
  U(1): :data:`lawful.lattice.u1.kernels.OBSERVABLES`) and ``acceptance, dH``;
* ``state/phi``: ``(C, V)`` field after ``n_done`` updates; ``state`` attribute ``rng``: the C generator states;
* ``extra/<name>`` (optional): sampler-specific series, e.g. ``log_weight`` ``(C, n_done)`` of an independence
  Metropolis–Hastings chain (:mod:`lawful.lattice.mh`), and ``extra`` attributes such as ``n_invalid``.

Configurations (``save_every > 0``) go to ``<out>/configs/chunk_<first>.h5`` files (``phi``: ``(n, C, V)``,
``index``: update numbers), each written atomically before the checkpoint that covers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lawful.core.io import atomic_h5, provenance, write_provenance
from lawful.lattice.observables import OBSERVABLES

ENSEMBLE_FILE = "ensemble.h5"
CONFIG_FILE = "config.toml"
CONFIG_DIR = "configs"
#: series every chain records besides its theory's observables
CHAIN_SERIES = ("acceptance", "dH")
SERIES = (*OBSERVABLES, *CHAIN_SERIES)  #: the series of a φ⁴ run


@dataclass
class Ensemble:
    """Measurements and chain state of a run; ``series[name]`` has shape ``(C, n_done)``."""

    config_toml: str
    seed: int
    n_therm: int
    volume: int
    series: dict[str, np.ndarray]
    phi: np.ndarray
    rng_states: list[str]
    complete: bool = False
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    extra_attrs: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def n_done(self) -> int:
        return int(self.series["S"].shape[1])

    @property
    def n_chains(self) -> int:
        return int(self.phi.shape[0])


def write(path: Path, ens: Ensemble) -> None:
    """Write ``ens`` to ``path`` atomically (the previous file stays intact if this is interrupted)."""
    with atomic_h5(path) as fh:
        write_provenance(fh, provenance(ens.config_toml, ens.seed))
        fh.attrs["n_done"] = ens.n_done
        fh.attrs["n_therm"] = ens.n_therm
        fh.attrs["volume"] = ens.volume
        fh.attrs["complete"] = ens.complete
        grp = fh.create_group("measurements")
        for name, values in ens.series.items():
            grp.create_dataset(name, data=values)
        st = fh.create_group("state")
        st.create_dataset("phi", data=ens.phi)
        st.attrs["rng"] = np.array(ens.rng_states, dtype=object)
        if ens.extra or ens.extra_attrs:
            ex = fh.create_group("extra")
            for name, values in ens.extra.items():
                ex.create_dataset(name, data=values)
            for name, value in ens.extra_attrs.items():
                ex.attrs[name] = value


def read(path: Path) -> Ensemble:
    """Read an ensemble file written by :func:`write`."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ensemble file at {str(path)!r}")
    with h5py.File(path, "r") as fh:
        series = {name: data[...] for name, data in fh["measurements"].items()}
        rng = [s.decode() if isinstance(s, bytes) else str(s) for s in fh["state"].attrs["rng"]]
        ex = fh.get("extra")
        extra = {name: ex[name][...] for name in ex} if ex is not None else {}
        extra_attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in ex.attrs.items()} if ex else {}
        return Ensemble(
            config_toml=str(fh.attrs["config"]),
            seed=int(fh.attrs["seed"]),
            n_therm=int(fh.attrs["n_therm"]),
            volume=int(fh.attrs["volume"]),
            series=series,
            phi=fh["state"]["phi"][...],
            rng_states=rng,
            complete=bool(fh.attrs["complete"]),
            extra=extra,
            extra_attrs=extra_attrs,
        )


def write_config_chunk(run_dir: Path, first: int, index: np.ndarray, phi: np.ndarray) -> None:
    """Store saved configurations ``phi`` ``(n, C, V)`` taken at update numbers ``index`` ``(n,)``."""
    with atomic_h5(Path(run_dir) / CONFIG_DIR / f"chunk_{first:010d}.h5") as fh:
        fh.create_dataset("phi", data=phi, compression="gzip", shuffle=True)
        fh.create_dataset("index", data=index)


def drop_config_chunks_from(run_dir: Path, first: int) -> None:
    """Delete configuration chunks at or after update ``first`` (not covered by the last checkpoint)."""
    for chunk in sorted((Path(run_dir) / CONFIG_DIR).glob("chunk_*.h5")):
        if int(chunk.stem.removeprefix("chunk_")) >= first:
            chunk.unlink()


def load_configs(run_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """All saved configurations of a run: ``(index (n,), phi (n, C, V))``; empty arrays if none were saved."""
    import h5py

    chunks = sorted((Path(run_dir) / CONFIG_DIR).glob("chunk_*.h5"))
    if not chunks:
        return np.empty(0, dtype=np.int64), np.empty((0, 0, 0))
    idx, phis = [], []
    for chunk in chunks:
        with h5py.File(chunk, "r") as fh:
            idx.append(fh["index"][...])
            phis.append(fh["phi"][...])
    return np.concatenate(idx), np.concatenate(phis)
