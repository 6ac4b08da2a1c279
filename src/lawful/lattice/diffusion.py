"""Score-based diffusion sampler for lattice fields with an exact, cheap divergence.

Noise model (variance exploding, Karras et al. 2022 "EDM" parametrization): x_σ = φ + σ n, n ~ N(0, 1)^V.
A denoiser D(x, σ) ≈ E[φ | x_σ = x] gives the score s = (D − x)/σ²; it is trained by **denoising score
matching** on an HMC ensemble (:func:`dsm_loss`). Samples come from

* the **reverse SDE** (:meth:`ScoreModel.sample_sde`, Euler–Maruyama), which has no tractable density, or
* the **probability-flow ODE** dx/dσ = (x − D)/σ from x(σ_max) ~ N(0, σ_max²) down to σ = 0 (Heun steps,
  :meth:`ScoreModel.sample_ode`), which carries its log-density along: d log q/dσ = −∇·f. These are the proposals
  the Metropolis–Hastings guard needs.

**Exact divergence at the cost of one forward pass.** The denoiser is built so that output site i depends on
its own input x_i only through a per-site head: D_i = c_skip x_i + c_out F(c_in x_i, h_i, σ), where the context
h_i is computed by a convolutional net from the *other* checkerboard parity only (sites of the parity of i are
zeroed before the net sees them). Then ∂h_i/∂x_i = 0 and ∂D_i/∂x_i = c_skip + c_out c_in ∂F/∂u is one
forward-mode derivative of the per-site head, so Σ_i ∂D_i/∂x_i is exact for any lattice size, not a stochastic
trace estimate. (The Hutchinson estimator is available behind ``divergence="hutchinson"``; it makes the
log-density inexact and the MH chain is flagged accordingly.) The φ⁴ score −∂S/∂φ_i at σ → 0 has exactly this
form: a function of φ_i plus a sum over its nearest neighbours, which have the other parity.

**Spectral skip** (``spectral_skip=True``, the training default). EDM's skip term c_skip x is the optimal
denoiser of white fields with variance σ_data². Near the critical point the field is anything but white: the
long-wavelength modes carry most of the variance (χ ≫ σ_data²), and a denoiser built from local convolutions
learns them poorly, because the zero mode is 1/V of the per-site loss (measured at L = 12 near-critical: the
EDM-skip model shrinks the lattice mean by 0.22 at σ = 4, where the optimal linear estimate is 0.45, and its
ODE proposals have χ = 5.3 against the data's 12.6). The spectral skip replaces it by the optimal denoiser of a
Gaussian field with the training data's power spectrum P(p) = ⟨|φ̃(p)|²⟩, F⁻¹[P/(P + σ²) F[x]], so the network
learns only the non-Gaussian rest. Its diagonal is the same on every site (translation invariance),
mean_p P/(P + σ²), so the divergence stays exact and costs two FFTs.

The log-density is that of the continuous ODE evaluated with the trapezoid rule along the Heun path, so it
differs from the density of the discrete map by the (second-order, tested) discretization error. Its spread
across proposals biases an MH chain (a constant cancels); ``benchmarks/diffusion_logq_gap.py`` measures it, e.g.
0.062 on the trained L = 8 model at 24 steps and 0.014 at 48.

Shapes: fields ``(B, L, …, L)``; σ scalar or ``(B,)``; log-densities ``(B,)``. D = 1, 2, 3.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch import nn

from lawful.lattice.flow import _CONV, checkerboard, conv_net

DIVERGENCES = ("exact", "hutchinson")


def _bcast(sigma: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """σ as a tensor broadcastable against ``x`` ``(B, L…)``."""
    s = torch.as_tensor(sigma, dtype=x.dtype)
    if s.ndim == 0:
        s = s.expand(x.shape[0])
    return s.reshape(-1, *([1] * (x.ndim - 1)))


class ScoreModel(nn.Module):
    """Denoiser D(x, σ) with a checkerboard context net and a per-site head (see the module docstring)."""

    kind = "diffusion"

    def __init__(self, dim: int, size: int, hidden: tuple[int, ...] = (32, 32), kernel: int = 3, context: int = 16,
                 head: int = 32, spectral_skip: bool = False, sigma_min: float = 0.002, sigma_max: float = 20.0,
                 sigma_data: float = 1.0) -> None:
        super().__init__()
        if size % 2:
            raise ValueError(f"the checkerboard context needs an even lattice size L, got {size}")
        if not 0 < sigma_min < sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        self.hparams: dict[str, Any] = {"dim": dim, "size": size, "hidden": list(hidden), "kernel": kernel,
                                        "context": context, "head": head, "spectral_skip": spectral_skip}
        self.extra: dict[str, Any] = {"sigma_min": float(sigma_min), "sigma_max": float(sigma_max),
                                      "sigma_data": float(sigma_data)}
        self.sigma_min, self.sigma_max, self.sigma_data = float(sigma_min), float(sigma_max), float(sigma_data)
        self.shape = (size,) * dim
        self.context_net = conv_net(dim, 2, context, hidden, kernel, final_tanh=False)
        conv1 = _CONV[dim]
        self.head = nn.Sequential(conv1(context + 2, head, 1), nn.SiLU(), conv1(head, head, 1), nn.SiLU(),
                                  conv1(head, 1, 1))
        self.register_buffer("even", checkerboard(dim, size, 0))
        self.dims = tuple(range(1, dim + 1))
        if spectral_skip:  # white until set_power: then the skip is EDM's c_skip x exactly
            self.register_buffer("power", torch.full(self.shape, self.sigma_data**2))
        self.spectral_skip = spectral_skip

    def set_power(self, fields: torch.Tensor) -> None:
        """Set the spectral skip's power spectrum P(p) = ⟨|φ̃(p)|²⟩ (unitary FFT) from clean fields ``(N, L…)``,
        averaged over the lattice's axis reflections p_μ → −p_μ and axis permutations (symmetries of S)."""
        if not self.spectral_skip:
            raise ValueError("set_power needs a model built with spectral_skip=True")
        power = (torch.fft.fftn(fields.double(), dim=self.dims, norm="ortho").abs() ** 2).mean(0)
        axes = list(range(power.ndim))
        for axis in axes:  # k → −k mod L along one axis
            power = 0.5 * (power + torch.roll(torch.flip(power, [axis]), 1, axis))
        perms = list(itertools.permutations(axes))
        self.power.copy_(sum(power.permute(perm) for perm in perms) / len(perms))

    def _scalings(self, sigma: torch.Tensor) -> tuple[torch.Tensor, ...]:
        sd2 = self.sigma_data**2
        c_skip = sd2 / (sigma**2 + sd2)
        c_out = sigma * self.sigma_data / torch.sqrt(sigma**2 + sd2)
        c_in = 1.0 / torch.sqrt(sigma**2 + sd2)
        c_noise = torch.log(sigma) / 4.0
        return c_skip, c_out, c_in, c_noise

    def _context(self, u: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Features ``(B, context, L…)`` where site i's features never see sites of i's own parity."""
        even = self.even
        odd = 1 - even
        inp = torch.cat([torch.cat([u * odd, noise], 1), torch.cat([u * even, noise], 1)], 0)
        from_odd, from_even = self.context_net(inp).chunk(2, dim=0)
        return even * from_odd + odd * from_even

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor | float,
                with_diag: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``D(x, σ)`` ``(B, L…)`` and, if asked, the exact diagonal ∂D_i/∂x_i ``(B, L…)``."""
        s = _bcast(sigma, x)
        c_skip, c_out, c_in, c_noise = self._scalings(s)
        u = (c_in * x).unsqueeze(1)
        noise = c_noise.unsqueeze(1).expand_as(u)
        ctx = self._context(u, noise)

        def head(uu: torch.Tensor) -> torch.Tensor:
            return self.head(torch.cat([uu, ctx, noise], 1))[:, 0]

        skip, skip_diag = self._skip(x, s, c_skip)
        if with_diag:
            f, df = torch.func.jvp(head, (u,), (torch.ones_like(u),))
            return skip + c_out * f, skip_diag + c_out * c_in * df
        return skip + c_out * head(u), None

    def _skip(self, x: torch.Tensor, s: torch.Tensor, c_skip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The skip term ``(B, L…)`` and its diagonal ∂skip_i/∂x_i (broadcastable). EDM: c_skip x. Spectral:
        the optimal denoiser of a Gaussian field with the data's power spectrum, F⁻¹[P/(P + σ²) F[x]], whose
        diagonal is the same on every site, mean_p P/(P + σ²), by translation invariance."""
        if not self.spectral_skip:
            return c_skip * x, c_skip
        power = self.power.to(x.dtype)
        gain = power / (power + s**2)
        skip = torch.fft.ifftn(torch.fft.fftn(x, dim=self.dims, norm="ortho") * gain, dim=self.dims, norm="ortho")
        return skip.real, gain.flatten(1).mean(1).reshape(s.shape)

    def score(self, x: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        """∇ log p_σ(x) ≈ (D − x)/σ², ``(B, L…)``."""
        d, _ = self.denoise(x, sigma)
        return (d - x) / _bcast(sigma, x) ** 2

    def sigmas(self, n_steps: int, rho: float = 7.0) -> torch.Tensor:
        """EDM noise levels σ_0 = σ_max > … > σ_{n−1} = σ_min, then 0: ``(n_steps + 1,)`` float64."""
        if n_steps < 2:
            raise ValueError(f"n_steps must be >= 2, got {n_steps}")
        i = torch.arange(n_steps, dtype=torch.float64) / (n_steps - 1)
        lo, hi = self.sigma_min ** (1 / rho), self.sigma_max ** (1 / rho)
        return torch.cat([(hi + i * (lo - hi)) ** rho, torch.zeros(1, dtype=torch.float64)])

    def _velocity(self, x: torch.Tensor, sigma: float, divergence: str,
                  generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
        """ODE velocity f = (x − D)/σ and its divergence ``(B,)``."""
        if divergence == "exact":
            d, diag = self.denoise(x, sigma, with_diag=True)
            v = x.shape[1:].numel()
            return (x - d) / sigma, (v - diag.flatten(1).sum(1)) / sigma
        probe = torch.randint(0, 2, x.shape, generator=generator, dtype=x.dtype) * 2 - 1

        def f(xx: torch.Tensor) -> torch.Tensor:
            return (xx - self.denoise(xx, sigma)[0]) / sigma

        vel, jv = torch.func.jvp(f, (x,), (probe,))
        return vel, (probe * jv).flatten(1).sum(1)

    @torch.no_grad()
    def sample_ode(self, n: int, generator: torch.Generator | None = None, n_steps: int = 32,
                   divergence: str = "exact") -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fields by the probability-flow ODE and their log-density ``(n,)`` (exact divergence by default)."""
        dtype = next(self.parameters()).dtype
        x_top = torch.randn((n, *self.shape), generator=generator, dtype=dtype) * self.sigma_max
        return self.integrate_ode(x_top, n_steps, divergence, generator)

    def integrate_ode(self, x: torch.Tensor, n_steps: int = 32, divergence: str = "exact",
                      generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Map ``x`` ``(B, L…)`` drawn from N(0, σ_max²) to σ = 0: ``(φ, log q(φ))`` (Heun, trapezoid log q)."""
        if divergence not in DIVERGENCES:
            raise ValueError(f"divergence must be one of {DIVERGENCES}, got {divergence!r}")
        sig = self.sigmas(n_steps).tolist()
        nv = x[0].numel()
        logq = -0.5 * (x**2).flatten(1).sum(1) / sig[0] ** 2 - nv * math.log(sig[0] * math.sqrt(2 * math.pi))
        for s0, s1 in itertools.pairwise(sig):
            h = s1 - s0
            v0, div0 = self._velocity(x, s0, divergence, generator)
            if s1 == 0.0:  # last step to σ = 0: Euler, as in EDM
                x, logq = x + h * v0, logq - h * div0
                continue
            x1 = x + h * v0
            v1, div1 = self._velocity(x1, s1, divergence, generator)
            x, logq = x + 0.5 * h * (v0 + v1), logq - 0.5 * h * (div0 + div1)
        return x, logq

    @torch.no_grad()
    def log_q_error_spread(self, n: int = 16, n_steps: int = 24, generator: torch.Generator | None = None) -> float:
        """Spread across proposals of the ODE discretization error of log q at ``n_steps`` (a constant error cancels
        in MH, this spread biases the chain): 4/3 × std over ``n`` starting points of log q(n_steps) −
        log q(2 n_steps), the Richardson estimate for a second-order rule. On the trained constant-ξ line models it
        came out 1.3–1.9× above the spread against the exact density of the Heun map, on the safe side
        (benchmarks/diffusion_logq_gap.py).
        """
        dtype = next(self.parameters()).dtype
        x_top = torch.randn((n, *self.shape), generator=generator, dtype=dtype) * self.sigma_max
        _, coarse = self.integrate_ode(x_top, n_steps)
        _, fine = self.integrate_ode(x_top, 2 * n_steps)
        return float(4.0 / 3.0 * (coarse - fine).double().std())

    @torch.no_grad()
    def sample_sde(self, n: int, generator: torch.Generator | None = None, n_steps: int = 64) -> torch.Tensor:
        """``n`` fields by Euler–Maruyama on the reverse SDE dx = −2σ s dσ + √(2σ) dW̄ (no density)."""
        dtype = next(self.parameters()).dtype
        sig = self.sigmas(n_steps).tolist()
        x = torch.randn((n, *self.shape), generator=generator, dtype=dtype) * sig[0]
        for s0, s1 in itertools.pairwise(sig):
            h = s1 - s0
            x = x - 2.0 * s0 * h * self.score(x, s0)
            if s1 > 0:
                x = x + math.sqrt(2.0 * s0 * -h) * torch.randn(x.shape, generator=generator, dtype=dtype)
        return x


def dsm_loss(model: ScoreModel, phi: torch.Tensor, generator: torch.Generator | None = None,
             p_mean: float = -1.2, p_std: float = 1.2) -> torch.Tensor:
    """Denoising score-matching loss (EDM weighting) on clean fields ``phi`` ``(B, L…)``; σ ~ lognormal."""
    b = phi.shape[0]
    sigma = torch.exp(p_mean + p_std * torch.randn(b, generator=generator, dtype=phi.dtype))
    noise = torch.randn(phi.shape, generator=generator, dtype=phi.dtype)
    s = _bcast(sigma, phi)
    d, _ = model.denoise(phi + s * noise, sigma)
    weight = (s**2 + model.sigma_data**2) / (s * model.sigma_data) ** 2
    return (weight * (d - phi) ** 2).mean()
