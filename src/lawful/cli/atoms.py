"""``lawful atoms …``: interatomic potentials learned from a classical reference (so far: the reference data)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from lawful.atoms.data import DataConfig
from lawful.cli.common import (
    CONFIG_OPT,
    JSON_OPT,
    SET_OPT,
    WORKERS_OPT,
    guarded,
    print_rows,
    resolve_config,
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
    summary = {"element": cfg.element, "seconds": time.perf_counter() - start, "sets": rows}
    if json_out:
        print(json.dumps(summary))
        return
    print_rows(f"{cfg.element}: EMT reference data in {summary['seconds']:.1f} s", rows,
               {"frames": "frames", "atoms": "atoms", "energy_ev_atom_mean": "mean E (eV/atom)", "file": "file"})
