"""``lawful spectra synth|data|train|recalibrate|evaluate|predict|classify|physformer``: stellar spectra from a physical
forward model, labels learned from them, and the PhysFormer generator (:mod:`lawful.cli.spectra_physformer`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from lawful.cli.common import (
    CONFIG_OPT,
    JSON_OPT,
    SET_OPT,
    guarded,
    print_rows,
    print_summary,
    resolve_config,
    with_config_flags,
)
from lawful.cli.spectra_physformer import app as physformer_app
from lawful.spectra.classify import ClassifyConfig
from lawful.spectra.data import DataConfig, spectra_path
from lawful.spectra.train import TrainConfig

app = typer.Typer(help="Stellar spectra: forward model, synthetic surveys, label regression (Å, K, dex).",
                  no_args_is_help=True)
app.add_typer(physformer_app, name="physformer")


@app.command("synth")
@guarded
def synth_cmd(teff: float = typer.Option(..., "--teff", help="effective temperature (K)"),
              logg: float = typer.Option(..., "--logg", help="surface gravity log10(g / cm s⁻²)"),
              feh: float = typer.Option(0.0, "--feh", help="[Fe/H] (dex)"),
              alpha: float = typer.Option(0.0, "--alpha", help="[α/Fe] (dex)"),
              c_fe: float = typer.Option(0.0, "--c-fe", help="[C/Fe] (dex)"),
              n_fe: float = typer.Option(0.0, "--n-fe", help="[N/Fe] (dex)"),
              vmic: float = typer.Option(1.5, "--vmic", help="microturbulence (km/s)"),
              rv: float = typer.Option(0.0, "--rv", help="radial velocity (km/s)"),
              resolution: float = typer.Option(1800.0, "--resolution", help="R of the Gaussian LSF"),
              snr: float = typer.Option(0.0, "--snr", help="signal-to-noise per pixel (0: noise-free)"),
              wave_min: float = typer.Option(None, "--wave-min",
                                             help="Å; with --wave-max a 1 Å grid instead of LAMOST's"),
              wave_max: float = typer.Option(None, "--wave-max", help="Å"),
              seed: int = typer.Option(0, "--seed"),
              out: Path = typer.Option(..., "--out", help="FITS table to write"),
              json_out: bool = JSON_OPT) -> None:
    """One spectrum as a FITS table: vacuum wavelength (Å), F_λ (erg s⁻¹ cm⁻² Å⁻¹), normalised flux, ivar."""
    import numpy as np
    import torch
    from astropy.table import Table

    from lawful.spectra.synth import Synthesizer

    if snr < 0:
        raise ValueError(f"--snr = {snr:g} must be positive (or 0 for a noise-free spectrum)")
    if (wave_min is None) != (wave_max is None):
        raise ValueError("give both --wave-min and --wave-max, or neither (the LAMOST LRS grid)")
    wave = None
    if wave_min is not None:
        if not 900.0 <= wave_min < wave_max <= 30000.0:
            raise ValueError(f"--wave-min {wave_min:g} and --wave-max {wave_max:g} must satisfy "
                             f"900 ≤ min < max ≤ 30000 Å")
        wave = np.arange(wave_min, wave_max + 0.5, 1.0)
    synth = Synthesizer(wave, resolution)
    labels = torch.tensor([[teff, logg, feh, alpha, c_fe, n_fe, vmic, rv]], dtype=torch.float64)
    with torch.no_grad():
        spectra = synth(labels)
    norm = spectra.normalized[0].double().numpy()
    ivar = np.full_like(norm, np.inf)
    if snr > 0:
        from lawful.spectra.data import noise_sigma

        sigma = noise_sigma(norm, snr)
        norm = norm + sigma * np.random.default_rng(seed).standard_normal(norm.shape)
        ivar = 1.0 / sigma**2
    table = Table({"wave": synth.wave.numpy(), "flux": spectra.flux[0].double().numpy(), "norm_flux": norm,
                   "ivar": ivar})
    table["wave"].unit, table["flux"].unit = "Angstrom", "erg / (s cm2 Angstrom)"
    table.meta.update({"TEFF": teff, "LOGG": logg, "FEH": feh, "ALPHA": alpha, "CFE": c_fe, "NFE": n_fe,
                       "VMIC": vmic, "RV": rv, "R": resolution, "SNR": snr, "AIRORVAC": "vac"})
    out.parent.mkdir(parents=True, exist_ok=True)
    table.write(out, overwrite=True)
    summary = {"file": str(out), "pixels": len(table), "wave_min": float(table["wave"][0]),
               "wave_max": float(table["wave"][-1]), "min_norm_flux": float(np.min(spectra.normalized[0].numpy()))}
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"synthetic spectrum T_eff={teff:g} K log g={logg:g} [Fe/H]={feh:g}", summary)


@app.command("data")
@guarded
@with_config_flags(DataConfig)
def data_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
             out: Path = typer.Option(..., "--out", help="directory for spectra.h5 (and its chunks, to resume)"),
             json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Synthetic red giants (labels from real APOGEE DR17 stars) on the LAMOST grid: train/val/test in HDF5."""
    import h5py
    import numpy as np

    from lawful.spectra.data import generate

    cfg = resolve_config(DataConfig, config, flags or {}, set_)
    start = time.perf_counter()
    path = generate(cfg, out)
    with h5py.File(path, "r") as h5:
        rows = {name: {"spectra": int(h5[name]["flux"].shape[0]), "median_snr": float(np.median(h5[name]["snr"][...]))}
                for name in ("train", "val", "test")}
    summary = {"file": str(path), "seconds": time.perf_counter() - start, "splits": rows}
    if json_out:
        print(json.dumps(summary))
        return
    print_rows(f"{cfg.n} giants in {summary['seconds']:.1f} s → {path}", rows,
               {"spectra": "spectra", "median_snr": "median SNR"})


