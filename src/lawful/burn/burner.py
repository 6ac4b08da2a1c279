"""Burners: the interface through which hydrodynamics burns its zones, and the implicit burner.

A burner is a callable ``burner(rho [N] g/cm³, T [N] K, X [N, n], dt s) -> BurnOutcome`` that burns N zones
at constant density with self-heating. It also keeps counters that a checkpoint must carry across a resume:
``state_dict()`` returns them (a flat dict of numbers), ``load_state_dict(d)`` restores them, and
``summary()`` gives the figures a run reports (empty for the implicit burner). ``check_inputs(X)`` runs once
before a run on every zone's composition and raises a ValueError for a fuel the burner was not made for.

:func:`lawful.burn.registry.make_burner` builds one by name; :mod:`lawful.hydro` asks for burners only through
it, so hydro never imports a burner's module and ``lawful.burn`` never imports hydro.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np


@dataclasses.dataclass
class BurnOutcome:
    """End states of N zones: X [N, n], specific energy release enuc [N] (erg/g), T [N] (K), ok [N], and the
    integrator steps taken per zone."""

    X: np.ndarray
    enuc: np.ndarray
    T: np.ndarray
    ok: np.ndarray
    steps: np.ndarray
    message: list[str]


class ImplicitBurner:
    """Constant-density self-heating burns with :func:`lawful.burn.integrate.burn` (BDF by default)."""

    name = "implicit"

    def __init__(self, network, eos, *, rtol: float = 1e-6, atol: float = 1e-8, method: str = "bdf"):
        self.network, self.eos, self.rtol, self.atol, self.method = network, eos, rtol, atol, method

    def __call__(self, rho: np.ndarray, T: np.ndarray, X: np.ndarray, dt: float) -> BurnOutcome:
        """Burn zones (ρ [N] g/cm³, T [N] K, X [N, n]) for ``dt`` seconds."""
        from lawful.burn.integrate import Status, burn

        r = burn(self.network, rho, T, X, [dt], self_heating=True, rtol=self.rtol, atol=self.atol,
                 eos=self.eos, method=self.method)
        ok = r.status == Status.SUCCESS
        msg = [Status(int(s)).name for s in r.status]
        return BurnOutcome(r.X[:, -1], r.enuc[:, -1], r.T[:, -1], ok, r.steps, msg)

    def check_inputs(self, X: np.ndarray) -> None:
        """Before a run: the implicit integrator takes any composition X [N, n] (the hook lets other burners
        refuse what they were not made for)."""

    def state_dict(self) -> dict[str, float]:
        """No counters of its own (the burn step counts zones and integrator steps)."""
        return {}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Nothing to restore."""

    def summary(self) -> dict:
        return {}


def cost_per_zone_step(burners: dict[str, object], calls: list, repeats: int = 1) -> dict[str, float]:
    """Seconds per zone-step of each burner over ``calls`` [(ρ [N], T [N], X [N, n], Δt)], best of ``repeats``
    after one warm-up call, plus ``calls`` and ``zones_per_call`` (the mean call size)."""
    zones = sum(len(c[0]) for c in calls)
    out: dict[str, float] = {"calls": len(calls), "zones_per_call": zones / max(len(calls), 1)}
    for name, burner in burners.items():
        burner(*calls[0])
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for call in calls:
                burner(*call)
            best = min(best, time.perf_counter() - start)
        out[name] = best / zones
    return out
