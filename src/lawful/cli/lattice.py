"""``lawful lattice …``: run, resume, scan and analyze lattice φ⁴ ensembles."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lawful.cli.common import (
    CONFIG_OPT,
    JSON_OPT,
    SET_OPT,
    WORKERS_OPT,
    console,
    err_console,
    fail,
    fmt,
    guarded,
    resolve_config,
    resumable,
    scheduler_option,
    with_config_flags,
)
from lawful.core.config import ConfigError, field_names, load_toml, parse_sets
from lawful.lattice.config import Phi4RunConfig
from lawful.lattice.train_config import SampleConfig, TrainConfig
from lawful.lattice.u1.config import U1RunConfig, U1TrainConfig

app = typer.Typer(help="Lattice field theory (φ⁴; 2D U(1) gauge theory with --theory u1): Metropolis, heat bath, "
                       "HMC, learned samplers made exact, Γ-method errors.", no_args_is_help=True)

#: the run schema of each theory (``--theory``)
RUN_SCHEMAS: dict[str, type] = {"phi4": Phi4RunConfig, "u1": U1RunConfig}
TRAIN_SCHEMAS: dict[str, type] = {"phi4": TrainConfig, "u1": U1TrainConfig}
THEORY_OPT = typer.Option(None, "--theory", help="phi4|u1 (default: phi4, or the theory key of --config)")


def resolve_theory(schemas: dict[str, type], theory: str | None, config: Path | None, flags: dict[str, Any],
                   sets: list[str] | None, fixed: dict[str, Any] | None = None) -> Any:
    """The config of the chosen theory: ``--theory``, else ``theory`` from ``--set`` or the TOML file, else
    φ⁴. A key that only another theory has (κ with --theory u1, β with φ⁴) is refused by name, before any work."""
    file_layer = load_toml(config) if config else {}
    set_layer = {k.replace("-", "_"): v for k, v in parse_sets(sets).items()}
    chosen = theory or set_layer.get("theory") or file_layer.get("theory") or "phi4"
    if chosen not in schemas:
        raise ConfigError(f"--theory must be one of {'|'.join(schemas)}, got {chosen!r}")
    model = schemas[chosen]
    given = {k for layer in (file_layer, flags, set_layer) for k, v in layer.items() if v is not None}
    others = {k for name, m in schemas.items() if name != chosen for k in m.model_fields}
    foreign = sorted(k for k in given if k not in model.model_fields and k in others)
    if foreign:
        raise ConfigError(f"{', '.join(foreign)}: not a key of --theory {chosen} (a key of another theory); "
                          f"--theory {chosen} takes: {', '.join(field_names(model))}")
    return resolve_config(model, config, flags, sets, {**(fixed or {}), "theory": chosen})

ROWS = (  # (estimate key, label)
    ("chi", "χ = ⟨m²⟩/V"),
    ("abs_m_density", "⟨|m|⟩/V"),
    ("binder", "U = ⟨m⁴⟩/⟨m²⟩²"),
    ("dchi_dkappa", "dχ/dκ"),
    ("dabs_m_dkappa", "d⟨|m|⟩/dκ"),
    ("action_density", "⟨S⟩/V"),
    ("exp_minus_dH", "⟨e^{−ΔH}⟩"),
    ("dH", "⟨ΔH⟩"),
)


def analysis_table(an: Any, reference: dict[str, tuple[float, float]] | None = None) -> Table:
    """Rich table of an :class:`~lawful.lattice.chain_analysis.Analysis` (optionally with reference values; a U(1)
    analysis brings its rows and exact values)."""
    rows = getattr(an, "rows", ROWS)
    if reference is None and getattr(an, "reference", None):
        reference = {k: (v, 0.0) for k, v in an.reference.items()}
    table = Table(title=f"{an.run_dir}: {an.n_chains} chain(s) × {an.n_done - an.therm_cut} updates, "
                        f"cut {an.therm_cut}", title_justify="left")
    table.add_column("observable")
    table.add_column("value(error)", justify="right")
    table.add_column("τ_int", justify="right")
    if reference:
        table.add_column("exact" if getattr(an, "reference", None) else "reference", justify="right")
        table.add_column("pull (σ)", justify="right")
    for key, label in rows:
        if key not in an.estimates:
            continue
        e = an.estimates[key]
        row = [label, fmt(e.value, e.error), fmt(e.tau_int, e.tau_int_error)]
        if reference:
            if key in reference:
                rv, re = reference[key]
                sigma = math.hypot(e.error, re)
                row += [fmt(rv, re) if re > 0 else f"{rv:g}", f"{(e.value - rv) / sigma:+.1f}" if sigma else ""]
            else:
                row += ["", ""]
        table.add_row(*row)
    table.add_row("acceptance", f"{an.acceptance:.4f}", "", *([""] * (2 if reference else 0)))
    return table


def report(an: Any, json_out: bool, plots: bool, reference: dict[str, tuple[float, float]] | None = None) -> None:
    """Print an analysis as JSON or as a table with warnings and file paths; write the plots."""
    files = []
    if plots:
        from lawful.lattice.plots import write_plots

        files = write_plots(an)
    if json_out:
        print(json.dumps(an.to_json()))
        return
    console.print(analysis_table(an, reference))
    for w in an.warnings:
        err_console.print(f"[yellow]warning:[/] {w}")
    from lawful.lattice.ensemble import ENSEMBLE_FILE

    console.print(f"ensemble: {an.run_dir / ENSEMBLE_FILE}" + "".join(f"\nplot:     {f}" for f in files)
                  + ("" if plots else f"\nplots:    lawful lattice analyze {an.run_dir}"), highlight=False)


def _run_and_report(cfg: Any, json_out: bool, plots: bool) -> None:
    from lawful.lattice.analysis import analyze
    from lawful.lattice.run import run

    summary = resumable(run, cfg.out, cfg)  # run() validates everything before it touches the output directory
    if not json_out:
        what = "resumed at update %d, " % summary.resumed_from if summary.resumed_from else ""
        console.print(f"{cfg.sampler}: {what}{summary.n_new} updates × {cfg.n_chains} chain(s) in "
                      f"{summary.seconds:.1f} s ({summary.updates_per_second * cfg.n_chains:.0f} chain-updates/s), "
                      f"acceptance {summary.acceptance:.3f}", highlight=False)
    report(analyze(cfg.out), json_out, plots)


@app.command("run")
@guarded
@with_config_flags(Phi4RunConfig, fixed={"theory": None}, also={"u1": U1RunConfig})
def run_cmd(theory: str = THEORY_OPT, config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
            json_out: bool = JSON_OPT,
            plots: bool = typer.Option(False, "--plots/--no-plots", help="write history/autocorrelation PNGs now "
                                       "(else: lawful lattice analyze DIR writes them)"),
            flags: dict | None = None) -> None:
    """Run (or resume) Markov chains with any sampler (φ⁴: --sampler hmc|metropolis|heatbath; U(1):
    hmc|heatbath|metropolis|exact, with --instanton-moves), then analyze."""
    _run_and_report(resolve_theory(RUN_SCHEMAS, theory, config, flags or {}, set_), json_out, plots)


@app.command("hmc")
@guarded
@with_config_flags(Phi4RunConfig, fixed={"sampler": "hmc", "theory": None}, also={"u1": U1RunConfig})
def hmc_cmd(theory: str = THEORY_OPT, config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
            json_out: bool = JSON_OPT,
            plots: bool = typer.Option(False, "--plots/--no-plots", help="write history/autocorrelation PNGs now "
                                       "(else: lawful lattice analyze DIR writes them)"),
            flags: dict | None = None) -> None:
    """Hybrid Monte Carlo (leapfrog or Omelyan 2MN); same as 'lattice run --sampler hmc'."""
    _run_and_report(resolve_theory(RUN_SCHEMAS, theory, config, flags or {}, set_, {"sampler": "hmc"}), json_out,
                    plots)


@app.command("analyze")
@guarded
def analyze_cmd(
    run_dir: Path = typer.Argument(..., help="directory of a run (holds ensemble.h5)"),
    therm: str = typer.Option(None, "--therm", help="thermalization cut: updates to drop, or 'auto' "
                                                    "(default: the run's n_therm)"),
    json_out: bool = JSON_OPT,
    plots: bool = typer.Option(True, "--plots/--no-plots", help="write history.png and autocorr.png"),
) -> None:
    """Γ-method analysis: values, errors and τ_int of χ, ⟨|m|⟩/V, Binder U, dχ/dκ, ⟨e^{−ΔH}⟩ …"""
    from lawful.lattice.analysis import analyze

    cut: int | str | None = therm
    if therm is not None and therm != "auto":
        try:
            cut = int(therm)
        except ValueError:
            fail(f"--therm must be a non-negative integer or 'auto', got {therm!r}")
    report(analyze(run_dir, cut), json_out, plots)


def _scan_point(cfg: Any) -> dict[str, Any]:
    """One point of a scan (runs in a Dask worker or in-process)."""
    from lawful.lattice.analysis import analyze
    from lawful.lattice.run import run

    run(cfg, show_progress=False)
    key = "beta" if cfg.theory == "u1" else "kappa"
    return {key: getattr(cfg, key), "out": str(cfg.out), **analyze(cfg.out).to_json()}


def _numbers(text: str | None, flag: str) -> list[float]:
    """Comma-separated numbers of ``flag``, refused by name if malformed or empty."""
    try:
        values = [float(k) for k in (text or "").split(",") if k.strip()]
    except ValueError:
        raise ConfigError(f"{flag} must be comma-separated numbers, got {text!r}") from None
    if not values:
        raise ConfigError(f"{flag} is empty")
    return values


def _scan_table(base: Any, results: list[dict[str, Any]]) -> Table:
    """The table of a κ scan (φ⁴) or β scan (U(1), with the exact values beside the measured ones)."""
    if base.theory == "u1":
        table = Table(title=f"β scan: U(1) L={base.size} ({base.sampler})")
        cols = ("β", "⟨cos θ_P⟩", "exact", "⟨Q²⟩", "exact", "τ_int(Q)", "τ_int(Q²)", "acceptance", "run")
        rows = [(f"{r['beta']:g}", fmt(*r["plaquette"]), f"{r['exact']['plaquette']:.5f}", fmt(*r["Q2"]),
                 f"{r['exact']['Q2']:.4f}", fmt(*r["tau_int"]["Q"]), fmt(*r["tau_int"]["Q2"]),
                 f"{r['acceptance']:.3f}", r["out"]) for r in results]
    else:
        table = Table(title=f"κ scan: L={base.size} D={base.dim} λ={base.lam} ({base.sampler})")
        cols = ("κ", "χ", "⟨|m|⟩/V", "U", "τ_int(m²)", "acceptance", "run")
        rows = [(f"{r['kappa']:g}", fmt(*r["chi"]), fmt(*r["abs_m"]), fmt(*r["binder"]), fmt(*r["tau_int"]["m2"]),
                 f"{r['acceptance']:.3f}", r["out"]) for r in results]
    for col in cols:
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(*row)
    return table


@app.command("scan")
@guarded
@with_config_flags(Phi4RunConfig, fixed={"kappa": None, "beta": None, "theory": None}, also={"u1": U1RunConfig})
def scan_cmd(kappas: str = typer.Option(None, "--kappas", help="φ⁴: comma-separated κ values, e.g. 0.17,0.18,0.19"),
             betas: str = typer.Option(None, "--betas", help="U(1): comma-separated β values, e.g. 1,2,3,4"),
             theory: str = THEORY_OPT,
             scheduler: str = scheduler_option("local"), workers: int = WORKERS_OPT,
             config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
             json_out: bool = JSON_OPT,
             flags: dict | None = None) -> None:
    """Independent runs at several κ (φ⁴, each in OUT/kappa_<κ>) or β (U(1), OUT/beta_<β>), fanned out through
    the executor (Dask)."""
    from lawful.core.executor import run_tasks

    base = resolve_theory(RUN_SCHEMAS, theory, config, flags or {}, set_)
    key, flag, given, other = (("beta", "--betas", betas, kappas) if base.theory == "u1"
                               else ("kappa", "--kappas", kappas, betas))
    if other is not None:
        raise ConfigError(f"--theory {base.theory} scans {flag}, not {'--kappas' if key == 'beta' else '--betas'}")
    values = _numbers(given, flag)
    schema = type(base)
    cfgs = [schema.model_validate({**base.model_dump(), key: v, "out": base.out / f"{key}_{v:g}"}) for v in values]
    results = run_tasks(_scan_point, cfgs, scheduler=scheduler, n_workers=workers)
    if json_out:
        print(json.dumps(results))
        return
    console.print(_scan_table(base, results))


@app.command("train")
@guarded
@with_config_flags(TrainConfig, fixed={"theory": None}, also={"u1": U1TrainConfig})
def train_cmd(theory: str = THEORY_OPT, config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
              json_out: bool = JSON_OPT,
              flags: dict | None = None) -> None:
    """Train a flow (reverse KL) or diffusion model (score matching on HMC fields); --theory u1 trains a
    gauge-equivariant flow. Checkpoints and resumes."""
    from lawful.lattice.train import train

    cfg = resolve_theory(TRAIN_SCHEMAS, theory, config, flags or {}, set_)
    s = resumable(train, cfg.out, cfg)
    result = {"sampler": cfg.sampler, "steps": s.step, "new_steps": s.new_steps, "seconds": s.seconds,
              "train_seconds": s.total_seconds, "loss": s.loss, "ess_batch": s.ess_batch,
              "model": str(cfg.out / "model.pt")}
    if json_out:
        print(json.dumps(result))
        return
    what = (f"U(1) L={cfg.size} β={cfg.beta:g}" if cfg.theory == "u1"
            else f"φ⁴ D={cfg.dim} L={cfg.size} κ={cfg.kappa} λ={cfg.lam}")
    table = Table(title=f"{cfg.sampler} for {what}", title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("optimizer steps", f"{s.step}" + (f" (resumed at {s.resumed_from})" if s.resumed_from else ""))
    table.add_row("training time (all runs)", f"{s.total_seconds:.1f} s")
    table.add_row("final loss", f"{s.loss:.4f}")
    if math.isfinite(s.ess_batch):
        table.add_row("ESS/N (last 50 batches)", f"{s.ess_batch:.3f}")
    console.print(table)
    console.print(f"model: {result['model']}\nnext:  lawful lattice sample --model {cfg.out} --n 20000",
                  highlight=False)


@app.command("sample")
@guarded
@with_config_flags(SampleConfig)
def sample_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
               json_out: bool = JSON_OPT,
               plots: bool = typer.Option(False, "--plots/--no-plots", help="write history/autocorrelation PNGs now "
                                       "(else: lawful lattice analyze DIR writes them)"),
               flags: dict | None = None) -> None:
    """Independence Metropolis–Hastings with a trained model's proposals (exact), then the Γ-method analysis."""
    from lawful.lattice.analysis import analyze
    from lawful.lattice.sample import default_out, sample

    cfg = resolve_config(SampleConfig, config, flags or {}, set_)
    out = default_out(cfg)
    s = resumable(sample, out, cfg)
    an = analyze(out)
    if not json_out:
        what = f"resumed at step {s.resumed_from}, " if s.resumed_from else ""
        console.print(f"MH: {what}{s.n_new} proposals × {cfg.n_chains} chain(s) in {s.seconds:.1f} s "
                      f"({s.updates_per_second * cfg.n_chains:.0f} proposals/s), acceptance {s.acceptance:.3f}, "
                      f"ESS/N {an.ess_per_sample:.3f}, invalid proposals {s.n_invalid}", highlight=False)
        if an.log_q_error_spread is not None:
            console.print(f"diffusion ODE: {an.ode_steps} steps, estimated spread of the log q error across "
                          f"proposals {an.log_q_error_spread:.4f}", highlight=False)
    report(an, json_out, plots)
