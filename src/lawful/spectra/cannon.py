"""The Cannon (Ness et al. 2015): a per-pixel quadratic model in the labels with intrinsic scatter.

Training: for each pixel λ, flux = θ_λ · ℓ(labels) with ℓ = (1, x_i, x_i x_j) of the standardised labels,
fitted by weighted least squares with weights 1/(σ²_noise + s²_λ), and s²_λ (the intrinsic scatter) from the
excess of the residual variance over the noise — one iteration. Test: labels by batched Gauss–Newton χ²
minimisation from the training mean, σ from the inverse of the Gauss–Newton Hessian.
"""

from __future__ import annotations

import numpy as np
import torch


def _design(x: torch.Tensor) -> torch.Tensor:
    """(n, k) standardised labels → (n, 1 + k + k(k+1)/2) quadratic design."""
    n, k = x.shape
    iu = torch.triu_indices(k, k)
    quad = (x[:, :, None] * x[:, None, :])[:, iu[0], iu[1]]
    return torch.cat([torch.ones(n, 1, dtype=x.dtype), x, quad], dim=1)


class Cannon:
    """Fit with ``fit(flux, ivar, labels)`` (standardised labels), invert with ``predict(flux, ivar)``."""

    def fit(self, flux: np.ndarray, ivar: np.ndarray, labels: np.ndarray) -> "Cannon":
        f = torch.as_tensor(flux, dtype=torch.float64)
        w = torch.as_tensor(ivar, dtype=torch.float64)
        design = _design(torch.as_tensor(labels, dtype=torch.float64))
        self.scatter2 = torch.zeros(f.shape[1], dtype=torch.float64)
        for _ in range(2):
            weight = 1.0 / (1.0 / w.clamp_min(1e-12) + self.scatter2)  # (n, W)
            p = design.shape[1]
            a = (weight.T @ (design[:, :, None] * design[:, None, :]).reshape(-1, p * p)).view(-1, p, p)
            rhs = (weight * f).T @ design
            a = a + 1e-8 * torch.eye(design.shape[1], dtype=a.dtype)
            self.theta = torch.linalg.solve(a, rhs)  # (W, p)
            resid = f - design @ self.theta.T
            self.scatter2 = (resid.pow(2) - 1.0 / w.clamp_min(1e-12)).mean(dim=0).clamp_min(0.0)
        self.n_labels = labels.shape[1]
        return self

    def predict(self, flux: np.ndarray, ivar: np.ndarray, iterations: int = 15) -> tuple[np.ndarray, np.ndarray]:
        f = torch.as_tensor(flux, dtype=torch.float64)
        w = 1.0 / (1.0 / torch.as_tensor(ivar, dtype=torch.float64).clamp_min(1e-12) + self.scatter2)
        x = torch.zeros(f.shape[0], self.n_labels, dtype=torch.float64)
        for _ in range(iterations):
            model = _design(x) @ self.theta.T
            jac = torch.func.vmap(torch.func.jacfwd(lambda xi: (_design(xi[None]) @ self.theta.T)[0]))(x.detach())
            r = (f - model).detach()
            h = torch.einsum("nwk,nw,nwl->nkl", jac, w, jac) + 1e-6 * torch.eye(self.n_labels, dtype=f.dtype)
            g = torch.einsum("nwk,nw,nw->nk", jac, w, r)
            step = torch.linalg.solve(h, g)
            x = (x.detach() + step).clamp(-5.0, 5.0)
        cov = torch.linalg.inv(h)
        return x.detach().numpy(), torch.sqrt(torch.diagonal(cov, dim1=1, dim2=2)).numpy()
