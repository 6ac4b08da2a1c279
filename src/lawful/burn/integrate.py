"""Burning many zones at constant density: :func:`burn` and the batched kernel behind it.

Two per-zone integrators share the right-hand side and Jacobian of :mod:`lawful.burn.zone`: a variable-order
BDF with Jacobian and LU reuse (:mod:`lawful.burn.bdf`, the default) and RODAS3 (:mod:`lawful.burn.rodas`).
Zones run in parallel over cores, each with its own step sequence and :class:`Status`; NaN never reaches the
returned state. Both conserve baryon number and charge in exact arithmetic; :func:`restore_invariants`
removes the round-off drift.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit, prange

from lawful.burn import bdf, rodas
from lawful.burn.kernels import MEV_TO_ERG, N_A
from lawful.burn.zone import Stat, Status

__all__ = ["BurnResult", "Status", "burn", "integrate_batch", "restore_invariants"]

#: integer codes of the methods inside the numba kernel
METHODS = {"bdf": 0, "rodas3": 1}


@njit(cache=True, parallel=True)
def integrate_batch(method, rho, T, Y, t_out, net, screen, heat, eos_opts, rtol, atol, max_steps):
    """Integrate N zones (ρ [N], T [N], Y [N, n]) to the times ``t_out`` [M] with method code ``method``
    (:data:`METHODS`). Returns ``(y_out [N, M, n+1], stats [N, 6])``; stats = (status, accepted steps,
    rejected steps, RHS evaluations, Jacobians, LU factorizations)."""
    N, n = Y.shape
    y_out = np.empty((N, t_out.shape[0], n + 1))
    stats = np.zeros((N, 6), dtype=np.int64)
    for z in prange(N):
        if method == 0:
            bdf.integrate_zone(rho[z], T[z], Y[z], t_out, net, screen, heat, eos_opts, rtol, atol, max_steps,
                               y_out[z], stats[z])
        else:
            rodas.integrate_zone(rho[z], T[z], Y[z], t_out, net, screen, heat, eos_opts, rtol, atol, max_steps,
                                 y_out[z], stats[z])
    return y_out, stats


def restore_invariants(Y: np.ndarray, Y0: np.ndarray, A: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Remove round-off drift: clip negative Y (they lie within the tolerance) and project each state back onto
    the baryon (Σ A Y) and charge (Σ Z Y) values of ``Y0``, with a correction proportional to Y.

    ``Y`` [N, M, n], ``Y0`` [N, n]. The integrators conserve both in exact arithmetic; in floating point an
    ill-conditioned iteration matrix (|hJ| up to ~1e10) lets ΣX drift by up to ~1e-8 over thousands of steps.
    """
    Y = np.clip(Y, 0.0, None)
    M = np.stack([A, Z])  # [2, n]
    target = Y0 @ M.T  # [N, 2]
    r = target[:, None, :] - Y @ M.T  # [N, M, 2] residual
    G = np.einsum("ai,nmi,bi->nmab", M, Y, M)  # M diag(Y) Mᵀ, rank 1 when every Z/A is equal
    lam = np.einsum("nmab,nmb->nma", np.linalg.pinv(G), r)
    return Y + Y * (lam @ M)


@dataclasses.dataclass
class BurnResult:
    """Outcome of :func:`burn` for N zones and M output times.

    ``t`` [M] (s); ``X`` [N, M, n] mass fractions; ``T`` [N, M] (K); ``enuc`` [N, M] specific energy released
    since t = 0 (erg/g, from binding energies); ``status`` [N] (:class:`Status` values); ``steps``,
    ``rejected``, ``n_rhs``, ``n_jac``, ``n_lu`` [N] counters (steps, rejected steps, RHS evaluations, Jacobians,
    LU factorizations).
    """

    names: tuple[str, ...]
    t: np.ndarray
    X: np.ndarray
    T: np.ndarray
    enuc: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    rejected: np.ndarray
    n_rhs: np.ndarray
    n_jac: np.ndarray
    n_lu: np.ndarray

    @property
    def ok(self) -> bool:
        return bool((self.status == Status.SUCCESS).all())


def burn(network, rho, T, X, t_out, *, self_heating: bool = True, rtol: float = 1e-6, atol: float = 1e-8,
         max_steps: int = 100_000, eos=None, method: str = "bdf") -> BurnResult:
    """Burn N zones at constant density from t = 0 through the output times ``t_out`` (s).

    ``rho``, ``T`` scalars or [N] (g/cm³, K); ``X`` [n] or [N, n] mass fractions in ``network.names`` order.
    ``self_heating`` couples T through dT/dt = ε̇ / c_v with c_v from ``eos`` (a :class:`StellarEOS`; default
    direct quadrature without Coulomb corrections; ``StellarEOS(table=True)`` is faster); otherwise T stays fixed. Inputs are validated before any
    work (ValueError naming the bad value). ``method``: ``"bdf"`` (variable-order BDF with Jacobian reuse,
    :mod:`lawful.burn.bdf`) or ``"rodas3"`` (this module's Rosenbrock method).
    """
    from lawful.burn.eos import StellarEOS, check_state
    from lawful.burn.network import as_zones, check_mass_fractions

    rho, T, X = as_zones(rho, T, X, len(network.names))
    check_state(rho, T)
    check_mass_fractions(X)
    t_out = np.atleast_1d(np.asarray(t_out, dtype=np.float64))
    if t_out.ndim != 1:
        raise ValueError(f"output times must be one sequence of times (shape (k,)), got shape {t_out.shape}")
    if not (np.isfinite(t_out).all() and (t_out > 0).all() and (np.diff(t_out) > 0).all()):
        raise ValueError(f"output times must be positive and increasing; got {t_out.tolist()[:5]}")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not (0 < v < 1):
            raise ValueError(f"{name} = {v} must lie in (0, 1)")
    if method not in METHODS:
        raise ValueError(f"method = {method!r}; expected 'bdf' or 'rodas3'")
    if max_steps < 1:
        raise ValueError(f"max_steps = {max_steps} must be ≥ 1")
    Y0 = X / network.A
    eos_opts = (eos if eos is not None else StellarEOS()).options()
    y_out, stats = integrate_batch(METHODS[method], rho, T, Y0, t_out, network.packed, network.screen,
                                   self_heating, eos_opts, rtol, atol, int(max_steps))
    n = len(network.names)
    Y = restore_invariants(y_out[:, :, :n], Y0, network.A, network.Z)
    dB = ((Y - Y0[:, None, :]) * network.binding).sum(axis=-1)
    return BurnResult(
        names=network.names, t=t_out, X=Y * network.A, T=y_out[:, :, n], enuc=dB * N_A * MEV_TO_ERG,
        status=stats[:, Stat.STATUS].copy(), steps=stats[:, Stat.ACCEPTED].copy(),
        rejected=stats[:, Stat.REJECTED].copy(), n_rhs=stats[:, Stat.N_RHS].copy(), n_jac=stats[:, Stat.N_JAC].copy(),
        n_lu=stats[:, Stat.N_LU].copy(),
    )
