"""Non-parametric morphology with ``statmorph`` — Gini, M20, concentration, asymmetry, smoothness, Sérsic n —
of the r band, the inputs of the random-forest baseline.

statmorph costs about 0.1 s per cutout, so it runs in chunks through :func:`lawful.core.executor.run_tasks`.
A galaxy statmorph flags as failed keeps NaNs, which the random forest treats as missing.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

NAMES = ("gini", "m20", "concentration", "asymmetry", "smoothness", "sersic_n")


def _chunk(r_band: np.ndarray) -> np.ndarray:
    import statmorph
    from photutils.segmentation import detect_sources

    logging.getLogger("statmorph").setLevel(logging.ERROR)
    out = np.full((len(r_band), len(NAMES)), np.nan)
    for j, image in enumerate(r_band):  # statmorph measures one galaxy at a time
        sky = 1.4826 * np.median(np.abs(image[:4] - np.median(image[:4])))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = detect_sources(image, 1.5 * sky, n_pixels=8)
            if seg is None:
                continue
            seg.keep_labels([seg.labels[np.argmax(seg.areas)]])
            m = statmorph.source_morphology(image, seg, gain=1.0)[0]
        if m.flag < 2:
            out[j] = [m.gini, m.m20, m.concentration, m.asymmetry, m.smoothness, m.sersic_n]
    return out


def morphology_parameters(images: np.ndarray, chunk: int = 200, scheduler: str | None = None,
                          n_workers: int | None = None) -> np.ndarray:
    """(n, 6) statmorph parameters (:data:`NAMES`) of the r band of (n, B, H, W) cutouts (r = band 1 of gri, or
    the only band)."""
    from lawful.core.executor import run_tasks
    from lawful.galaxies.morphology.measure import check_images

    images = check_images(images)
    r_band = images[:, 1] if images.shape[1] == 3 else images[:, 0]
    parts = run_tasks(_chunk, [r_band[i:i + chunk] for i in range(0, len(r_band), chunk)], scheduler, n_workers)
    return np.concatenate(parts)
