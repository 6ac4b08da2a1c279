"""SDSS-like g, r, i cutouts of elliptical, spiral and irregular galaxies drawn with ``galsim``.

Geometry and noise are SDSS's: 0.396″ pixels, a Moffat PSF (β = 3.5) of FWHM 1.4″ ± 0.15″, a flat sky and
Poisson noise on sky plus galaxy (gain 1), drawn after the noiseless bands are scaled to the requested SNR.
Classes (labels 0, 1, 2):

* **E** — early types, as the three-class scheme has no S0 class: S means spiral structure, not a disk.
  70 % ellipticals, one Sérsic profile, n ∈ [3, 5.5] in steps of 0.25, axis ratio q ∈ [0.3, 1] (E0–E7);
  30 % lenticulars (:data:`LENTICULAR_FRACTION`), a de Vaucouleurs bulge (B/T ∈ [0.3, 0.8], r_e = 0.3–0.6 of the
  disk's) and a smooth exponential disk at inclination up to 80°, no arms; all red (g − r ≈ 0.75, r − i ≈ 0.40;
  5 % blue);
* **S** — a de Vaucouleurs bulge (B/T ∈ [0.05, 0.4], r_e = 0.2–0.4 of the disk's) plus an exponential disk
  seen at inclination i (q = cos i, floored at 0.2) whose surface brightness is multiplied by a logarithmic
  spiral, 1 + A cos(m(φ − ln(r / r_d) / tan p)), m = 2, pitch p ∈ [12°, 30°], A ∈ [0.4, 0.9] in the disk plane;
  the disk is bluer (g − r ≈ 0.45; 20 % are red, passive disks) and the arms bluer still;
* **Irr** — 4–12 star-forming knots (galsim's RandomKnots) over a faint lopsided exponential, blue
  (g − r ≈ 0.30; 10 % dusty and red). Every colour scatters by 0.08 mag.

Half-light radii are log-uniform in [1.2″, 5″] and the r-band signal-to-noise ratio — the light inside a circle
of radius 2 (r_e² + (FWHM/2)²)^½ over the Poisson noise of sky and galaxy in it — log-uniform in [20, 200];
``difficulty`` ∈ [0, 1] shrinks both ranges
towards small, faint galaxies (at 1: r_e ∈ [0.7″, 2.5″], SNR ∈ [8, 60]) and weakens arms and knots.
"""

from __future__ import annotations

import functools

import numpy as np

CLASSES = ("E", "S", "Irr")
BANDS = ("g", "r", "i")
PIXEL = 0.396  #: arcsec per pixel
SIZE = 52  #: cutout side (pixels)
SKY = 300.0  #: sky level per pixel (counts) in every band
#: (g − r, r − i) of each component: E, spiral bulge, spiral disk, arms, irregular body, knots, and the
#: colour outliers that keep colour alone from deciding the class: blue ellipticals, red (passive) spiral disks,
#: dusty irregulars
COLOURS = {"E": (0.75, 0.40), "bulge": (0.75, 0.40), "disk": (0.45, 0.25), "arms": (0.30, 0.15),
           "irr": (0.40, 0.20), "knots": (0.15, 0.05), "blue E": (0.50, 0.25), "red disk": (0.72, 0.38),
           "dusty irr": (0.62, 0.32)}
#: the fraction of each class whose colours are the outliers above
OUTLIERS = {"E": ("blue E", 0.05), "disk": ("red disk", 0.2), "irr": ("dusty irr", 0.1)}
COLOUR_SCATTER = 0.08  #: mag, per colour and component
LENTICULAR_FRACTION = 0.3  #: the fraction of the E class drawn as S0s (bulge + smooth disk)


def _band_weights(component: str, rng: np.random.Generator) -> np.ndarray:
    """Relative g, r, i fluxes (r = 1) of a component, with :data:`COLOUR_SCATTER` per colour."""
    if component in OUTLIERS and rng.random() < OUTLIERS[component][1]:
        component = OUTLIERS[component][0]
    gr, ri = np.asarray(COLOURS[component]) + rng.normal(0.0, COLOUR_SCATTER, 2)
    return np.array([10 ** (-0.4 * gr), 1.0, 10 ** (0.4 * ri)])


