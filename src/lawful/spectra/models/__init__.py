"""Shipped spectra models: ``giants`` — an SPT (Hadamard attention, its own σ per star by the β-NLL, MC dropout
0.03) trained for 20 minutes on 16 000 synthetic LAMOST giants of seed 1 with fresh noise and masked bands in a
fifth of them (``mask_prob`` 0.2: the config of benchmarks/spectra_labels.py's ``spt-gauss-lowdrop`` row with
holes, stop 51; docs/spectra.md, "Masked pixels");
``physformer`` — the PhysFormer
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


def label_model(name_or_dir: str | Path) -> dict:
    """The state of a trained label model: ``name_or_dir`` is its directory, or else a shipped model's name."""
    from lawful.spectra.evaluate import load_model

    return load_model(Path(name_or_dir)) if Path(name_or_dir).is_dir() else shipped(str(name_or_dir))


def shipped_generator(name: str = "physformer"):
    """A shipped PhysFormer-family generator (:class:`lawful.spectra.physformer.model.Generator`)."""
    from lawful.spectra.physformer.model import load

    return load(MODELS / name)
