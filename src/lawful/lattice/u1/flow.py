"""A gauge-equivariant normalizing flow for 2D U(1) (Kanwar et al., PRL 125, 121601 (2020); the layer pattern of
the Albergo et al. tutorial, arXiv:2101.08176).

Prior: Haar-uniform links on (−π, π]. Each coupling layer (direction μ, offset o, ν = 1 − μ) updates the μ-links on
the sites with x_ν ≡ o (mod 4). Every such link enters exactly one "active" plaquette (x_ν ≡ o) with sign
σ = +1 (μ = 0) or −1 (μ = 1), and one "passive" one (x_ν ≡ o − 1), which follows. The "frozen" plaquettes
(x_ν ≡ o + 1, o + 2) contain no updated link; a convolutional net (circular padding) of their (cos, sin) gives, per
site, a circular rational-quadratic spline h on (−π, π] (equal learned end slopes, :mod:`lawful.lattice.spline`)
and a rotation t. The active plaquette moves P → P' = h(P) + t (mod 2π) and its link by σ(P' − P). Plaquettes are
gauge invariant and link updates are functions of plaquettes, so the flow commutes with gauge transformations
and q(θ) is gauge invariant; the Jacobian is triangular with log-det Σ_active log h'(P), exact.

Shapes: links ``(B, 2, L, L)`` (``reshape(B, 2V)`` is the numpy layout of :mod:`lawful.lattice.u1.kernels`);
log-densities ``(B,)``. L must be a multiple of 4 (the stripes' period).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from lawful.lattice.flow import LayerFlow, conv_net
from lawful.lattice.spline import rq_spline

#: period of the mask pattern: L must be a multiple of it
STRIPE = 4


def wrap(x: torch.Tensor) -> torch.Tensor:
    """Angles mapped into [−π, π)."""
    return torch.remainder(x + math.pi, 2 * math.pi) - math.pi


def plaquettes(theta: torch.Tensor) -> torch.Tensor:
    """P(x) = θ₀(x) + θ₁(x + 0̂) − θ₀(x + 1̂) − θ₁(x), ``(B, L, L)``, not wrapped."""
    return theta[:, 0] + torch.roll(theta[:, 1], -1, dims=1) - torch.roll(theta[:, 0], -1, dims=2) - theta[:, 1]


def stripes(size: int, nu: int, offsets: tuple[int, ...]) -> torch.Tensor:
    """Mask ``(L, L)``: 1 where x_ν mod 4 is in ``offsets``."""
    coord = torch.arange(size).reshape((size, 1) if nu == 0 else (1, size)).expand(size, size)
    return torch.isin(coord % STRIPE, torch.tensor(offsets)).to(torch.float32)


class PlaquetteCoupling(nn.Module):
    """One gauge-equivariant coupling layer (see the module docstring)."""

    def __init__(self, size: int, mu: int, offset: int, hidden: tuple[int, ...], kernel: int, bins: int) -> None:
        super().__init__()
        nu = 1 - mu
        self.mu, self.sign, self.bins = mu, 1.0 if mu == 0 else -1.0, bins
        active = stripes(size, nu, (offset % STRIPE,))
        self.register_buffer("index", torch.nonzero(active.flatten()).flatten())  # the V/4 active sites
        self.register_buffer("frozen", stripes(size, nu, ((offset + 1) % STRIPE, (offset + 2) % STRIPE)))
        self.net = conv_net(2, 2, 3 * bins + 1, hidden, kernel, final_tanh=False)  # K, K, K − 1, end slope, t
        last = self.net[-1]
        nn.init.zeros_(last.weight)  # every layer starts as the identity
        nn.init.zeros_(last.bias)

    def _params(self, plaq: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Spline parameters ``(B, V/4, ·)`` and rotation ``(B, V/4)`` at the active sites, from the frozen
        plaquettes ``(B, L, L)``."""
        frozen = self.frozen * plaq
        x = torch.stack([self.frozen * torch.cos(frozen), self.frozen * torch.sin(frozen)], dim=1)
        out = torch.movedim(self.net(x).flatten(2)[:, :, self.index], 1, -1).contiguous()
        k = self.bins
        return out[..., :k], out[..., k:2 * k], out[..., 2 * k:3 * k - 1], out[..., 3 * k - 1], out[..., 3 * k]

    def _couple(self, theta: torch.Tensor, inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        plaq = wrap(plaquettes(theta))
        widths, heights, slopes, end, t = self._params(plaq)
        here = plaq.flatten(1)[:, self.index]
        if inverse:
            new, logd = rq_spline(wrap(here - t), widths, heights, slopes, math.pi, inverse=True, end_slope_raw=end)
        else:
            h, logd = rq_spline(here, widths, heights, slopes, math.pi, end_slope_raw=end)
            new = h + t
        shift = torch.zeros_like(plaq.flatten(1)).index_copy(1, self.index, (new - here) * self.sign)
        out = theta.clone()
        out[:, self.mu] = wrap(theta[:, self.mu] + shift.reshape(plaq.shape))
        return out, logd.sum(1)

    def forward(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(θ', log|det ∂θ'/∂θ|)``."""
        return self._couple(theta, inverse=False)

    def inverse(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(θ, log|det ∂θ'/∂θ|)`` for the θ that ``forward`` maps to ``theta``."""
        return self._couple(theta, inverse=True)


class GaugeFlow(LayerFlow):
    """``n_layers`` plaquette couplings on Haar-uniform links; layer i updates direction μ = i mod 2 at offset
    (i // 2) mod 4, so every 8 layers each link has been updated once. ``forward(z)`` maps uniform links
    ``(B, 2, L, L)`` to ``(θ, log q(θ))``. Hyperparameters in :attr:`hparams`."""

    kind = "flow"

    def __init__(self, size: int, n_layers: int = 16, hidden: tuple[int, ...] = (16, 16), kernel: int = 3,
                 bins: int = 8) -> None:
        super().__init__()
        if size % STRIPE or size < STRIPE:
            raise ValueError(f"the gauge-equivariant flow's stripes have period {STRIPE}: L must be a multiple of "
                             f"{STRIPE}, got {size}")
        if n_layers < 2:
            raise ValueError(f"n_layers must be >= 2 (both link directions get updated), got {n_layers}")
        if bins < 2:
            raise ValueError(f"a spline coupling needs at least 2 bins, got {bins}")
        if kernel % 2 != 1:
            raise ValueError(f"kernel size must be odd (it is centred on a site), got {kernel}")
        self.hparams: dict[str, Any] = {"size": size, "n_layers": n_layers, "hidden": list(hidden), "kernel": kernel,
                                        "bins": bins}
        self.shape = (2, size, size)
        self.layers = nn.ModuleList([PlaquetteCoupling(size, i % 2, (i // 2) % STRIPE, tuple(hidden), kernel, bins)
                                     for i in range(n_layers)])

    def prior_log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        """log of the uniform density (2π)^{−2V}, ``(B,)``."""
        return torch.full((theta.shape[0],), -theta[0].numel() * math.log(2 * math.pi), dtype=theta.dtype,
                          device=theta.device)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` configurations ``(n, 2, L, L)`` and their exact log q ``(n,)``."""
        p = next(self.parameters())
        z = (2 * torch.rand((n, *self.shape), generator=generator, dtype=p.dtype) - 1) * math.pi  # CPU generator
        return self(z.to(p.device))

    def log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        """Exact log q(θ) of given links ``(B, 2, L, L)`` (any representative angles) by inverting the couplings."""
        return super().log_prob(wrap(theta))
