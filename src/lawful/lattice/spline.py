"""Monotone rational-quadratic spline, elementwise (Durkan, Bekasov, Murray, Papamakarios, NeurIPS 2019).

h maps [−B, B] onto itself through K bins and is the identity outside: knots (x_k, y_k), k = 0..K, from
x_0 = y_0 = −B to x_K = y_K = B, positive slopes d_k at the knots with d_0 = d_K = 1 (so the identity tails join
with a continuous slope).

Parameters are unconstrained tensors per element: bin-width and bin-height logits ``(..., K)`` (softmax × 2B) and
interior-slope pre-activations ``(..., K − 1)`` (softplus, shifted so that 0 gives slope 1). All zeros give the
identity. :func:`mirror` reverses them: the spline of mirrored parameters is x ↦ −h(−x), which is what a
φ → −φ symmetric coupling needs.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional

MIN_BIN = 1e-3  #: smallest bin width/height as a fraction of 2B / K (keeps the inverse well conditioned)
MIN_SLOPE = 1e-3
_SLOPE_SHIFT = math.log(math.e - 1.0)  # softplus(0 + shift) = 1


def _knots(logits: torch.Tensor, bound: float) -> torch.Tensor:
    """Knot positions ``(..., K + 1)`` from −bound to bound."""
    k = logits.shape[-1]
    size = MIN_BIN / k + (1 - MIN_BIN) * torch.softmax(logits, dim=-1)
    cum = torch.cumsum(size, dim=-1)
    return bound * torch.cat([-torch.ones_like(cum[..., :1]), 2 * cum / cum[..., -1:] - 1], dim=-1)


def _positive_slope(raw: torch.Tensor) -> torch.Tensor:
    """Slopes > MIN_SLOPE from unconstrained values (0 gives slope 1)."""
    return MIN_SLOPE + (1 - MIN_SLOPE) * functional.softplus(raw + _SLOPE_SHIFT)


def _slopes(raw: torch.Tensor, end_raw: torch.Tensor | None = None) -> torch.Tensor:
    """Knot slopes ``(..., K + 1)``: the interior ones from ``raw`` ``(..., K − 1)``; at both ends 1, or the one
    slope from ``end_raw`` ``(...)`` (a circular spline: equal end slopes make it C¹ on the circle)."""
    d = _positive_slope(raw)
    end = torch.ones_like(d[..., :1]) if end_raw is None else _positive_slope(end_raw).unsqueeze(-1)
    return torch.cat([end, d, end], dim=-1)


def mirror(width_logits: torch.Tensor, height_logits: torch.Tensor,
           slope_raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The parameters of x ↦ −h(−x): bins and interior slopes in reverse order (along the last axis)."""
    return width_logits.flip(-1), height_logits.flip(-1), slope_raw.flip(-1)


def rq_spline(x: torch.Tensor, width_logits: torch.Tensor, height_logits: torch.Tensor, slope_raw: torch.Tensor,
              bound: float, inverse: bool = False,
              end_slope_raw: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(h(x), log h'(x))`` elementwise, or ``(h⁻¹(x), log h'(h⁻¹(x)))`` with ``inverse``.

    ``x`` has any shape S; the logits are ``(*S, K)``, ``slope_raw`` is ``(*S, K − 1)``. The log-derivative is that
    of the forward map at the pre-image point in both directions, so a coupling adds it for forward and inverse.
    ``end_slope_raw`` ``S`` sets one learned slope at both ends instead of 1 (on [−π, π] with the ends identified:
    the circular spline of Rezende et al., ICML 2020).
    """
    xs = _knots(width_logits, bound)
    ys = _knots(height_logits, bound)
    d = _slopes(slope_raw, end_slope_raw)
    inside = x.abs() < bound
    x_in = torch.where(inside, x, torch.zeros_like(x))
    knots_in = ys if inverse else xs
    idx = torch.searchsorted(knots_in[..., 1:-1].contiguous(), x_in.unsqueeze(-1).contiguous(), right=True)

    def at(t: torch.Tensor, shift: int = 0) -> torch.Tensor:
        return torch.gather(t, -1, idx + shift).squeeze(-1)

    x_k, y_k, d_k, d_k1 = at(xs), at(ys), at(d), at(d, 1)
    w_k, h_k = at(xs, 1) - x_k, at(ys, 1) - y_k
    s_k = h_k / w_k
    c = d_k1 + d_k - 2 * s_k
    if inverse:
        dy = x_in - y_k
        qa = h_k * (s_k - d_k) + dy * c
        qb = h_k * d_k - dy * c
        qc = -s_k * dy
        disc = torch.clamp(qb * qb - 4 * qa * qc, min=0.0)
        xi = (2 * qc) / (-qb - torch.sqrt(disc))
        out_in = x_k + xi * w_k
    else:
        xi = (x_in - x_k) / w_k
        out_in = y_k + h_k * (s_k * xi * xi + d_k * xi * (1 - xi)) / (s_k + c * xi * (1 - xi))
    xi = torch.clamp(xi, 0.0, 1.0)
    logd = (2 * torch.log(s_k) + torch.log(d_k1 * xi * xi + 2 * s_k * xi * (1 - xi) + d_k * (1 - xi) ** 2)
            - 2 * torch.log(s_k + c * xi * (1 - xi)))
    return torch.where(inside, out_in, x), torch.where(inside, logd, torch.zeros_like(logd))
