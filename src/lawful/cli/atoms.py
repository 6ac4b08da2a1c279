"""``lawful atoms data|train|evaluate|md|learn|export``: interatomic potentials learned from a classical reference."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from lawful.atoms.chemspace import QM9Config
from lawful.atoms.data import DataConfig
from lawful.atoms.learn import LearnConfig
from lawful.atoms.md import MDConfig
from lawful.atoms.train import TrainConfig
from lawful.cli.common import (
    CONFIG_OPT,
    JSON_OPT,
    SET_OPT,
    WORKERS_OPT,
    console,
    guarded,
    print_rows,
    print_summary,
    resolve_config,
    resumable,
    scheduler_option,
    with_config_flags,
)

app = typer.Typer(help="Interatomic potentials learned from a classical reference (Å, eV, fs).",
                  no_args_is_help=True)


@app.command("data")
@guarded
@with_config_flags(DataConfig)
def data_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT, scheduler: str = scheduler_option("serial"),
             workers: int = WORKERS_OPT, json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """EMT-labelled fcc configurations (rattled, strained, thermal) and the shift sets (hot, strain, vacancy,
    surface, melt), written as extended XYZ into OUT."""
    from ase.io import read

    from lawful.atoms.data import generate

    cfg = resolve_config(DataConfig, config, flags or {}, set_)
    start = time.perf_counter()
    files = generate(cfg, scheduler, workers)
    rows = {}
    for name, path in files.items():
        frames = read(path, ":")
        n_atoms = sum(len(f) for f in frames)
        rows[name] = {"file": str(path), "frames": len(frames), "atoms": n_atoms,
                      "energy_ev_atom_mean": sum(f.get_potential_energy() for f in frames) / n_atoms}
    system = cfg.molecule or cfg.element
    summary = {("molecule" if cfg.molecule else "element"): system, "calculator": cfg.calculator,
               "seconds": time.perf_counter() - start, "sets": rows}
    if json_out:
        print(json.dumps(summary))
        return
    print_rows(f"{system}: {cfg.calculator.upper()} reference data in {summary['seconds']:.1f} s", rows,
               {"frames": "frames", "atoms": "atoms", "energy_ev_atom_mean": "mean E (eV/atom)", "file": "file"})


@app.command("qm9")
@guarded
@with_config_flags(QM9Config)
def qm9_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT, scheduler: str = scheduler_option("serial"),
            json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Kernel ridge regression of QM9 atomization energies (kcal/mol) on a representation (cm, cm_eigen, bob,
    local), directly or as Delta on GFN2-xTB; --curve 100,200,... writes a learning curve and its plot to OUT."""
    from lawful.atoms.chemspace import run

    cfg = resolve_config(QM9Config, config, flags or {}, set_)
    summary = run(cfg, scheduler=scheduler)
    if json_out:
        print(json.dumps(summary))
        return
    curve = summary.pop("curve", None)
    print_summary(f"QM9 {cfg.prop}: KRR on {cfg.representation}" + (" (Delta on GFN2-xTB)" if cfg.delta == "xtb"
                  else "") + f", {summary['n_test']} test molecules", summary)
    if curve:
        print_rows(f"learning curve (log-log slope {summary['slope']:.2f})", {str(p["n_train"]): p for p in curve},
                   {"mae": "MAE (kcal/mol)", "rmse": "RMSE", "sigma": "sigma", "lam": "lambda"})


@app.command("train")
@guarded
@with_config_flags(TrainConfig)
def train_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT, json_out: bool = JSON_OPT,
              flags: dict | None = None) -> None:
    """Fit a Deep Potential (se_e2_a) committee to labelled extxyz frames; checkpoints OUT/checkpoint.pt, resumes,
    writes OUT/model.pt and OUT/learning.png."""
    import torch

    from lawful.atoms.train import train

    cfg = resolve_config(TrainConfig, config, flags or {}, set_)
    path = resumable(train, cfg.out, cfg, show_progress=False if json_out else None)
    record = torch.load(path, map_location="cpu", weights_only=True)["record"]
    summary = {"model": str(path), **record["validation"], "frames": record["frames"],
               "steps": [h[-1]["step"] for h in record["histories"]],
               "seconds": [h[-1]["seconds"] for h in record["histories"]]}
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"Deep Potential ({cfg.committee} member(s)), validation errors of member 0", summary)


