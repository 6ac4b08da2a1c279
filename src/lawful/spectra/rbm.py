"""Binary restricted Boltzmann machines (torch): CD-k and persistent CD, free energies, the discriminative RBM.

Energy E(v, h) = −bᵀv − cᵀh − vᵀW h with binary v (V,) and h (H,); the free energy
F(v) = −bᵀv − Σ_j softplus(c_j + vᵀW_j), p(v) = e^{−F(v)}/Z. The log-likelihood gradient is
⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model (h replaced by p(h=1|v) in the data term); CD-k estimates the model term with k Gibbs
steps from the data, PCD with persistent chains. The discriminative RBM (Larochelle & Bengio 2008) models
p(y|v) ∝ exp(d_y + Σ_j softplus(c_j + U_jy + vᵀW_j)) exactly and is trained by cross-entropy.
"""

from __future__ import annotations

import torch
from torch import nn


class RBM(nn.Module):
    """Bernoulli–Bernoulli RBM with ``n_visible`` and ``n_hidden`` units."""

    def __init__(self, n_visible: int, n_hidden: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.W = nn.Parameter(0.01 * torch.randn(n_visible, n_hidden, generator=generator, dtype=torch.float64))
        self.b = nn.Parameter(torch.zeros(n_visible, dtype=torch.float64))
        self.c = nn.Parameter(torch.zeros(n_hidden, dtype=torch.float64))

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) for v (B, V) → (B,)."""
        return -v @ self.b - nn.functional.softplus(self.c + v @ self.W).sum(dim=-1)

    def p_h(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.c + v @ self.W)

    def p_v(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.b + h @ self.W.T)

    def gibbs(self, v: torch.Tensor, steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``steps`` full Gibbs sweeps v → h → v."""
        for _ in range(steps):
            h = torch.bernoulli(self.p_h(v), generator=generator)
            v = torch.bernoulli(self.p_v(h), generator=generator)
        return v

    def gradient(self, v_data: torch.Tensor, v_model: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Ascent direction of the mean log-likelihood: (dW, db, dc) from data and model (negative) samples."""
        ph_d, ph_m = self.p_h(v_data), self.p_h(v_model)
        dw = v_data.T @ ph_d / len(v_data) - v_model.T @ ph_m / len(v_model)
        return dw, v_data.mean(0) - v_model.mean(0), ph_d.mean(0) - ph_m.mean(0)

    @torch.no_grad()
    def fit(self, v: torch.Tensor, epochs: int = 20, batch: int = 64, lr: float = 0.05, k: int = 1,
            persistent: bool = False, seed: int = 0) -> "RBM":
        """Train by CD-k (or PCD with ``persistent``) with momentum 0.5 and weight decay 1e-4."""
        gen = torch.Generator().manual_seed(seed)
        v = v.to(torch.float64)
        self.b.copy_(torch.logit(v.mean(0).clamp(1e-3, 1 - 1e-3)))
        chains = torch.bernoulli(torch.full((batch, v.shape[1]), 0.5, dtype=torch.float64), generator=gen)
        vel = [torch.zeros_like(p) for p in (self.W, self.b, self.c)]
        for _ in range(epochs):
            order = torch.randperm(len(v), generator=gen)
            for i in range(0, len(v), batch):
                data = v[order[i:i + batch]]
                start = chains[: len(data)] if persistent else data
                model = self.gibbs(start, k, gen)
                if persistent:
                    chains[: len(data)] = model
                grads = self.gradient(data, model)
                for p, g, m in zip((self.W, self.b, self.c), grads, vel):
                    m.mul_(0.5).add_(lr * (g - (1e-4 * p if p is self.W else 0.0)))
                    p.add_(m)
        return self


class DiscriminativeRBM(nn.Module):
    """p(y | v) of a classification RBM with ``n_classes`` one-hot label units."""

    def __init__(self, n_visible: int, n_hidden: int, n_classes: int, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(0.01 * torch.randn(n_visible, n_hidden, generator=gen))
        self.U = nn.Parameter(0.01 * torch.randn(n_classes, n_hidden, generator=gen))
        self.c = nn.Parameter(torch.zeros(n_hidden))
        self.d = nn.Parameter(torch.zeros(n_classes))

    def logits(self, v: torch.Tensor) -> torch.Tensor:
        """log p(y|v) up to a constant, (B, n_classes)."""
        act = (self.c + v @ self.W)[:, None, :] + self.U[None]  # (B, Y, H)
        return self.d + nn.functional.softplus(act).sum(-1)

    def fit(self, v: torch.Tensor, y: torch.Tensor, epochs: int = 20, batch: int = 64, lr: float = 3e-3,
            seed: int = 0) -> "DiscriminativeRBM":
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(self.parameters(), lr=lr, weight_decay=1e-5)
        v = v.to(torch.float32)
        for _ in range(epochs):
            order = torch.randperm(len(v), generator=gen)
            for i in range(0, len(v), batch):
                idx = order[i:i + batch]
                loss = nn.functional.cross_entropy(self.logits(v[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return self
