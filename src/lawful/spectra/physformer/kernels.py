"""The physics layers of :class:`~lawful.spectra.physformer.networks.PhysGenerator` fused in numba kernels: the
arithmetic of the torch path (:meth:`~lawful.spectra.physformer.networks.PhysGenerator.torch_path`) without its
intermediate arrays, except that the LSF weights come from a 1024-phase table (within 2e-6 of the exact
weights' result, tested), through the instrument's own kernel (:mod:`~lawful.spectra.instrument_kernel`).

Their inputs are the atmosphere's elementwise transforms, which torch evaluates vectorised
(:meth:`~lawful.spectra.physformer.networks.PhysGenerator.physics_inputs`): the source function on the nodes,
v_c = κ_ref/κ_c and σ = 1/(1 + η) per pixel. What remains has no exponential (without SVML numba calls libm
once per element, about ten times slower than torch's vectorised exp):

* :func:`render` — normalised flux (inference, and the forward pass of training);
* :func:`render_grad` — its adjoint: the gradient of a loss in those three inputs and the Doppler shift given
  the gradient in the flux (the backward pass of training; torch's autograd carries it on to the network's
  weights and the latent).

Parallel over spectra; one thread per spectrum, no allocation per pixel.

Work per spectrum: C nodes × K·M multiply-adds for the formal-solution table, G pixels × a table lookup and a
division, W output pixels × the LSF's 2h taps. The adjoint reads the forward's tables and residuals (it does
not compute them again): the LSF's taps and the pixels' lookups once more, and C·K·M multiply-adds.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lawful.spectra.instrument_kernel import lsf_locate, replicate_edges


@njit(cache=True, fastmath=True)
def _formal_table(source: np.ndarray, v_c: np.ndarray, weights: np.ndarray, table: np.ndarray,
                  top: np.ndarray) -> None:
    """One spectrum's formal solution on the nodes from its ``source`` (C, K): fills ``table`` (C, M) = F(v_m)
    = Σ_k W_mk S_k and ``top`` (C,) = F(v_c), the continuum, by linear interpolation in v."""
    n_node, n_depth = source.shape
    n_v = weights.shape[0]
    for c in range(n_node):
        for m in range(n_v):
            acc = 0.0
            for k in range(n_depth):
                acc += weights[m, k] * source[c, k]
            table[c, m] = acc
        pos = v_c[c] * (n_v - 1)
        m = min(int(pos), n_v - 2)
        top[c] = table[c, m] + (pos - m) * (table[c, m + 1] - table[c, m])


@njit(cache=True, fastmath=True)
def _residual(table: np.ndarray, top: np.ndarray, v_c: np.ndarray, sig: np.ndarray, pixel_node: np.ndarray,
              pad: int, resid: np.ndarray) -> None:
    """One spectrum's normalised rest-frame flux F(v_c σ)/F(v_c) into ``resid`` (G + 2 pad,), padded for the
    LSF with its edges replicated."""
    n_v = table.shape[1]
    for p in range(sig.shape[0]):
        c = pixel_node[p]
        pos = v_c[c] * (n_v - 1) * sig[p]
        m = min(int(pos), n_v - 2)
        frac = pos - m
        resid[pad + p] = (table[c, m] + frac * (table[c, m + 1] - table[c, m])) / top[c]
    replicate_edges(resid, pad)


def rest_frame_buffers(n_spec: int, n_node: int, n_v: int, n_pix: int, pad: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`render` keeps of each spectrum for :func:`render_grad` (float64): the formal solution's
    ``tables`` (B, C, M), the continua ``tops`` (B, C) and the padded residuals ``resids`` (B, G + 2 pad)."""
    return np.empty((n_spec, n_node, n_v)), np.empty((n_spec, n_node)), np.empty((n_spec, n_pix + 2 * pad))


@njit(parallel=True, cache=True, fastmath=True)
def render(source: np.ndarray, v_c: np.ndarray, sig: np.ndarray, shift_px: np.ndarray, weights: np.ndarray,
           pixel_node: np.ndarray, offsets: np.ndarray, pad: int, lsf_table: np.ndarray, base: np.ndarray,
           out: np.ndarray, tables: np.ndarray, tops: np.ndarray, resids: np.ndarray) -> None:
    """Normalised flux into ``out`` (B, W), and each spectrum before the instrument into ``tables``, ``tops``
    and ``resids`` (:func:`rest_frame_buffers`), which the adjoint reads instead of computing them again; buffers
    of no spectra keep nothing (inference: each thread's spectrum stays in its own small arrays, in cache).

    source (B, C, K) the source function on the nodes and depths without its factor 2hc²/λ⁵, 1/(exp(hc/kλT) −
    1); v_c (B, C) = κ_ref/κ_c ∈ (0, 1] on the nodes; sig (B, G) = 1/(1 + η) on the rest-frame grid; shift_px
    (B,) the Doppler shift in rest-frame pixels, ln(1 + v/c)/Δlnλ; weights (M, K) of the formal solution at
    v_m = m/(M−1); pixel_node (G,) each pixel's node; the LSF (:class:`~lawful.spectra.instrument.LSF`): tap
    ``offsets`` (2h,) (consecutive; ``pad`` = ``LSF.pad``), its normalised weights at Q + 1 phases
    ``lsf_table`` (Q + 1, 2h) interpolated linearly in the phase, and ``base`` (W,) the output wavelengths'
    positions on the rest-frame grid at zero velocity."""
    n_spec, n_pix = source.shape[0], sig.shape[1]
    n_phase, n_taps = lsf_table.shape[0] - 1, offsets.shape[0]
    keep = tables.shape[0] > 0
    for b in prange(n_spec):
        if keep:
            table, top, resid = tables[b], tops[b], resids[b]
        else:
            table, top = np.empty(tables.shape[1:]), np.empty(tops.shape[1])
            resid = np.empty(resids.shape[1])
        _formal_table(source[b], v_c[b], weights, table, top)
        _residual(table, top, v_c[b], sig[b], pixel_node, pad, resid)
        for w in range(base.shape[0]):
            lo, row, f = lsf_locate(base[w] - shift_px[b], n_pix, n_phase)
            start = lo + offsets[0] + pad
            t0, t1, r = lsf_table[row], lsf_table[row + 1], resid[start:start + n_taps]
            acc = 0.0
            for j in range(n_taps):
                acc += (t0[j] + f * (t1[j] - t0[j])) * r[j]
            out[b, w] = acc


