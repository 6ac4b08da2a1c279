"""``lawful spectra physformer train|invert|recalibrate|evaluate``: a generator of spectra with radiative transfer
inside it, its baselines, and labels by χ² inversion."""

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
from lawful.spectra.data import spectra_path
from lawful.spectra.physformer.config import PhysTrainConfig
from lawful.spectra.physformer.inversion import InvertConfig

app = typer.Typer(help="PhysFormer: spectra generated through radiative transfer; inversion by χ² across SNR.",
                  no_args_is_help=True)


@app.command("train")
@guarded
@with_config_flags(PhysTrainConfig)
def train_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
              data: Path = typer.Option(..., "--data", help="directory with spectra.h5 (or the file)"),
              out: Path = typer.Option(..., "--out", help="model directory (resumes from its checkpoint)"),
              plots: bool = typer.Option(True, "--plots/--no-plots", help="OUT/atmosphere.png (physformer)"),
              json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Train a generator (physformer, ae, payne, speculator) on noise-free spectra made from the labels of
    the data's train split, for --train-seconds."""
    from lawful.spectra.physformer.training import train

    cfg = resolve_config(PhysTrainConfig, config, flags or {}, set_)
    log = (lambda *a: None) if json_out else (lambda msg: typer.echo(msg, err=True))
    summary = train(cfg, spectra_path(data), out, log=log)
    if plots and cfg.model == "physformer":
        from lawful.spectra.physformer.model import load
        from lawful.spectra.physformer.plots import atmosphere_plot

        summary["plot"] = str(atmosphere_plot(load(out), out / "atmosphere.png"))
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"{cfg.model} trained on {summary['n_train']} spectra in {summary['train_seconds']:.0f} s", summary)


@app.command("invert")
@guarded
@with_config_flags(InvertConfig)
def invert_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
               model: Path = typer.Option(..., "--model", help="a trained generator's directory"),
               data: Path = typer.Option(..., "--data", help="directory with spectra.h5 (or the file)"),
               split: str = typer.Option("test", "--split"),
               n: int = typer.Option(None, "--n", min=1, help="only the first N spectra"),
               snr: float = typer.Option(None, "--snr", help="invert noise-free spectra of the split's labels "
                                                            "with noise at this SNR, not the file's own"),
               out: Path = typer.Option(None, "--out", help="directory for labels.csv"),
               json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Labels and σ by χ² against the frozen generator (the posterior linearised at the optimum, or MCMC); every
    spectrum that did not converge is flagged with its reason in labels.csv."""
    import numpy as np

    from lawful.spectra.data import load_split
    from lawful.spectra.physformer.data import clean_split, noisy
    from lawful.spectra.physformer.evaluation import label_rows
    from lawful.spectra.physformer.inversion import floor_warning, invert
    from lawful.spectra.physformer.model import load
    from lawful.spectra.synth import LABELS

    if snr is not None and snr <= 0:
        raise ValueError(f"--snr = {snr:g} must be positive")
    cfg = resolve_config(InvertConfig, config, flags or {}, set_)
    gen = load(model)
    path = spectra_path(data)
    if snr is None:
        part = load_split(path, split, keys=("flux", "ivar", "synth_labels"))
        flux, ivar, labels = part["flux"][:n], part["ivar"][:n], part["synth_labels"][:n]
    else:
        part = clean_split(path, split, gen.meta["config"]["vmic_scatter"], cfg.seed, n)
        flux, ivar = noisy(part["flux"], snr, np.random.default_rng([cfg.seed, int(snr)]))
        labels = part["labels"]
    warning = floor_warning(gen, cfg)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    start = time.perf_counter()
    result = invert(gen, flux, ivar, cfg)
    seconds = time.perf_counter() - start
    truth = {name: labels[:, j] for j, name in enumerate(LABELS)}
    if out is not None:
        _write_labels(out / "labels.csv", result, truth)
    rows = label_rows(result["labels"], result["sigma"], truth)
    summary = {"n": len(flux), "seconds": seconds, "flagged": int(result["flag"].sum()),
               "median_chi2_dof": float(np.median(result["chi2_dof"])), "labels": rows}
    if out is not None:
        summary["file"] = str(out / "labels.csv")
    if json_out:
        print(json.dumps(summary))
        return
    print_rows(f"{len(flux)} spectra in {seconds:.1f} s, {summary['flagged']} flagged, median χ²/dof "
               f"{summary['median_chi2_dof']:.2f}", rows, {"mae": "MAE vs truth", "bias": "bias",
                                                          "coverage68": "within 1σ"})


def _write_labels(path: Path, result: dict, truth: dict) -> None:
    """labels.csv: one row per spectrum — each label, its σ and its true value, χ²/dof, iterations, flag, reason."""
    import pandas as pd

    from lawful.core.io import atomic_write_bytes

    table = {"index": range(len(result["flag"]))}
    for name, value in result["labels"].items():
        table[name], table[f"{name}_sigma"], table[f"{name}_true"] = value, result["sigma"][name], truth[name]
    table.update({"chi2_dof": result["chi2_dof"], "iterations": result["iterations"], "flag": result["flag"],
                  "reason": result["reason"]})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, pd.DataFrame(table).to_csv(index=False).encode())


@app.command("recalibrate")
@guarded
@with_config_flags(InvertConfig)
def recalibrate_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
                    model: Path = typer.Option(..., "--model", help="a trained generator's directory (rewritten)"),
                    data: Path = typer.Option(..., "--data", help="directory with spectra.h5 (or the file) it was "
                                                                  "trained on"),
                    json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Choose the inversion's systematic floor per label afresh, for these inversion settings, on 300 validation
    spectra at SNR 200 (a generator saved before the floor existed has none); the weights are untouched."""
    from lawful.spectra.physformer.training import recalibrate_floor

    cfg = resolve_config(InvertConfig, config, flags or {}, set_)
    floor = recalibrate_floor(model, spectra_path(data), cfg)
    if json_out:
        print(json.dumps({"sigma_floor": floor}))
        return
    print_summary("σ floor per label", floor)


