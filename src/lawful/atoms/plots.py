"""Plots of a trained potential: force parity and learning curves (PNG, matplotlib's Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def parity_plot(pred: dict, folder: Path) -> Path:
    """Model against reference force components (eV/Å), written as ``parity.png`` into ``folder``."""
    plt = _pyplot()
    f, r = pred["forces"].ravel(), pred["forces_ref"].ravel()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(r, f, ",", alpha=0.3)
    lim = [r.min(), r.max()]
    ax.plot(lim, lim, "k-", lw=0.5)
    ax.set_xlabel("reference force (eV/Å)")
    ax.set_ylabel("model force (eV/Å)")
    rmse = np.sqrt(np.mean((f - r) ** 2))
    ax.set_title(f"force RMSE {1e3 * rmse:.1f} meV/Å")
    return _save(plt, fig, folder / "parity.png")


def learning_curves(histories: list[list[dict]], folder: Path) -> Path:
    """Validation force and energy RMSE against training step for each committee member, as ``learning.png``."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
    for k, hist in enumerate(histories):
        steps = [h["step"] for h in hist]
        axes[0].loglog(steps, [h["force_rmse_mev_a"] for h in hist], label=f"member {k}")
        axes[1].loglog(steps, [h["energy_rmse_mev_atom"] for h in hist], label=f"member {k}")
    axes[0].set_ylabel("validation force RMSE (meV/Å)")
    axes[1].set_ylabel("validation energy RMSE (meV/atom)")
    for ax in axes:
        ax.set_xlabel("step")
    axes[0].legend(fontsize=7)
    return _save(plt, fig, folder / "learning.png")


def krr_curves_plot(curves: dict, path: Path) -> Path:
    """Test MAE (kcal/mol) against training size, log-log, one line per label of ``curves`` (lists of points
    with ``n_train`` and ``mae``), with the fitted slope in the legend; written to ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for label, points in curves.items():
        n = np.array([p.n_train for p in points])
        mae = np.array([p.mae for p in points])
        slope = np.polyfit(np.log(n), np.log(mae), 1)[0] if len(n) > 1 else float("nan")
        ax.loglog(n, mae, "o-", label=f"{label} (slope {slope:.2f})")
    ax.axhline(1.0, color="k", lw=0.5, ls="--")
    ax.set_xlabel("training molecules N")
    ax.set_ylabel("test MAE (kcal/mol)")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)
