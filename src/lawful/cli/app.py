"""Entry point of the ``lawful`` command."""

from __future__ import annotations

from pathlib import Path

import typer

from lawful.cli import burn, hydro, lattice
from lawful.cli.common import console, guarded

app = typer.Typer(help="lawful: AI-accelerated physical simulation in which a learned model never gets the last "
                       "word.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(lattice.app, name="lattice")
app.add_typer(burn.app, name="burn")
app.add_typer(hydro.app, name="hydro")

#: The lecture's L = 6 critical point in D = 3 (reference values from the lattice foundation issue).
DEMO_REFERENCE = {"chi": (32.8, 0.2), "binder": (1.60, 0.01)}


def _version(value: bool) -> None:
    if value:
        from lawful import __version__

        console.print(f"lawful {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                               help="print the version and exit"),
                  threads: int = typer.Option(0, "--threads", min=0,
                                              help="threads for numba and torch in every command (0: the cores "
                                                   "free to this process, or $LAWFUL_THREADS); a command's "
                                                   "'threads' config key overrides it")) -> None:
    """lawful command line."""
    from lawful.core.memory import keep_freed_memory
    from lawful.core.threads import set_threads

    set_threads(threads)

    keep_freed_memory()  # torch's per-step tensors reuse the heap instead of faulting in fresh pages


@app.command("demo")
@guarded
def demo(out: Path = typer.Option(Path("runs/demo"), "--out", help="output directory"),
         json_out: bool = typer.Option(False, "--json", help="print the analysis as one JSON object")) -> None:
    """A short HMC run of 3D φ⁴ at the L=6 critical point (κ=0.185825, λ=1.1689), analyzed against reference."""
    from lawful.lattice.config import Phi4RunConfig

    cfg = Phi4RunConfig(dim=3, size=6, kappa=0.185825, lam=1.1689, sampler="hmc", integrator="omelyan",
                        n_steps=10, traj_length=1.0, n_traj=20000, n_therm=1000, n_chains=4, seed=1, out=out)
    if not json_out:
        console.print(f"lawful demo: HMC (Omelyan, τ=1, 10 steps) for 3D φ⁴ at L=6, κ={cfg.kappa}, λ={cfg.lam}; "
                      f"{cfg.n_chains} chains × ({cfg.n_therm} + {cfg.n_traj}) trajectories → {out}",
                      highlight=False)
    lattice._run_and_report(cfg, json_out, plots=True, reference=DEMO_REFERENCE)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
