"""Noise-free spectra for the generators, made from the labels of a ``spectra.h5`` split.

The spectra issue's data fix v_mic = 2.478 − 0.325 log g; a latent v_mic must be measurable, so here v_mic gets
a scatter N(0, ``vmic_scatter``) km/s about that relation (seeded per split), clipped to 0.3–5 km/s. The other
labels are the split's own. Spectra come from :class:`~lawful.spectra.synth.Synthesizer` (noise-free,
continuum-normalised, LAMOST grid) and are cached atomically in ``cache`` so a resumed run does not make them
again. Noise is added per use (:func:`noisy`).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from lawful.spectra.data import synthesize
from lawful.spectra.synth import LABELS

I_VMIC = LABELS.index("vmic")


def clean_split(data: Path, split: str, vmic_scatter: float, seed: int, n: int | None = None,
                cache: Path | None = None) -> dict[str, np.ndarray]:
    """``labels`` (n, 8) in the order of :data:`~lawful.spectra.synth.LABELS`, noise-free ``flux`` (n, W)
    float32, ``targets`` (n, 6) and ``wave`` (W,) for the first ``n`` stars of ``split``."""
    from lawful.spectra.data import load_split

    key = f"clean_{split}_{n or 'all'}_{vmic_scatter:g}_{seed}.npz"
    if cache is not None and (cache / key).exists():
        with np.load(cache / key) as saved:
            return {k: saved[k] for k in saved.files}
    part = load_split(data, split, keys=("synth_labels", "targets"))
    labels = split_labels(part["synth_labels"][:n], split, vmic_scatter, seed)
    out = {"labels": labels, "flux": synthesize(labels), "targets": part["targets"][:n], "wave": part["wave"]}
    if cache is not None:
        import io

        from lawful.core.io import atomic_write_bytes

        buffer = io.BytesIO()
        np.savez(buffer, **out)
        atomic_write_bytes(cache / key, buffer.getvalue())
    return out


def split_labels(synth_labels: np.ndarray, split: str, vmic_scatter: float, seed: int) -> np.ndarray:
    """The generators' labels (n, 8) of a split: its ``synth_labels`` (n, 8) with v_mic scattered (module
    docstring; the draw is seeded by ``seed`` and the split's name)."""
    labels = np.array(synth_labels, dtype=float)
    rng = np.random.default_rng([seed, zlib.crc32(split.encode())])
    labels[:, I_VMIC] = np.clip(labels[:, I_VMIC] + rng.normal(0.0, vmic_scatter, len(labels)), 0.3, 5.0)
    return labels


def noisy(flux: np.ndarray, snr: float | np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(noisy flux, inverse variance) (n, W) at per-pixel SNR, with the noise law of
    :func:`lawful.spectra.data.noise_sigma`."""
    from lawful.spectra.data import noise_sigma

    sigma = noise_sigma(flux, np.broadcast_to(np.asarray(snr, dtype=float), (len(flux),)))
    return (flux + sigma * rng.standard_normal(flux.shape)).astype(np.float32), (1.0 / sigma**2).astype(np.float32)
