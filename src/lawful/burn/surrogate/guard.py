"""The guard around the burn surrogate, and :class:`SurrogateBurner`, a drop-in burner for hydro.

Every surrogate step is checked; a zone that fails any check is burned by the implicit integrator instead:

* **inputs**: finite, and inside the box of log ρ, log T, log Δt that the training data covered;
* **predictor**: the RODAS3 step that the net corrects could be evaluated (finite RHS, LU, |ΔX| ≤ 1, T > 0);
* **ash**: the end temperature (from the EOS) at most ``T_ash_max`` (6.5e9 K: near NSE the network itself is the
  wrong model, and the surrogate is not trained there);
* **positivity**: the final clip removed at most ``clip`` of mass (the composition map is positive by
  construction, so the clip only removes rounding; the check stays as a tripwire);
* **implicit residual**: the proposed end state must nearly solve the implicit (backward-Euler) equation of the
  step. The residual r = ΔX − Δt Ẋ(end) costs one RHS; it is turned into the simplified-Newton correction
  δ = (I − γΔt J₀)⁻¹ r (γ = 1/2) with the LU factors the predictor already computed (no new Jacobian or LU),
  because the raw residual is useless in stiff ash: there a displacement of 1e-12 along a fast direction gives a
  residual as large as the step. The check is ``max_i |δX_i| / (max_i |ΔX_i| + 1e-9) ≤ residual``, the
  threshold being the 97th percentile (``train.GUARD_QUANTILE``) of the same ratio for the reference end states
  of the training set, so the guard accepts what the implicit integrator itself would produce;
* **error** (models trained with one): the error detector (:mod:`lawful.burn.surrogate.detector`) predicts the
  proposal's error from what the checks above computed; a zone whose predicted error score exceeds
  ``guard["error"]`` (log10 of the score; 0: the predicted error is above the 1e-2 goal) is refused. It runs last,
  on the zones every physics check accepted, and can only refuse.

The end temperature comes from energy conservation through the EOS: e(ρ, T_new, X_new) = e(ρ, T, X) + ε.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: names of the checks, in the order counted
CHECKS = ("input", "domain", "predictor", "positivity", "temperature", "ash", "residual", "error")


def residual_ratio(prediction, T_new, X_new) -> np.ndarray:
    """Size of the simplified-Newton correction relative to the step [N] for end states (T_new [N], X_new
    [N, n]) of the zones of ``prediction`` (a :class:`~lawful.burn.surrogate.predictor.Prediction`); inf where
    the RHS at the end state cannot be evaluated."""
    delta, ok = prediction.correction(T_new, X_new)
    dX = X_new - prediction.Y * prediction.network.A
    ratio = np.abs(delta).max(axis=1) / (np.abs(dX).max(axis=1) + 1e-9)
    return np.where(ok, ratio, np.inf)


@dataclasses.dataclass
class Proposal:
    """The surrogate's guarded proposal for N zones: X_new [N, n], enuc [N] (erg/g), T_new [N] (K), ``accept``
    [N] bool, ``failed`` [N] (index into :data:`CHECKS` of the first failed check, −1 when accepted) and the
    error detector's ``features`` [N, F] of the zones that reached it (NaN elsewhere; None when the model has no
    detector and ``features`` was not asked for)."""

    X: np.ndarray
    enuc: np.ndarray
    T: np.ndarray
    accept: np.ndarray
    failed: np.ndarray
    features: np.ndarray | None = None


def propose(loaded, network, eos_opts, rho, T, X, dt, *, features: bool = False,
            trust: float | None = None) -> Proposal:
    """Run the surrogate on N zones (ρ, T, Δt [N]; X [N, n]) and check every proposal (see module docstring).
    The net runs only on the zones whose predictor it has to correct (:mod:`lawful.burn.surrogate.model`,
    "select"). ``features``: return the error detector's features even when the model has no detector (for
    training one). ``trust``: a predictor-trust threshold other than the model's (training compares them)."""
    import torch

    from lawful.burn.eos import temperature_from_energy
    from lawful.burn.surrogate import detector as sdetector
    from lawful.burn.surrogate.data import energy_release
    from lawful.burn.surrogate.predictor import Prediction

    N = rho.shape[0]
    failed = np.full(N, -1)

    def fail(mask, check):  # mask over all zones
        failed[(failed < 0) & mask] = CHECKS.index(check)

    def fail_live(mask, check):  # mask over the zones that reached the surrogate
        z = live[mask]
        failed[z[failed[z] < 0]] = CHECKS.index(check)

    fail(~(np.isfinite(rho) & np.isfinite(T) & np.isfinite(dt) & np.isfinite(X).all(axis=1)
           & (rho > 0) & (T > 0) & (dt > 0)), "input")
    dom = loaded.domain
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = {"log_rho": np.log10(rho), "log_T": np.log10(T), "log_dt": np.log10(dt)}
    inside = np.ones(N, dtype=bool)
    for key, (lo, hi) in dom.items():
        inside &= (logs[key] >= lo) & (logs[key] <= hi)
    fail(~inside, "domain")
    X_new, enuc, T_new = X.copy(), np.zeros(N), T.copy()
    det, feats = loaded.detector, None
    live = np.flatnonzero(failed < 0)
    if live.size:
        r, t, x, h = rho[live], T[live], X[live], dt[live]
        pred = Prediction(network, eos_opts, r, t, x, h, loaded.substeps)
        fail_live(~pred.ok, "predictor")
        with torch.inference_mode():
            args = [torch.as_tensor(a) for a in (r, t, x, h, pred.dX, pred.eX)]
            out = loaded.step.compose(args[2], loaded.step.selected(*args, trust=trust))
        xn, en, clipped = (o.numpy() for o in out[:3])
        bad = ~(np.isfinite(xn).all(axis=1) & np.isfinite(en))
        fail_live(bad, "input")
        fail_live(clipped > loaded.guard["clip"], "positivity")
        xn = np.where(bad[:, None], x, xn)
        en = np.where(bad, 0.0, en)
        abar_n, zbar_n = network.abar_zbar(xn)
        # the predictor's end temperature starts the Newton iteration (its composition differs only by the net)
        guess = np.where(pred.ok, t + pred.dT, t)
        tn, conv = temperature_from_energy(r, pred.e0 + en, abar_n, zbar_n, guess, eos_opts, 1e-10)
        conv &= pred.ok
        fail_live(~conv, "temperature")
        fail_live(tn > loaded.guard["T_ash_max"], "ash")
        tn = np.where(conv, tn, t)
        res = residual_ratio(pred, tn, xn)
        fail_live(~(res <= loaded.guard["residual"]), "residual")
        X_new[live], enuc[live], T_new[live] = xn, en, tn
        if det is not None or features:
            z = np.flatnonzero(failed[live] < 0)  # the zones every physics check accepted
            f = sdetector.features(r[z], t[z], x[z], h[z], pred.dX[z], pred.eX[z], xn[z], tn[z], en[z],
                                   energy_release(network, x[z], x[z] + pred.dX[z]), res[z])
            feats = np.full((N, f.shape[1]), np.nan)
            feats[live[z]] = f
            if det is not None:
                failed[live[z[~(sdetector.predict(det, f) <= loaded.guard["error"])]]] = CHECKS.index("error")
    accept = failed < 0
    return Proposal(X_new, enuc, T_new, accept, failed, feats)


