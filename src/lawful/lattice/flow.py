"""Normalizing flow for lattice fields: real-NVP affine couplings on checkerboards (Albergo, Kanwar, Shanahan,
PRD 100 (2019) 034515).

A flow maps prior noise z ~ N(0, 1)^V to a field φ = f(z) with an exact log-density
log q(φ) = log r(z) − Σ_layers log|det ∂f_l/∂z|. Each coupling layer keeps one checkerboard parity ("frozen")
and updates the other ("active"): φ_a ← e^{s(φ_f)} φ_a + t(φ_f). The networks s, t are convolutional with circular
padding (translation-equivariant on the periodic lattice) and are made **even** (s) and **odd** (t) in the frozen
field by symmetrization, so the flow commutes with φ → −φ and q(φ) = q(−φ) exactly, like the φ⁴ action.

Shapes: fields are ``(B, L, …, L)`` tensors (D spatial axes, C order of the site numbering of
:mod:`lawful.lattice.geometry`, so ``phi.reshape(B, V)`` is the numpy layout); log-densities are ``(B,)``.
Works for D = 1, 2, 3.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def checkerboard(dim: int, size: int, parity: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Mask ``(L,)*D`` that is 1 on sites with ``Σ x_μ ≡ parity (mod 2)`` and 0 elsewhere."""
    grids = torch.meshgrid(*[torch.arange(size)] * dim, indexing="ij")
    return ((sum(grids) % 2) == parity).to(dtype)


def conv_net(dim: int, c_in: int, c_out: int, hidden: tuple[int, ...], kernel: int, final_tanh: bool) -> nn.Module:
    """Stack of D-dimensional convolutions with circular padding and LeakyReLU between them."""
    if dim not in _CONV:
        raise ValueError(f"flows support lattice dimension D in 1..3, got {dim}")
    if kernel % 2 != 1:
        raise ValueError(f"kernel size must be odd (it is centred on a site), got {kernel}")
    sizes = [c_in, *hidden, c_out]
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(_CONV[dim](sizes[i], sizes[i + 1], kernel, padding=kernel // 2, padding_mode="circular"))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU())
    if final_tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class AffineCoupling(nn.Module):
    """One real-NVP layer: the sites of ``parity`` are frozen, the others are scaled and shifted."""

    def __init__(self, dim: int, size: int, parity: int, hidden: tuple[int, ...], kernel: int) -> None:
        super().__init__()
        self.net = conv_net(dim, 1, 2, hidden, kernel, final_tanh=True)
        self.register_buffer("frozen", checkerboard(dim, size, parity))

    def _s_t(self, frozen_field: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Even s and odd t of the frozen field, evaluated as one batch ``[x, −x]``."""
        x = frozen_field.unsqueeze(1)
        out = self.net(torch.cat([x, -x], dim=0))
        plus, minus = out.chunk(2, dim=0)
        s = 0.5 * (plus[:, 0] + minus[:, 0])
        t = 0.5 * (plus[:, 1] - minus[:, 1])
        return s, t

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(φ, log|det ∂φ/∂z|)``."""
        m = self.frozen
        s, t = self._s_t(m * z)
        active = 1 - m
        out = m * z + active * (z * torch.exp(s) + t)
        return out, (active * s).flatten(1).sum(1)

    def inverse(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z, log|det ∂φ/∂z|)`` for the ``z`` that ``forward`` maps to ``phi``."""
        m = self.frozen
        s, t = self._s_t(m * phi)
        active = 1 - m
        z = m * phi + active * (phi - t) * torch.exp(-s)
        return z, (active * s).flatten(1).sum(1)


class RealNVPFlow(nn.Module):
    """Stack of ``n_layers`` affine couplings alternating the checkerboard parity, on an N(0, 1) prior.

    Hyperparameters are stored in :attr:`hparams` (what :mod:`lawful.lattice.models` saves beside the weights).
    """

    kind = "flow"

    def __init__(self, dim: int, size: int, n_layers: int = 16, hidden: tuple[int, ...] = (16, 16),
                 kernel: int = 3) -> None:
        super().__init__()
        if n_layers < 2 or n_layers % 2:
            raise ValueError(f"n_layers must be an even number >= 2 (both parities get updated), got {n_layers}")
        if size % 2:
            raise ValueError(f"checkerboard couplings need an even lattice size L, got {size}")
        self.hparams: dict[str, Any] = {"dim": dim, "size": size, "n_layers": n_layers, "hidden": list(hidden),
                                        "kernel": kernel}
        self.shape = (size,) * dim
        self.layers = nn.ModuleList(AffineCoupling(dim, size, i % 2, tuple(hidden), kernel) for i in range(n_layers))

    def prior_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z; 0, 1) summed over sites, ``(B,)``."""
        return -0.5 * (z**2).flatten(1).sum(1) - 0.5 * z[0].numel() * math.log(2 * math.pi)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Push prior samples ``z`` ``(B, L…)`` through the flow: ``(φ, log q(φ))``."""
        logq = self.prior_log_prob(z)
        phi = z
        for layer in self.layers:
            phi, logdet = layer(phi)
            logq = logq - logdet
        return phi, logq

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fields ``(n, L…)`` and their exact log q ``(n,)``."""
        p = next(self.parameters())
        z = torch.randn((n, *self.shape), generator=generator, dtype=p.dtype)
        return self(z)

    def log_prob(self, phi: torch.Tensor) -> torch.Tensor:
        """Exact log q(φ) of given fields ``(B, L…)`` by inverting the couplings (used for forward KL)."""
        logdet_total = torch.zeros(phi.shape[0], dtype=phi.dtype)
        z = phi
        for layer in reversed(self.layers):
            z, logdet = layer.inverse(z)
            logdet_total = logdet_total + logdet
        return self.prior_log_prob(z) - logdet_total
