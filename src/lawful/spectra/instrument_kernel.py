"""The instrument of :mod:`~lawful.spectra.instrument` as numba kernels, for inference (no gradients).

The LSF weights come from :meth:`~lawful.spectra.instrument.LSF.phase_table` (normalised Gaussian weights at
Q + 1 sub-pixel phases, interpolated linearly in the phase: relative error ≈ 1/(8 Q² σ²), tested against the
exact filter). :func:`lsf_weights` gives one output pixel's weights, :func:`lsf_dot` applies them to a
spectrum; the forward model's kernel (:mod:`~lawful.spectra.synth_kernel`) and the PhysFormer's
(:mod:`~lawful.spectra.physformer.kernels`) call both.

Work: 2h multiply-adds per output pixel and filtered array (2h = 14 at R = 1800 on the 4× oversampled grid).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=True, inline="always")
def lsf_weights(pos: float, n_pix: int, lsf_table: np.ndarray, weights: np.ndarray) -> int:
    """The weights (2h,) of the output pixel at rest-frame grid position ``pos`` (clamped to the grid) into
    ``weights``, interpolated linearly between the phase rows of ``lsf_table``; returns its lower grid pixel."""
    pos = min(max(pos, 0.0), n_pix - 1.0)
    lo = int(pos)
    n_phase = lsf_table.shape[0] - 1
    phase = (pos - lo) * n_phase
    row = min(int(phase), n_phase - 1)
    frac = phase - row
    for j in range(weights.shape[0]):
        weights[j] = lsf_table[row, j] + frac * (lsf_table[row + 1, j] - lsf_table[row, j])
    return lo


@njit(cache=True, fastmath=True, inline="always")
def lsf_dot(values: np.ndarray, lo: int, offsets: np.ndarray, weights: np.ndarray) -> float:
    """One output pixel: Σ_j weights_j · values[lo + offsets_j] over ``values`` (N,), edges replicated; the
    offsets are consecutive integers (as :class:`~lawful.spectra.instrument.LSF` makes them)."""
    n_pix = values.shape[0]
    start = lo + offsets[0]
    n_taps = offsets.shape[0]
    acc = 0.0
    if start >= 0 and start + n_taps <= n_pix:  # inside the grid: a contiguous slice (offsets are consecutive)
        for j in range(n_taps):
            acc += weights[j] * values[start + j]
    else:
        for j in range(n_taps):
            acc += weights[j] * values[min(max(start + j, 0), n_pix - 1)]
    return acc
