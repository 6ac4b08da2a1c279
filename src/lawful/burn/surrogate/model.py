"""The burn surrogate: a physics predictor, a learned correction, and exact bookkeeping by construction.

One step of a constant-density self-heating burn, for N zones (all float64 at inference):

    inputs   ρ [N] (g/cm³), T [N] (K), X [N, n] mass fractions, Δt [N] (s), and ΔX_p, eX_p [N, n], the change
             that one RODAS3 step predicts and its embedded error estimate (:mod:`lawful.burn.surrogate.predictor`:
             three RHS, one Jacobian, one LU; L-stable, so it lands near the quasi-equilibrium of the stiff flows)
    features log ρ, log T, log Δt, X, log(X + 1e-12), asinh(ΔX_p / δ), standardized with the training set's mean
             and spread
    net      u = asinh(ΔX_p / δ) / 10 + MLP(f) + W f   (the correction to the predictor in asinh space, with a
             linear path beside the MLP)
    select   where the predictor's embedded error estimate eX_p is small, max|eX_p| < trust (max|ΔX_p| + 1e-9),
             the predictor is accurate beyond what the net can add: u = asinh(ΔX_p / δ) / 10 there, no net
             (trust is picked from TRUST_CANDIDATES at the end of training, on the training data)
    change   ΔX = δ sinh(10 u)   (δ = 1e-10: relative precision for changes from 1e-10 to 1)
    bookkeeping, by construction whatever the weights are:
      sign   a destruction ΔX_i below −(1 − κ)X_i becomes κX_i (e^{(ΔX_i + (1 − κ)X_i)/(κX_i)} − 1) − (1 − κ)X_i
             > −X_i (κ = 0.01, C¹ at the knee; a smaller destruction is kept as it is)
      mass   the larger of total production Σ⁺ΔX and total destruction Σ⁻|ΔX| is scaled down to the smaller, so
             Σ ΔX = 0 and no destruction grows; for networks whose nuclei all have Z/A = 1/2 (aprox13, c12)
             this conserves charge as well
      round  X_new = max(X + ΔX, 0) (the clip removes rounding, ~1e-17; it is reported and guarded), renormalized
             to Σ X_new = 1
      energy ε = N_A MeV Σ B_i (X_new − X)_i / A_i from binding energies B_i: released energy is never predicted.

The temperature follows from the EOS (the guard inverts e(ρ, T_new, X_new) = e(ρ, T, X) + ε).
"""

from __future__ import annotations

import numpy as np

from lawful.burn.kernels import MEV_TO_ERG, N_A

#: scale of the composition change: ΔX = DELTA sinh(10 u)
DELTA = 1e-10
#: |u| bound (|ΔX| ≤ δ sinh(10 U_MAX) ≈ 530, far above any physical change, and no float32 overflow)
U_MAX = 3.0
#: candidate thresholds of the selection (``trust``: the predictor alone where its embedded error estimate is at
#: most this fraction of its step); training picks the one that best serves both accuracy goals on its data
#: (:func:`pick_trust`)
TRUST_CANDIDATES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
#: width κ of the bend that keeps X_new ≥ 0: a destruction is left as it is down to −(1 − κ)X
BEND = 0.01
#: the accuracy goals of the energy release that :func:`pick_trust` weighs: median and 99th-percentile relative error
TRUST_GOALS = ((0.5, 1e-3), (0.99, 1e-2))
#: floor inside log(X + floor)
X_FLOOR = 1e-12


def _torch():
    import torch

    return torch


