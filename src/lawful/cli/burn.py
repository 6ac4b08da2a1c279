"""``lawful burn …``: one-zone and batched nuclear burns with the implicit integrator."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from lawful.burn.config import BurnBatchConfig, BurnCellConfig
from lawful.cli.common import (
    CONFIG_OPT,
    SET_OPT,
    console,
    guarded,
    resolve_config,
    with_config_flags,
)

app = typer.Typer(help="Nuclear burning: pynucastro networks, stellar EOS, batched implicit integrator (CGS).",
                  no_args_is_help=True)



@app.command("cell")
@guarded
@with_config_flags(BurnCellConfig)
def cell_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
             json_out: bool = typer.Option(False, "--json", help="print one JSON object"),
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
              scheduler: str = typer.Option("serial", "--scheduler",
                                            help="'serial', 'local' (Dask LocalCluster) or a scheduler address"),
              workers: int = typer.Option(None, "--workers", help="LocalCluster worker processes [default: cores]"),
              json_out: bool = typer.Option(False, "--json", help="print a JSON summary"),
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