def _spiral_disk(r_e: float, q: float, beta: float, rng: np.random.Generator, difficulty: float):
    """The spiral-modulated, inclined exponential disk as a galsim InterpolatedImage (flux 1)."""
    import galsim

    fine = PIXEL / 3.0
    n = 3 * SIZE
    y, x = (np.mgrid[:n, :n] - (n - 1) / 2.0) * fine
    xp = x * np.cos(beta) + y * np.sin(beta)
    yp = (-x * np.sin(beta) + y * np.cos(beta)) / q
    r_d = r_e / 1.678
    r = np.hypot(xp, yp) + 1e-3
    phi = np.arctan2(yp, xp)
    pitch = np.radians(rng.uniform(12.0, 30.0))
    amp = rng.uniform(0.4, 0.9) * (1.0 - 0.5 * difficulty)
    arms = 1.0 + amp * np.cos(2.0 * (phi - np.log(r / r_d) / np.tan(pitch)) + rng.uniform(0, 2 * np.pi))
    disk = np.exp(-r / r_d)
    image = galsim.Image(disk * arms, scale=fine)
    arm_only = galsim.Image(disk * (arms - 1.0 + amp), scale=fine)
    return (galsim.InterpolatedImage(image, flux=1.0, x_interpolant="linear"),
            galsim.InterpolatedImage(arm_only, flux=1.0, x_interpolant="linear"))


def _disk_axis_ratio(rng: np.random.Generator) -> float:
    """The apparent axis ratio of a thin disk at a random inclination up to 80°, floored at 0.2 (its thickness)."""
    return max(float(np.cos(rng.uniform(0.0, np.radians(80.0)))), 0.2)


def _bulge(r_e: float, disk_q: float, beta: float):
    """A de Vaucouleurs bulge of half-light radius ``r_e`` (arcsec), rounder than its disk by 0.4 in q."""
    import galsim

    return galsim.DeVaucouleurs(half_light_radius=r_e).shear(q=min(1.0, disk_q + 0.4), beta=beta * galsim.radians)


def draw_galaxy(label: int, rng: np.random.Generator, difficulty: float = 0.0) -> tuple[np.ndarray, dict]:
    """One galaxy of class ``label``: (3, 52, 52) float32 sky-subtracted counts in g, r, i, and its parameters."""
    import galsim

    lo_re, hi_re = np.log(1.2 - 0.5 * difficulty), np.log(5.0 - 2.5 * difficulty)
    r_e = float(np.exp(rng.uniform(lo_re, hi_re)))
    snr = float(np.exp(rng.uniform(np.log(20.0 - 12.0 * difficulty), np.log(200.0 - 140.0 * difficulty))))
    beta = rng.uniform(0.0, np.pi)
    fwhm = float(np.clip(rng.normal(1.4, 0.15), 1.0, 2.0))
    psf = galsim.Moffat(beta=3.5, fwhm=fwhm)
    comps = []  # (galsim profile of flux 1, g/r/i weights, fraction of the r flux)
    kind = CLASSES[label]
    if kind == "E" and rng.random() < LENTICULAR_FRACTION:
        kind = "S0"
        bt = rng.uniform(0.3, 0.8)
        q = _disk_axis_ratio(rng)
        disk = galsim.Exponential(half_light_radius=r_e).shear(q=q, beta=beta * galsim.radians)
        colour = _band_weights("E", rng)  # one stellar population: bulge and disk alike
        comps += [(_bulge(r_e * rng.uniform(0.3, 0.6), q, beta), colour, bt), (disk, colour, 1 - bt)]
    elif kind == "E":
        n = round(rng.uniform(3.0, 5.5) * 4) / 4  # steps of 0.25: galsim caches each n's Hankel table
        q = rng.uniform(0.3, 1.0)  # E0 to E7
        prof = galsim.Sersic(n=n, half_light_radius=r_e).shear(q=q, beta=beta * galsim.radians)
        comps.append((prof, _band_weights("E", rng), 1.0))
    elif kind == "S":
        bt = rng.uniform(0.05, 0.4)
        q = _disk_axis_ratio(rng)
        disk, arms = _spiral_disk(r_e, q, beta, rng, difficulty)
        comps += [(_bulge(r_e * rng.uniform(0.2, 0.4), q, beta), _band_weights("bulge", rng), bt),
                  (disk, _band_weights("disk", rng), 0.8 * (1 - bt)),
                  (arms, _band_weights("arms", rng), 0.2 * (1 - bt))]
    else:
        knots = int(rng.integers(4, 13 - int(4 * difficulty)))
        frac = rng.uniform(0.3, 0.6) * (1.0 - 0.3 * difficulty)
        body = galsim.Exponential(half_light_radius=r_e).shear(q=rng.uniform(0.4, 1.0), beta=beta * galsim.radians)
        body = body.shift(*(rng.normal(0.0, 0.15 * r_e, 2)))
        clumps = galsim.RandomKnots(knots, half_light_radius=r_e, flux=1.0, rng=galsim.BaseDeviate(
            int(rng.integers(1, 2**31 - 1))))
        comps += [(body, _band_weights("irr", rng), 1 - frac), (clumps, _band_weights("knots", rng), frac)]
    noiseless = np.stack([galsim.Convolve(galsim.Add([prof.withFlux(w[b] * f) for prof, w, f in comps]), psf)
                          .drawImage(nx=SIZE, ny=SIZE, scale=PIXEL).array for b in range(3)])
    images = observe(noiseless, snr, np.hypot(r_e, fwhm / 2.0) / PIXEL, rng)
    params = {"label": label, "kind": kind, "r_e": r_e, "snr": snr, "fwhm": fwhm, "difficulty": difficulty}
    return images, params


