"""Shipped spectra models: ``giants`` — an SPT (Hadamard attention, MSE on standardised labels, MC dropout) trained
for 20 minutes on 20 000 synthetic LAMOST giants with fresh noise (the ``spt`` row of benchmarks/spectra_labels.py,
stop 44; docs/spectra.md); ``physformer`` — the PhysFormer
generator of benchmarks/spectra_physformer.py without its encoder (:func:`shipped_generator`)."""

from __future__ import annotations

from pathlib import Path

#: directory of the shipped models
MODELS = Path(__file__).parent


def shipped(name: str = "giants") -> dict:
    """The state of a shipped model (for :func:`lawful.spectra.evaluate.predict`)."""
    from lawful.spectra.evaluate import load_model

    path = MODELS / name
    if not path.is_dir():
        names = sorted(p.name for p in MODELS.iterdir() if p.is_dir() and not p.name.startswith("_"))
        raise ValueError(f"no shipped spectra model {name!r}; there are {names}")
    return load_model(path)


def shipped_generator(name: str = "physformer"):
    """A shipped PhysFormer-family generator (:class:`lawful.spectra.physformer.model.Generator`)."""
    from lawful.spectra.physformer.model import load

    return load(MODELS / name)