class SurrogateBurner:
    """A burner (:mod:`lawful.burn.burner`): the surrogate where the guard accepts, the implicit integrator
    (``fallback``, an :class:`~lawful.burn.burner.ImplicitBurner`) elsewhere.

    Counters: ``zone_steps``, ``surrogate_steps`` and ``failed`` (counts per check, :data:`CHECKS`); ``last`` is
    the :class:`Proposal` of the latest call, as the guard left it (the surrogate's proposals, also where the
    fallback's results were returned instead).
    """

    name = "surrogate"

    def __init__(self, loaded, network, eos, fallback):
        if loaded.network != network.name:
            raise ValueError(f"surrogate for {loaded.network} cannot burn network {network.name}")
        ratio = network.Z / network.A
        if not np.allclose(ratio, ratio[0]):
            raise ValueError(f"network {network.name} has nuclei with different Z/A; the surrogate's mass "
                             "projection conserves charge only when every Z/A is equal")
        self.loaded, self.network, self.fallback = loaded, network, fallback
        self.eos_opts = eos.options()
        self.zone_steps = 0
        self.surrogate_steps = 0
        self.failed = dict.fromkeys(CHECKS, 0)
        self.last: Proposal | None = None

    @property
    def surrogate_fraction(self) -> float:
        return self.surrogate_steps / self.zone_steps if self.zone_steps else float("nan")

    def state_dict(self) -> dict[str, int]:
        """The counters, flat: ``zone_steps``, ``surrogate_steps`` and ``failed_<check>``."""
        return {"zone_steps": self.zone_steps, "surrogate_steps": self.surrogate_steps,
                **{f"failed_{k}": v for k, v in self.failed.items()}}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Restore the counters of :meth:`state_dict` (missing keys: zero)."""
        self.zone_steps = int(state.get("zone_steps", 0))
        self.surrogate_steps = int(state.get("surrogate_steps", 0))
        self.failed = {k: int(state.get(f"failed_{k}", 0)) for k in CHECKS}

    def summary(self) -> dict:
        """The share of zone-steps the surrogate took and the refusals per check."""
        return {"surrogate_fraction": self.surrogate_fraction, "surrogate_failed": dict(self.failed)}

    def __call__(self, rho, T, X, dt):
        """Burn zones (ρ [N] g/cm³, T [N] K, X [N, n]) for ``dt`` s (a scalar or [N]); returns a BurnOutcome."""
        from lawful.burn.burner import BurnOutcome

        rho, T = np.asarray(rho, dtype=np.float64), np.asarray(T, dtype=np.float64)
        dts = np.broadcast_to(np.asarray(dt, dtype=np.float64), rho.shape)
        p = self.last = propose(self.loaded, self.network, self.eos_opts, rho, T, X, dts)
        N = rho.shape[0]
        ok, steps, msg = np.ones(N, dtype=bool), np.zeros(N, dtype=np.int64), ["SURROGATE"] * N
        self.zone_steps += N
        self.surrogate_steps += int(p.accept.sum())
        for k, name in enumerate(CHECKS):
            self.failed[name] += int((p.failed == k).sum())
        X_out, enuc, T_out = p.X.copy(), p.enuc.copy(), p.T.copy()  # ``last`` keeps the proposals as they were
        rest = np.flatnonzero(~p.accept)
        for h in np.unique(dts[rest]):  # one implicit call per distinct Δt (hydro: a single one)
            z = rest[dts[rest] == h]
            finite = np.isfinite(rho[z]) & np.isfinite(T[z]) & np.isfinite(X[z]).all(axis=1)
            for i in z[~finite]:  # nothing can burn these: the caller sees ok = False, never a NaN state
                X_out[i], enuc[i], T_out[i], ok[i], msg[i] = X[i], 0.0, T[i], False, "NON_FINITE_INPUT"
            z = z[finite]
            if z.size == 0:
                continue
            out = self.fallback(rho[z], T[z], X[z], float(h))
            X_out[z], enuc[z], T_out[z] = out.X, out.enuc, out.T
            ok[z], steps[z] = out.ok, out.steps
            for i, m in zip(z, out.message):
                msg[i] = m
        return BurnOutcome(X_out, enuc, T_out, ok, steps, msg)
