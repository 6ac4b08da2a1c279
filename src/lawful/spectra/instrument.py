"""The instrument shared by the forward model and the PhysFormer generator (torch, batched).

A spectrum sampled on a log-uniform rest-frame grid (step Δlnλ) is observed at radial velocity v through a
Gaussian LSF of FWHM λ/R and sampled at the output wavelengths. :class:`LSF` does all three in one step: each
output pixel is the Gaussian-weighted mean of the 2h grid pixels around its rest-frame position
x = (ln λ − ln(1 + v/c) − ln λ₀)/Δlnλ, with the weights at the exact offsets x − i, normalised. Earlier the LSF
was applied on the grid and the result interpolated linearly to x, which flattens an unresolved line's core by up
to h²/(8σ²) of its depth depending on the sub-pixel phase (4 % at the forward model's 4× oversampling); the
one-step filter has no such error, and its weights are positive and sum to one, so a flux between 0 and the
continuum stays there. With φ = x − ⌊x⌋ the weight of pixel ⌊x⌋ + m factorises,
exp(−(φ − m)²/2σ²) = exp(−φ²/2σ²) · (e^{φ/σ²})^m · exp(−m²/2σ²): two exponentials per output pixel.
:func:`doppler_resample` (linear) is kept for smooth curves such as the continuum. Shapes: spectra (B, N) on the
grid → (B, W) at the output wavelengths.
"""

from __future__ import annotations

import math

import numpy as np
import torch

C_KMS = 299792.458


class LSF:
    """Gaussian LSF of resolving power ``resolution`` on a grid of step ``dln`` in ln λ starting at ln λ₀ =
    ``log_grid0``, sampled at output wavelengths ``wave`` (Å): grid pixels ⌊x⌋ + m for m in ``offsets`` (2h,)."""

    def __init__(self, resolution: float, dln: float, log_grid0: float, wave: np.ndarray) -> None:
        self.sigma_px = 1.0 / (2.3548200 * resolution * dln)
        half = int(math.ceil(4.0 * self.sigma_px))
        self.offsets = np.arange(-half + 1, half + 1)
        self.pad = half  #: pixels beyond either end of the grid that the taps of an output pixel can reach
        self.dln, self.log_grid0 = dln, log_grid0
        self.base = (np.log(np.asarray(wave, dtype=float)) - log_grid0) / dln  # x at zero velocity (W,)
        self._base_t = torch.as_tensor(self.base)

    def phase_table(self, n_phase: int = 1024) -> np.ndarray:
        """The normalised weights (n_phase + 1, 2h) at phases φ = 0, 1/n_phase, …, 1, for kernels that
        interpolate them linearly in φ instead of evaluating exponentials (relative error ≈ 1/(8 n_phase² σ²))."""
        phase = np.linspace(0.0, 1.0, n_phase + 1)
        table = np.exp(-0.5 * ((phase[:, None] - self.offsets[None, :]) / self.sigma_px) ** 2)
        return table / table.sum(axis=1, keepdims=True)

    def positions(self, rv: torch.Tensor) -> torch.Tensor:
        """Rest-frame grid positions x (B, W), float64, of the output pixels at velocities ``rv`` (B,) km/s."""
        return self._base_t[None, :] - torch.log1p(rv.to(torch.float64) / C_KMS)[:, None] / self.dln

    def __call__(self, values: torch.Tensor, rv: torch.Tensor) -> torch.Tensor:
        """values (B, N) on the grid → observed (B, W) at velocities ``rv`` (B,) km/s."""
        return self.apply([values], rv)[0]

    def apply(self, arrays: list[torch.Tensor], rv: torch.Tensor) -> list[torch.Tensor]:
        """Several spectra (each (B, N), one dtype) through the same filter, its weights computed once."""
        n = arrays[0].shape[1]
        dtype = arrays[0].dtype
        pos = self.positions(rv).clamp(0.0, n - 1.0)
        lo = pos.floor()
        phi = (pos - lo).to(dtype)
        pad = int(-self.offsets[0]), int(self.offsets[-1])
        lo = lo.long() + pad[0]  # index into the edge-padded arrays
        padded = [torch.nn.functional.pad(a[:, None], pad, mode="replicate")[:, 0] for a in arrays]
        inv_var = 1.0 / self.sigma_px**2
        ratio = torch.exp(phi * inv_var)  # e^{φ/σ²}
        power = torch.exp(-0.5 * phi**2 * inv_var) * ratio ** float(self.offsets[0])
        out = [torch.zeros_like(phi) for _ in arrays]
        total = torch.zeros_like(phi)
        for offset in self.offsets:
            w = power * math.exp(-0.5 * float(offset) ** 2 * inv_var)
            idx = lo + int(offset)
            for acc, a in zip(out, padded):
                acc.add_(w * torch.gather(a, 1, idx))
            total.add_(w)
            power = power * ratio
        return [acc / total for acc in out]


def doppler_resample(values: torch.Tensor, log_grid0: float, dln: float, log_wave: torch.Tensor,
                     rv: torch.Tensor) -> torch.Tensor:
    """values (B, N) on the rest-frame grid ln λ_i = ``log_grid0`` + i ``dln``, observed at radial velocity
    ``rv`` (B,) km/s, sampled at ln λ = ``log_wave`` (W,) by linear interpolation → (B, W) (for smooth curves)."""
    shift = torch.log1p(rv.to(torch.float64) / C_KMS)  # ln(1 + v/c)
    pos = (log_wave[None, :] - shift[:, None] - log_grid0) / dln
    n = values.shape[1]
    p = pos.clamp(0.0, n - 1.000001)
    lo = p.floor().long()
    w = (p - lo).to(values.dtype)
    return torch.gather(values, 1, lo) * (1 - w) + torch.gather(values, 1, lo + 1) * w
