"""Figures: what the PhysFormer generator learned (its atmospheres), and inversion errors against SNR."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: giants shown in the atmosphere figure: T_eff, log g, [Fe/H], [α/Fe], [C/Fe], [N/Fe], v_mic, RV
SHOWN = ((3900.0, 1.2, 0.0, 0.05, -0.05, 0.15, 2.1, 0.0), (4500.0, 2.4, 0.0, 0.05, -0.05, 0.15, 1.7, 0.0),
         (5000.0, 3.0, -1.0, 0.3, 0.0, 0.0, 1.5, 0.0))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def forward_model_opacity(labels: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """ln(κ_λ/min_λ κ_λ) (n, C) of the forward model's one-layer photosphere (H⁻, H bound-free, Thomson) for
    labels (n, 8) — what the generator's learned ln q is compared with."""
    import torch

    from lawful.spectra import atmosphere as atm

    t = torch.as_tensor(labels[:, 0])
    phot = atm.photosphere(t, torch.as_tensor(labels[:, 1]), 10.0 ** torch.as_tensor(labels[:, 2]))
    kappa = atm.continuum_opacity(torch.as_tensor(wave, dtype=torch.float64), t, phot["ne"], phot["n_h"]).numpy()
    return np.log(kappa / kappa.min(axis=1, keepdims=True))


def atmosphere_plot(gen, path: Path) -> Path:
    """Four panels for the giants of :data:`SHOWN`: T(τ) against the grey Eddington profile, the learned
    continuum opacity ln q against the forward model's photosphere, the learned ln η on the rest-frame grid,
    and the generated spectrum against the forward model's."""
    import torch

    from lawful.spectra.data import synthesize
    from lawful.spectra.physformer.radiative import TAU

    plt = _pyplot()
    labels = np.array(SHOWN)
    truth = synthesize(labels)
    with torch.no_grad():
        z = gen.latent_of_labels(labels)
        state = gen.decoder.atmosphere(z)
        spectra = gen.decoder(z).numpy()
    dec = gen.decoder
    rest = np.exp(dec.log_grid0 + dec.dln * np.arange(dec.n_pixels))
    nodes = dec.node_wave.double().numpy()
    kappa = forward_model_opacity(labels, nodes)
    fig, axes = plt.subplots(4, 1, figsize=(9, 12))
    for k, lab in enumerate(labels):
        tag = f"T_eff {lab[0]:.0f} K, log g {lab[1]:.1f}, [Fe/H] {lab[2]:+.1f}"
        grey = (0.75 * lab[0] ** 4 * (TAU + 2.0 / 3.0)) ** 0.25
        line = axes[0].plot(TAU[1:], state["temperature"][k, 1:].numpy(), label=tag)[0]
        axes[0].plot(TAU[1:], grey[1:], ls=":", color=line.get_color())
        axes[1].plot(nodes, state["log_q"][k].numpy(), color=line.get_color())
        axes[1].plot(nodes, kappa[k], ls=":", color=line.get_color())
        axes[2].plot(rest, state["log_eta"][k].numpy(), lw=0.4, color=line.get_color())
        axes[3].plot(gen.wave, truth[k] + 0.6 * k, lw=0.5, color="k")
        axes[3].plot(gen.wave, spectra[k] + 0.6 * k, lw=0.5, color=line.get_color())
    axes[0].set(xscale="log", xlabel="continuum optical depth τ", ylabel="T (K)",
                title="learned T(τ) (solid) and the grey Eddington profile (dotted)")
    axes[0].legend(fontsize=7)
    axes[1].set(xlabel="rest wavelength (Å)", ylabel="ln(κ_λ / κ_ref)",
                title="learned continuum opacity (solid) and the forward model's H⁻ + H photosphere (dotted)")
    axes[2].set(xlabel="rest wavelength (Å)", ylabel="ln η", title="learned line-to-continuum opacity ratio")
    axes[3].set(xlabel="wavelength (Å)", ylabel="normalised flux + offset",
                title="generator (colour) against the forward model (black)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def snr_plot(results: dict, path: Path, labels: tuple[str, ...] = ("teff", "logg", "feh")) -> Path:
    """Inversion MAE against SNR, one panel per label, one line per model."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(labels), figsize=(4 * len(labels), 3.4))
    for ax, label in zip(np.atleast_1d(axes), labels):
        for name, res in results.items():
            snr = [s for s in res["by_snr"] if label in res["by_snr"][s]]
            if snr:
                ax.plot([float(s) for s in snr], [res["by_snr"][s][label]["mae"] for s in snr], "o-", ms=3,
                        label=name)
        ax.set(xscale="log", yscale="log", xlabel="SNR per pixel", ylabel=f"MAE {label}")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
