"""The error detector: a small net that predicts how far a surrogate proposal is from the implicit solution, so
that the guard can send the zones it expects to miss the accuracy goals to the implicit integrator.

It can only refuse: a zone it passes still has to pass every physics check of the guard
(:mod:`lawful.burn.surrogate.guard`), and a zone it refuses is burned by the implicit integrator. So a learned
model still never has the last word; the detector trades surrogate share for accuracy.

Target, per zone: the error score s = max(|ε − ε_ref| / |ε_ref| (where |ε_ref| ≥ 1e10 erg/g),
max_i |X_i − X_ref,i| / X_ref,i over the major species X_ref > 1e-3) / 1e-2, so s ≤ 1 means both 99th-percentile
goals of issue 6 hold for that zone. The net predicts log10 max(s, 1e-4) with an L1 loss; the guard refuses a
zone whose prediction exceeds ``guard["error"]`` (0: the predicted error is above the goal).

Features [N, 3 + 5n + 8], all from what the guard computes anyway (no further RHS, Jacobian or EOS call):
log10 ρ, log10 T, log10 Δt, X, log10(X + 1e-12), asinh(ΔX_p/δ)/10, asinh(eX_p/δ)/10 and asinh(ΔX/δ)/10 (the
predictor's change, its error estimate and the proposed change), log10 |ε_p| and its sign, log10 |ε| and its
sign, log10 of the guard's residual ratio, log10 of the predictor's relative error estimate
max|eX_p| / (max|ΔX_p| + 1e-9), log10 |ΔT/T| and log10 |ε − ε_p| / |ε| (how far the net moved the predictor's
energy release). Measured on the held-out steps (``evaluate``: ``detector_mae_log10``, ``detector_auc``): the
shipped aprox13 detector's predictions are off by 0.17 dex (mean absolute) and rank the zones that miss the goal
above the others with an area under the ROC curve of 0.993; c12: 0.11 dex, 0.998 (docs/burn.md).
"""

from __future__ import annotations

import math

import numpy as np

from lawful.burn.surrogate.model import DELTA
from lawful.core.schedule import cosine

#: hidden widths of the detector's MLP
HIDDEN = (128, 128)
#: the error score's goal (relative error) and the floor of its logarithm
GOAL = 1e-2
SCORE_FLOOR = 1e-4
#: training of the detector: batch and peak learning rate (Adam, cosine decay; the steps are a train setting)
BATCH = 2048
LR = 1e-3
_TINY = 1e-30


def error_score(X, enuc, X_ref, enuc_ref, *, major: float, energy_floor: float) -> np.ndarray:
    """[N] the error score of end states X [N, n], ε [N] (erg/g) against references X_ref, ε_ref: the larger of
    the energy release's relative error (zones with |ε_ref| ≥ ``energy_floor``) and the largest relative error
    of a species with X_ref > ``major``, over :data:`GOAL`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        energy = np.where(np.abs(enuc_ref) >= energy_floor, np.abs(enuc - enuc_ref) / np.abs(enuc_ref), 0.0)
        species = np.where(X_ref > major, np.abs(X - X_ref) / np.where(X_ref > major, X_ref, 1.0), 0.0).max(axis=1)
    return np.maximum(energy, species) / GOAL


def features(rho, T, X, dt, dX_p, eX_p, X_new, T_new, enuc, enuc_p, residual) -> np.ndarray:
    """The detector's inputs [N, 3 + 5n + 8] (see module docstring) for N proposals: ρ, T, Δt, ε, ε_p (the
    predictor's release, erg/g) and the guard's residual ratio [N]; X, ΔX_p, eX_p, X_new [N, n]."""
    def log(a):
        return np.log10(np.abs(a) + _TINY)

    est = np.abs(eX_p).max(axis=1) / (np.abs(dX_p).max(axis=1) + 1e-9)
    moved = np.abs(enuc - enuc_p) / (np.abs(enuc) + _TINY)
    cols = [log(rho)[:, None], log(T)[:, None], log(dt)[:, None], X, np.log10(X + 1e-12),
            np.arcsinh(dX_p / DELTA) / 10, np.arcsinh(eX_p / DELTA) / 10, np.arcsinh((X_new - X) / DELTA) / 10]
    cols += [c[:, None] for c in (log(enuc_p), np.sign(enuc_p), log(enuc), np.sign(enuc), log(residual), log(est),
                                  log(T_new / T - 1.0), log(moved))]
    return np.concatenate(cols, axis=1)


def build_detector(n_features: int, hidden=HIDDEN):
    """An untrained detector: standardization buffers ``mean``/``scale`` and an MLP, forward(f [N, F]) →
    predicted log10 error score [N]."""
    import torch

    nn = torch.nn

    class ErrorDetector(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list = []
            width = n_features
            for h in hidden:
                layers += [nn.Linear(width, h), nn.SiLU()]
                width = h
            layers.append(nn.Linear(width, 1))
            self.mlp = nn.Sequential(*layers)
            self.register_buffer("mean", torch.zeros(n_features))
            self.register_buffer("scale", torch.ones(n_features))

        def forward(self, f):
            return self.mlp((f - self.mean) / self.scale)[:, 0]

    return ErrorDetector()


def fit_detector(f: np.ndarray, score: np.ndarray, seed: int, steps: int):
    """A detector fitted to features ``f`` [N, F] and error scores ``score`` [N] (float32, L1 on log10 of the
    score, Adam with cosine decay); returns it in eval mode."""
    import torch

    torch.manual_seed(seed)
    det = build_detector(f.shape[1])
    x = torch.as_tensor(f, dtype=torch.float32)
    y = torch.as_tensor(np.log10(np.maximum(score, SCORE_FLOOR)), dtype=torch.float32)
    with torch.no_grad():
        det.mean.copy_(x.mean(0))
        det.scale.copy_(torch.clamp(x.std(0), min=1e-6))
    opt = torch.optim.Adam(det.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: cosine(k, steps))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        pick = torch.randint(x.shape[0], (min(BATCH, x.shape[0]),), generator=gen)
        loss = (det(x[pick]) - y[pick]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return det.eval()


def predict(det, f: np.ndarray) -> np.ndarray:
    """[N] predicted log10 error scores of features ``f`` [N, F], never below the floor it was trained with
    (log10 :data:`SCORE_FLOOR`); non-finite features give +inf: refused."""
    import torch

    finite = np.isfinite(f).all(axis=1)
    out = np.full(f.shape[0], np.inf)
    if finite.any():
        with torch.inference_mode():
            out[finite] = det(torch.as_tensor(f[finite], dtype=torch.float32)).double().numpy()
    return np.maximum(out, math.log10(SCORE_FLOOR))
