"""Real images made to look like SDSS cutouts, so the simulated-data classifiers can be tried on them.

A real galaxy image (one band, or several) is "moved" to an SDSS-like distance: background subtracted (given,
or the median of the faintest of the four 4-pixel border strips), centred on its brightest smoothed peak,
rescaled (with anti-aliasing, ``skimage.transform.rescale``) so that its half-light radius becomes
``r50_pixels``, cropped to 52 × 52 with the peak where galsim centres the simulated galaxies, convolved with the
simulator's Moffat PSF (FWHM 1.4″ = 3.5 pixels) and given the simulator's sky and Poisson noise at an SNR of
``snr`` defined as the simulator defines it (:func:`~lawful.galaxies.morphology.simulate.observe`): a real image
differs from the training cutouts only in the galaxy.

Shipped real images, from ``mgefit``: NGC 4342 (HST WFPC2/PC F814W, 0.0455″ pixels) and M32 — whose HST PC
image the galaxy fills edge to edge, leaving no sky, so the INT I-band image (0.549″ pixels) that mgefit's own
example uses for M32's outer profile; both sky-subtracted with mgefit's ``sky_level`` (a Gaussian fitted to the
histogram); and scikit-image's Hubble Deep Field (RGB).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lawful.galaxies.morphology.simulate import PIXEL, SIZE, observe, psf_image


def mgefit_image(name: str) -> np.ndarray:
    """A sky-subtracted image shipped by ``mgefit``, (1, H, W) float32: ``ngc4342`` (HST F814W) or ``m32`` (INT I)."""
    import mgefit
    from astropy.io import fits
    from mgefit.sky_level import sky_level

    files = {"ngc4342": "ngc4342_f814w_pc.fits", "m32": "m32_i.fits"}
    if name not in files:
        raise ValueError(f"unknown mgefit image {name!r}; choose one of {sorted(files)}")
    with fits.open(Path(mgefit.__file__).parent / "images" / files[name]) as hdul:
        image = np.asarray(hdul[0].data, dtype=np.float64)
    sky, _ = sky_level(image, quiet=True)
    return (image - sky).astype(np.float32)[None]


def hubble_deep_field_cutouts(n: int = 6, size: int = 96) -> np.ndarray:
    """``n`` cutouts (n, 3, size, size) around the brightest sources of scikit-image's Hubble Deep Field RGB image
    (bands ordered blue, green, red as g, r, i; 8-bit display units)."""
    from scipy.ndimage import gaussian_filter
    from skimage.data import hubble_deep_field
    from skimage.feature import peak_local_max

    rgb = hubble_deep_field().astype(np.float32)
    grey = gaussian_filter(rgb.sum(axis=2), 3.0)
    half = size // 2
    peaks = peak_local_max(grey, min_distance=half, exclude_border=half, num_peaks=n)
    return np.stack([rgb[y - half:y + half, x - half:x + half, ::-1].transpose(2, 0, 1) for y, x in peaks])


def load_image(path: Path) -> np.ndarray:
    """A FITS (first image HDU; 2D or 3D), .npy or ordinary picture (PNG/JPEG: RGB → g, r, i) as (B, H, W)."""
    if not path.exists():
        raise FileNotFoundError(f"no image at {path}")
    suffix = "".join(path.suffixes).lower()
    if suffix.endswith((".fits", ".fit", ".fits.gz", ".fz")):
        from astropy.io import fits

        with fits.open(path) as hdul:
            data = next((h.data for h in hdul if h.data is not None and h.data.ndim >= 2), None)
        if data is None:
            raise ValueError(f"{path} has no 2D or 3D image HDU")
        image = np.asarray(data, dtype=np.float32)
    elif suffix.endswith(".npy"):
        image = np.load(path).astype(np.float32)
    else:
        from skimage.io import imread

        image = imread(path).astype(np.float32)
        if image.ndim == 3:
            image = image[..., :3][..., ::-1].transpose(2, 0, 1)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"{path}: an image must be 2D, or 3D with 1 or 3 bands (g, r, i); got shape {image.shape}")
    return image


#: the median intrinsic half-light radius of the simulated training galaxies, √(1.2″ · 5″) / 0.396″ (pixels)
TRAINING_R50 = 6.2


def _peak_and_r50(image: np.ndarray, sky: float | None) -> tuple[np.ndarray, int, int, float, int]:
    """The background-subtracted image, its smoothed peak (row, column), the half-light radius of the light
    within ``reach`` of the peak, and ``reach`` — the distance to the nearest edge of the field (pixels)."""
    from scipy.ndimage import gaussian_filter

    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or min(image.shape[1:]) < 16 or not np.all(np.isfinite(image)):
        raise ValueError(f"image must be finite (bands, H, W) with H, W ≥ 16, got shape {image.shape}")
    if sky is None:
        strips = (image[:, :4], image[:, -4:], image[:, :, :4], image[:, :, -4:])
        sky = np.min([np.median(s.reshape(len(image), -1), axis=1) for s in strips], axis=0)[:, None, None]
    image = image - sky
    light = image.sum(axis=0)
    smooth = gaussian_filter(light, 2.0)
    cy, cx = np.unravel_index(np.argmax(smooth), smooth.shape)
    y, x = np.indices(light.shape)
    r = np.hypot(y - cy, x - cx)
    reach = int(min(cy, cx, light.shape[0] - 1 - cy, light.shape[1] - 1 - cx))
    inside = r <= reach
    order = np.argsort(r[inside])
    cum = np.cumsum(np.clip(light[inside][order], 0, None))
    r50 = max(float(r[inside][order][np.searchsorted(cum, 0.5 * cum[-1])]), 0.5)
    return image, int(cy), int(cx), r50, reach


def field_extent(image: np.ndarray, sky: float | None = None) -> float:
    """How far the image's field reaches from the galaxy's peak, in half-light radii. Made SDSS-like at
    ``r50_pixels``, the field ends ``field_extent · r50_pixels`` pixels from the centre; inside the 52 × 52 cutout
    (under 26 pixels) that edge is an artificial truncation, which the CNNs read as a disk's edge."""
    _, _, _, r50, reach = _peak_and_r50(image, sky)
    return reach / r50


