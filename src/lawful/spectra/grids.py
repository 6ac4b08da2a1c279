"""Wavelength grids: LAMOST LRS pixels (shipped by ``laspec``) and the log-uniform model grid (vacuum Å)."""

from __future__ import annotations

import functools

import numpy as np

from lawful.spectra.atomic import _data_dir


@functools.cache
def lamost_wave() -> np.ndarray:
    """The LAMOST LRS wavelength grid as ``laspec`` ships it: 3462 pixels, 3900–8799.5 Å (vacuum)."""
    import joblib

    wave = np.asarray(joblib.load(_data_dir("laspec") / "data" / "lamost" / "l9waveBR.dump"), dtype=float)
    wave.setflags(write=False)
    return wave


def model_grid(wave_min: float, wave_max: float, resolution: float, oversample: float = 4.0) -> np.ndarray:
    """Log-uniform grid covering [wave_min, wave_max] Å with step Δlnλ = 1/(oversample · R) and a margin of
    eight LSF widths on each side."""
    step = 1.0 / (oversample * resolution)
    margin = 8.0 / resolution
    lo, hi = np.log(wave_min) - margin, np.log(wave_max) + margin
    return np.exp(np.arange(lo, hi + step, step))