def observe(noiseless: np.ndarray, snr: float, r_e: float, rng: np.random.Generator) -> np.ndarray:
    """Sky-subtracted counts (B, 52, 52) float32 of noiseless bands (B, 52, 52) centred at the cutout's centre,
    scaled so that the r band's light (the middle band) inside radius 2 ``r_e`` (pixels) over the Poisson noise
    of sky and galaxy in it is ``snr``: S / √(S + N_pix · sky) = SNR; then sky :data:`SKY` and Poisson noise."""
    y, x = np.indices((SIZE, SIZE)) - (SIZE - 1) / 2.0
    aperture = np.hypot(y, x) <= 2.0 * r_e
    n_pix = aperture.sum()
    signal = 0.5 * snr**2 * (1.0 + np.sqrt(1.0 + 4.0 * n_pix * SKY / snr**2))
    r_band = noiseless[len(noiseless) // 2]
    expected = np.clip(noiseless * (signal / r_band[aperture].sum()), 0.0, None) + SKY
    return (rng.poisson(expected) - SKY).astype(np.float32)


@functools.cache
def psf_image(fwhm: float = 1.4) -> np.ndarray:
    """The simulator's Moffat PSF (β = 3.5) of ``fwhm`` arcsec on 0.396″ pixels, (25, 25), read-only (drawn once
    per FWHM); the wings beyond the stamp (0.13 % of the light at 1.4″) are cut."""
    import galsim

    image = galsim.Moffat(beta=3.5, fwhm=fwhm).drawImage(nx=25, ny=25, scale=PIXEL).array
    image.flags.writeable = False
    return image


def _draw_chunk(task: tuple[int, float, np.random.SeedSequence]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    count, difficulty, seq = task
    rng = np.random.default_rng(seq)
    labels = rng.integers(0, len(CLASSES), count)
    images = np.empty((count, 3, SIZE, SIZE), np.float32)
    meta = np.empty((count, 4))
    for j, label in enumerate(labels):  # one galsim rendering per galaxy (its C++ loops over pixels)
        images[j], p = draw_galaxy(int(label), rng, difficulty)
        meta[j] = (p["r_e"], p["snr"], p["fwhm"], p["kind"] == "S0")
    return images, labels, meta


def simulate(n: int, seed: int, difficulty: float = 0.0, chunk: int = 500, scheduler: str | None = None,
             n_workers: int | None = None) -> dict[str, np.ndarray]:
    """``n`` cutouts with balanced random classes: images (n, 3, 52, 52) float32 counts, labels (n,),
    r_e (″), snr, psf_fwhm (″), lenticular (bool: an S0 of the E class). Chunks are seeded independently, so the
    result does not depend on workers."""
    from lawful.core.executor import run_tasks
    from lawful.core.rng import spawn_seeds

    if n < 1:
        raise ValueError(f"n = {n} cutouts: must be at least 1")
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty = {difficulty} must lie in [0, 1]")
    starts = list(range(0, n, chunk))
    seqs = spawn_seeds(seed, len(starts))
    parts = run_tasks(_draw_chunk, [(min(chunk, n - s), difficulty, q) for s, q in zip(starts, seqs)],
                      scheduler, n_workers)
    images = np.concatenate([p[0] for p in parts])
    meta = np.concatenate([p[2] for p in parts])
    return {"images": images, "labels": np.concatenate([p[1] for p in parts]), "r_e": meta[:, 0],
            "snr": meta[:, 1], "psf_fwhm": meta[:, 2], "lenticular": meta[:, 3].astype(bool)}


def lupton_rgb(images: np.ndarray, stretch: float = 60.0, q: float = 8.0) -> np.ndarray:
    """RGB (n, 52, 52, 3) uint8 from g, r, i (n, 3, 52, 52) with astropy's ``make_lupton_rgb`` (i→R, r→G, g→B)."""
    from astropy.visualization import make_lupton_rgb

    with np.errstate(invalid="ignore", divide="ignore"):  # astropy divides 0/0 on empty sky pixels
        return np.stack([make_lupton_rgb(im[2], im[1], im[0], stretch=stretch, Q=q) for im in images])
