"""The physics layers of :class:`~lawful.spectra.physformer.networks.PhysGenerator` fused in one numba kernel,
for inference (χ² inversion, sampling): the arithmetic of the torch path, which training differentiates, without
its intermediate arrays, except that the LSF weights come from a 1024-phase table (within 2e-6 of the exact
weights' result, tested), through the instrument's own kernel (:mod:`~lawful.spectra.instrument_kernel`).
Parallel over spectra; one thread per spectrum, no allocation per pixel.

Work per spectrum: C nodes × (K exponentials + K·M multiply-adds) for the formal-solution table, G pixels ×
(one exponential + a table lookup), W output pixels × the LSF's 2h taps.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from lawful.spectra.instrument_kernel import lsf_locate, replicate_edges


@njit(parallel=True, cache=True, fastmath=True)
def render(temperature: np.ndarray, log_q: np.ndarray, log_eta: np.ndarray, shift_px: np.ndarray, node_a: np.ndarray,
           weights: np.ndarray, pixel_node: np.ndarray, offsets: np.ndarray, pad: int, lsf_table: np.ndarray,
           base: np.ndarray, out: np.ndarray) -> None:
    """Normalised flux into ``out`` (B, W).

    temperature (B, K) K on the depth nodes; log_q (B, C) ln(κ_λ/κ_ref) ≥ 0 on the nodes; log_eta (B, G) ln η
    on the rest-frame grid; shift_px (B,) the
    Doppler shift in rest-frame pixels, ln(1 + v/c)/Δlnλ; node_a (C,) hc/(k λ_c) in K; weights (M, K) of the
    formal solution at v_m = m/(M−1); pixel_node (G,) each pixel's node; the LSF (:class:`~lawful.spectra.
    instrument.LSF`): tap ``offsets`` (2h,) (consecutive; ``pad`` = ``LSF.pad``), its normalised weights at
    Q + 1 phases ``lsf_table`` (Q + 1, 2h) interpolated linearly in the phase, and ``base`` (W,) the output
    wavelengths' positions on the rest-frame grid at zero velocity."""
    n_spec, n_depth = temperature.shape
    n_pix = log_eta.shape[1]
    n_node, n_v = node_a.shape[0], weights.shape[0]
    n_phase, n_taps = lsf_table.shape[0] - 1, offsets.shape[0]
    for b in prange(n_spec):
        ratio = np.empty((n_node, n_v))
        v_c = np.empty(n_node)
        source = np.empty(n_depth)
        for c in range(n_node):
            for k in range(n_depth):
                source[k] = 1.0 / math.expm1(node_a[c] / temperature[b, k])
            for m in range(n_v):
                acc = 0.0
                for k in range(n_depth):
                    acc += weights[m, k] * source[k]
                ratio[c, m] = acc
            v_c[c] = math.exp(-log_q[b, c])
            pos = v_c[c] * (n_v - 1)
            m = min(int(pos), n_v - 2)
            top = ratio[c, m] + (pos - m) * (ratio[c, m + 1] - ratio[c, m])  # the continuum F(v_c)
            for m in range(n_v):
                ratio[c, m] /= top
        resid = np.empty(n_pix + 2 * pad)  # the residual, padded for the LSF
        for p in range(n_pix):
            c = pixel_node[p]
            pos = v_c[c] * (n_v - 1) / (1.0 + math.exp(log_eta[b, p]))
            m = min(int(pos), n_v - 2)
            frac = pos - m
            resid[pad + p] = ratio[c, m] + frac * (ratio[c, m + 1] - ratio[c, m])
        replicate_edges(resid, pad)
        for w in range(base.shape[0]):
            lo, row, f = lsf_locate(base[w] - shift_px[b], n_pix, n_phase)
            start = lo + offsets[0] + pad
            t0, t1, r = lsf_table[row], lsf_table[row + 1], resid[start:start + n_taps]
            acc = 0.0
            for j in range(n_taps):
                acc += (t0[j] + f * (t1[j] - t0[j])) * r[j]
            out[b, w] = acc
