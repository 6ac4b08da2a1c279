"""What every Γ-method analysis of a lattice ensemble shares (φ⁴ in :mod:`lawful.lattice.analysis`, U(1) in
:mod:`lawful.lattice.u1.analysis`): estimates with errors and τ_int, the thermalization cut, the warnings about
short or stuck chains and ⟨e^{−ΔH}⟩, and the summary of an independence-MH chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lawful.core.gamma import GammaResult, Observable, gamma_method
from lawful.lattice import ensemble

TAU_REPORTED = ("m2", "abs_m", "S", "binder")
#: chain length (after the cut, in units of τ_int, Wolff's convention) below which errors are flagged unreliable;
#: emcee's rule N ≥ 50 τ in its convention τ = 2 τ_int
RELIABLE_LENGTH = 100
#: distance of ⟨e^{−ΔH}⟩ from its exact value 1, in standard errors, above which analyze warns
EXP_DH_PULL_MAX = 3.0

@dataclass
class Estimate:
    """A Monte Carlo estimate with its Γ-method error and integrated autocorrelation time (in updates)."""

    value: float
    error: float
    tau_int: float = float("nan")
    tau_int_error: float = float("nan")

    def pair(self) -> list[float]:
        return [float(self.value), float(self.error)]


@dataclass
class Analysis:
    """Result of :func:`analyze`."""

    run_dir: Path
    volume: int
    n_chains: int
    n_done: int
    therm_cut: int
    estimates: dict[str, Estimate]
    acceptance: float
    warnings: list[str] = field(default_factory=list)
    rho: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict, repr=False)
    series: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # full (C, n_done) histories
    ess_per_sample: float | None = None  # MH chains of a learned sampler: Kish ESS/N of the proposals' weights
    n_invalid: int | None = None  # MH chains: proposals with NaN/Inf log-weight (all rejected)
    log_q_error_spread: float | None = None  # diffusion MH chains: estimated spread of log q's ODE error
    ode_steps: int | None = None  # diffusion MH chains: the ODE step count the chain ran with

    @property
    def n_used(self) -> int:
        return self.n_chains * (self.n_done - self.therm_cut)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary printed by ``lawful lattice analyze --json``."""
        e = self.estimates
        out: dict[str, Any] = {
            "chi": e["chi"].pair(),
            "abs_m": e["abs_m_density"].pair(),
            "binder": e["binder"].pair(),
            "acceptance": self.acceptance,
            "exp_minus_dH": e["exp_minus_dH"].pair() if "exp_minus_dH" in e else None,
            "dH": e["dH"].pair() if "dH" in e else None,
            "dchi_dkappa": e["dchi_dkappa"].pair(),
            "dabs_m_dkappa": e["dabs_m_dkappa"].pair(),
            "action_density": e["action_density"].pair(),
            "tau_int": {k: [float(e[k].tau_int), float(e[k].tau_int_error)] for k in TAU_REPORTED},
            "n_used": self.n_used,
            "n_chains": self.n_chains,
            "therm_cut": self.therm_cut,
            "volume": self.volume,
            "warnings": self.warnings,
            "ess_per_sample": self.ess_per_sample,
        }
        if self.n_invalid is not None:
            out["n_invalid"] = self.n_invalid
        if self.log_q_error_spread is not None:
            out["log_q_error_spread"] = self.log_q_error_spread
            out["ode_steps"] = self.ode_steps
        return out


def estimate_of(r: GammaResult) -> Estimate:
    """The :class:`Estimate` of a Γ-method result."""
    return Estimate(r.value, r.error, r.tau_int, r.tau_int_error)


def gamma_estimate(series: np.ndarray) -> Estimate:
    """Γ-method mean, error and τ_int of a ``(C, N)`` series treated as C replicas of one ensemble."""
    return estimate_of(gamma_method([Observable.from_series(series)])[0])


def tau_int(series: np.ndarray) -> float:
    """Γ-method τ_int of a ``(C, N)`` series treated as C replicas (NaN if it has no fluctuations)."""
    if np.ptp(series) == 0:
        return float("nan")
    return gamma_estimate(series).tau_int


def auto_therm_cut(series: dict[str, np.ndarray], keys: tuple[str, ...] = ("S", "m2")) -> int:
    """20 × the largest τ_int of the series ``keys``, measured on the second half of each chain, at most half
    the data."""
    n = series["S"].shape[1]
    half = n // 2
    taus = [tau_int(series[k][:, half:]) for k in keys]
    tau = max((t for t in taus if math.isfinite(t)), default=0.5)
    return min(math.ceil(20 * tau), half)


