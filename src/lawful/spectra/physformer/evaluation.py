"""All generators (and the SPT) on one test set: reconstruction, physical violations, inversion across SNR.

For each generator, on noise-free held-out spectra x (continuum-normalised): ``recon_mse`` — the mean squared
error of its reconstruction G(ẑ), ẑ the χ² fit of the whole latent to x (σ = 0.001, uniform labels; the same
for every generator, from the encoder's latent where there is one); ``emulator_mse`` — of G at the true labels;
``encoder_mse`` — of G(E(x)), the autoencoders' one-pass reconstruction; ``physical_violations`` — the
fraction of generated spectra with a negative flux or a normalised flux above 1 + :data:`EMISSION_TOL`
(emission, which the forward model's LTE absorption spectra never show), for latents drawn from the prior
(labels uniform in the training box, free dimensions from their training distribution) and for the
inversions' best fits at every SNR; ``by_snr`` — per SNR and label the inversion's
``mae``, ``bias``, ``coverage68`` (fraction with |error| ≤ σ) and the fraction ``flagged``; ``seconds_per_1000``
the inversion's wall time per 1000 spectra. The SPT (direct regression with MC-dropout σ) gets ``by_snr`` only.
Every model sees the same noisy spectra (seeded per SNR).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SNRS = (5, 10, 20, 50, 100, 200)
EMISSION_TOL = 1e-4
FIT_IVAR = 1e6  # the reconstruction's χ² fit to a noise-free spectrum: as at SNR 1000
REPORTED = ("teff", "logg", "feh", "alpha", "vmic", "rv")


def violations(spectra: np.ndarray) -> np.ndarray:
    """(n,) bool: a negative flux or emission above the continuum (normalised flux > 1 + EMISSION_TOL)."""
    return (spectra.min(axis=1) < 0.0) | (spectra.max(axis=1) > 1.0 + EMISSION_TOL)


def label_rows(pred: dict[str, np.ndarray], sigma: dict[str, np.ndarray], truth: dict[str, np.ndarray]
               ) -> dict[str, dict[str, float]]:
    """{label: {mae, bias, coverage68}} for the labels both ``pred`` and ``truth`` have."""
    rows = {}
    for name in REPORTED:
        if name in pred and name in truth:
            err = pred[name] - truth[name]
            rows[name] = {"mae": float(np.mean(np.abs(err))), "bias": float(np.mean(err)),
                          "coverage68": float(np.mean(np.abs(err) <= sigma[name]))}
    return rows


def snr_noise(flux: np.ndarray, snr: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(noisy flux, ivar) (n, W) of spectra ``flux`` at ``snr``, drawn as :func:`evaluate` draws them for every
    model (seeded by ``seed`` and the SNR), so other comparisons can pair their errors with its."""
    from lawful.spectra.physformer.data import noisy

    return noisy(flux, snr, np.random.default_rng([seed, snr]))


