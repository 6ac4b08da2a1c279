"""Burn calls as hydro makes them, recorded once and replayed to time burners on realistic work.

``lawful hydro run`` burns all eligible zones of a Strang half-step in one call; a burner's cost per zone-step
depends on that call size (small calls measure call overhead, not the burner). :func:`record_detonation_calls`
runs a detonation with the implicit burner and keeps every call's inputs;
:func:`lawful.burn.burner.cost_per_zone_step` times burners on exactly those calls.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

#: one recorded call: ρ [N] g/cm³, T [N] K, X [N, n], Δt s
Call = tuple[np.ndarray, np.ndarray, np.ndarray, float]


def record_detonation_calls(network: str = "aprox13", *, n: int = 256, rho: float = 1.5e7,
                            tmax: float | None = None) -> list[Call]:
    """The burn calls of a C/O detonation (``n`` zones, fuel density ``rho`` g/cm³, to ``tmax`` s; default: the
    problem's own end time, ignition and steady propagation both) with the implicit burner at hydro's
    defaults."""
    from lawful.burn_hydro.training_data import RecordingBurner
    from lawful.hydro.problems import detonation
    from lawful.hydro.run import run

    recorders: list[RecordingBurner] = []

    def wrap(setup):
        recorders.append(RecordingBurner(setup.burn.burner))
        setup.burn.burner = recorders[-1]

    with tempfile.TemporaryDirectory() as tmp:
        cfg = detonation.Config(n=n, rho=rho, network=network, out=Path(tmp), n_snapshots=1)
        if tmax is not None:
            cfg.tmax = tmax
        run(cfg, "detonation", show_progress=False, on_setup=wrap)
    return [(c["rho"], c["T"], c["X"], float(c["dt"][0])) for c in recorders[0].calls]