def build_step(n: int, hidden: list[int]):
    """An untrained :class:`SurrogateStep` for ``n`` species (built lazily so ``import lawful`` stays light)."""
    torch = _torch()
    nn = torch.nn

    class SurrogateStep(nn.Module):
        """forward(rho [N], T [N], X [N, n], dt [N], dX_p [N, n], eX_p [N, n]) → (X_new [N, n], enuc [N] erg/g,
        clipped [N] mass removed by the positivity clip, dX [N, n] the conserving change before the clip)."""

        def __init__(self) -> None:
            super().__init__()
            n_feat = 3 + 3 * n
            layers: list = []
            width = n_feat
            for h in hidden:
                layers += [nn.Linear(width, h), nn.SiLU()]
                width = h
            layers.append(nn.Linear(width, n))
            self.mlp = nn.Sequential(*layers)
            self.linear = nn.Linear(n_feat, n, bias=False)
            with torch.no_grad():
                self.mlp[-1].weight.mul_(0.1)
                self.linear.weight.zero_()
            self.register_buffer("mean", torch.zeros(n_feat))
            self.register_buffer("scale", torch.ones(n_feat))
            self.register_buffer("A", torch.ones(n, dtype=torch.float64))
            self.register_buffer("binding", torch.zeros(n, dtype=torch.float64))
            self.register_buffer("trust", torch.zeros((), dtype=torch.float64))

        def features(self, rho, T, X, dt, dX_p):
            f = torch.cat([torch.log10(rho)[:, None], torch.log10(T)[:, None], torch.log10(dt)[:, None], X,
                           torch.log10(X + X_FLOOR), torch.asinh(dX_p / DELTA)], dim=1)
            return (f - self.mean.to(f.dtype)) / self.scale.to(f.dtype)

        def raw(self, rho, T, X, dt, dX_p):
            """u [N, n] in the inputs' dtype: the predictor's asinh(ΔX_p/δ)/10 plus the net's correction (computed
            in the parameters' dtype), limited to |ΔX| < δ sinh(30)."""
            f = self.features(rho, T, X, dt, dX_p).to(self.linear.weight.dtype)
            base = self.base(dX_p)
            return torch.clamp(base + (self.mlp(f) + self.linear(f)).to(base.dtype), -U_MAX, U_MAX)

        def forward(self, rho, T, X, dt, dX_p, eX_p):
            """The conserving step; see the module docstring. ``eX_p`` [N, n] is the predictor's embedded error
            estimate: where :meth:`trusted`, the predictor's own change is composed and the net's correction is
            left out."""
            u = torch.where(self.trusted(dX_p, eX_p)[:, None], self.alone(dX_p), self.raw(rho, T, X, dt, dX_p))
            return self.compose(X, u)

        def selected(self, rho, T, X, dt, dX_p, eX_p, trust=None):
            """u [N, n] as :meth:`forward` selects it, with the net run only on the zones that use it (for
            inference here; ``forward`` computes both branches everywhere, the form that TorchScript exports).
            ``trust``: another threshold than the model's (:meth:`trusted`)."""
            u = self.alone(dX_p)
            net = torch.nonzero(~self.trusted(dX_p, eX_p, trust)).flatten()
            if net.numel():
                u[net] = self.raw(rho[net], T[net], X[net], dt[net], dX_p[net])
            return u

        def alone(self, dX_p):
            """u [N, n] of the predictor's change with no correction, limited like :meth:`raw`."""
            return torch.clamp(self.base(dX_p), -U_MAX, U_MAX)

        def trusted(self, dX_p, eX_p, trust=None):
            """[N] bool: the predictor's error estimate is small, max|eX_p| < trust (max|ΔX_p| + 1e-9) (never
            with trust = 0); ``trust`` (a float) replaces the model's own threshold for this call, rounded to the
            threshold's stored precision as if it were stored."""
            threshold = self.trust if trust is None else torch.tensor(trust, dtype=self.trust.dtype)
            return eX_p.abs().amax(dim=1) < threshold.to(dX_p.dtype) * (dX_p.abs().amax(dim=1) + 1e-9)

        def base(self, dX_p):
            """u [N, n] of the predictor's change alone (unbounded)."""
            return torch.asinh(dX_p / DELTA) / 10.0

        def compose(self, X, u):
            """(X_new, enuc, clipped, ΔX) from the net's output u [N, n]: the by-construction bookkeeping."""
            dX = DELTA * torch.sinh(10.0 * u)
            tiny = torch.finfo(dX.dtype).tiny
            # destruction cannot exceed what is there: below −(1 − κ)X it bends smoothly (C¹) towards −X
            knee = (1.0 - BEND) * X
            deep = torch.clamp(dX + knee, max=0.0) / torch.clamp(BEND * X, min=tiny)
            dX = torch.where(dX < -knee, BEND * X * torch.expm1(deep) - knee, dX)
            # mass: shrink the larger of production and destruction to the smaller (never grows a destruction)
            made = torch.clamp(dX, min=0.0).sum(dim=1, keepdim=True)
            lost = -torch.clamp(dX, max=0.0).sum(dim=1, keepdim=True)
            both = torch.maximum(made, lost) + tiny
            scale_made, scale_lost = lost / both, made / both
            dX = torch.where(dX > 0.0, dX * scale_made, dX * scale_lost)
            X_new = X + dX
            clipped = torch.clamp(-X_new, min=0.0).sum(dim=1)  # rounding only
            X_new = torch.clamp(X_new, min=0.0)
            X_new = X_new / X_new.sum(dim=1, keepdim=True)
            return X_new, self.energy(X_new - X), clipped, dX

        def energy(self, dX):
            """Specific energy released (erg/g) [N] by composition changes dX [N, n]: N_A MeV Σ B_i ΔX_i / A_i."""
            return (dX / self.A.to(dX.dtype) * self.binding.to(dX.dtype)).sum(dim=1) * (N_A * MEV_TO_ERG)

    return SurrogateStep()


