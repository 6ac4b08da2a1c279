"""Accuracy, guard statistics and speed of a surrogate on the held-out part of a data set.

Errors are measured against the data set's reference end states (implicit integrator, tight tolerance), as
:mod:`lawful.burn.surrogate.accuracy` defines them (major species, energy releases above a floor):

* ``median_rel_err`` / ``p99_rel_err``: the worse of the two (species, energy) at that quantile;
* ``fraction_bound_p99_energy``: the largest surrogate fraction at which the energy p99 could be ≤ 1e-2 if the
  guard refused exactly the worst accepted zones and the fallback were exact (:func:`fraction_bound`);
* ``detector_mae_log10`` / ``detector_auc`` (models with an error detector): over the zones that reach the
  detector, the mean absolute error of its predicted log10 error score, and the area under the ROC curve of its
  prediction for "the zone misses the 1e-2 goal" (1: it ranks every such zone above every other; 0.5: chance).

The guarded result is what a hydro code gets: the surrogate where the guard accepts, the implicit integrator
(``rtol`` 1e-6, as in ``lawful hydro run``) where it refuses. ``speedup`` is implicit-only time over guarded
time, guard and fallback included, on burn calls as hydro makes them (all burning zones of a half-step in one
call; ``lawful burn surrogate evaluate`` records them from a detonation the model was not trained on), or, when
none are given, on the held-out hydro zone-steps grouped by Δt (small calls: mostly call overhead).
``speed_calls`` and ``speed_zones_per_call`` say which. ``by_density_decade``: the same errors and the
surrogate fraction per decade of ρ.
"""

from __future__ import annotations

import numpy as np

from lawful.burn.surrogate.accuracy import ENERGY_FLOOR, MAJOR, P99_GOAL, errors


def _quantiles(err: dict[str, np.ndarray], prefix: str = "") -> dict[str, float]:
    out = {}
    for q, name in ((0.5, "median"), (0.99, "p99")):
        parts = {k: float(np.quantile(v, q)) if v.size else float("nan") for k, v in err.items()}
        out[f"{prefix}{name}_rel_err"] = max(parts.values())
        out.update({f"{prefix}{name}_rel_err_{k}": v for k, v in parts.items()})
    return out


def evaluate(model_dir, data_dir, *, rtol: float = 1e-6, error_limit: float | None = None,
             calls: list | None = None) -> dict:
    """Metrics of the surrogate in ``model_dir`` (``None``: the one shipped for the data's network) on the
    held-out samples of ``data_dir`` (see module docstring); ``error_limit``: the error detector's limit
    (:func:`lawful.burn.surrogate.store.with_error_limit`; None: the model's own). ``calls``: the burn calls of a
    hydro run, ``(ρ, T, X, Δt)`` each (:func:`lawful.burn_hydro.replay.record_detonation_calls`), to time the
    burners on; without them the held-out hydro zone-steps are timed, one call per distinct Δt."""
    from lawful.burn.burner import ImplicitBurner
    from lawful.burn.eos import StellarEOS
    from lawful.burn.network import Network
    from lawful.burn.surrogate import data as sdata
    from lawful.burn.surrogate import store
    from lawful.burn.surrogate.guard import CHECKS, SurrogateBurner

    d = sdata.load(data_dir)
    net = Network(d["network"])
    loaded = store.with_error_limit(store.load(model_dir, net), error_limit)
    idx = np.flatnonzero(d["held_out"])
    if idx.size == 0:
        raise ValueError(f"{data_dir} holds no held-out samples (generate with held_out > 0)")
    eos = StellarEOS(table=True)
    implicit = ImplicitBurner(net, eos, rtol=rtol)
    burner = SurrogateBurner(loaded, net, eos, implicit)
    rho, T, X, dt = (d[k][idx] for k in ("rho", "T", "X", "dt"))
    X_ref, e_ref = d["X_new"][idx], d["enuc"][idx]
    guarded = burner(rho, T, X, dt)
    raw = burner.last  # the surrogate's proposals (the guarded result took the fallback's where it refused)
    out = {"held_out": int(idx.size), "network": net.name}
    out.update(_quantiles(errors(guarded.X, guarded.enuc, X_ref, e_ref)))
    acc = raw.accept
    out.update(_quantiles(errors(raw.X[acc], raw.enuc[acc], X_ref[acc], e_ref[acc]), "accepted_"))
    out["fraction_bound_p99_energy"] = fraction_bound(raw.enuc, e_ref, acc)
    if loaded.detector is not None:
        out.update(detector_quality(loaded.detector, raw, X_ref, e_ref))
    out["max_sum_residual"] = float(np.abs(guarded.X.sum(axis=1) - 1.0).max())
    out["min_X"] = float(guarded.X.min())
    out["surrogate_fraction"] = float(acc.mean())
    out["failed"] = {name: int((raw.failed == k).sum()) for k, name in enumerate(CHECKS)}
    out["by_density_decade"] = by_density_decade(rho, guarded, acc, X_ref, e_ref,
                                                 burn_each(implicit, rho, T, X, dt))
    if calls is None:
        calls = [(d["rho"][g], d["T"][g], d["X"][g], float(d["dt"][g[0]])) for g in hydro_calls(d, idx)]
    out.update(_speed(calls, implicit, burner))
    return out


