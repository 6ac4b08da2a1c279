"""PNG plots of a lattice analysis: Monte Carlo histories (for U(1) the charge history and histogram) and
normalized autocorrelation functions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lawful.lattice.chain_analysis import Analysis

HISTORY_PNG = "history.png"
AUTOCORR_PNG = "autocorr.png"
CHARGE_PNG = "charge.png"


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
    """ρ(t) = Γ(t)/Γ(0) of m², |m| and S (U(1): Q, Q², plaquette) with the Γ-method summation window W marked."""
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


def plot_charge(an: Analysis, path: Path) -> Path:
    """U(1): the history of Q and the plaquette per chain, and the histogram of Q after the cut with a Gaussian of
    the exact ⟨Q²⟩ (the finite-volume distribution is close to it)."""
    plt = _pyplot()
    s = an.series
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [3, 1]})
    t = np.arange(1, s["Q"].shape[1] + 1)
    for c in range(s["Q"].shape[0]):
        axes[0].plot(t, s["Q"][c], lw=0.6, alpha=0.8, drawstyle="steps-mid")
    axes[0].axvline(an.therm_cut, color="k", ls="--", lw=1)
    axes[0].set_xlabel("update")
    axes[0].set_ylabel("Q")
    tau = an.estimates["Q"].tau_int
    axes[0].set_title(f"{an.run_dir.name}: β = {an.beta:g}, L = {an.size}; τ_int(Q) = {tau:.1f}")
    q = s["Q"][:, an.therm_cut:].ravel()
    edges = np.arange(q.min() - 0.5, q.max() + 1.5)
    axes[1].hist(q, bins=edges, density=True, color="0.6", label="measured")
    q2 = an.reference.get("Q2")
    if q2:
        grid = np.arange(edges[0] + 0.5, edges[-1])
        gauss = np.exp(-grid**2 / (2 * q2))
        axes[1].plot(grid, gauss / gauss.sum(), "o-", color="C3", ms=3, label=f"Gaussian, exact ⟨Q²⟩={q2:.3f}")
    axes[1].set_xlabel("Q")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_plots(an: Analysis) -> list[Path]:
    """Write the PNGs into the run directory (histories or, for U(1), the charge history and histogram; the
    autocorrelation functions); return their paths."""
    first = plot_charge(an, an.run_dir / CHARGE_PNG) if "Q" in an.series else plot_history(an, an.run_dir / HISTORY_PNG)
    return [first, plot_autocorrelation(an, an.run_dir / AUTOCORR_PNG)]