def goal_score(rel: np.ndarray, kind: np.ndarray, judged: np.ndarray) -> float:
    """Σ over :data:`TRUST_GOALS` of quantile_q(rel) / goal, in the worse of the kinds: ``rel`` [N] relative
    errors, ``kind`` [N] sample kinds, scored over ``judged`` [N] bool (smaller is better; < 1 for each term
    means that goal is met)."""
    return max(sum(float(np.quantile(rel[judged & (kind == k)], q)) / goal for q, goal in TRUST_GOALS)
               for k in np.unique(kind[judged]))


def pick_trust(step, rho, T, X, dt, dX_p, eX_p, enuc_ref, kind, floor: float, judged=None) -> float:
    """The threshold of :data:`TRUST_CANDIDATES` whose selection serves the accuracy goals best: the smallest
    score Σ_goals quantile_q(relative energy error) / goal over :data:`TRUST_GOALS` (median against 1e-3, 99th
    percentile against 1e-2), taken in the worse of the sample kinds (``kind`` [N], e.g. trajectory vs hydro
    steps, so that neither is sacrificed to the other), against ``enuc_ref`` [N] over |ε_ref| ≥ ``floor``
    erg/g, on the samples given (numpy, float64) where ``judged`` [N] (default all; training passes the zones
    the guard accepts under every candidate, since the 99th percentile of all zones is that of zones the guard
    sends to the implicit integrator anyway).

    (Scoring the median alone picked the largest threshold, 1e-2, for c12: median 5e-6, but a held-out p99 of
    2.0–2.2e-2 against 7e-3 at 1e-5; docs/burn.md.)"""
    torch = _torch()
    args = [torch.as_tensor(a, dtype=torch.float64) for a in (rho, T, X, dt, dX_p, eX_p)]
    big = np.abs(enuc_ref) >= floor
    if judged is not None:
        big &= judged
    if not big.any():  # nothing to judge by: the net everywhere
        return 0.0
    best, best_score = 0.0, np.inf
    with torch.no_grad():  # the map is row by row: each branch's energies once, then selected per candidate
        X_t, dX_t, eX_t = args[2], args[4], args[5]
        e_alone = step.compose(X_t, step.alone(dX_t))[1].numpy()
        e_net = step.compose(X_t, step.raw(*args[:5]))[1].numpy()
        for trust in TRUST_CANDIDATES:
            enuc = np.where(step.trusted(dX_t, eX_t, trust).numpy(), e_alone, e_net)
            score = goal_score(np.abs(enuc - enuc_ref) / np.abs(enuc_ref), kind, big)
            if score < best_score:
                best, best_score = trust, score
    return best


def target_u(dX: np.ndarray) -> np.ndarray:
    """The net's target for a composition change: u = asinh(ΔX / δ) / 10 (inverse of the output map)."""
    return np.arcsinh(dX / DELTA) / 10.0


def feature_stats(step, rho, T, X, dt, dX_p) -> None:
    """Set the feature standardization buffers of ``step`` from training arrays (numpy, float64)."""
    torch = _torch()
    with torch.no_grad():
        step.mean.zero_()
        step.scale.fill_(1.0)
        f = step.features(*(torch.as_tensor(a, dtype=torch.float64) for a in (rho, T, X, dt, dX_p)))
        step.mean.copy_(f.mean(0))
        step.scale.copy_(torch.clamp(f.std(0), min=1e-6))


def domain_of(rho, T, dt, X=None) -> dict[str, list[float]]:
    """The box of log10 ρ, log10 T and log10 Δt the training data cover (the guard's domain check) and, given
    the input compositions X [N, n], ``X_max``: the largest mass fraction of each species among them (the guard's
    composition check: a fuel the model never saw)."""
    out = {name: [float(np.log10(a).min()), float(np.log10(a).max())]
           for name, a in (("log_rho", rho), ("log_T", T), ("log_dt", dt))}
    if X is not None:
        out["X_max"] = [float(v) for v in np.asarray(X).max(axis=0)]
    return out
