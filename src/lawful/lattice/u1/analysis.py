"""Γ-method analysis of a 2D U(1) ensemble, with the exact finite-volume value and the pull beside each estimate.

Estimates: ⟨cos θ_P⟩, ⟨Q⟩ (0 by symmetry), ⟨Q²⟩, χ_top = ⟨Q²⟩/V, Wilson loops W(R×T), the Creutz ratios
χ(2,2) = −ln[W(2×2) W(1×1)/W(1×2)²] and χ(3,3) = −ln[W(3×3) W(2×2)/W(2×3)²], ⟨|P̄|²⟩ of the Polyakov loop, and
for HMC ⟨ΔH⟩, ⟨e^{−ΔH}⟩ (exactly 1). τ_int (Wolff's convention, in updates) of Q, Q² and the plaquette.
Exact references come from :mod:`lawful.lattice.u1.exact` at the run's β and L.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lawful.core.gamma import Observable, gamma_method
from lawful.lattice import ensemble
from lawful.lattice.chain_analysis import (
    Analysis,
    chain_warnings,
    dh_observables,
    estimate_of,
    incomplete_warning,
    mh_summary,
    therm_cut,
)
from lawful.lattice.u1 import exact

#: (estimate key, label) in the order ``lawful lattice analyze`` prints them
ROWS = (
    ("plaquette", "⟨cos θ_P⟩"),
    ("Q", "⟨Q⟩"),
    ("Q2", "⟨Q²⟩"),
    ("chi_top", "χ_top = ⟨Q²⟩/V"),
    ("W11", "W(1×1)"),
    ("W12", "W(1×2)"),
    ("W22", "W(2×2)"),
    ("W23", "W(2×3)"),
    ("W33", "W(3×3)"),
    ("creutz22", "Creutz χ(2,2)"),
    ("creutz33", "Creutz χ(3,3)"),
    ("poly2", "⟨|P̄|²⟩ Polyakov"),
    ("exp_minus_dH", "⟨e^{−ΔH}⟩"),
    ("dH", "⟨ΔH⟩"),
)
TAU_REPORTED = ("Q", "Q2", "plaquette")
LOOP_AREAS = {"W11": 1, "W12": 2, "W22": 4, "W23": 6, "W33": 9}


def exact_values(beta: float, size: int) -> dict[str, float]:
    """Exact finite-volume values of every estimate that has one (keys as in :data:`ROWS`)."""
    q2, chi = exact.topological_susceptibility(beta, size)
    w = {k: exact.wilson_loop(beta, size, a) for k, a in LOOP_AREAS.items()}
    return {
        "plaquette": exact.mean_plaquette(beta, size), "Q": 0.0, "Q2": q2, "chi_top": chi, **w,
        "creutz22": -math.log(w["W22"] * w["W11"] / w["W12"] ** 2),
        "creutz33": -math.log(w["W33"] * w["W22"] / w["W23"] ** 2),
        "poly2": exact.polyakov_susceptibility(beta, size), "exp_minus_dH": 1.0,
    }


@dataclass
class U1Analysis(Analysis):
    """Result of :func:`analyze_u1`; ``reference`` maps estimate keys to exact values."""

    beta: float = float("nan")
    size: int = 0
    reference: dict[str, float] = field(default_factory=dict)
    rows: tuple[tuple[str, str], ...] = ROWS

    def pulls(self) -> dict[str, float]:
        """(estimate − exact)/error for every estimate with an exact value and a positive error."""
        return {k: (self.estimates[k].value - v) / self.estimates[k].error for k, v in self.reference.items()
                if k in self.estimates and self.estimates[k].error > 0}

    def to_json(self) -> dict[str, Any]:
        """What ``lawful lattice analyze --json`` prints for a U(1) run."""
        e = self.estimates
        out: dict[str, Any] = {k: e[k].pair() for k, _ in ROWS if k in e}
        out.update({
            "theory": "u1", "beta": self.beta, "size": self.size, "acceptance": self.acceptance,
            "tau_int": {k: [float(e[k].tau_int), float(e[k].tau_int_error)] for k in TAU_REPORTED},
            "exact": {k: v for k, v in self.reference.items() if k in e},
            "pull": self.pulls(),
            "n_used": self.n_used, "n_chains": self.n_chains, "therm_cut": self.therm_cut, "volume": self.volume,
            "warnings": self.warnings, "ess_per_sample": self.ess_per_sample,
        })
        if self.n_invalid is not None:
            out["n_invalid"] = self.n_invalid
        return out


def analyze_u1(run_dir: Path, ens: ensemble.Ensemble, therm: int | str | None = None) -> U1Analysis:
    """Γ-method analysis of the U(1) ensemble ``ens`` read from ``run_dir`` (``therm`` as in
    :func:`lawful.lattice.analysis.analyze`)."""
    cfg = tomllib.loads(ens.config_toml)
    if "beta" not in cfg or cfg.get("size") is None:  # an MH chain of a flow: the action the model was trained for
        cfg = json.loads(ens.extra_attrs["action"])
    beta, size = float(cfg["beta"]), int(cfg["size"])
    cut = therm_cut(ens, therm, ("S", "Q"))
    d = {k: v[:, cut:] for k, v in ens.series.items()}
    vol = ens.volume
    o = {k: Observable.from_series(d[k]) for k in ("plaquette", "Q", *LOOP_AREAS, "poly2")}
    o["Q2"] = Observable.from_series(d["Q"] ** 2)
    derived = {
        "chi_top": o["Q2"] / vol,
        "creutz22": -(o["W22"] * o["W11"] / o["W12"] ** 2).log(),
        "creutz33": -(o["W33"] * o["W22"] / o["W23"] ** 2).log(),
    }
    wanted = {**o, **derived, **dh_observables(d)}
    results = dict(zip(wanted, gamma_method(list(wanted.values()))))
    estimates = {k: estimate_of(r) for k, r in results.items()}
    rho = {k: (results[k].rho, results[k].window) for k in ("Q", "Q2", "plaquette")}
    taus = [estimates[k].tau_int for k in TAU_REPORTED if math.isfinite(estimates[k].tau_int)]
    msgs = chain_warnings(ens, cut, max(taus, default=float("nan")), estimates.get("exp_minus_dH"))
    ess, n_invalid = mh_summary(ens, cut)
    msgs += incomplete_warning(ens)
    return U1Analysis(run_dir=run_dir, volume=vol, n_chains=ens.n_chains, n_done=ens.n_done, therm_cut=cut,
                      estimates=estimates, acceptance=float(np.mean(d["acceptance"])), warnings=msgs, rho=rho,
                      series=ens.series, ess_per_sample=ess, n_invalid=n_invalid, beta=beta, size=size,
                      reference=exact_values(beta, size))
