"""The compressible Euler stepper: second-order unsplit MUSCL–Hancock with limited piecewise-linear
reconstruction of primitive variables, HLLC (or exact) fluxes and a CFL time step. CGS units.

Convention (DESIGN.md): :class:`Euler` holds hyperparameters and work arrays, :class:`HydroState` the evolving
arrays; ``stepper(state, dt)`` advances U, t and the step count in place and returns the state, so it composes with
:class:`lawful.hydro.coupling.Strang` (whose burn half-steps change U only).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lawful.hydro import kernels as K
from lawful.hydro.eos import EOSFailure, GammaLaw
from lawful.hydro.mesh import Mesh

CONSERVED = ("rho", "rho_u", "rho_v", "rho_E")


@dataclasses.dataclass
class HydroState:
    """Conserved variables U [4 + n_species, ny_t, nx_t] (ρ, ρu, ρv, ρE, ρX_k; CGS), temperature T [ny_t, nx_t]
    (K; zeros for a γ-law gas), time t (s) and step count. ``version`` changes whenever U changes."""

    U: np.ndarray
    T: np.ndarray
    t: float = 0.0
    step: int = 0
    version: int = 0

    def touch(self) -> None:
        """Mark U as changed (cached primitives are recomputed)."""
        self.version += 1

    def copy(self) -> HydroState:
        return HydroState(self.U.copy(), self.T.copy(), self.t, self.step, self.version)


class HydroFailure(RuntimeError):
    """A run hit an unphysical state; the message names the zone, the time and the state there."""


class Euler:
    """MUSCL–Hancock finite-volume solver for the Euler equations with passive species on ``mesh``.

    ``eos``: :class:`~lawful.hydro.eos.GammaLaw` or :class:`~lawful.hydro.eos.StellarGas`; ``limiter``: minmod |
    mc | vanleer; ``riemann``: hllc | exact (γ-law only); ``cfl`` in (0, 1) applied to
    Δt = cfl / max((|u| + c)/Δx + (|v| + c)/Δy).
    """

    def __init__(self, mesh: Mesh, eos, *, limiter: str = "mc", riemann: str = "hllc", cfl: float = 0.8):
        if not 0.0 < cfl < 1.0:
            raise ValueError(f"cfl = {cfl} must lie in (0, 1)")
        if limiter not in K.LIMITERS:
            raise ValueError(f"limiter = {limiter!r}; expected one of {sorted(K.LIMITERS)}")
        if riemann not in K.RIEMANN:
            raise ValueError(f"riemann = {riemann!r}; expected one of {sorted(K.RIEMANN)}")
        if riemann == "exact" and not isinstance(eos, GammaLaw):
            raise ValueError("riemann = 'exact' needs a gamma-law EOS; use 'hllc' with the stellar EOS")
        self.mesh, self.eos, self.limiter, self.riemann, self.cfl = mesh, eos, limiter, riemann, cfl
        self.n_species = eos.n_species
        shape = mesh.padded_shape
        nq, nu = K.QX + self.n_species, K.UX + self.n_species
        self.q = np.zeros((nq, *shape))
        self._dqx, self._dqy, self._qh = (np.zeros((nq, *shape)) for _ in range(3))
        self._fx, self._fy = np.zeros((nu, *shape)), np.zeros((nu, *shape))
        self._cached: tuple[int, int] | None = None

    # -- state construction -------------------------------------------------------------------------------
    def init(self, rho, u, v=0.0, *, p=None, T=None, X=None) -> HydroState:
        """State from primitive fields on the active cells ([ny, nx] or [nx]; scalars broadcast).

        Give ``p`` (erg/cm³) for a γ-law gas, ``T`` (K) and ``X`` [n_species, ...] for the stellar EOS.
        Raises ``ValueError`` for non-positive or non-finite ρ, p or T before any work.
        """
        m = self.mesh
        act_shape = (m.ny, m.nx) if m.ndim == 2 else (1, m.nx)
        rho, u, v = (np.broadcast_to(np.asarray(a, dtype=np.float64), act_shape) for a in (rho, u, v))
        _check_positive("density", rho, m)
        U = np.zeros((K.UX + self.n_species, *m.padded_shape))
        Tpad = np.zeros(m.padded_shape)
        act = (slice(None), *m.active)
        if isinstance(self.eos, GammaLaw):
            if p is None or X is not None:
                raise ValueError("a gamma-law gas needs p (and no species X)")
            p = np.broadcast_to(np.asarray(p, dtype=np.float64), act_shape)
            _check_positive("pressure", p, m)
            rho_e = self.eos.internal_energy(rho, p)
        else:
            if T is None or X is None:
                raise ValueError("the stellar EOS needs T (K) and mass fractions X [n_species, ...]")
            T = np.broadcast_to(np.asarray(T, dtype=np.float64), act_shape)
            _check_positive("temperature", T, m)
            X = np.broadcast_to(np.asarray(X, dtype=np.float64).reshape(self.n_species, *([1] * 2)) if
                                np.ndim(X) == 1 else np.asarray(X, dtype=np.float64).reshape(self.n_species, *act_shape),
                                (self.n_species, *act_shape))
            from lawful.burn.network import check_mass_fractions

            check_mass_fractions(X.reshape(self.n_species, -1).T)
            th = self.eos.thermo(rho.ravel(), T.ravel(), X.reshape(self.n_species, -1))
            rho_e = rho * th["e"].reshape(act_shape)
            U[K.UX:][act] = rho * X
            Tpad[m.active] = T
        U[K.UR][m.active] = rho
        U[K.UMX][m.active] = rho * u
        U[K.UMY][m.active] = rho * v
        U[K.UE][m.active] = rho_e + 0.5 * rho * (u * u + v * v)
        state = HydroState(U, Tpad)
        self.primitives(state)
        return state

    # -- pieces of a step ---------------------------------------------------------------------------------
    def primitives(self, state: HydroState) -> np.ndarray:
        """Fill ghost cells and return the primitive array q [6 + n_species, ny_t, nx_t] (cached per version).

        Raises :class:`HydroFailure` naming the zone when the state is unphysical (ρ ≤ 0, NaN, EOS failure).
        """
        key = (id(state.U), state.version)
        if self._cached == key:
            return self.q
        m = self.mesh
        self.check(state)
        K.fill_ghosts(state.U, m.ng, m.bc_codes, K.UMX, K.UMY)
        K.fill_ghosts(state.T[None], m.ng, m.bc_codes, -1, -1)
        try:
            self.eos.primitives(state.U, self.q, state.T)
        except EOSFailure as exc:
            raise HydroFailure(self.describe(state, exc.zones[0], str(exc))) from None
        self._cached = key
        return self.q

    def adopt_primitives(self, state: HydroState, q: np.ndarray) -> None:
        """Take ``q`` (from a checkpoint) as the primitives of ``state``'s current U, as :meth:`primitives` computed
        them then. The stellar EOS finds T by Newton from the previous T, so recomputing them from the restored T
        would differ in the last bits from the run that was interrupted; a resumed run then is not bitwise."""
        if q.shape != self.q.shape:
            raise ValueError(f"primitives of shape {q.shape} do not fit this solver's {self.q.shape}")
        self.q[...] = q
        self._cached = (id(state.U), state.version)

    def timestep(self, state: HydroState) -> float:
        """CFL time step (s) of the current state."""
        m = self.mesh
        rate = K.max_signal_rate(self.primitives(state), m.ng, m.dx, m.dy)
        if not (np.isfinite(rate) and rate > 0):
            raise HydroFailure(f"signal speed is {rate} at t = {state.t:.6g} s; the state has NaN or no motion "
                               "scale (sound speed zero)")
        return self.cfl / rate

    def __call__(self, state: HydroState, dt: float) -> HydroState:
        """Advance ``state`` by ``dt`` seconds in place (one unsplit MUSCL–Hancock step): U, and t and the step
        count with it."""
        m = self.mesh
        q = self.primitives(state)
        lim, rs = K.LIMITERS[self.limiter], K.RIEMANN[self.riemann]
        K.slopes_and_predictor(q, self._dqx, self._dqy, self._qh, dt, m.dx, m.dy, lim)
        K.face_fluxes(q, self._dqx, self._qh, self._fx, m.ng, 0, rs, self.eos.gamma)
        if m.ndim == 2:
            K.face_fluxes(q, self._dqy, self._qh, self._fy, m.ng, 1, rs, self.eos.gamma)
        K.conservative_update(state.U, self._fx, self._fy, m.ng, dt / m.dx, dt / m.dy)
        state.touch()
        state.t += dt
        state.step += 1
        return state

    # -- diagnostics --------------------------------------------------------------------------------------
    def totals(self, state: HydroState) -> np.ndarray:
        """Domain integrals of the conserved variables [4 + n_species] (g, g cm/s, erg, g per cm^(3−D))."""
        m = self.mesh
        return state.U[(slice(None), *m.active)].sum(axis=(1, 2)) * m.cell_volume

    def check(self, state: HydroState) -> None:
        """Raise :class:`HydroFailure` at the first active zone with ρ ≤ 0, ρe ≤ 0 or a non-finite value."""
        act = state.U[(slice(None), *self.mesh.active)]
        rho = act[K.UR]
        with np.errstate(all="ignore"):
            rho_e = act[K.UE] - 0.5 * (act[K.UMX] ** 2 + act[K.UMY] ** 2) / rho
        for bad, what in ((~(rho > 0) | ~np.isfinite(act).all(axis=0), "negative density or NaN"),
                          (~(rho_e > 0), "negative internal energy")):
            if bad.any():
                j, i = np.argwhere(bad)[0]
                g = self.mesh.ng
                flat = np.ravel_multi_index((j + (g if self.mesh.ndim == 2 else 0), i + g), self.mesh.padded_shape)
                raise HydroFailure(self.describe(state, flat, what))

    def describe(self, state: HydroState, flat_index: int, what: str) -> str:
        """Human description of a padded-array zone: indices, position, time and conserved state."""
        m = self.mesh
        j, i = np.unravel_index(int(flat_index), m.padded_shape)
        i_act = i - m.ng
        j_act = j - m.ng if m.ndim == 2 else 0
        x = m.xmin + (i_act + 0.5) * m.dx
        where = f"zone i={i_act}" + (f", j={j_act}" if m.ndim == 2 else "") + f" (x = {x:.6g} cm"
        where += f", y = {m.ymin + (j_act + 0.5) * m.dy:.6g} cm)" if m.ndim == 2 else ")"
        vals = ", ".join(f"{name} = {state.U[k, j, i]:.6g}" for k, name in enumerate(CONSERVED))
        return f"{what} at {where}, t = {state.t:.6g} s, step {state.step}: {vals}, T = {state.T[j, i]:.6g} K"


def _check_positive(name: str, arr: np.ndarray, mesh: Mesh) -> None:
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        idx = np.argwhere(bad)[0]
        i = int(idx[-1])
        raise ValueError(f"initial {name} = {arr[tuple(idx)]:.6g} at zone i={i}"
                         + (f", j={int(idx[0])}" if mesh.ndim == 2 else "") + "; it must be positive and finite")
