"""Labelled spectra for training: seeded train/val/test sets in HDF5, made in chunks through the executor.

``generate(cfg, out)`` writes ``out/spectra.h5`` with the output wavelength grid ``wave`` (W,) and one group per
split holding ``flux`` (n, W) continuum-normalised noisy flux, ``ivar`` (n, W) its inverse variance, ``targets``
(n, 6) in the order of :data:`~lawful.spectra.labels.TARGETS`, ``synth_labels`` (n, 8) and ``snr`` (n,). Chunks
are written atomically to ``out/chunks`` first, so an interrupted run resumes where it stopped; chunk k uses the
k-th spawned seed stream, so the data do not depend on the scheduler or the number of workers.

Noise: σ² = (F/SNR)² with a Poisson part ∝ F and a read part, σ_i² = (0.9 F_i + 0.1)/SNR² in continuum units, so
SNR is the signal-to-noise per pixel at the continuum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat

CHUNK = 1000


def usable_pixels(flux: np.ndarray, ivar: np.ndarray) -> np.ndarray:
    """Pixels with a finite flux and a finite, positive inverse variance (bool, the shape of ``flux``); the
    rest are masked everywhere a spectrum is read."""
    return np.isfinite(flux) & np.isfinite(ivar) & (ivar > 0)


def noise_sigma(normalized: np.ndarray, snr: np.ndarray | float) -> np.ndarray:
    """σ of continuum-normalised flux (n, W) at per-pixel SNR (n,) or scalar: σ² = (0.9 F + 0.1)/SNR²."""
    snr = np.asarray(snr, dtype=float)
    if np.any(snr <= 0):
        raise ValueError(f"SNR must be positive, got {np.min(snr):g}")
    return np.sqrt(0.9 * np.clip(normalized, 0.0, None) + 0.1) / (snr[:, None] if snr.ndim else snr)


class DataConfig(Config):
    """Synthetic giant spectra on the LAMOST LRS grid."""

    n: int = pydantic.Field(20000, ge=30, description="spectra in all (train + val + test)")
    seed: int = pydantic.Field(0, ge=0)
    val_fraction: FiniteFloat = pydantic.Field(0.1, gt=0, lt=0.5)
    test_fraction: FiniteFloat = pydantic.Field(0.1, gt=0, lt=0.5)
    sigma_cn: FiniteFloat = pydantic.Field(0.02, ge=0, le=0.5, description="scatter of [C/N] at fixed mass (dex)")
    resolution: FiniteFloat = pydantic.Field(1800.0, ge=100, le=1e5, description="R of the Gaussian LSF")
    scheduler: str = pydantic.Field("serial", description="'serial', 'local' or a Dask scheduler address")
    workers: int | None = pydantic.Field(None, ge=1)


def _chunk(task: tuple[int, int, np.random.SeedSequence, float, float, str]) -> None:
    """Make and write one chunk (a picklable top-level task)."""
    import io

    from lawful.core.io import atomic_write_bytes
    from lawful.spectra.labels import TARGETS, draw_labels, synth_matrix

    index, size, seed, sigma_cn, resolution, directory = task
    path = Path(directory) / f"chunk_{index:05d}.npz"
    if path.exists():
        return
    rng = np.random.default_rng(seed)
    labels = draw_labels(size, rng, sigma_cn)
    flux = synthesize(synth_matrix(labels), resolution, dtype=np.float64)
    sigma = noise_sigma(flux, labels["snr"])
    noisy = flux + sigma * rng.standard_normal(flux.shape)
    buffer = io.BytesIO()
    np.savez(buffer, flux=noisy.astype(np.float32), ivar=(1.0 / sigma**2).astype(np.float32),
             targets=np.stack([labels[t] for t in TARGETS], axis=1), synth_labels=synth_matrix(labels),
             snr=labels["snr"])
    atomic_write_bytes(path, buffer.getvalue())


def generate(cfg: DataConfig, out: Path) -> Path:
    """Write ``out/spectra.h5`` (resuming from ``out/chunks``); returns its path."""
    from lawful.core.config import to_toml_text
    from lawful.core.executor import run_tasks
    from lawful.core.io import atomic_h5, provenance, write_provenance
    from lawful.core.rng import spawn_seeds
    from lawful.spectra.grids import lamost_wave

    out.mkdir(parents=True, exist_ok=True)
    chunks = out / "chunks"
    chunks.mkdir(exist_ok=True)
    sizes = [CHUNK] * (cfg.n // CHUNK) + ([cfg.n % CHUNK] if cfg.n % CHUNK else [])
    seeds = spawn_seeds(cfg.seed, len(sizes))
    tasks = [(k, s, seeds[k], cfg.sigma_cn, cfg.resolution, str(chunks)) for k, s in enumerate(sizes)]
    if cfg.scheduler == "serial":
        from lawful.core.progress import progress

        with progress() as prog:
            bar = prog.add_task("spectra", total=cfg.n, info="")
            for task in tasks:
                _chunk(task)
                prog.update(bar, advance=task[1])
    else:
        run_tasks(_chunk, tasks, cfg.scheduler, cfg.workers)
    parts = [np.load(chunks / f"chunk_{k:05d}.npz") for k in range(len(sizes))]
    data = {key: np.concatenate([p[key] for p in parts]) for key in parts[0].files}
    order = np.random.default_rng(cfg.seed).permutation(cfg.n)
    n_val, n_test = int(round(cfg.val_fraction * cfg.n)), int(round(cfg.test_fraction * cfg.n))
    splits = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    path = out / "spectra.h5"
    with atomic_h5(path) as h5:
        h5["wave"] = lamost_wave()
        for name, idx in splits.items():
            group = h5.create_group(name)
            for key, value in data.items():
                group[key] = value[np.sort(idx)]
        write_provenance(h5, provenance(to_toml_text(cfg), cfg.seed))
    return path


def synthesize(labels: np.ndarray, resolution: float = 1800.0, chunk: int = 1000,
               dtype: type = np.float32) -> np.ndarray:
    """Noise-free continuum-normalised spectra (n, W) of ``dtype`` on the LAMOST grid for labels (n, 8) in the
    order of :data:`~lawful.spectra.synth.LABELS`, at LSF resolution R = ``resolution``."""
    import torch

    from lawful.spectra.synth import Synthesizer

    synth = Synthesizer(resolution=resolution)
    with torch.no_grad():
        parts = [synth(torch.as_tensor(labels[i:i + chunk])).normalized.double().numpy().astype(dtype, copy=False)
                 for i in range(0, len(labels), chunk)]
    return np.concatenate(parts) if parts else np.empty((0, len(synth.wave)), dtype=dtype)


def data_config(path: Path) -> DataConfig:
    """The :class:`DataConfig` a ``spectra.h5`` was made with (from its provenance)."""
    import tomllib

    import h5py

    with h5py.File(path, "r") as h5:
        return DataConfig(**tomllib.loads(str(h5.attrs["config"])))


def spectra_path(data: Path) -> Path:
    """The ``spectra.h5`` that ``data`` names: a directory holding it, or the file itself."""
    data = Path(data)
    return data / "spectra.h5" if data.is_dir() else data


def load_split(path: Path, split: str, keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """One split of a ``spectra.h5`` as arrays (flux, ivar, targets, synth_labels, snr; or only ``keys``) plus
    ``wave``."""
    import h5py

    if not Path(path).exists():
        raise FileNotFoundError(f"no spectra file at {path} (make one with `lawful spectra data --out DIR`)")
    with h5py.File(path, "r") as h5:
        if split not in h5:
            raise KeyError(f"split {split!r} not in {path}; it has {sorted(k for k in h5 if k != 'wave')}")
        out = {key: h5[split][key][...] for key in (keys or h5[split])}
        out["wave"] = h5["wave"][...]
    return out