def read_ensemble(run_dir: str | Path) -> ensemble.Ensemble:
    """The ensemble in ``run_dir``, or a ``FileNotFoundError`` that says how to make one."""
    path = Path(run_dir) / ensemble.ENSEMBLE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{str(run_dir)!r} holds no lattice ensemble (expected {str(path)!r}); "
                                "run 'lawful lattice hmc --out DIR' first")
    return ensemble.read(path)


def therm_cut(ens: ensemble.Ensemble, therm: int | str | None, keys: tuple[str, str]) -> int:
    """The thermalization cut for ``therm`` (None: the run's n_therm; "auto": :func:`auto_therm_cut` on the
    series ``keys``; an integer), refused if it leaves fewer than 16 updates per chain."""
    n = ens.n_done
    if therm is None:
        cut = ens.n_therm
    elif therm == "auto":
        cut = auto_therm_cut(ens.series, keys)
    elif isinstance(therm, (int, np.integer)) and not isinstance(therm, bool) and therm >= 0:
        cut = int(therm)
    else:
        raise ValueError(f"therm must be a non-negative integer or 'auto', got {therm!r}")
    if n - cut < 16:
        raise ValueError(f"thermalization cut {cut} leaves {n - cut} updates per chain of {n}; need at least 16 "
                         "(run longer, or lower --therm)")
    return cut


def chain_warnings(ens: ensemble.Ensemble, cut: int, tau_max: float, exp_dh: Estimate | None) -> list[str]:
    """Warnings every Markov-chain analysis gives: a short cut or chain (in units of the largest τ_int
    ``tau_max``), stuck chains, ⟨e^{−ΔH}⟩ away from 1."""
    n = ens.n_done
    msgs = []
    if math.isfinite(tau_max) and cut < 10 * tau_max:
        msgs.append(f"thermalization cut {cut} is less than 10 τ_int (τ_int = {tau_max:.1f}); "
                    "try --therm auto or a longer n_therm")
    if math.isfinite(tau_max) and n - cut < RELIABLE_LENGTH * tau_max:
        msgs.append(f"each chain has {n - cut} updates after the cut, fewer than {RELIABLE_LENGTH} τ_int "
                    f"(τ_int = {tau_max:.1f}): τ_int and the errors are unreliable; run longer")
    per_chain = np.mean(ens.series["acceptance"][:, cut:], axis=1)
    stuck = [c for c in range(ens.n_chains) if per_chain[c] < 0.2 * np.max(per_chain)]
    if stuck:
        msgs.append(f"chain(s) {stuck} accept far less often than the others ({per_chain[stuck].round(3).tolist()} "
                    f"vs up to {np.max(per_chain):.3f}): stuck chains bias the estimates; check step sizes")
    mh_chain = "log_weight" in ens.extra  # an independence-MH chain of a learned sampler (lawful.lattice.sample)
    if exp_dh is not None and exp_dh.error > 0 and abs(exp_dh.value - 1) > EXP_DH_PULL_MAX * exp_dh.error:
        pull = (exp_dh.value - 1) / exp_dh.error
        cause = ("the proposals have not yet reached part of p (heavy-tailed weights), so the averages lean toward "
                 "the model's distribution; train the model further or run far longer" if mh_chain else
                 "the trajectories are not reversible and area-preserving, or the chain is not in equilibrium; "
                 "check the integrator and the thermalization")
        msgs.append(f"⟨e^(-ΔH)⟩ = {exp_dh.value:.4g} ± {exp_dh.error:.2g} is {pull:+.1f}σ from 1, its exact value "
                    f"in equilibrium: {cause}")
    return msgs


def incomplete_warning(ens: ensemble.Ensemble) -> list[str]:
    """The warning of a run that stopped before its end (empty when complete)."""
    if ens.complete:
        return []
    return [f"run is incomplete ({ens.n_done} updates per chain so far); rerun the same command to resume it"]


def mh_summary(ens: ensemble.Ensemble, cut: int) -> tuple[float | None, int | None]:
    """``(ESS/N of the proposals' weights after the cut, invalid proposals)`` of an independence-MH chain of a
    learned sampler; ``(None, None)`` for any other chain."""
    if "log_weight" not in ens.extra:
        return None, None
    from lawful.lattice.mh import ess_per_sample

    return ess_per_sample(ens.extra["log_weight"][:, cut:]), int(ens.extra_attrs.get("n_invalid", 0))


def dh_observables(d: dict[str, np.ndarray]) -> dict[str, Observable]:
    """ΔH and e^{−ΔH} as observables when every update recorded a finite ΔH (HMC, independence MH)."""
    dH = d["dH"]
    if not np.all(np.isfinite(dH)):
        return {}
    return {"dH": Observable.from_series(dH), "exp_minus_dH": Observable.from_series(np.exp(-dH))}
