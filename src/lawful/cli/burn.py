"""``lawful burn …``: one-zone and batched nuclear burns with the implicit integrator."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from lawful.burn.config import BurnBatchConfig, BurnCellConfig
from lawful.burn.surrogate.config import GenerateConfig, SurrogateTrainConfig
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

app = typer.Typer(help="Nuclear burning: pynucastro networks, stellar EOS, batched implicit integrator, neural "
                       "surrogate (CGS).", no_args_is_help=True)

@app.command("cell")
@guarded
@with_config_flags(BurnCellConfig)
def cell_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
             json_out: bool = JSON_OPT,
             plot: bool = typer.Option(False, "--plot", help="write X(t) and T(t) to OUT/burn_cell.png"),
             flags: dict | None = None) -> None:
    """Burn one zone at constant density to --tmax; print final T, composition, energy, steps and status."""
    from lawful.burn.config import parse_composition
    from lawful.burn.eos import StellarEOS
    from lawful.burn.integrate import Status, burn
    from lawful.burn.network import Network

    cfg = resolve_config(BurnCellConfig, config, flags or {}, set_)
    net = Network(cfg.network, screen=cfg.screen)
    X0 = net.composition(parse_composition(cfg.X))
    t_out = np.logspace(np.log10(cfg.tmax) - 6, np.log10(cfg.tmax), cfg.n_out) if cfg.n_out > 1 else [cfg.tmax]
    start = time.perf_counter()
    r = burn(net, cfg.rho, cfg.T, X0, t_out, self_heating=not cfg.fixed_T, rtol=cfg.rtol, atol=cfg.atol,
             max_steps=cfg.max_steps, eos=StellarEOS(table=cfg.eos_table), method=cfg.method)
    seconds = time.perf_counter() - start
    status = Status(int(r.status[0])).name
    X = {name: float(x) for name, x in zip(net.names, r.X[0, -1])}
    files = [plot_path] if plot and (plot_path := _plot(r, cfg.out)) else []
    if json_out:
        print(json.dumps({"T": float(r.T[0, -1]), "X": X, "enuc": float(r.enuc[0, -1]), "steps": int(r.steps[0]),
                          "rejected": int(r.rejected[0]), "status": status, "seconds": seconds}))
        return
    console.print(f"{net.name}: ρ = {cfg.rho:g} g/cm³, T₀ = {cfg.T:g} K, t = {cfg.tmax:g} s, "
                  f"{'fixed T' if cfg.fixed_T else 'self-heating'}, screening {'on' if cfg.screen else 'off'}",
                  highlight=False)
    table = Table()
    table.add_column("nucleus")
    table.add_column("X initial", justify="right")
    table.add_column("X final", justify="right")
    for i, name in enumerate(net.names):
        if X0[i] > 0 or r.X[0, -1, i] > 1e-10:
            table.add_row(name, f"{X0[i]:.6g}", f"{r.X[0, -1, i]:.6g}")
    console.print(table)
    console.print(f"T final {r.T[0, -1]:.6g} K   energy release {r.enuc[0, -1]:.6g} erg/g   "
                  f"ΣX − 1 = {r.X[0, -1].sum() - 1:.1e}\n{r.steps[0]} steps ({r.rejected[0]} rejected), "
                  f"{r.n_rhs[0]} RHS evaluations, {seconds:.2f} s, status {status}"
                  + "".join(f"\nplot: {f}" for f in files), highlight=False)


def _plot(result, out: Path) -> Path:
    from lawful.burn.plots import plot_cell

    return plot_cell(result, Path(out) / "burn_cell.png")


@app.command("batch")
@guarded
@with_config_flags(BurnBatchConfig)
def batch_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
              scheduler: str = scheduler_option("serial"), workers: int = WORKERS_OPT,
              json_out: bool = JSON_OPT,
              flags: dict | None = None) -> None:
    """Burn every (ρ, T, X) state of an HDF5 file for --dt seconds; write the end states to --out."""
    from lawful.burn.batch import run_batch
    from lawful.burn.integrate import Status

    cfg = resolve_config(BurnBatchConfig, config, flags or {}, set_)
    start = time.perf_counter()
    res = run_batch(cfg, scheduler, workers)
    seconds = time.perf_counter() - start
    counts = {s.name: int((res["status"] == s).sum()) for s in Status if (res["status"] == s).any()}
    summary = {"zones": len(res["T"]), "status": counts, "steps_mean": float(res["steps"].mean()),
               "seconds": seconds, "zones_per_second": len(res["T"]) / seconds, "out": str(cfg.out)}
    if json_out:
        print(json.dumps(summary))
        return
    console.print(f"{summary['zones']} zones burned for {cfg.dt:g} s in {seconds:.2f} s "
                  f"({summary['zones_per_second']:.0f} zones/s, {summary['steps_mean']:.1f} steps/zone); "
                  f"status {counts}\nout: {cfg.out}", highlight=False)


surrogate_app = typer.Typer(help="Neural burn surrogate behind a guard: generate data, train, evaluate, export.",
                            no_args_is_help=True)
app.add_typer(surrogate_app, name="surrogate")


@surrogate_app.command("generate")
@guarded
@with_config_flags(GenerateConfig)
def surrogate_generate_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
                           scheduler: str = scheduler_option("serial"), workers: int = WORKERS_OPT,
                           flags: dict | None = None) -> None:
    """Burn random one-zone trajectories and record detonation zone-steps; write OUT/data.h5 (resumable)."""
    from lawful.burn.surrogate.data import from_hydro, load
    from lawful.burn_hydro.training_data import generate

    cfg = resolve_config(GenerateConfig, config, flags or {}, set_)
    start = time.perf_counter()
    path = resumable(generate, cfg.out, cfg, scheduler, workers)
    d = load(path, fields=("group", "held_out"))
    hydro = int(from_hydro(d["group"]).sum())
    console.print(f"{len(d['group'])} samples ({len(d['group']) - hydro} from trajectories, {hydro} from hydro "
                  f"zone-steps; {int(d['held_out'].sum())} held out) in {time.perf_counter() - start:.1f} s\n"
                  f"data: {path}", highlight=False)


@surrogate_app.command("train")
@guarded
@with_config_flags(SurrogateTrainConfig)
def surrogate_train_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT, flags: dict | None = None) -> None:
    """Fit the surrogate to a generated data set; checkpoints OUT/checkpoint.pt, resumes, writes OUT/model.pt."""
    from lawful.burn.surrogate.train import train

    cfg = resolve_config(SurrogateTrainConfig, config, flags or {}, set_)
    out = resumable(train, cfg.out, cfg)
    console.print(f"model: {out / 'model.pt'}\nevaluate: lawful burn surrogate evaluate --model {out} "
                  f"--data {cfg.data}", highlight=False)


@surrogate_app.command("evaluate")
@guarded
def surrogate_evaluate_cmd(
        data: Path = typer.Option(..., "--data", help="directory written by `lawful burn surrogate generate`"),
        model: Path = typer.Option(None, "--model", help="model directory [default: the shipped one]"),
        error_limit: float = typer.Option(None, "--error-limit", help="refuse zones whose predicted error exceeds "
                                          "this x 1e-2 [default: the model's own]"),
        speed_run: str = typer.Option("256:1.5e7", "--speed-run",
                                      help="time the burners on the burn calls of a detonation with ZONES:RHO "
                                           "(g/cm^3), as hydro makes them; 'held-out': on the held-out hydro "
                                           "zone-steps, one call per distinct time step"),
        json_out: bool = JSON_OPT) -> None:
    """Errors against the implicit integrator, guard statistics and speed-up on the held-out samples."""
    from lawful.burn.surrogate.data import load
    from lawful.burn.surrogate.evaluate import evaluate
    from lawful.burn_hydro.replay import record_detonation_calls

    calls = None
    if speed_run != "held-out":
        zones, sep, rho = speed_run.partition(":")
        try:
            n, rho_f = int(zones), float(rho)
        except ValueError:
            n, rho_f, sep = 0, 0.0, ""
        if not sep or n < 8 or not rho_f > 0:
            raise ValueError(f"--speed-run {speed_run!r}: expected ZONES:RHO such as 256:1.5e7 (at least 8 zones, "
                             "a positive density) or 'held-out'")
        calls = record_detonation_calls(load(data, fields=("group",))["network"], n=n, rho=rho_f)
    s = evaluate(model, data, error_limit=error_limit, calls=calls)
    if json_out:
        print(json.dumps(s))
        return
    print_summary(f"{s['network']} surrogate on {s['held_out']} held-out steps", s,
                  skip=("network", "held_out", "by_density_decade"))
    print_rows("held-out steps per density decade (g/cm³): guarded errors, and the implicit burner's own",
               s["by_density_decade"],
               {"zones": "steps", "surrogate_fraction": "share", "median_rel_err_energy": "energy median",
                "p99_rel_err_energy": "energy p99", "p99_rel_err_species": "species p99",
                "implicit_median_rel_err_energy": "implicit: energy median", "implicit_p99_rel_err_energy": "p99"})


@surrogate_app.command("export")
@guarded
def surrogate_export_cmd(model: Path = typer.Option(..., "--model", help="model directory"),
                         out: Path = typer.Option(None, "--out", help="file [default: MODEL/surrogate.ts]")) -> None:
    """Write the float64 step as TorchScript for compiled hydro codes (inputs ρ, T, X, Δt, predictor ΔX), and the
    error detector next to it (MODEL/detector.ts, or OUT with .detector.ts for its suffix)."""
    from lawful.burn.surrogate import store

    loaded = store.load(model)
    path = store.export_torchscript(loaded, out)
    console.print(f"TorchScript: {path}", highlight=False)
    if loaded.detector is not None:
        det = store.export_detector(loaded, out.with_suffix(".detector.ts") if out else None)
        console.print(f"error detector: {det} (refuses above log10 score {loaded.guard['error']:.3g})",
                      highlight=False)