@app.command("evaluate")
@guarded
def evaluate_cmd(model: Path = typer.Option(..., "--model", help="model.pt or its directory"),
                 data: Path = typer.Option(..., "--data", help="data directory (train.extxyz, shift sets) or extxyz"),
                 reference: str = typer.Option("emt", "--reference", help="crystal properties' reference: emt|none"),
                 json_out: bool = JSON_OPT) -> None:
    """Errors on labelled frames, properties (a0, B, C11, C12, C44, vacancy) beside the reference's, and the
    guard's ROC AUC on the shift sets."""
    from lawful.atoms.evaluate import PROPERTIES, evaluate

    summary = evaluate(model, data, reference)
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"errors on {summary['frames']} frames of {data}",
                  {k: v for k, v in summary["model"].items() if k not in PROPERTIES})
    if "reference" in summary:
            print_rows("properties", {k: {"model": summary["model"][k], "reference": summary["reference"][k],
                                      "relative": summary["relative"][k]} for k in PROPERTIES},
                   {"model": "model", "reference": reference, "relative": "model/ref - 1"})
    if "guard" in summary:
        g = summary["guard"]
        print_rows(f"guard: ROC AUC {g['auc']:.3f} for force RMSE > 2x in-domain ({g['positives']}/{g['frames']})",
                   g["sets"], {"frames": "frames", "force_rmse_mev_a": "force RMSE (meV/A)",
                               "large_error_share": "large error", "flagged_share": "flagged"})


@app.command("md")
@guarded
@with_config_flags(MDConfig)
def md_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT, json_out: bool = JSON_OPT,
           flags: dict | None = None) -> None:
    """NVE (or Langevin) molecular dynamics of an fcc supercell with the energy ledger: drift, sigma(E) at two time
    steps, the guard's share; checkpoints and resumes."""
    from lawful.atoms.md import run

    cfg = resolve_config(MDConfig, config, flags or {}, set_)
    summary = resumable(run, cfg.out, cfg, show_progress=False if json_out else None)
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"{cfg.ensemble.upper()} MD, {summary['atoms']} atoms, dt = {cfg.dt} fs, energy ledger", summary)
    console.print(f"ledger: {cfg.out / 'ledger.npz'}", highlight=False)


@app.command("export")
@guarded
def export_cmd(model: Path = typer.Option(..., "--model", help="model.pt or its directory"),
               out: Path = typer.Option(..., "--out", help="TorchScript file to write"),
               dtype: str = typer.Option(None, "--dtype", help="float32|float64 [default: the training dtype]")
               ) -> None:
    """TorchScript export of member 0 (forward(pos, cell, types, i, j, shift) -> energy, forces, stress)."""
    from lawful.atoms.export import export

    console.print(f"exported: {export(model, out, dtype)}", highlight=False)


@app.command("learn")
@guarded
@with_config_flags(LearnConfig)
def learn_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT, json_out: bool = JSON_OPT,
              flags: dict | None = None) -> None:
    """Active learning as DP-GEN does it: explore with MD at rising T and strain, label the frames the committee
    flags with EMT, retrain, until the flagged share is below TARGET; resumes after the last finished iteration."""
    from lawful.atoms.learn import learn

    cfg = resolve_config(LearnConfig, config, flags or {}, set_)
    rows = resumable(learn, cfg.out, cfg, show_progress=False if json_out else None)
    if json_out:
        print(json.dumps(rows))
        return
    print_rows("active learning", {str(r["iteration"]): r for r in rows},
               {"training_frames": "training frames", "validation_force_rmse_mev_a": "val force RMSE (meV/A)",
                "explored": "explored", "flagged_share": "flagged", "selected": "labelled"})
