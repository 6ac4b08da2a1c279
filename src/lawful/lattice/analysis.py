"""Γ-method analysis of a lattice ensemble (Wolff, Comput. Phys. Commun. 156 (2004) 143): :mod:`lawful.core.gamma`,
which gives pyerrors' numbers (tested against it) at a small fraction of its cost.

Primary observables are per-update series (m², |m|, m⁴, W, S, e^{−ΔH}, …) with the chains as replicas of one
ensemble; derived ones (χ, Binder ratio U = ⟨m⁴⟩/⟨m²⟩², d⟨A⟩/dκ = ⟨WA⟩ − ⟨W⟩⟨A⟩) get errors and τ_int by
linear error propagation on the fluctuations, so autocorrelations are accounted for throughout.
τ_int follows Wolff's convention (τ_int = ½ for uncorrelated data); errors of τ_int are Wolff's.

Thermalization: the first ``therm_cut`` updates of every chain are dropped. By default the cut is the run's
``n_therm``; ``therm="auto"`` picks 20 τ_int (the largest of S and m², measured on the second half of the
chains); an integer sets it. A cut shorter than 10 τ_int is reported as a warning, and so is a chain shorter
than :data:`RELIABLE_LENGTH` τ_int after the cut: then τ_int itself is poorly determined (a stuck
independence-MH chain shows few, long plateaus) and the errors that rest on it cannot be trusted.

⟨e^{−ΔH}⟩ is exactly 1 in equilibrium: for HMC by reversibility and area preservation (Creutz), for an
independence-MH chain because it is ⟨w(φ')/w(φ)⟩ = E_q[w] E_p[1/w] = Z · (1/Z) (w = e^{−S}/q, φ ~ p, φ' ~ q). An
estimate more than :data:`EXP_DH_PULL_MAX` σ from 1 is reported: for MH it means the proposals have not yet
reached part of p (heavy-tailed weights; the sample mean of w' comes out low), so the chain's averages lean
toward q however small their errors look.

The pieces every theory shares (estimates, the cut, the warnings) live in :mod:`lawful.lattice.chain_analysis`;
a U(1) ensemble is analyzed by :func:`lawful.lattice.u1.analysis.analyze_u1`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from lawful.core.gamma import Observable, gamma_method
from lawful.lattice.chain_analysis import (
    Analysis,
    chain_warnings,
    dh_observables,
    estimate_of,
    incomplete_warning,
    mh_summary,
    read_ensemble,
    therm_cut,
)

#: spread of a diffusion model's log q error across proposals above which analyze warns: the MH chain then samples
#: p·e^{−ε}, and an observable O may move by up to this times std(O)
LOG_Q_SPREAD_MAX = 0.01


def steps_for_spread(steps: int, spread: float) -> int:
    """ODE step count that brings a log q error spread measured at ``steps`` down to :data:`LOG_Q_SPREAD_MAX`
    (the error is second order in the step)."""
    return math.ceil(steps * math.sqrt(spread / LOG_Q_SPREAD_MAX))


def analyze(run_dir: str | Path, therm: int | str | None = None) -> Any:
    """Γ-method analysis of the ensemble in ``run_dir`` (see module docstring for ``therm``); a U(1) ensemble
    gets :func:`lawful.lattice.u1.analysis.analyze_u1`."""
    run_dir = Path(run_dir)
    ens = read_ensemble(run_dir)
    if "Q" in ens.series:
        from lawful.lattice.u1.analysis import analyze_u1

        return analyze_u1(run_dir, ens, therm)
    s = ens.series
    n = ens.n_done
    cut = therm_cut(ens, therm, ("S", "m2"))
    vol = ens.volume
    d = {k: v[:, cut:] for k, v in s.items()}
    o = {k: Observable.from_series(d[k]) for k in ("m2", "abs_m", "m4", "W", "S")}
    o["W_m2"] = Observable.from_series(d["W"] * d["m2"])
    o["W_abs_m"] = Observable.from_series(d["W"] * d["abs_m"])
    derived = {
        "chi": o["m2"] / vol,
        "abs_m_density": o["abs_m"] / vol,
        "binder": o["m4"] / o["m2"] ** 2,
        "dchi_dkappa": (o["W_m2"] - o["W"] * o["m2"]) / vol,
        "dabs_m_dkappa": (o["W_abs_m"] - o["W"] * o["abs_m"]) / vol,
        "action_density": o["S"] / vol,
    }
    wanted = {**{k: o[k] for k in ("m2", "abs_m", "m4", "W", "S")}, **derived, **dh_observables(d)}
    results = dict(zip(wanted, gamma_method(list(wanted.values()))))
    estimates = {k: estimate_of(r) for k, r in results.items()}
    rho = {k: (results[k].rho, results[k].window) for k in ("m2", "abs_m", "S")}
    tau_max = max(estimates["m2"].tau_int, estimates["S"].tau_int)
    msgs = chain_warnings(ens, cut, tau_max, estimates.get("exp_minus_dH"))
    ess, n_invalid = mh_summary(ens, cut)
    if ess is not None:
        spread = ens.extra_attrs.get("log_q_error_spread")
        if spread is not None and spread > LOG_Q_SPREAD_MAX:
            steps = int(ens.extra_attrs.get("ode_steps", 24))
            enough = steps_for_spread(steps, spread)
            msgs.append(f"the diffusion model's log q has an ODE discretization error that varies by ~{spread:.3f} "
                        f"across proposals at {steps} steps: the chain samples p·e^(-ε), and an observable O may be "
                        f"off by up to {spread:.3f}·std(O); sample again with --ode-steps {enough} or more")
        if not bool(ens.extra_attrs.get("exact", True)):
            msgs.append("the proposals' log-density used a stochastic trace estimate (divergence=hutchinson): "
                        "the MH correction is not exact and the estimates may be biased")
    msgs += incomplete_warning(ens)
    return Analysis(run_dir=run_dir, volume=vol, n_chains=ens.n_chains, n_done=n, therm_cut=cut,
                    estimates=estimates, acceptance=float(np.mean(d["acceptance"])), warnings=msgs, rho=rho,
                    series=s, ess_per_sample=ess, n_invalid=n_invalid,
                    log_q_error_spread=ens.extra_attrs.get("log_q_error_spread"),
                    ode_steps=ens.extra_attrs.get("ode_steps"))