@app.command("evaluate")
@guarded
def evaluate_cmd(data: Path = typer.Option(..., "--data", help="directory with spectra.h5 (or the file)"),
                 model: list[Path] = typer.Option([], "--model", help="a generator's directory (repeatable)"),
                 n: int = typer.Option(300, "--n", min=1, help="test spectra"),
                 snrs: str = typer.Option("5,10,20,50,100,200", "--snrs", help="comma-separated SNRs"),
                 spt: str = typer.Option("giants", "--spt", help="the SPT beside them: a shipped name, a model "
                                                                 "directory, or 'none'"),
                 seed: int = typer.Option(0, "--seed"),
                 errors: str = typer.Option("linearised", "--errors", help="the inversions' σ: linearised|mcmc"),
                 exact: bool = typer.Option(False, "--exact", help="also invert with the forward model itself "
                                                                   "(no model error: the ideal)"),
                 out: Path = typer.Option(None, "--out", help="directory for results.json and snr.png"),
                 json_out: bool = JSON_OPT) -> None:
    """Reconstruction MSE, physical violations, and inversion MAE / bias / 68 % coverage by SNR for every model,
    on the same noisy test spectra."""
    from lawful.spectra.physformer.evaluation import evaluate
    from lawful.spectra.physformer.inversion import InvertConfig

    try:
        snr_list = tuple(int(s) for s in snrs.split(",") if s.strip())
    except ValueError:
        raise ValueError(f"--snrs must be comma-separated integers like 5,10,20, got {snrs!r}") from None
    log = (lambda *a: None) if json_out else (lambda msg: typer.echo(msg, err=True))
    invert_cfg = InvertConfig(errors=errors)
    results = evaluate(spectra_path(data), list(model), snr_list, n, seed, None if spt == "none" else spt,
                       invert_cfg=invert_cfg, exact=exact, log=log)
    if out is not None:
        from lawful.core.io import atomic_write_bytes
        from lawful.spectra.physformer.plots import snr_plot

        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "results.json", json.dumps(results, indent=1).encode())
        snr_plot(results, out / "snr.png")
    if json_out:
        print(json.dumps(results))
        return
    print_rows(f"generators on {n} noise-free test spectra", {
        k: {"recon": r["recon_mse"], "emulator": r["emulator_mse"],
            "encoder": "—" if r["encoder_mse"] is None else r["encoder_mse"],
            "prior viol.": r["physical_violations"]["prior"], "fit viol.": r["physical_violations"]["inversion"],
            "s/1000": r["seconds_per_1000"]} for k, r in results.items() if r["recon_mse"] is not None},
        {"recon": "recon MSE (χ² fit)", "emulator": "emulator MSE", "encoder": "G(E(x)) MSE",
         "prior viol.": "violations (prior)", "fit viol.": "violations (fits)", "s/1000": "inversion s / 1000"})
    for label in ("teff", "logg", "feh"):
        print_rows(f"{label}: inversion MAE (68 % coverage) by SNR", {
            k: {s: f"{r['by_snr'][s][label]['mae']:.3g} ({r['by_snr'][s][label]['coverage68']:.2f})"
                for s in r["by_snr"]} for k, r in results.items()}, {str(s): f"SNR {s}" for s in snr_list})
