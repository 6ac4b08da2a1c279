"""The instrument of :mod:`~lawful.spectra.instrument` as numba kernels, for inference (no gradients).

The LSF weights come from :meth:`~lawful.spectra.instrument.LSF.phase_table` (normalised Gaussian weights at
Q + 1 sub-pixel phases, interpolated linearly in the phase: relative error ≈ 1/(8 Q² σ²), tested against the
exact filter). The kernels that use it (:mod:`~lawful.spectra.synth_kernel`,
:mod:`~lawful.spectra.physformer.kernels`) keep each spectrum in a buffer padded by ``LSF.pad`` pixels on
each side, filled by :func:`replicate_edges`, so that every output pixel's 2h taps are one contiguous slice
(the edges replicated, as the torch filter does); :func:`lsf_locate` gives the slice and the phase. They write
the tap loop themselves: with the weights interpolated and applied in one loop over a slice LLVM vectorises
it, and the same loop behind a function call ran 1.6–2.4× slower (measured).

Work: 2h multiply-adds per output pixel and filtered array (2h = 14 at R = 1800 on the 4× oversampled grid).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=True)
def lsf_locate(pos: float, n_pix: int, n_phase: int) -> tuple[int, int, float]:
    """For a rest-frame grid position ``pos`` (clamped to the grid of ``n_pix`` pixels): its lower pixel, the
    row of an LSF phase table with ``n_phase`` + 1 rows below it, and the fraction towards the next row."""
    pos = min(max(pos, 0.0), n_pix - 1.0)
    lo = int(pos)
    phase = (pos - lo) * n_phase
    row = min(int(phase), n_phase - 1)
    return lo, row, phase - row


@njit(cache=True)
def replicate_edges(padded: np.ndarray, pad: int) -> None:
    """Fill the ``pad`` pixels at each end of ``padded`` (N + 2 pad,) with the first and last grid values."""
    n = padded.shape[0]
    for i in range(pad):
        padded[i] = padded[pad]
        padded[n - 1 - i] = padded[n - 1 - pad]
