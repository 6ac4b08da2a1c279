"""Equations of state as the hydro solver sees them: p and Γ₁ from (ρ, e, X) over whole padded arrays.

:class:`GammaLaw` is the ideal gas p = (γ − 1) ρe. :class:`StellarGas` wraps :class:`lawful.burn.eos.StellarEOS`
(ions, radiation, e⁻e⁺ pairs) with Ā and Z̄ from the network's mass fractions, and inverts e(ρ, T) for T.
"""

from __future__ import annotations

import numpy as np

from lawful.hydro.kernels import QG, QP, QR, QRE, QX, conserved_to_primitive


class EOSFailure(RuntimeError):
    """The EOS could not be evaluated in some zones; ``zones`` holds their flat indices in the padded array."""

    def __init__(self, message: str, zones: np.ndarray):
        super().__init__(message)
        self.zones = zones


class GammaLaw:
    """Ideal gas with adiabatic index ``gamma`` (> 1); no species needed, T is not tracked."""

    n_species = 0

    def __init__(self, gamma: float = 1.4):
        if not gamma > 1.0:
            raise ValueError(f"gamma = {gamma} must be > 1")
        self.gamma = float(gamma)

    def primitives(self, U: np.ndarray, q: np.ndarray, T: np.ndarray) -> None:
        """Fill the primitive array ``q`` from ``U`` in place (``T`` unused)."""
        conserved_to_primitive(U, q, self.gamma)

    def internal_energy(self, rho: np.ndarray, p: np.ndarray) -> np.ndarray:
        """ρe (erg/cm³) from ρ and p."""
        return np.asarray(p, dtype=np.float64) / (self.gamma - 1.0)


class StellarGas:
    """Stellar EOS for a composition on ``network`` (a :class:`lawful.burn.network.Network`).

    ``table`` uses the Helmholtz-type table (fast, ~1e-6); ``coulomb`` adds the ion Coulomb correction.
    """

    def __init__(self, network, table: bool = True, coulomb: bool = False):
        from lawful.burn.eos import StellarEOS

        self.network = network
        self.eos = StellarEOS(coulomb=coulomb, table=table)
        self._opts = self.eos.options()
        self.n_species = len(network.names)
        self.gamma = 0.0

    def abar_zbar(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean mass number and charge from mass fractions X [n, ...] (species first)."""
        return self.network.abar_zbar(np.moveaxis(X, 0, -1))

    def thermo(self, rho, T, X) -> dict[str, np.ndarray]:
        """EOS fields (:data:`lawful.burn.eos.EOS_FIELDS`) at ρ, T with X [n, ...]; arrays come back flat."""
        abar, zbar = self.abar_zbar(np.asarray(X, dtype=np.float64))
        return self.eos(rho, T, abar, zbar)

    def primitives(self, U: np.ndarray, q: np.ndarray, T: np.ndarray) -> None:
        """Fill ``q`` from ``U`` and update ``T`` [ny_t, nx_t] in place (its old values are the Newton guesses).

        Raises :class:`EOSFailure` naming zones whose ρ or e is unphysical or where T(ρ, e) does not converge.
        """
        from lawful.burn.eos import EOS_FIELDS, eos_kernel, temperature_from_energy

        conserved_to_primitive(U, q, 0.0)
        rho = np.ascontiguousarray(q[QR].ravel())
        e = np.ascontiguousarray(q[QRE].ravel()) / rho
        bad = ~((rho > 0) & (e > 0) & np.isfinite(e))
        if bad.any():
            raise EOSFailure("non-positive density or internal energy", np.flatnonzero(bad))
        abar, zbar = self.abar_zbar(q[QX:].reshape(self.n_species, -1))
        T_new, ok = temperature_from_energy(rho, e, abar, zbar, np.ascontiguousarray(T.ravel()), self._opts, 1e-10)
        if not ok.all():
            raise EOSFailure("T(rho, e) did not converge", np.flatnonzero(~ok))
        out = eos_kernel(rho, T_new, abar, zbar, self._opts)
        T[...] = T_new.reshape(T.shape)
        q[QP] = out[:, EOS_FIELDS.index("p")].reshape(T.shape)
        q[QG] = out[:, EOS_FIELDS.index("gamma1")].reshape(T.shape)