def sdss_like(image: np.ndarray, r50_pixels: float = TRAINING_R50, snr: float = 100.0, seed: int = 0,
              sky: float | None = None) -> np.ndarray:
    """A (B, 52, 52) float32 SDSS-like cutout of a real galaxy image (B, H, W) (see the module docstring);
    ``sky`` is the background to subtract (None: estimated from the border; 0 for sky-subtracted images)."""
    from scipy.ndimage import shift
    from scipy.signal import fftconvolve
    from skimage.transform import rescale

    image, cy, cx, r50, _ = _peak_and_r50(image, sky)
    scale = r50_pixels / r50
    out = np.stack([rescale(band, scale, anti_aliasing=scale < 1, preserve_range=True) for band in image])
    # the peak (at pixel centres of the input, scaled) goes where galsim centres the simulated galaxies,
    # (SIZE − 1) / 2, by an integer crop and a sub-pixel shift
    out = np.pad(out, ((0, 0), (SIZE, SIZE), (SIZE, SIZE)))
    centre = (np.array([cy, cx]) + 0.5) * scale - 0.5 + SIZE - (SIZE - 1) / 2.0
    start = np.floor(centre).astype(int)
    window = out[:, start[0]:start[0] + SIZE + 1, start[1]:start[1] + SIZE + 1]
    out = shift(window, (0, *(start - centre)), order=1)[:, :SIZE, :SIZE]
    psf = psf_image()
    out = np.stack([fftconvolve(band, psf, mode="same") for band in out])
    return observe(out, snr, float(np.hypot(r50_pixels, 0.7 / PIXEL)), np.random.default_rng(seed))