def evaluate(data: Path, models: list[Path], snrs: tuple[int, ...] = SNRS, n: int = 300, seed: int = 0,
             spt: str | None = "giants", invert_cfg=None, n_prior: int = 1000, exact: bool = False,
             log=print) -> dict:
    """{model name: results} (module docstring) on the first ``n`` test spectra of ``data``; ``spt`` names a
    shipped SPT model (or a directory of one; None: no SPT); ``exact`` adds the forward model itself as a
    generator (:mod:`~lawful.spectra.physformer.exact`: no model error, the ideal)."""
    import torch

    from lawful.spectra.physformer.data import clean_split
    from lawful.spectra.physformer.inversion import InvertConfig, floor_warning, invert
    from lawful.spectra.physformer.model import load
    from lawful.spectra.synth import LABELS

    if not models and spt is None and not exact:
        raise ValueError("nothing to evaluate: give at least one --model (or an SPT, or the exact generator)")
    if any(s <= 0 for s in snrs):
        raise ValueError(f"every SNR must be positive, got {list(snrs)}")
    gens = {Path(p).name: load(p) for p in models}
    for name, gen in gens.items():
        if warning := floor_warning(gen, invert_cfg):
            log(f"{name}: warning: {warning}")
    config = next(iter(gens.values())).meta["config"] if gens else {"vmic_scatter": 0.3, "seed": 0}
    scatter = config["vmic_scatter"]
    if exact:
        from lawful.spectra.physformer.exact import NAME, forward_generator

        gens[NAME] = forward_generator(data, scatter, config["seed"])
    test = clean_split(data, "test", scatter, seed, n)
    truth = {name: test["labels"][:, j] for j, name in enumerate(LABELS)}
    noisy_sets = {s: snr_noise(test["flux"], s, seed) for s in snrs}
    results: dict[str, dict] = {}
    for name, gen in gens.items():
        log(f"{name}: reconstruction and prior samples")
        fit = invert(gen, test["flux"], np.full_like(test["flux"], FIT_IVAR), InvertConfig(nuisance=0, prior="box"))
        with torch.no_grad():
            x = torch.as_tensor(test["flux"])
            emulated = gen.decoder(gen.latent_of_labels(test["labels"])).numpy()
            recon = gen.decoder(torch.as_tensor(fit["z"], dtype=torch.float32)).numpy()
            encoded = gen.decoder(gen.encoder(x)).numpy() if gen.encoder is not None else None
            prior = gen.decoder(torch.as_tensor(gen.prior_draws(n_prior, np.random.default_rng(seed)),
                                                dtype=torch.float32)).numpy()
        row = {"recon_mse": float(np.mean((recon - test["flux"]) ** 2)),
               "emulator_mse": float(np.mean((emulated - test["flux"]) ** 2)),
               "encoder_mse": None if encoded is None else float(np.mean((encoded - test["flux"]) ** 2)),
               "physical_violations": {"prior": float(violations(prior).mean())}, "by_snr": {}}
        fits = []
        seconds = 0.0
        for s in snrs:
            flux, ivar = noisy_sets[s]
            t0 = time.perf_counter()
            out = invert(gen, flux, ivar, invert_cfg)
            seconds += time.perf_counter() - t0
            rows = label_rows(out["labels"], out["sigma"], truth)
            rows["flagged"] = float(out["flag"].mean())
            row["by_snr"][str(s)] = rows
            with torch.no_grad():
                fits.append(gen.decoder(torch.as_tensor(out["z"], dtype=torch.float32)).numpy())
            log(f"{name} SNR {s}: T_eff MAE {rows['teff']['mae']:.1f} K, log g {rows['logg']['mae']:.3f}, "
                f"[Fe/H] {rows['feh']['mae']:.3f}, flagged {rows['flagged']:.1%}")
        row["physical_violations"]["inversion"] = float(violations(np.concatenate(fits)).mean())
        row["seconds_per_1000"] = 1000.0 * seconds / (n * len(snrs))
        results[name] = row
    if spt is not None:
        results["spt"] = _spt(spt, noisy_sets, truth)
    return results


def _spt(spt: str, noisy_sets: dict, truth: dict[str, np.ndarray]) -> dict:
    """The SPT of the spectra issue by direct regression on the same noisy spectra."""
    from lawful.spectra.evaluate import predict
    from lawful.spectra.models import label_model

    state = label_model(spt)
    names = list(state["targets"])
    by_snr = {}
    for s, (flux, ivar) in noisy_sets.items():
        pred = predict(state, flux, ivar)
        mean = {n: pred["mean"][:, j] for j, n in enumerate(names)}
        sigma = {n: pred["sigma"][:, j] for j, n in enumerate(names)}
        by_snr[str(s)] = label_rows(mean, sigma, truth)
    return {"recon_mse": None, "emulator_mse": None, "encoder_mse": None, "physical_violations": None,
            "by_snr": by_snr}

