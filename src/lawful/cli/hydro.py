"""``lawful hydro …``: finite-volume hydrodynamics problems (sod, advect, detonation, kh) and their plots."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lawful.cli.common import (
    CONFIG_OPT,
    JSON_OPT,
    SET_OPT,
    console,
    fail,
    guarded,
    print_summary,
    resolve_config,
    resumable,
    with_config_flags,
)
from lawful.hydro.config import HydroRunConfig

app = typer.Typer(help="Compressible hydrodynamics coupled to nuclear burning (CGS).", no_args_is_help=True)


@app.command("run")
@guarded
@with_config_flags(HydroRunConfig, show_defaults=False)  # each problem has its own defaults
def run_cmd(problem: str = typer.Argument(..., help="sod | advect | detonation | kh"),
            config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
            model: Path = typer.Option(None, "--model", help="same as --burn-model: a burn surrogate directory "
                                                             "(with --burner surrogate)"),
            json_out: bool = JSON_OPT,
            plot: bool = typer.Option(False, "--plot", help="render the snapshots to PNG afterwards"),
            flags: dict | None = None) -> None:
    """Run a problem to tmax (resuming OUT/checkpoint.h5 when it holds the same run); print what it measured.

    Every key every problem has is a flag; a problem's own keys take --set. Defaults are the problem's
    (``lawful hydro config PROBLEM`` prints them; --out defaults to runs/PROBLEM)."""
    from lawful.hydro import problems
    from lawful.hydro.run import run, summary
    from lawful.hydro.solver import HydroFailure

    mod = problems.get(problem)
    flags = {**(flags or {}), **({"burn_model": str(model)} if model is not None else {})}
    cfg = resolve_config(mod.Config, config, flags, set_)
    try:
        result = resumable(run, cfg.out, cfg, problem)
    except HydroFailure as exc:
        fail(f"run stopped: {exc}", code=1)
    s = summary(cfg, problem, result)
    if plot:
        from lawful.hydro.plots import plot_run

        s["plots"] = [str(p) for p in plot_run(cfg.out)]
    if json_out:
        print(json.dumps(s))
        return
    print_summary(f"{problem}: {cfg.n} zones, t = {s['t']:.4g} s, {s['steps']} steps", s,
                  skip=("problem", "out", "plots"))
    console.print(f"snapshots and checkpoint: {cfg.out}" + (f"; {len(s['plots'])} plots" if plot else ""),
                  highlight=False)


@app.command("plot")
@guarded
def plot_cmd(directory: Path = typer.Argument(..., help="a run directory with snap_*.h5")) -> None:
    """Render every snapshot of a run to PNG beside it."""
    from lawful.hydro.plots import plot_run

    paths = plot_run(directory)
    console.print(f"{len(paths)} plots: {paths[0]} … {paths[-1]}" if len(paths) > 1 else f"plot: {paths[0]}",
                  highlight=False)


@app.command("compare")
@guarded
def compare_cmd(a: Path = typer.Argument(..., help="a 2D run directory (say, implicit burning)"),
                b: Path = typer.Argument(..., help="the same problem run another way (say, the surrogate)"),
                out: Path = typer.Option(None, "--out", help="PNG [default: B/compare.png]"),
                json_out: bool = JSON_OPT) -> None:
    """Draw the last snapshots of two 2D runs side by side with their difference; print the largest difference
    of each field relative to its largest value in A."""
    from lawful.hydro.plots import compare_runs

    out = out or b / "compare.png"
    diffs = compare_runs(a, b, out)
    if json_out:
        print(json.dumps({**diffs, "plot": str(out)}))
        return
    print_summary(f"{b} against {a}", diffs)
    console.print(f"plot: {out}", highlight=False)


@app.command("config")
@guarded
def config_cmd(problem: str = typer.Argument(..., help="sod | advect | detonation | kh")) -> None:
    """Print a problem's default TOML (every key it accepts), ready to copy and edit."""
    from lawful.core.config import to_toml_text
    from lawful.hydro import problems

    print(to_toml_text(problems.get(problem).Config()), end="")
