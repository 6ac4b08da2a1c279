"""Operator splitting of hydrodynamics and nuclear burning.

:class:`Strang` is the combinator: ``Strang(hydro_step, burn_step)(state, dt)`` burns dt/2, moves dt, burns dt/2.
:class:`BurnStep` burns every eligible zone of a hydro state at constant density through a pluggable burner
(any burner of :mod:`lawful.burn.burner`, made by name with :func:`~lawful.burn.registry.make_burner`) and deposits
the released energy into ρE, so total energy changes by exactly the nuclear energy release computed from binding
energies.
"""

from __future__ import annotations

import time

import numpy as np

from lawful.hydro import kernels as K
from lawful.hydro.solver import Euler, HydroFailure, HydroState


class Strang:
    """Second-order splitting: ``half(dt/2)``, ``full(dt)``, ``half(dt/2)``; ``seconds`` holds time spent in each."""

    def __init__(self, full, half):
        self.full, self.half = full, half
        self.seconds = {"full": 0.0, "half": 0.0}

    def __call__(self, state: HydroState, dt: float) -> HydroState:
        for part, fn, h in (("half", self.half, 0.5 * dt), ("full", self.full, dt), ("half", self.half, 0.5 * dt)):
            start = time.perf_counter()
            state = fn(state, h)
            self.seconds[part] += time.perf_counter() - start
        return state


class BurnStep:
    """Burn the zones of a hydro state for ``dt`` (a splitting half-step).

    Zones burn when T ≥ ``T_min`` (K) and, with ``burn_in_shocks=False``, when they are not inside a shock
    (Castro's detector: ∇·u < 0 and |Δp|/p > ``shock_threshold`` across the zone in some direction).
    Counters: ``zone_steps`` (zones burned, summed over calls), ``integrator_steps``, ``energy`` (erg per cm^(3−D)).
    """

    def __init__(self, solver: Euler, burner, *, T_min: float = 0.0, burn_in_shocks: bool = True,
                 shock_threshold: float = 2.0 / 3.0):
        if solver.n_species == 0:
            raise ValueError("burning needs a stellar EOS with species; this solver has a gamma-law gas")
        self.solver, self.burner = solver, burner
        self.T_min, self.burn_in_shocks, self.shock_threshold = T_min, burn_in_shocks, shock_threshold
        m = solver.mesh
        self._active = np.arange(np.prod(m.padded_shape)).reshape(m.padded_shape)[m.active].ravel()
        self.zone_steps = 0
        self.integrator_steps = 0
        self.energy = 0.0

    def shocked(self, q: np.ndarray) -> np.ndarray:
        """Boolean [ny, nx] (active cells): compressive zones with a pressure jump above the threshold."""
        m = self.solver.mesh
        act = m.active
        p, flags, div = q[K.QP], np.zeros((m.ny, m.nx), dtype=bool), np.zeros((m.ny, m.nx))
        axes = ((K.QU, -1, m.dx),) + (((K.QV, -2, m.dy),) if m.ndim == 2 else ())
        for vel, axis, h in axes:
            diff = (np.roll(q[vel], -1, axis) - np.roll(q[vel], 1, axis))[act] / (2 * h)
            div = div + diff.reshape(div.shape)
            pp, pm = np.roll(p, -1, axis)[act], np.roll(p, 1, axis)[act]
            flags |= (np.abs(pp - pm) / np.minimum(pp, pm) > self.shock_threshold).reshape(flags.shape)
        return flags & (div < 0)

    def check_inputs(self, state: HydroState) -> None:
        """Hand every active zone's composition to the burner's ``check_inputs`` (before a run: a fuel the
        burner was not made for fails here, not halfway through)."""
        ns = self.solver.n_species
        X = self.solver.primitives(state)[K.QX:].reshape(ns, -1)[:, self._active].T
        self.burner.check_inputs(X)

    def __call__(self, state: HydroState, dt: float) -> HydroState:
        q = self.solver.primitives(state)
        ns = self.solver.n_species
        idx = self._active
        rho = q[K.QR].ravel()[idx]
        T = state.T.ravel()[idx]
        burning = T >= self.T_min
        if not self.burn_in_shocks:
            burning &= ~self.shocked(q).ravel()
        sel = idx[burning]
        if sel.size == 0:
            return state
        X = q[K.QX:].reshape(ns, -1)[:, sel].T
        X = np.clip(X, 0.0, None)
        X /= X.sum(axis=1, keepdims=True)
        out = self.burner(rho[burning], T[burning], X, dt)
        if not out.ok.all():
            bad = int(np.flatnonzero(~out.ok)[0])
            raise HydroFailure(self.solver.describe(state, sel[bad], f"burn failed ({out.message[bad]})"))
        U = state.U.reshape(K.UX + ns, -1)
        r = rho[burning]
        U[K.UX:, sel] = (r[:, None] * out.X).T
        U[K.UE, sel] += r * out.enuc
        state.T.reshape(-1)[sel] = out.T
        state.touch()
        self.zone_steps += sel.size
        self.integrator_steps += int(out.steps.sum())
        self.energy += float((r * out.enuc).sum()) * self.solver.mesh.cell_volume
        return state
