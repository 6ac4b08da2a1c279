"""Independence Metropolis–Hastings: the guard that makes a learned sampler exact.

A model proposes fields φ' independently of the chain's current φ, with a known density q. With the weight
w = e^{−S}/q, i.e. ``log_w = −S(φ') − log q(φ')``, the proposal is accepted with probability
min(1, w(φ')/w(φ)); the chain then samples e^{−S}/Z exactly, however poor q is (q > 0 everywhere suffices).
Proposals are generated in parallel batches; only the accept/reject pass is sequential (one cheap numba loop).
A proposal whose log-weight is NaN or ±∞ is rejected and counted, never accepted.

For independence MH the analogue of HMC's ΔH is ``dH = log w(φ) − log w(φ')`` and ⟨e^{−ΔH}⟩ = 1 holds exactly
(E_q[w] = Z and E_p[1/w] = 1/Z), a check the analysis reports as for HMC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@njit(cache=True)
def _accept_pass(log_w, log_u, cur_lw):
    """Sequential accept/reject of proposals with log-weights ``log_w`` (n,) given uniforms' logs ``log_u``.

    Returns ``(src, accepted, dH, cur_lw)``: ``src[i]`` is the index of the proposal the chain sits on after
    step i (−1: still on the state from before this batch), ``accepted[i]`` 0/1, ``dH[i]`` log w(cur) − log w(φ'_i)
    (NaN for an invalid proposal), and the chain's log-weight after the batch. ``cur_lw = −inf`` means the chain
    has no state yet: the first valid proposal is taken.
    """
    n = log_w.shape[0]
    src = np.empty(n, dtype=np.int64)
    accepted = np.zeros(n, dtype=np.float64)
    dH = np.empty(n, dtype=np.float64)
    cur = -1
    for i in range(n):
        lw = log_w[i]
        if not np.isfinite(lw) or cur_lw == -np.inf:
            dH[i] = np.nan
        else:
            dH[i] = cur_lw - lw
        if np.isfinite(lw) and (cur_lw == -np.inf or log_u[i] < lw - cur_lw):
            cur = i
            cur_lw = lw
            accepted[i] = 1.0
        src[i] = cur
    return src, accepted, dH, cur_lw


@dataclass
class MHBatch:
    """The chain's record over one batch of n proposals (one chain)."""

    src: np.ndarray        # (n,) index of the proposal the chain sits on after each step, −1 = previous state
    accepted: np.ndarray   # (n,) 0/1
    dH: np.ndarray         # (n,) log w(current) − log w(proposal); NaN for invalid proposals
    log_w_after: float     # chain's log-weight after the batch
    n_invalid: int         # proposals with a NaN/Inf log-weight (all rejected)


def log_weights(action_values: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``log w = −S − log q`` for ``(n,)`` arrays (float64)."""
    return -np.asarray(action_values, dtype=np.float64) - np.asarray(log_q, dtype=np.float64)


def mh_batch(log_w: np.ndarray, log_u: np.ndarray, log_w_current: float) -> MHBatch:
    """Run the independence-MH accept/reject over one batch of proposals' log-weights ``(n,)``.

    ``log_u`` ``(n,)`` are logs of U(0, 1) numbers; ``log_w_current`` is the chain's log-weight before the batch
    (``-inf`` for a chain without a state yet).
    """
    log_w = np.ascontiguousarray(log_w, dtype=np.float64)
    log_u = np.ascontiguousarray(log_u, dtype=np.float64)
    if log_w.ndim != 1 or log_u.shape != log_w.shape:
        raise ValueError(f"log_w and log_u must be one-dimensional of equal length, got {log_w.shape}, "
                         f"{log_u.shape}")
    src, accepted, dH, after = _accept_pass(log_w, log_u, float(log_w_current))
    return MHBatch(src, accepted, dH, float(after), int(np.count_nonzero(~np.isfinite(log_w))))


def ess_per_sample(log_w: np.ndarray) -> float:
    """Kish effective sample size per sample, (Σw)² / (N Σw²), of log-weights ``(N,)``; invalid ones count as 0."""
    lw = np.asarray(log_w, dtype=np.float64).ravel()
    if lw.size == 0:
        raise ValueError("ess_per_sample needs at least one log-weight")
    lw = np.where(np.isfinite(lw), lw, -np.inf)
    top = np.max(lw)
    if not np.isfinite(top):
        return 0.0
    w = np.exp(lw - top)
    return float(np.sum(w) ** 2 / (lw.size * np.sum(w * w)))
