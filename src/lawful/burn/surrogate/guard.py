"""The guard around the burn surrogate, and :class:`SurrogateBurner`, a drop-in burner for hydro.

Every surrogate step is checked; a zone that fails any check is burned by the implicit integrator instead:

* **inputs**: finite, and inside the box of log ρ, log T, log Δt that the training data covered;
* **hot** (models that store ``T_skip``): inputs hotter than ``T_skip`` go straight to the fallback: above it the
  finished guard accepted less than 10 % of the training proposals (near NSE), so proposing would cost more
  than it saves;
* **composition** (models that store ``X_max``): no species above the largest mass fraction it had in the
  training inputs, plus :data:`COMPOSITION_MARGIN` (a fuel the model never saw: pure He, O/Ne);
* **predictor**: the RODAS3 step that the net corrects could be evaluated (finite RHS, LU, |ΔX| ≤ 1, T > 0);
* **ash**: the end temperature (from the EOS) at most ``T_ash_max``, the hottest input of the training data
  (generate's ``T_max``: 6.5e9 K for the first models, where near NSE the network itself is the wrong model);
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

**Steps longer than the training data** (a coarse grid's hydro Δt): :class:`SurrogateBurner` takes them as k
equal sub-steps inside the trained range (k ≤ ``max_substeps``), each one guarded; a zone that fails a sub-step
is burned by the implicit integrator for that sub-step only and goes on with the surrogate from there.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: names of the checks, in the order counted
CHECKS = ("input", "domain", "hot", "composition", "predictor", "positivity", "temperature", "ash", "residual", "error")

#: absolute slack on a species' largest training mass fraction before the composition check refuses a zone
COMPOSITION_MARGIN = 0.05


def untrained_composition(domain: dict, X: np.ndarray) -> np.ndarray:
    """True for the zones (X [N, n]) holding more of some species than the training inputs ever did (plus
    :data:`COMPOSITION_MARGIN`); all False for a model that did not store its ``X_max``."""
    if "X_max" not in domain:
        return np.zeros(X.shape[0], dtype=bool)
    return (X > np.asarray(domain["X_max"]) + COMPOSITION_MARGIN).any(axis=1)


def describe_untrained(domain: dict, names, X: np.ndarray) -> str:
    """Which species of the first untrained zone of X [N, n] exceed the training range, and by how much."""
    i = int(np.flatnonzero(untrained_composition(domain, X))[0])
    over = [f"X({n}) = {x:.3g} > {m:.3g}" for n, x, m in zip(names, X[i], domain["X_max"])
            if x > m + COMPOSITION_MARGIN]
    return ", ".join(over)


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
    for key, (lo, hi) in ((k, dom[k]) for k in logs):
        inside &= (logs[key] >= lo) & (logs[key] <= hi)
    fail(~inside, "domain")
    with np.errstate(invalid="ignore"):
        fail(T > loaded.guard.get("T_skip", np.inf), "hot")
    fail(untrained_composition(dom, X), "composition")
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

    A step longer than the longest Δt of the training data is taken as k = ⌈Δt / Δt_max⌉ equal sub-steps, each
    guarded, when k ≤ ``max_substeps``; a zone that fails one is burned by the fallback for that sub-step only.
    Longer steps go to the fallback whole (counted as ``domain``). A zone whose composition the model never saw
    (the ``composition`` check) burns with the fallback; ``untrained`` says what :meth:`check_inputs` does about
    such a fuel before a run: ``"error"`` raises a ValueError naming the species, ``"implicit"`` warns.

    Counters: ``zone_steps`` (zones burned, summed over calls), ``sub_steps`` (guarded surrogate attempts: one
    per zone and sub-step), ``surrogate_steps`` (the attempts the guard accepted) and ``failed`` (counts per
    check, :data:`CHECKS`); ``last`` is the :class:`Proposal` of the first sub-step of the latest call, over all
    its zones, as the guard left it (the surrogate's proposals, also where the fallback's results were returned).
    """

    name = "surrogate"

    def __init__(self, loaded, network, eos, fallback, *, max_substeps: int = 4,
                 untrained: str = "error"):
        if loaded.network != network.name:
            raise ValueError(f"surrogate for {loaded.network} cannot burn network {network.name}")
        ratio = network.Z / network.A
        if not np.allclose(ratio, ratio[0]):
            raise ValueError(f"network {network.name} has nuclei with different Z/A; the surrogate's mass "
                             "projection conserves charge only when every Z/A is equal")
        if not (isinstance(max_substeps, int) and max_substeps >= 1):
            raise ValueError(f"max_substeps = {max_substeps!r}; expected an integer >= 1")
        if untrained not in ("error", "implicit"):
            raise ValueError(f"untrained = {untrained!r}; expected 'error' or 'implicit'")
        self.loaded, self.network, self.fallback = loaded, network, fallback
        self.max_substeps, self.untrained = max_substeps, untrained
        self.eos_opts = eos.options()
        self.zone_steps = 0
        self.sub_steps = 0
        self.surrogate_steps = 0
        self.failed = dict.fromkeys(CHECKS, 0)
        self.last: Proposal | None = None

    @property
    def surrogate_fraction(self) -> float:
        """The share of guarded sub-steps the surrogate took."""
        return self.surrogate_steps / self.sub_steps if self.sub_steps else float("nan")

    def state_dict(self) -> dict[str, int]:
        """The counters, flat: ``zone_steps``, ``sub_steps``, ``surrogate_steps``, ``failed_<check>``, and the
        model's ``fingerprint`` (a resumed run must burn with the same model)."""
        return {"zone_steps": self.zone_steps, "sub_steps": self.sub_steps, "surrogate_steps": self.surrogate_steps,
                **{f"failed_{k}": v for k, v in self.failed.items()}, "fingerprint": self.loaded.fingerprint}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Restore the counters of :meth:`state_dict` (missing keys: zero; ``sub_steps``: ``zone_steps``).
        ValueError when the state was saved with another model file (a retrained or replaced one)."""
        saved = int(state.get("fingerprint", self.loaded.fingerprint))
        if saved != self.loaded.fingerprint:
            raise ValueError(f"this run was started with another surrogate model than {self.loaded.path} holds now "
                             f"(fingerprint {saved:012x}, now {self.loaded.fingerprint:012x}); resuming would mix "
                             "two models: start the run again in a new directory")
        self.zone_steps = int(state.get("zone_steps", 0))
        self.sub_steps = int(state.get("sub_steps", self.zone_steps))
        self.surrogate_steps = int(state.get("surrogate_steps", 0))
        self.failed = {k: int(state.get(f"failed_{k}", 0)) for k in CHECKS}

    def summary(self) -> dict:
        """The share of sub-steps the surrogate took, sub-steps per zone-step and the refusals per check."""
        return {"surrogate_fraction": self.surrogate_fraction,
                "surrogate_substeps_per_zone_step": self.sub_steps / self.zone_steps if self.zone_steps else 0.0,
                "surrogate_failed": dict(self.failed)}

    def check_inputs(self, X: np.ndarray) -> None:
        """Before a run: compositions X [N, n] the model was never trained on (pure He, O/Ne fuel) raise a
        ValueError naming the species (``untrained="error"``) or warn that those zones will burn implicitly."""
        if not untrained_composition(self.loaded.domain, X).any():
            return
        what = (f"the {self.network.name} surrogate was not trained on this composition "
                f"({describe_untrained(self.loaded.domain, self.network.names, X)})")
        if self.untrained == "error":
            raise ValueError(f"{what}; use the implicit burner, or let the surrogate hand such zones to it "
                             "(untrained = 'implicit')")
        import warnings

        warnings.warn(f"{what}: those zones burn with the implicit integrator (counted as 'composition')",
                      stacklevel=2)

    def substeps(self, dt: np.ndarray) -> np.ndarray:
        """Sub-steps [N] (int ≥ 1) for steps ``dt`` [N] s: the fewest that bring each inside the trained range;
        1 where that takes more than ``max_substeps`` (the domain check then sends the zone to the fallback)."""
        hi = 10.0 ** self.loaded.domain["log_dt"][1] * (1.0 - 1e-9)  # the sub-step stays inside despite rounding
        with np.errstate(invalid="ignore"):
            k = np.ceil(dt / hi)
        return np.where(np.isfinite(k) & (k >= 1) & (k <= self.max_substeps), k, 1).astype(np.int64)

    def __call__(self, rho, T, X, dt):
        """Burn zones (ρ [N] g/cm³, T [N] K, X [N, n]) for ``dt`` s (a scalar or [N]); returns a BurnOutcome."""
        from lawful.burn.burner import BurnOutcome

        rho, T = np.asarray(rho, dtype=np.float64), np.asarray(T, dtype=np.float64)
        dts = np.broadcast_to(np.asarray(dt, dtype=np.float64), rho.shape)
        N = rho.shape[0]
        k = self.substeps(dts)
        h = dts / k
        X_out, enuc, T_out = np.array(X, dtype=np.float64), np.zeros(N), T.copy()
        ok, steps, msg = np.ones(N, dtype=bool), np.zeros(N, dtype=np.int64), ["SURROGATE"] * N
        self.zone_steps += N
        for s in range(int(k.max(initial=1))):
            z = np.flatnonzero((k > s) & ok)
            if z.size == 0:
                break
            p = propose(self.loaded, self.network, self.eos_opts, rho[z], T_out[z], X_out[z], h[z])
            if s == 0:
                self.last = p
            self.sub_steps += z.size
            self.surrogate_steps += int(p.accept.sum())
            for c, name in enumerate(CHECKS):
                self.failed[name] += int((p.failed == c).sum())
            a = z[p.accept]
            X_out[a], T_out[a], enuc[a] = p.X[p.accept], p.T[p.accept], enuc[a] + p.enuc[p.accept]
            self._fall_back(z[~p.accept], rho, T_out, X_out, enuc, h, ok, steps, msg)
        return BurnOutcome(X_out, enuc, T_out, ok, steps, msg)

    def _fall_back(self, rest, rho, T, X, enuc, h, ok, steps, msg) -> None:
        """Burn zones ``rest`` with the fallback for their sub-step ``h``, updating T, X, enuc, ok, steps, msg
        in place; one implicit call per distinct sub-step (hydro: a single one)."""
        for dt in np.unique(h[rest]):
            z = rest[h[rest] == dt]
            finite = np.isfinite(rho[z]) & np.isfinite(T[z]) & np.isfinite(X[z]).all(axis=1)
            for i in z[~finite]:  # nothing can burn these: the caller sees ok = False, never a NaN state
                enuc[i], ok[i], msg[i] = 0.0, False, "NON_FINITE_INPUT"
            z = z[finite]
            if z.size == 0:
                continue
            out = self.fallback(rho[z], T[z], X[z], float(dt))
            X[z], enuc[z], T[z] = out.X, enuc[z] + out.enuc, out.T
            ok[z], steps[z] = out.ok, steps[z] + out.steps
            for i, m in zip(z, out.message):
                msg[i] = m
