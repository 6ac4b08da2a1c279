"""The forward model's per-pixel work fused in one numba kernel, for inference (no gradients).

:class:`~lawful.spectra.synth.Synthesizer` computes the per-star and per-line physics in torch (small (B,) and
(B, L) arrays); this kernel does everything that touches the model grid — the Balmer and strong-line profiles in
their windows (the formulas of :func:`~lawful.spectra.profiles.stark_profile` and
:func:`~lawful.spectra.profiles.pseudo_voigt`), the bands, the sum into η, the Milne–Eddington residual, the
weak-line equivalent-width deposits — and then the instrument (:mod:`~lawful.spectra.instrument_kernel`), one
star at a time in per-thread buffers of the model grid (N pixels), so no (B, N) array is ever written. It agrees
with the torch path, which training and gradients use, to a few 1e-6 (tested; the LSF weights come from the
1024-phase table, and a Gaussian core is not evaluated beyond 38 σ, where it is below 1e-300 of its peak).

Work per spectrum at LAMOST sampling: ≈ 9000 window pixels (one power or division, rarely an exponential),
≈ 2.5e4 band multiply-adds, N = 5924 pixels × three interpolations and the ME formula, and W = 3462 output
pixels × 2 × 14 LSF taps.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from lawful.spectra.instrument_kernel import lsf_locate, replicate_edges

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_FWHM_PER_SIGMA = 2.3548200
#: (x/σ)² beyond which a Gaussian core is taken as zero (e^-722 < 1e-313)
_GAUSS_CUT = 1444.0


@njit(cache=True, fastmath=True, inline="always")
def _gauss(dx: float, sigma: float) -> float:
    u = (dx / sigma) ** 2
    return math.exp(-0.5 * u) / (sigma * _SQRT_2PI) if u < _GAUSS_CUT else 0.0


@njit(cache=True, fastmath=True, inline="always")
def _coarse(values: np.ndarray, lo: int, w: float) -> float:
    return values[lo] * (1.0 - w) + values[lo + 1] * w


@njit(cache=True, fastmath=True)
def _add_balmer(eta: np.ndarray, dx: np.ndarray, window: np.ndarray, strength: np.ndarray, stark: np.ndarray,
                core: np.ndarray) -> None:
    """η += strength × the Stark profile of each line (J,) at offsets dx (J, K) Å on pixels ``window``."""
    for j in range(window.shape[0]):
        w = 4.0 ** (2.0 / 3.0) * stark[j]
        inner = 1.0 - (1.0 + core[j] / w) ** -1.5
        sigma = 0.5 * core[j]
        for k in range(window.shape[1]):
            adx = abs(dx[j, k])
            prof = inner * _gauss(dx[j, k], sigma)
            if adx > core[j]:
                y = 1.0 + adx / w
                prof += 0.75 / w / (y * y * math.sqrt(y))
            eta[window[j, k]] += strength[j] * prof


@njit(cache=True, fastmath=True)
def _add_voigt(eta: np.ndarray, dx: np.ndarray, window: np.ndarray, strength: np.ndarray, sigma: np.ndarray,
               gamma: np.ndarray) -> None:
    """η += strength × the pseudo-Voigt profile (Gaussian σ, Lorentzian HWHM γ, Å) of each line (J,)."""
    for j in range(window.shape[0]):
        fg = _FWHM_PER_SIGMA * sigma[j]
        fl = 2.0 * gamma[j]
        f = (fg**5 + 2.69269 * fg**4 * fl + 2.42843 * fg**3 * fl**2 + 4.47163 * fg**2 * fl**3
             + 0.07842 * fg * fl**4 + fl**5) ** 0.2
        q = fl / f
        mix = 1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3
        half = 0.5 * f
        s = f / _FWHM_PER_SIGMA
        for k in range(window.shape[1]):
            d = dx[j, k]
            lorentz = half / (math.pi * (d * d + half * half))
            eta[window[j, k]] += strength[j] * (mix * lorentz + (1.0 - mix) * _gauss(d, s))


@njit(parallel=True, cache=True, fastmath=True)
def render(balmer_dx: np.ndarray, balmer_window: np.ndarray, balmer: np.ndarray, strong_dx: np.ndarray,
           strong_window: np.ndarray, strong: np.ndarray, band_amp: np.ndarray, band_shapes: np.ndarray,
           band_range: np.ndarray, haze: np.ndarray, fc_coarse: np.ndarray, b_coarse: np.ndarray,
           node_lo: np.ndarray, node_w: np.ndarray, weak_width: np.ndarray, weak_lo: np.ndarray,
           weak_to_lo: np.ndarray, weak_to_hi: np.ndarray, shift_px: np.ndarray, base: np.ndarray,
           offsets: np.ndarray, pad: int, lsf_table: np.ndarray, normalized: np.ndarray, continuum: np.ndarray,
           flux: np.ndarray) -> None:
    """Normalised flux, continuum and flux (B, W) into ``normalized``, ``continuum`` and ``flux``.

    Balmer lines: offsets ``balmer_dx`` (J, K) Å from the centres at model pixels ``balmer_window`` (J, K), and
    per star and line ``balmer`` (B, 3, J) = (line-to-continuum opacity strength, K F₀ in Å, core half-width in
    Å); strong lines likewise with ``strong`` (B, 3, J) = (strength, Gaussian σ, Lorentzian HWHM); molecular
    bands: amplitudes (B, n_b) times shapes (n_b, N), each nonzero only on pixels ``band_range`` (n_b, 2) =
    [start, stop); on the coarse nodes (B, C): the haze's η, the continuum F_c and the ME gradient b,
    interpolated to every pixel with ``node_lo``, ``node_w`` (N,); weak lines: equivalent widths (B, L) Å
    deposited on pixels ``weak_lo`` (L,) and ``weak_lo`` + 1 with weights ``weak_to_lo``, ``weak_to_hi`` (L,)
    (1/Å); then the instrument at Doppler shifts ``shift_px`` (B,) in grid pixels: output pixels at grid
    positions ``base`` (W,) at zero velocity, taps at consecutive ``offsets`` (2h,) reaching ``pad`` pixels
    beyond the grid, weights ``lsf_table`` (Q + 1, 2h) at Q + 1 phases (:class:`~lawful.spectra.instrument.LSF`).
    The model-grid buffers hold pixel p at p + ``pad``."""
    n_spec = band_amp.shape[0]
    n_pix = node_lo.shape[0]
    n_phase, n_taps = lsf_table.shape[0] - 1, offsets.shape[0]
    for b in prange(n_spec):
        eta = np.zeros(n_pix + 2 * pad)
        density = np.zeros(n_pix + 2 * pad)
        flux_c = np.empty(n_pix)
        grid = eta[pad:pad + n_pix]  # a view: model pixel p is grid[p]
        _add_balmer(grid, balmer_dx, balmer_window, balmer[b, 0], balmer[b, 1], balmer[b, 2])
        _add_voigt(grid, strong_dx, strong_window, strong[b, 0], strong[b, 1], strong[b, 2])
        for i in range(band_shapes.shape[0]):
            for p in range(band_range[i, 0], band_range[i, 1]):
                grid[p] += band_amp[b, i] * band_shapes[i, p]
        for p in range(n_pix):  # η becomes the residual R = (1 + g/(1 + η))/(1 + g)
            node, weight = node_lo[p], node_w[p]
            grad = _coarse(b_coarse[b], node, weight)
            total = grid[p] + _coarse(haze[b], node, weight)
            grid[p] = (1.0 + grad / (1.0 + total)) / (1.0 + grad)
            flux_c[p] = _coarse(fc_coarse[b], node, weight)
        replicate_edges(eta, pad)
        for line in range(weak_lo.shape[0]):
            density[pad + weak_lo[line]] += weak_width[b, line] * weak_to_lo[line]
            density[pad + weak_lo[line] + 1] += weak_width[b, line] * weak_to_hi[line]
        replicate_edges(density, pad)
        for out in range(base.shape[0]):
            pos = base[out] - shift_px[b]
            lo, row, f = lsf_locate(pos, n_pix, n_phase)
            start = lo + offsets[0] + pad
            t0, t1 = lsf_table[row], lsf_table[row + 1]
            r, d = eta[start:start + n_taps], density[start:start + n_taps]
            smooth = 0.0
            weak = 0.0
            for j in range(n_taps):
                w = t0[j] + f * (t1[j] - t0[j])
                smooth += w * r[j]
                weak += w * d[j]
            value = smooth * math.exp(-weak)
            x = min(max(pos, 0.0), n_pix - 1.000001)
            i = int(x)
            normalized[b, out] = value
            continuum[b, out] = flux_c[i] + (x - i) * (flux_c[i + 1] - flux_c[i])
            flux[b, out] = value * continuum[b, out]
