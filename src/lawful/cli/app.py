"""Entry point of the ``lawful`` command."""

from __future__ import annotations

from pathlib import Path

import typer

from lawful.cli import atoms, burn, galaxies, hydro, lattice, spectra
from lawful.cli.common import console, guarded

app = typer.Typer(help="lawful: AI-accelerated physical simulation in which a learned model never gets the last "
                       "word.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(lattice.app, name="lattice")
app.add_typer(burn.app, name="burn")
app.add_typer(hydro.app, name="hydro")
app.add_typer(atoms.app, name="atoms")
app.add_typer(spectra.app, name="spectra")
app.add_typer(galaxies.app, name="galaxies")


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
def demo(out: Path = typer.Option(Path("runs/demo"), "--out", help="output directory (a stage per folder)"),
         only: list[str] = typer.Option(None, "--only", help="run only this stage (repeatable); see --list"),
         list_stages: bool = typer.Option(False, "--list", help="list the stages and exit")) -> None:
    """The tour: one short stage per domain (lattice, flow, burn, hydro), each with a table against its reference."""
    from lawful.cli.demo import stage_list, tour

    if list_stages:
        console.print(stage_list(), highlight=False)
        return
    tour(out, only)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
