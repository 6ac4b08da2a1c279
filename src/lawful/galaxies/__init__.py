"""Galaxies: photometric redshifts of real SDSS galaxies with calibrated p(z), and morphology from images.

Photometry of 10 000 real SDSS galaxies from the ``kcorrect`` wheel (:mod:`~lawful.galaxies.catalog`), photo-z
methods cross-validated side by side (:mod:`~lawful.galaxies.photoz`), then trained once, saved and applied to
new tables (:mod:`~lawful.galaxies.photoz_model`), with a BPZ-like template fit
(:mod:`~lawful.galaxies.templates`) and a mixture density network (:mod:`~lawful.galaxies.mdn`), metrics in
:mod:`~lawful.galaxies.metrics`; simulated SDSS-like cutouts with ``galsim`` and morphology classifiers in
:mod:`~lawful.galaxies.morphology`.
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "sdss_galaxies": "catalog", "PhotozConfig": "photoz", "cross_validate": "photoz", "TemplateFit": "templates",
    "PhotozModel": "photoz_model",
})
