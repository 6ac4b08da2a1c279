"""Plots of one-zone burns: mass fractions X(t) and temperature T(t)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_cell(result, path: Path, zone: int = 0, x_min: float = 1e-8) -> Path:
    """Two log-log panels, X_i(t) for nuclei that exceed ``x_min`` and T(t); written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, axT) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    X = result.X[zone]
    for i, name in enumerate(result.names):
        if X[:, i].max() > x_min:
            ax.loglog(result.t, np.maximum(X[:, i], x_min * 1e-2), label=name, color=plt.cm.tab20(i % 20))
    ax.set_ylim(x_min, 2)
    ax.set_ylabel("mass fraction X")
    ax.legend(ncol=4, fontsize=8)
    axT.semilogx(result.t, result.T[zone])
    axT.set_xlabel("t (s)")
    axT.set_ylabel("T (K)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
