"""Cheap image measurements of cutouts, batched in numpy: the CNNs' extra features and the inputs of the
non-parametric baseline.

``extra_features`` gives per galaxy (n, 5): g − r and r − i inside the r-band 2 r_50 aperture (mag), log10 r_50
(pixels), concentration C = 5 log10(r_80 / r_20) and the ellipticity 1 − b/a from the second moments of the
r-band light (pixels above 1σ of the sky).
"""

from __future__ import annotations

import numpy as np

EXTRA = ("g-r", "r-i", "log_r50", "C", "ellipticity")


def _sky_sigma(images: np.ndarray) -> np.ndarray:
    """Robust sky σ of each band from the 4-pixel border: (n, B)."""
    border = np.concatenate([images[..., :4, :].reshape(*images.shape[:2], -1),
                             images[..., -4:, :].reshape(*images.shape[:2], -1),
                             images[..., 4:-4, :4].reshape(*images.shape[:2], -1),
                             images[..., 4:-4, -4:].reshape(*images.shape[:2], -1)], axis=-1)
    return 1.4826 * np.median(np.abs(border - np.median(border, axis=-1, keepdims=True)), axis=-1) + 1e-12


def check_images(images: np.ndarray, bands: int | None = None) -> np.ndarray:
    """Refuse anything but finite (n, B, H, W) cutouts, B = ``bands`` when given, H = W ≥ 16."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[2] != images.shape[3] or images.shape[2] < 16:
        raise ValueError(f"images must be (n, bands, H, W) with H = W ≥ 16, got shape {images.shape}")
    if bands is not None and images.shape[1] != bands:
        raise ValueError(f"images have {images.shape[1]} band(s); this model needs {bands}")
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{int(np.sum(~np.isfinite(images)))} pixels are NaN or infinite")
    return images


def _radii(flux: np.ndarray, fractions: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radii (pixels) enclosing ``fractions`` of the light inside the cutout, centroids (n, 2), radius maps."""
    n, h, w = flux.shape
    pos = np.clip(flux, 0.0, None)
    total = pos.sum(axis=(1, 2)) + 1e-12
    y, x = np.mgrid[:h, :w]
    cy = (pos * y).sum(axis=(1, 2)) / total
    cx = (pos * x).sum(axis=(1, 2)) / total
    r = np.hypot(y[None] - cy[:, None, None], x[None] - cx[:, None, None])
    order = np.argsort(r.reshape(n, -1), axis=1)
    r_sorted = np.take_along_axis(r.reshape(n, -1), order, axis=1)
    cum = np.cumsum(np.take_along_axis(flux.reshape(n, -1), order, axis=1), axis=1)
    cum /= np.maximum(cum[:, -1:], 1e-12)
    out = [r_sorted[np.arange(n), np.argmax(cum >= f, axis=1)] + 0.5 for f in fractions]
    return np.stack(out, axis=1), np.c_[cy, cx], r


def extra_features(images: np.ndarray) -> np.ndarray:
    """(n, 5) features of g, r, i cutouts (n, 3, H, W); see the module docstring."""
    images = check_images(images, 3)
    rad, centre, r = _radii(images[:, 1], (0.2, 0.5, 0.8))
    aperture = r <= 2.0 * rad[:, 1:2, None]
    flux = np.clip((images * aperture[:, None]).sum(axis=(2, 3)), 1e-3, None)
    mags = -2.5 * np.log10(flux)
    sigma = _sky_sigma(images[:, 1:2])[:, 0]
    light = np.where(images[:, 1] > sigma[:, None, None], images[:, 1], 0.0)
    h, w = images.shape[2:]
    y, x = np.mgrid[:h, :w]
    dy = y[None] - centre[:, 0, None, None]
    dx = x[None] - centre[:, 1, None, None]
    total = light.sum(axis=(1, 2)) + 1e-12
    mxx, myy, mxy = ((light * d).sum(axis=(1, 2)) / total for d in (dx * dx, dy * dy, dx * dy))
    root = np.sqrt(((mxx - myy) / 2) ** 2 + mxy**2)
    a2, b2 = (mxx + myy) / 2 + root, np.maximum((mxx + myy) / 2 - root, 1e-6)
    return np.c_[mags[:, 0] - mags[:, 1], mags[:, 1] - mags[:, 2], np.log10(rad[:, 1]),
                 5.0 * np.log10(rad[:, 2] / rad[:, 0]), 1.0 - np.sqrt(b2 / a2)]