@njit(parallel=True, cache=True, fastmath=True)
def render_grad(v_c: np.ndarray, sig: np.ndarray, shift_px: np.ndarray, weights: np.ndarray, pixel_node: np.ndarray,
                offsets: np.ndarray, pad: int, lsf_table: np.ndarray, base: np.ndarray, tables: np.ndarray,
                tops: np.ndarray, resids: np.ndarray, grad_out: np.ndarray, grad_source: np.ndarray,
                grad_v_c: np.ndarray, grad_sig: np.ndarray, grad_shift: np.ndarray) -> None:
    """The adjoint of :func:`render` (the same arguments, and what it kept in ``tables``, ``tops`` and
    ``resids``; the source function itself is not needed) for ``grad_out`` (B, W) = ∂L/∂flux: writes ∂L/∂source
    (B, C, K), ∂L/∂v_c (B, C), ∂L/∂σ (B, G) and ∂L/∂shift (B,). The linear interpolations are differentiated
    within their cell (the cell index is piecewise constant), as torch differentiates the same arithmetic; in
    the shift that is the slope of the LSF's phase table (within 1e-3 of the Gaussian's derivative); an output
    pixel clamped to the grid's edge does not move with it."""
    n_spec, n_node, n_depth = grad_source.shape
    n_pix, n_v = sig.shape[1], weights.shape[0]
    n_phase, n_taps = lsf_table.shape[0] - 1, offsets.shape[0]
    for b in prange(n_spec):
        table, top, resid = tables[b], tops[b], resids[b]
        g_pad = np.zeros(n_pix + 2 * pad)  # ∂L/∂(padded residual): the LSF's transpose
        g_shift = 0.0
        for w in range(base.shape[0]):
            x = base[w] - shift_px[b]
            lo, row, f = lsf_locate(x, n_pix, n_phase)
            start = lo + offsets[0] + pad
            t0, t1, g = lsf_table[row], lsf_table[row + 1], grad_out[b, w]
            window, r = g_pad[start:start + n_taps], resid[start:start + n_taps]
            slope = 0.0
            for j in range(n_taps):
                window[j] += (t0[j] + f * (t1[j] - t0[j])) * g
                slope += (t1[j] - t0[j]) * r[j]
            if 0.0 < x < n_pix - 1.0:
                g_shift -= g * slope * n_phase  # ∂x/∂shift = −1, ∂phase/∂x = n_phase
        grad_shift[b] = g_shift
        for i in range(pad):  # the replicated edges belong to the first and last pixel
            g_pad[pad] += g_pad[i]
            g_pad[pad + n_pix - 1] += g_pad[n_pix + 2 * pad - 1 - i]
        g_table = np.zeros((n_node, n_v))
        g_top, inv_top, acc = np.zeros(n_node), 1.0 / top, np.empty(n_depth)
        for c in range(n_node):
            grad_v_c[b, c] = 0.0
        for p in range(n_pix):
            c = pixel_node[p]
            pos = v_c[b, c] * (n_v - 1) * sig[b, p]
            m = min(int(pos), n_v - 2)
            frac = pos - m
            slope = table[c, m + 1] - table[c, m]
            g_num = g_pad[pad + p] * inv_top[c]
            g_top[c] -= g_num * (table[c, m] + frac * slope) * inv_top[c]
            g_table[c, m] += (1.0 - frac) * g_num
            g_table[c, m + 1] += frac * g_num
            g_pos = g_num * slope * (n_v - 1)  # ∂L/∂(pos/(M − 1))
            grad_sig[b, p] = g_pos * v_c[b, c]
            grad_v_c[b, c] += g_pos * sig[b, p]
        for c in range(n_node):
            pos = v_c[b, c] * (n_v - 1)
            m = min(int(pos), n_v - 2)
            frac = pos - m
            g_table[c, m] += (1.0 - frac) * g_top[c]
            g_table[c, m + 1] += frac * g_top[c]
            grad_v_c[b, c] += g_top[c] * (table[c, m + 1] - table[c, m]) * (n_v - 1)
            acc[:] = 0.0
            for mm in range(n_v):
                g = g_table[c, mm]
                for k in range(n_depth):
                    acc[k] += weights[mm, k] * g
            grad_source[b, c, :] = acc
