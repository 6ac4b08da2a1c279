"""``check_sampler``: does a learned sampler, behind the Metropolis–Hastings guard, reproduce a known answer?

The target is the **Gaussian free field**: φ⁴ with λ = 0, S = Σ_x [φ_x² − 2κ Σ_μ φ_x φ_{x+μ}] = φᵀAφ, which is
Gaussian for κ < 1/(2D) with covariance (2A)⁻¹. Exact values (V sites, m = Σ_x φ_x):

* χ = ⟨m²⟩/V = 1 / (2(1 − 2Dκ))      (the zero-momentum mode of (2A)⁻¹),
* ⟨|m|⟩/V = √(2⟨m²⟩/π) / V            (m is Gaussian),
* ⟨S⟩/V = 1/2                         (equipartition of a quadratic action).

The MH-corrected chain must agree within ``k`` standard errors (Γ-method, autocorrelations included). The same
proposals used without correction (plain averages over the model's samples) are reported beside it, to show
what the guard fixes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lawful.lattice.actions import Phi4
from lawful.lattice.geometry import Lattice
from lawful.lattice.observables import OBS_S

#: a proposer: (n, torch generator) -> (fields (n, V) float64, log q (n,) float64)
Proposer = Callable[[int, Any], tuple[np.ndarray, np.ndarray]]


def gaussian_free_field(dim: int, size: int, kappa: float) -> tuple[Phi4, dict[str, float]]:
    """The free-field action (λ = 0) and its exact ``chi``, ``abs_m``, ``action`` (densities, see module doc)."""
    if not 0 <= kappa < 1 / (2 * dim):
        raise ValueError(f"the free field needs 0 <= kappa < 1/(2D) = {1 / (2 * dim):g}, got {kappa!r}")
    action = Phi4(Lattice(dim, size), kappa, 0.0)
    vol = action.lattice.volume
    m2 = vol / (2 * (1 - 2 * dim * kappa))
    return action, {"chi": m2 / vol, "abs_m": math.sqrt(2 * m2 / math.pi) / vol, "action": 0.5}


@dataclass
class SamplerCheck:
    """Result of :func:`check_sampler`: per observable the exact value, the corrected and uncorrected estimates
    ``(value, error)`` and their pulls (deviation / error)."""

    exact: dict[str, float]
    corrected: dict[str, tuple[float, float]]
    uncorrected: dict[str, tuple[float, float]]
    acceptance: float
    k: float
    n: int
    notes: list[str] = field(default_factory=list)

    def pull(self, which: str, name: str) -> float:
        value, error = getattr(self, which)[name]
        return (value - self.exact[name]) / error if error > 0 else math.inf

    @property
    def passed(self) -> bool:
        """All corrected estimates within ``k`` σ of the exact values."""
        return all(abs(self.pull("corrected", name)) < self.k for name in self.exact)

    @property
    def uncorrected_biased(self) -> bool:
        """Some uncorrected estimate is more than ``k`` σ off: the guard was needed."""
        return any(abs(self.pull("uncorrected", name)) > self.k for name in self.exact)

    def table(self) -> str:
        header = (f"{'observable':10s} {'exact':>10s} {'MH-corrected':>22s} {'pull':>6s} "
                  f"{'uncorrected':>22s} {'pull':>7s}")
        lines = [header]
        for name, ex in self.exact.items():
            c, u = self.corrected[name], self.uncorrected[name]
            lines.append(f"{name:10s} {ex:10.5f} {c[0]:12.5f} ± {c[1]:7.5f} {self.pull('corrected', name):+6.1f} "
                         f"{u[0]:12.5f} ± {u[1]:7.5f} {self.pull('uncorrected', name):+7.1f}")
        lines.append(f"acceptance {self.acceptance:.3f}; passed (|pull| < {self.k:g}): {self.passed}")
        return "\n".join(lines)


def check_sampler(proposer: Proposer, action: Phi4, exact: dict[str, float], *, n: int = 20000,
                  batch_size: int = 1024, k: float = 4.0, seed: int = 0) -> SamplerCheck:
    """Run an independence-MH chain of ``n`` steps with ``proposer`` on ``action`` and compare to ``exact``.

    ``exact`` holds any of ``chi``, ``abs_m``, ``action`` (per-site densities, as from
    :func:`gaussian_free_field`). Errors of the corrected chain come from the Γ-method; the uncorrected
    estimates are plain means of the independent proposals with their standard errors.
    """
    import torch

    from lawful.lattice.chain_analysis import gamma_estimate
    from lawful.lattice.mh import log_weights, mh_batch

    unknown = set(exact) - {"chi", "abs_m", "action"}
    if unknown:
        raise ValueError(f"exact values may name chi, abs_m, action; got unknown {sorted(unknown)}")
    if n < 100:
        raise ValueError(f"n must be >= 100 for a meaningful error estimate, got {n}")
    vol = action.lattice.volume
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    chain, raw = [], []
    current_lw, current_obs = -np.inf, None
    accepted = 0.0
    done = 0
    while done < n:
        m = min(batch_size, n - done)
        phi, logq = proposer(m, gen)
        if phi.shape != (m, vol):
            raise ValueError(f"proposer returned fields of shape {phi.shape}, expected ({m}, {vol})")
        meas = action.measure(np.ascontiguousarray(phi, dtype=np.float64))
        lw = log_weights(meas[:, OBS_S], logq)
        res = mh_batch(lw, np.log(rng.random(m)), current_lw)
        obs = np.where((res.src >= 0)[:, None], meas[np.maximum(res.src, 0)],
                       current_obs if current_obs is not None else np.nan)
        if res.src[-1] >= 0:
            current_obs = meas[res.src[-1]]
        current_lw = res.log_w_after
        chain.append(obs)
        raw.append(meas[np.isfinite(lw)])
        accepted += float(res.accepted.sum())
        done += m
    chain_obs = np.concatenate(chain)
    chain_obs = chain_obs[~np.isnan(chain_obs[:, 0])]
    raw_obs = np.concatenate(raw)
    columns = {"chi": (2, 1.0 / vol), "abs_m": (1, 1.0 / vol), "action": (5, 1.0 / vol)}
    corrected, uncorrected = {}, {}
    for name in exact:
        col, scale = columns[name]
        est = gamma_estimate(chain_obs[:, col] * scale)
        corrected[name] = (est.value, est.error)
        x = raw_obs[:, col] * scale
        uncorrected[name] = (float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(len(x))))
    return SamplerCheck(exact=dict(exact), corrected=corrected, uncorrected=uncorrected,
                        acceptance=accepted / n, k=k, n=n)
