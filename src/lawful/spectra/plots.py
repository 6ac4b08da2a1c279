"""Figures of label regression: predicted against true with σ, and the distribution of z = error/σ."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def label_plot(pred: dict[str, np.ndarray], truth: np.ndarray, names: tuple[str, ...], title: str, path: Path) -> Path:
    """Two rows: prediction against truth per label (σ as error bars on a subsample), and the histogram of
    z = error/σ in the standardised space against the unit normal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(names)
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.2))
    rng = np.random.default_rng(0)
    show = rng.choice(len(truth), size=min(300, len(truth)), replace=False)
    z_all = pred["z"] if "z" in pred else None
    for j, name in enumerate(names):
        ax = axes[0, j]
        ax.errorbar(truth[show, j], pred["mean"][show, j], yerr=pred["sigma"][show, j], fmt=".", ms=2, lw=0.5,
                    alpha=0.6)
        lo, hi = np.percentile(truth[:, j], [1, 99])
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("true", fontsize=8)
        if j == 0:
            ax.set_ylabel("predicted", fontsize=8)
        ax = axes[1, j]
        if z_all is not None:
            z = np.clip(z_all[:, j], -5, 5)
            ax.hist(z, bins=40, range=(-5, 5), density=True, alpha=0.7)
            grid = np.linspace(-5, 5, 200)
            ax.plot(grid, np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi), "k-", lw=0.8)
            ax.set_xlabel("z = error/σ", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
