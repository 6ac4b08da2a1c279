"""``check_surrogate``: does a burn-surrogate step keep the bookkeeping a burn must keep, whatever its weights?

A step (:func:`lawful.burn.surrogate.model.build_step` or any module with the same call: ρ [N] g/cm³, T [N] K,
X [N, n], Δt [N] s, the predictor's ΔX [N, n] and its error estimate [N, n] → (X_new, ε erg/g, clipped mass,
ΔX)) is run on random zones with a large predictor error estimate, so its learned correction acts everywhere.
By construction, not by training, it must give:

* ΣX_new = 1 and X_new ≥ 0 (the composition map is onto the simplex);
* Σ ΔX = 0 (mass), Σ Z ΔY = 0 (charge, for networks whose nuclei share one Z/A);
* ε = N_A Σ B ΔY (MeV → erg), recomputed here independently of the module, to round-off of the binding energy
  it is the difference of, N_A Σ B (Y + Y_new);
* a positivity clip that only removes rounding (≤ 1e-15 of the mass).

Tolerances are round-off (1e-12 relative), not statistics: one violation on any zone fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: tolerances of the checks (relative to the scale of each quantity)
TOL = {"sum": 1e-12, "mass": 1e-12, "charge": 1e-12, "energy": 1e-12, "clip": 1e-15}


@dataclass
class SurrogateCheck:
    """Result of :func:`check_surrogate`: the worst violation of each invariant over ``n`` zones."""

    worst: dict[str, float]
    min_X: float
    n: int

    @property
    def passed(self) -> bool:
        return self.min_X >= 0.0 and all(self.worst[k] <= TOL[k] for k in TOL)

    def table(self) -> str:
        lines = [f"{'invariant':10s} {'worst':>10s} {'tolerance':>10s}"]
        lines += [f"{k:10s} {self.worst[k]:10.2e} {TOL[k]:10.0e}" for k in TOL]
        lines.append(f"{'min X':10s} {self.min_X:10.2e} {0.0:10.0e}")
        lines.append(f"{self.n} zones; passed: {self.passed}")
        return "\n".join(lines)


def random_zones(network, n: int, rng: np.random.Generator, T: tuple[float, float] = (1e9, 5e9), *,
                 zeros: bool = True):
    """``n`` random zones: ρ log-uniform in [3e6, 5e7] g/cm³, T log-uniform in ``T`` K, X Dirichlet(0.3) (with
    ``zeros``, a fifth of the zones missing the first five nuclei), Δt log-uniform in [1e-7, 1e-4] s."""
    rho = np.exp(rng.uniform(np.log(3e6), np.log(5e7), n))
    T = np.exp(rng.uniform(np.log(T[0]), np.log(T[1]), n))
    X = rng.dirichlet(np.full(len(network.names), 0.3), n)
    if zeros:  # zero abundances are legal input
        X[: n // 5, :5] = 0.0
        X /= X.sum(axis=1, keepdims=True)
    dt = np.exp(rng.uniform(np.log(1e-7), np.log(1e-4), n))
    return rho, T, X, dt


def check_surrogate(step, network, *, n: int = 500, seed: int = 0) -> SurrogateCheck:
    """Run ``step`` (float64, eval mode) on ``n`` random zones of ``network`` and measure every invariant."""
    import torch

    from lawful.burn.eos import StellarEOS
    from lawful.burn.kernels import MEV_TO_ERG, N_A
    from lawful.burn.surrogate.predictor import predict

    rho, T, X, dt = random_zones(network, n, np.random.default_rng(seed))
    dX_p = predict(network, StellarEOS(table=True).options(), rho, T, X, dt)[0]
    eX_p = np.ones_like(dX_p)  # a large error estimate: the net's correction is used on every zone
    with torch.no_grad():
        X_new, enuc, clipped, dX = (o.numpy() for o in step(*(torch.as_tensor(a) for a in (rho, T, X, dt, dX_p,
                                                                                             eX_p))))
    dY = X_new / network.A - X / network.A
    expected = (dY * network.binding).sum(axis=1) * N_A * MEV_TO_ERG
    scale = ((X + X_new) / network.A * network.binding).sum(axis=1) * N_A * MEV_TO_ERG
    worst = {"sum": float(np.abs(X_new.sum(axis=1) - 1).max()),
             "mass": float(np.abs(dX.sum(axis=1)).max() / max(np.abs(dX).sum(axis=1).max(), 1e-300)),
             "charge": float(np.abs((dY * network.Z).sum(axis=1)).max()),
             "energy": float((np.abs(enuc - expected) / scale).max()),
             "clip": float(np.max(clipped))}
    return SurrogateCheck(worst, float(X_new.min()), n)
