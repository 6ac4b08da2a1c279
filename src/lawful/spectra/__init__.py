"""Spectra: stellar spectra from a physical forward model, and stellar labels learned from them (Å vacuum, K, dex).

The forward model (:mod:`~lawful.spectra.synth`, torch, batched) on a one-layer photosphere
(:mod:`~lawful.spectra.atmosphere`) with lines from ``linetools`` (:mod:`~lawful.spectra.atomic`), checked
against Vega's CALSPEC spectrum and the Ramírez & Meléndez giant colours (:mod:`~lawful.spectra.anchors`);
labels from real APOGEE DR17 giants (:mod:`~lawful.spectra.labels`), data sets (:mod:`~lawful.spectra.data`),
the Spectral Transformer and baselines (:mod:`~lawful.spectra.networks`, :mod:`~lawful.spectra.cannon`,
:mod:`~lawful.spectra.train`, :mod:`~lawful.spectra.evaluate`); the PhysFormer, a generator with radiative
transfer inside it, and χ² inversion (:mod:`~lawful.spectra.physformer`); the instrument both generators share
(:mod:`~lawful.spectra.instrument`); how precisely a spectrum can measure its labels, the forward model's
Fisher information and Cramér–Rao bounds (:mod:`~lawful.spectra.information`).
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "Synthesizer": "synth", "DataConfig": "data", "TrainConfig": "train", "SPT": "networks", "Cannon": "cannon",
})
