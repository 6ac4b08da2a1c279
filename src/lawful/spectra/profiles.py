"""Line profiles and the curve of growth (torch, batched, differentiable).

``pseudo_voigt`` is the Thompson–Cox–Hastings pseudo-Voigt (area-normalised, 1/Å); ``stark_profile`` a
hydrogen line with quasi-static linear-Stark wings, F₀ = 1.25e-9 n_e^{2/3} the Holtsmark field;
``curve_of_growth`` the equivalent width of a Milne–Eddington line with a Voigt opacity profile, tabulated once
with scipy's exact Voigt function.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch


def pseudo_voigt(dx: torch.Tensor, sigma: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """Area-normalised Voigt profile (1/Å) at offsets ``dx`` (Å) for Gaussian σ and Lorentzian HWHM γ (Å)."""
    fg = 2.3548200 * sigma
    fl = 2.0 * gamma
    f = (fg**5 + 2.69269 * fg**4 * fl + 2.42843 * fg**3 * fl**2 + 4.47163 * fg**2 * fl**3
         + 0.07842 * fg * fl**4 + fl**5) ** 0.2
    q = fl / f
    mix = 1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3
    half = 0.5 * f
    lorentz = half / (math.pi * (dx**2 + half**2))
    s = f / 2.3548200
    gauss = torch.exp(-0.5 * (dx / s) ** 2) / (s * math.sqrt(2.0 * math.pi))
    return mix * lorentz + (1.0 - mix) * gauss


def stark_profile(dx: torch.Tensor, stark: torch.Tensor, core: torch.Tensor) -> torch.Tensor:
    """Area-normalised hydrogen-line profile (1/Å): quasi-static Stark wings outside ±``core``, a Gaussian core.

    The wings are the Holtsmark asymptote 1.5 (K F₀)^{3/2} |Δλ|^{-5/2} (Griem 1960, as in Kurucz's SOFBET) for
    the ions, doubled because far in the wings the electrons act quasi-statically too (Griem 1967: the factor
    1 + F_ns → 2), carried by the shape (3/4w)(1 + |Δλ|/w)^{-5/2} with w = 4^{2/3} K F₀ (``stark`` = K F₀, Å),
    whose area
    inside ±core, 1 − (1 + core/w)^{-3/2}, is given to a Gaussian of σ = core/2 (thermal and pixel width)."""
    w = 4.0 ** (2.0 / 3.0) * stark
    adx = dx.abs()
    wing = 0.75 / w * (1.0 + adx / w) ** -2.5
    inner = 1.0 - (1.0 + core / w) ** -1.5
    sigma = 0.5 * core
    gauss = torch.exp(-0.5 * (dx / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))
    return torch.where(adx > core, wing, torch.zeros_like(wing)) + inner * gauss


_LOGX = np.arange(-3.0, 8.01, 0.1)
_LOGA = np.arange(-4.0, 1.01, 0.1)


@functools.cache
def _cog_table() -> torch.Tensor:
    """log10 of I(x, a) = ∫ x φ/(1 + x φ) du, φ the unit-area Voigt profile in Doppler units, on (_LOGX, _LOGA)."""
    from scipy.special import voigt_profile

    u = np.concatenate([np.linspace(0.0, 10.0, 801)[:-1], np.geomspace(10.0, 1e7, 1500)])
    out = np.empty((len(_LOGX), len(_LOGA)))
    for j, loga in enumerate(_LOGA):
        phi = voigt_profile(u, 1.0 / math.sqrt(2.0), 10.0**loga)
        x = 10.0 ** _LOGX[:, None]
        integrand = x * phi / (1.0 + x * phi)
        out[:, j] = 2.0 * np.trapezoid(integrand, u, axis=1)
    return torch.from_numpy(np.log10(out))


def curve_of_growth(log_x: torch.Tensor, log_a: torch.Tensor) -> torch.Tensor:
    """I(x, a) in Doppler widths for log10 x (line strength over Doppler width) and log10 a (damping), any shape.

    Bilinear in the log-log table; below log x = −3 the linear part I = x; above the table the damping part
    I ∝ √x."""
    table = _cog_table().to(log_x.dtype)
    fx = ((log_x - _LOGX[0]) / 0.1).clamp(0, len(_LOGX) - 1.001)
    fa = ((log_a - _LOGA[0]) / 0.1).clamp(0, len(_LOGA) - 1.001)
    ix, ia = fx.floor().long(), fa.floor().long()
    wx, wa = fx - ix, fa - ia
    flat, row = table.reshape(-1), len(_LOGA)
    k = ix * row + ia  # flat index of the lower corner
    v = ((1 - wx) * (1 - wa) * torch.take(flat, k) + wx * (1 - wa) * torch.take(flat, k + row)
         + (1 - wx) * wa * torch.take(flat, k + 1) + wx * wa * torch.take(flat, k + row + 1))
    v = torch.where(log_x < _LOGX[0], log_x, v)
    v = torch.where(log_x > _LOGX[-1], v + 0.5 * (log_x - _LOGX[-1]), v)
    return 10.0**v