@app.command("train")
@guarded
@with_config_flags(TrainConfig)
def train_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
              data: Path = typer.Option(..., "--data", help="directory with spectra.h5 (or the file)"),
              out: Path = typer.Option(..., "--out", help="model directory (resumes from its checkpoint)"),
              json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Train one label regressor (spt, spt-dot, cnn, mlp, rf, gbm, cannon) for --train-seconds."""
    from lawful.spectra.train import train

    cfg = resolve_config(TrainConfig, config, flags or {}, set_)
    log = (lambda *a: None) if json_out else (lambda msg: typer.echo(msg, err=True))
    summary = train(cfg, spectra_path(data), out, log=log)
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"{cfg.model} trained on {summary['n_train']} spectra in {summary['train_seconds']:.0f} s", summary)


@app.command("recalibrate")
@guarded
def recalibrate_cmd(model: Path = typer.Option(..., "--model", help="a trained model directory (rewritten)"),
                    data: Path = typer.Option(..., "--data", help="directory with spectra.h5 (or the file) it was "
                                                                  "trained on"),
                    json_out: bool = JSON_OPT) -> None:
    """Fit a trained model's σ calibration per label afresh on the data's validation split — for the 68 % and
    the 95 % interval a factor at SNR 50 and its power of SNR — the weights untouched (a model saved with constant
    factors, before stop 45, gets SNR-dependent ones)."""
    from lawful.spectra.calibration import calibration_rows
    from lawful.spectra.evaluate import load_model, recalibrate

    rows = calibration_rows(recalibrate(model, spectra_path(data)), tuple(load_model(model)["targets"]))
    if json_out:
        print(json.dumps(rows))
        return
    print_rows("σ factor: f · (SNR/50)^slope", rows,
               {"factor68": "68 %", "slope68": "slope", "factor95": "95 %", "slope95": "slope"})


@app.command("evaluate")
@guarded
def evaluate_cmd(data: Path = typer.Option(..., "--data", help="directory with spectra.h5 (or the file)"),
                 model: list[Path] = typer.Option(..., "--model", help="model directory (repeatable)"),
                 split: str = typer.Option("test", "--split"),
                 plots: Path = typer.Option(None, "--plots", help="directory for a figure per model"),
                 json_out: bool = JSON_OPT) -> None:
    """Per model and label: MPE (of the label, and of the estimate that minimises the expected percentage error),
    MAE, bias, 68/95 % coverage on the test split (the 68 % also in bands of SNR), one table."""
    from lawful.spectra.evaluate import evaluate

    results = evaluate(spectra_path(data), list(model), split, plots)
    if json_out:
        print(json.dumps(results))
        return
    for name, rows in results.items():
        bands = list(next(iter(rows.values()))["coverage68_by_snr"])
        for row in rows.values():
            row["by_snr"] = " ".join("—" if v is None else f"{v:.2f}" for v in row["coverage68_by_snr"].values())
        print_rows(f"{name} on {split}", rows,
                   {"mpe": "MPE %", "mpe_weighted_median": "MPE % (w. median)", "mae": "MAE", "bias": "bias",
                    "coverage68": "cov68",
                    "by_snr": f"cov68 at SNR {' '.join(bands)}", "coverage95": "cov95", "z_std": "std z",
                    "out_of_range": "out of range"})


@app.command("predict")
@guarded
def predict_cmd(files: list[Path] = typer.Argument(..., help="spectrum tables (FITS, ECSV, …) with columns wave "
                                                             "(Å), continuum-normalised flux and ivar"),
                model: str = typer.Option("giants", "--model", help="a trained model directory, or a shipped "
                                                                    "model's name"),
                flux_column: str = typer.Option("norm_flux", "--flux-column",
                                                help="the continuum-normalised flux's column"),
                ivar_column: str = typer.Option("ivar", "--ivar-column", help="its inverse variance's column"),
                out: Path = typer.Option(None, "--out", help="CSV to write, one line per spectrum"),
                json_out: bool = JSON_OPT) -> None:
    """Labels and their 68/95 % intervals for your own spectra: each put on the model's grid (resampled when it
    is on another), masked pixels counted, and labels beyond the training range flagged."""
    from lawful.spectra.labelling import UNITS, label_files, rows, write_csv
    from lawful.spectra.models import label_model

    state = label_model(model)
    targets = tuple(state["targets"])
    table = rows(label_files(state, list(files), flux_column, ivar_column), list(files), targets)
    if out is not None:
        write_csv(table, out)
    if json_out:
        print(json.dumps(table))
        return
    unique = len({Path(row["file"]).name for row in table}) == len(table)  # else the paths, to tell them apart
    shown = {Path(row["file"]).name if unique else row["file"]: {
        "snr": row["snr"], "masked": row["masked"],
        **{t: f"{row['labels'][t]['mean']:.4g} ± {row['labels'][t]['sigma68']:.2g}" for t in targets},
        "flags": " ".join([*row["outside"], *(["snr"] if row["snr_outside"] else [])]) or "—"} for row in table}
    print_rows(f"{len(table)} spectra through {model} (± the 68 % half-width)" + (f" → {out}" if out else ""),
               shown, {"snr": "S/N", "masked": "masked px", **{t: f"{t} ({UNITS[t]})" for t in targets},
                       "flags": "outside"})


@app.command("classify")
@guarded
@with_config_flags(ClassifyConfig)
def classify_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
                 out: Path = typer.Option(None, "--out", help="directory for classify.json"),
                 json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """CVs against stars, Hα-emitting M dwarfs, Be stars, galaxies and QSOs: class-conditional RBMs (free
    energies and a softmax), the discriminative RBM and baselines on binarised spectra, 50/50 split."""
    from lawful.spectra.classify import run

    cfg = resolve_config(ClassifyConfig, config, flags or {}, set_)
    results = run(cfg, out)
    if json_out:
        print(json.dumps(results))
        return
    rows = {name: {"accuracy": r["accuracy"], "precision": r["precision"], "recall": r["recall"],
                   **{f"snr {s}": v["accuracy"] for s, v in r["by_snr"].items()},
                   **{f"{k}": v for k, v in r["by_class"].items()}} for name, r in results.items()}
    columns = {k: k for k in next(iter(rows.values()))}
    print_rows(f"CVs against the rest: {2 * cfg.n} spectra, 50/50 split, accuracy per SNR and per class", rows,
               columns)
