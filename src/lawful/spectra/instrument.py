"""The instrument shared by the forward model and the PhysFormer generator (torch, batched).

On a log-uniform grid with step Δlnλ: a Gaussian LSF at resolving power R (:func:`gaussian_lsf`,
:func:`convolve`), then a Doppler shift by RV and linear resampling onto the output wavelengths
(:func:`doppler_resample`). Shapes: spectra (B, N) on the grid → (B, W) on ``wave``.
"""

from __future__ import annotations

import math

import torch

C_KMS = 299792.458


def gaussian_lsf(resolution: float, dln: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Normalised Gaussian kernel (2h+1,) of FWHM λ/R on a grid of step ``dln`` in ln λ, cut at ±4σ."""
    sigma_px = 1.0 / (2.3548200 * resolution * dln)
    half = int(math.ceil(4.0 * sigma_px))
    k = torch.exp(-0.5 * (torch.arange(-half, half + 1, dtype=torch.float64) / sigma_px) ** 2)
    return (k / k.sum()).to(dtype)


def convolve(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """x (B, N) convolved with a symmetric ``kernel`` (2h+1,), edges replicated: a sum of shifted copies
    (faster than a one-channel conv1d)."""
    pad = len(kernel) // 2
    y = torch.nn.functional.pad(x[:, None], (pad, pad), mode="replicate")[:, 0]
    n = x.shape[1]
    out = kernel[0] * y[:, :n]
    for k in range(1, len(kernel)):
        out = out + kernel[k] * y[:, k:k + n]
    return out


def doppler_resample(values: torch.Tensor, log_grid0: float, dln: float, log_wave: torch.Tensor,
                     rv: torch.Tensor) -> torch.Tensor:
    """values (B, N) on the rest-frame grid ln λ_i = ``log_grid0`` + i ``dln``, observed at radial velocity
    ``rv`` (B,) km/s, sampled at ln λ = ``log_wave`` (W,) by linear interpolation → (B, W)."""
    shift = torch.log1p(rv.to(torch.float64) / C_KMS)  # ln(1 + v/c)
    pos = (log_wave[None, :] - shift[:, None] - log_grid0) / dln
    return gather_linear(values, pos)


def gather_linear(values: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """values (B, N) at fractional pixel positions pos (B, M) by linear interpolation (clamped to the ends)."""
    n = values.shape[1]
    p = pos.clamp(0.0, n - 1.000001)
    lo = p.floor().long()
    w = (p - lo).to(values.dtype)
    return torch.gather(values, 1, lo) * (1 - w) + torch.gather(values, 1, lo + 1) * w
