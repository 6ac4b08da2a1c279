"""Figures of the galaxies domain (matplotlib, Agg): photo-z scatter and PIT, confusion matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def photoz_figure(z_spec: np.ndarray, z_phot: np.ndarray, pit: np.ndarray, title: str, path: Path) -> None:
    """z_phot against z_spec (with the |Δz| = 0.05 outlier lines) and the PIT histogram, one PNG."""
    plt = _figure()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4))
    a.scatter(z_spec, z_phot, s=1, alpha=0.3)
    zz = np.linspace(0, max(z_spec.max(), z_phot.max()) * 1.05, 10)
    a.plot(zz, zz, "k-", lw=0.8)
    for s in (-0.05, 0.05):
        a.plot(zz, zz + s * (1 + zz), "r--", lw=0.6)
    a.set(xlabel="z_spec", ylabel="z_phot", title=title)
    b.hist(pit, bins=20, range=(0, 1), density=True)
    b.axhline(1.0, color="k", lw=0.8)
    b.set(xlabel="PIT", ylabel="density", title="PIT (flat when p(z) is calibrated)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def confusion_figure(confusion: np.ndarray, classes: list[str], title: str, path: Path) -> None:
    """A confusion matrix (rows true, columns predicted) with counts, one PNG."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.imshow(confusion, cmap="Blues")
    for (i, j), v in np.ndenumerate(confusion):
        ax.text(j, i, str(v), ha="center", va="center", color="k")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes, yticklabels=classes,
           xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cutout_figure(images: np.ndarray, labels: np.ndarray, path: Path) -> None:
    """A grid of cutouts (n, 3, H, W) as Lupton RGB images titled by class, one PNG."""
    from lawful.galaxies.morphology.simulate import CLASSES, lupton_rgb

    plt = _figure()
    rgb = lupton_rgb(images)
    cols = min(6, len(rgb))
    rows = -(-len(rgb) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.7 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, im, label in zip(axes.flat, rgb, labels):
        ax.imshow(im, origin="lower")
        ax.set_title(CLASSES[int(label)], fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