def burn_each(burner, rho, T, X, dt):
    """Burn N zones (ρ, T, Δt [N]; X [N, n]) each for its own Δt, one call per distinct Δt; returns
    (X_new [N, n], enuc [N])."""
    X_new, enuc = np.empty_like(X), np.empty(len(rho))
    for h in np.unique(dt):
        z = np.flatnonzero(dt == h)
        r = burner(rho[z], T[z], X[z], float(h))
        X_new[z], enuc[z] = r.X, r.enuc
    return X_new, enuc


def by_density_decade(rho, guarded, accept, X_ref, e_ref, implicit=None) -> dict[str, dict[str, float]]:
    """The guarded result's errors and the surrogate fraction per decade of density: keys ``"1e6"`` for
    ρ ∈ [1e6, 1e7) g/cm³ etc., each with ``zones``, ``surrogate_fraction`` and the median and p99 errors; with
    ``implicit`` (X_new, enuc of the implicit burner alone, :func:`burn_each`) also its median and p99 energy
    error (``implicit_…``: what the fallback itself reaches there)."""
    decade = np.floor(np.log10(rho)).astype(int)
    out = {}
    for k in np.unique(decade):
        z = decade == k
        row = {"zones": int(z.sum()), "surrogate_fraction": float(accept[z].mean()),
               **_quantiles(errors(guarded.X[z], guarded.enuc[z], X_ref[z], e_ref[z]))}
        if implicit is not None:
            q = _quantiles(errors(implicit[0][z], implicit[1][z], X_ref[z], e_ref[z]))
            row.update({f"implicit_{w}_rel_err_energy": q[f"{w}_rel_err_energy"] for w in ("median", "p99")})
        out[f"1e{k}"] = row
    return out


def detector_quality(detector, p, X_ref, enuc_ref) -> dict[str, float]:
    """How well ``detector`` predicts the error score of the proposals of ``p`` (a
    :class:`~lawful.burn.surrogate.guard.Proposal` of N zones, with its features) that reached it, against
    references X_ref [N, n], ε_ref [N]: ``detector_mae_log10`` and ``detector_auc`` (module docstring)."""
    from lawful.burn.surrogate.detector import SCORE_FLOOR, error_score, predict

    reached = np.isfinite(p.features).all(axis=1)
    s = error_score(p.X[reached], p.enuc[reached], X_ref[reached], enuc_ref[reached], major=MAJOR,
                    energy_floor=ENERGY_FLOOR)
    pred = predict(detector, p.features[reached])
    return {"detector_mae_log10": float(np.abs(pred - np.log10(np.maximum(s, SCORE_FLOOR))).mean()),
            "detector_auc": roc_auc(pred, s > 1.0)}


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` [N] for the labels ``positive`` [N] bool: the probability that a
    random positive scores above a random negative (ties count half); NaN without both labels."""
    from scipy.stats import rankdata

    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((rankdata(score)[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def fraction_bound(enuc, enuc_ref, accept, goal: float = P99_GOAL) -> float:
    """The largest surrogate fraction at which the guarded energy p99 could meet ``goal``: the guard refusing
    exactly the worst accepted zones, and the fallback exact. (N zones: ``enuc``, ``enuc_ref`` [N] erg/g, ``accept``
    [N] bool.) An upper bound on what any guard can reach with this surrogate."""
    big = np.abs(enuc_ref) >= ENERGY_FLOOR
    over = int((accept & big & (np.abs(enuc - enuc_ref) > goal * np.abs(enuc_ref))).sum())
    allowed = int(0.01 * big.sum())
    return float(accept.mean() - max(0, over - allowed) / accept.size)


def hydro_calls(d: dict, idx: np.ndarray) -> list[np.ndarray]:
    """The hydro zone-steps among samples ``idx``, grouped as hydro burned them: one group per distinct Δt."""
    from lawful.burn.surrogate.data import from_hydro

    hydro = idx[from_hydro(d["group"][idx])]
    return [hydro[d["dt"][hydro] == h] for h in np.unique(d["dt"][hydro])]


def _speed(calls: list, implicit, burner) -> dict:
    """Implicit vs guarded wall time per zone-step on ``calls`` [(ρ, T, X, Δt)], and the call sizes."""
    from lawful.burn.burner import cost_per_zone_step

    if not calls:
        return {"speedup": float("nan")}
    c = cost_per_zone_step({"implicit": implicit, "surrogate": burner}, calls)
    return {"speedup": c["implicit"] / c["surrogate"], "implicit_us_per_zone_step": 1e6 * c["implicit"],
            "surrogate_us_per_zone_step": 1e6 * c["surrogate"],
            "speed_zone_steps": int(sum(len(call[0]) for call in calls)), "speed_calls": len(calls),
            "speed_zones_per_call": c["zones_per_call"]}
