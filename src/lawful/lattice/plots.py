"""PNG plots of a lattice analysis: Monte Carlo histories and normalized autocorrelation functions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lawful.lattice.analysis import Analysis

HISTORY_PNG = "history.png"
AUTOCORR_PNG = "autocorr.png"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(an: Analysis, path: Path) -> Path:
    """Histories of m²/V, |m|/V, S/V and ΔH per chain, with the thermalization cut marked."""
    plt = _pyplot()
    s = an.series
    panels = [("m2", r"$m^2/V$"), ("abs_m", r"$|m|/V$"), ("S", r"$S/V$"), ("dH", r"$\Delta H$")]
    if not np.any(np.isfinite(s["dH"])):
        panels = panels[:3]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.2 * len(panels)), sharex=True)
    t = np.arange(1, s["S"].shape[1] + 1)
    for ax, (key, label) in zip(axes, panels):
        scale = 1.0 if key == "dH" else 1.0 / an.volume
        for c in range(s[key].shape[0]):
            ax.plot(t, s[key][c] * scale, lw=0.5, alpha=0.8)
        ax.axvline(an.therm_cut, color="k", ls="--", lw=1)
        ax.set_ylabel(label)
    axes[0].set_title(f"{an.run_dir.name}: {an.n_chains} chain(s), thermalization cut {an.therm_cut} (dashed)")
    axes[-1].set_xlabel("update")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_autocorrelation(an: Analysis, path: Path) -> Path:
    """ρ(t) = Γ(t)/Γ(0) of m², |m| and S with the Γ-method summation window W marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, (rho, window) in an.rho.items():
        tmax = min(len(rho), max(3 * window, 10))
        line, = ax.plot(np.arange(tmax), rho[:tmax], lw=1.2,
                        label=f"{key}: τ_int = {an.estimates[key].tau_int:.1f} ± {an.estimates[key].tau_int_error:.1f}")
        ax.axvline(window, color=line.get_color(), ls=":", lw=1)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("lag t (updates)")
    ax.set_ylabel(r"$\rho(t)$")
    ax.set_title("normalized autocorrelation (dotted: Γ-method window)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_plots(an: Analysis) -> list[Path]:
    """Write both PNGs into the run directory; return their paths."""
    return [plot_history(an, an.run_dir / HISTORY_PNG), plot_autocorrelation(an, an.run_dir / AUTOCORR_PNG)]
