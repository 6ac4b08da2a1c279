"""Masked pixels: what a network reads in their place, and the masks it trains on so that it can read them.

Real spectra lose pixels (the dichroic overlap of LAMOST's arms near 5700–5900 Å, the faint blue end, bad
columns, sky residuals); `predict` masks every pixel with a NaN flux or a zero inverse variance. A torch model
reads a masked pixel as the training stars' mean flux there (:func:`fill_values`), which its per-pixel
standardisation maps to 0: no signal, rather than the continuum (flux 1), which inside a deep line is a large
false one. Trained with ``TrainConfig.mask_prob`` > 0, a network also sees such holes in training
(:func:`random_masks`): bands at random places, of random widths, and scattered pixels, so that it learns to
label from what is left and, with ``loss="gaussian"``, to widen its σ when what is left says less
(benchmarks/spectra_masked.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

#: widths of the masked bands in training, pixels (log-uniform between them)
BAND_WIDTHS = (4, 400)
#: most masked bands per training spectrum (uniform in 1 … this)
MAX_BANDS = 3
#: the largest fraction of scattered masked pixels in training (uniform in 0 … this, half of the masked spectra)
MAX_SCATTERED = 0.05


def fill_values(state: dict) -> np.ndarray | float:
    """What a model reads in a masked pixel: a torch model's training mean flux per pixel (W,) (the buffer of
    its standardisation), else the continuum, 1 (the forest and boosting read pixels as they are; The Cannon
    weighs a masked pixel by its zero inverse variance)."""
    net = state.get("net")
    return net["0.mean"].numpy() if net is not None and "0.mean" in net else 1.0


def random_masks(n: int, width: int, prob: float, generator: torch.Generator) -> torch.Tensor:
    """(n, width) bool: with probability ``prob`` a spectrum gets 1 … :data:`MAX_BANDS` bands of
    :data:`BAND_WIDTHS` pixels, placed uniformly so that they overlap either end as often as the middle, and half
    of those spectra also up to :data:`MAX_SCATTERED` of their pixels scattered at random."""
    import torch

    lo, hi = (math.log(w) for w in BAND_WIDTHS)
    widths = torch.exp(lo + (hi - lo) * torch.rand(n, MAX_BANDS, generator=generator)).round()
    starts = (torch.rand(n, MAX_BANDS, generator=generator) * (width + widths)).floor() - widths
    used = torch.arange(MAX_BANDS) < torch.randint(1, MAX_BANDS + 1, (n, 1), generator=generator)
    cols = torch.arange(width)
    masked = ((cols >= starts[..., None]) & (cols < (starts + widths)[..., None]) & used[..., None]).any(dim=1)
    scattered = torch.rand(n, 1, generator=generator) * MAX_SCATTERED * (torch.rand(n, 1, generator=generator) < 0.5)
    masked |= torch.rand(n, width, generator=generator) < scattered
    return masked & (torch.rand(n, 1, generator=generator) < prob)
