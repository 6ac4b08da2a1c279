"""Predictions with σ from trained models, and the comparison table on a test split.

Per label: ``mpe`` mean percentage error 100·⟨|pred − true|/|true|⟩ (the SPT paper's metric, meaningful for mass
and age), ``mae`` and ``bias`` in the label's units, ``coverage68`` / ``coverage95`` the fraction of test stars
whose true label lies within ±1σ / ±1.96σ (in the standardised, log10 for mass and age, space, after the
validation recalibration), ``z_std`` the standard deviation of z = error/σ, and ``out_of_range`` the number of
test stars with a label outside the training range (flagged, not dropped).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_model(path: Path) -> dict:
    """A trained model directory's state (``model.pt`` or ``model.joblib``)."""
    path = Path(path)
    if (path / "model.joblib").exists():
        import joblib

        return joblib.load(path / "model.joblib")
    if (path / "model.pt").exists():
        import torch

        return torch.load(path / "model.pt", weights_only=False)
    raise FileNotFoundError(f"no model.pt or model.joblib in {path} (train one with `lawful spectra train`)")


def predict(state: dict, flux: np.ndarray, ivar: np.ndarray, wave: np.ndarray | None = None
            ) -> dict[str, np.ndarray]:
    """Labels and σ in physical units for spectra (n, W) on the model's grid: ``mean``, ``sigma`` (n, 6),
    standardised ``mean_std``/``sigma_std``, and ``masked`` (pixels masked per spectrum)."""
    from lawful.spectra.train import Scaler, TrainConfig, _predict_classical, build_network, clean_flux, predict_network

    model_wave = np.asarray(state["wave"])
    if wave is not None and (len(wave) != len(model_wave) or not np.allclose(wave, model_wave)):
        raise ValueError(f"spectra are on a grid of {len(wave)} pixels ({wave[0]:.1f}–{wave[-1]:.1f} Å); the model "
                         f"expects {len(model_wave)} pixels ({model_wave[0]:.1f}–{model_wave[-1]:.1f} Å): "
                         f"resample first (lawful.spectra.interop.from_specutils)")
    if flux.ndim != 2 or flux.shape[1] != len(model_wave):
        raise ValueError(f"flux must have shape (n, {len(model_wave)}), got {flux.shape}")
    x, _ = clean_flux(flux, ivar)
    masked = (~np.isfinite(flux) | ~np.isfinite(ivar) | (ivar <= 0)).sum(axis=1)
    if state["kind"] in ("rf", "gbm", "cannon"):
        mean, sigma = _predict_classical(state, x, ivar)
    else:
        cfg = TrainConfig(**state["config"])
        net = build_network(cfg, state["n_pixels"], state["n_out"])
        net.load_state_dict(state["net"])
        mc = cfg.mc_samples if cfg.dropout > 0 and cfg.model in ("spt", "spt-dot", "cnn") else 1
        mean, sigma = predict_network(net, x, mc)
    if sigma is None:
        sigma = np.broadcast_to(state["val_rms"], mean.shape)
    sigma = sigma * state["calibration"]
    scaler = Scaler.from_state(state["scaler"])
    value = mean * scaler.std + scaler.mean
    spread = sigma * scaler.std
    phys, phys_sigma = value.copy(), spread.copy()
    phys[:, scaler.log] = 10.0 ** value[:, scaler.log]
    phys_sigma[:, scaler.log] = np.log(10.0) * phys[:, scaler.log] * spread[:, scaler.log]
    return {"mean": phys, "sigma": phys_sigma, "mean_std": mean, "sigma_std": sigma, "masked": masked}


def metrics(state: dict, pred: dict[str, np.ndarray], truth: np.ndarray, train_range: np.ndarray | None = None
            ) -> dict[str, dict[str, float]]:
    """The per-label table (module docstring) for predictions ``pred`` of true labels ``truth`` (n, 6)."""
    from lawful.spectra.train import Scaler

    scaler = Scaler.from_state(state["scaler"])
    z = (pred["mean_std"] - scaler.forward(truth)) / pred["sigma_std"]
    err = pred["mean"] - truth
    out = {}
    for j, name in enumerate(state["targets"]):
        row = {"mpe": float(100.0 * np.mean(np.abs(err[:, j]) / np.abs(truth[:, j]))),
               "mae": float(np.mean(np.abs(err[:, j]))), "bias": float(np.mean(err[:, j])),
               "coverage68": float(np.mean(np.abs(z[:, j]) <= 1.0)),
               "coverage95": float(np.mean(np.abs(z[:, j]) <= 1.96)), "z_std": float(np.std(z[:, j]))}
        if train_range is not None:
            row["out_of_range"] = int(np.sum((truth[:, j] < train_range[0, j]) | (truth[:, j] > train_range[1, j])))
        out[name] = row
    return out


def evaluate(data: Path, models: list[Path], split: str = "test", plots: Path | None = None
             ) -> dict[str, dict[str, dict[str, float]]]:
    """{model directory name: per-label metrics} on one split of ``data``; with ``plots`` a figure per model
    (prediction against truth with σ, histogram of z) as ``plots/<model>.png``."""
    from lawful.spectra.data import load_split

    test, train = load_split(data, split), load_split(data, "train", keys=("targets",))
    train_range = np.stack([train["targets"].min(axis=0), train["targets"].max(axis=0)])
    results = {}
    for path in models:
        state = load_model(path)
        pred = predict(state, test["flux"], test["ivar"], test["wave"])
        results[Path(path).name] = metrics(state, pred, test["targets"], train_range)
        if plots is not None:
            from lawful.spectra.plots import label_plot
            from lawful.spectra.train import Scaler

            scaler = Scaler.from_state(state["scaler"])
            pred["z"] = (pred["mean_std"] - scaler.forward(test["targets"])) / pred["sigma_std"]
            label_plot(pred, test["targets"], tuple(state["targets"]), f"{Path(path).name} on {split}",
                       Path(plots) / f"{Path(path).name}.png")
    return results
