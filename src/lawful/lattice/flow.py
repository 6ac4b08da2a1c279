"""Normalizing flow for lattice fields: real-NVP affine couplings on checkerboards (Albergo, Kanwar, Shanahan,
PRD 100 (2019) 034515).

A flow maps prior noise z ~ N(0, 1)^V to a field φ = f(z) with an exact log-density
log q(φ) = log r(z) − Σ_layers log|det ∂f_l/∂z|. Each coupling layer keeps one checkerboard parity ("frozen")
and updates the other ("active"): φ_a ← e^{s(φ_f)} φ_a + t(φ_f) (``coupling="affine"``), or
φ_a ← e^{s} h(φ_a) + t with a rational-quadratic spline h whose bins depend on φ_f (``coupling="spline"``,
the neural-spline flows of Durkan et al. 2019). The networks are convolutional with circular padding
(translation-equivariant on the periodic lattice) and are symmetrized in the frozen field (s even, t odd, h at −φ_f
the mirror image of h at φ_f), so the flow commutes with φ → −φ and q(φ) = q(−φ) exactly, like the φ⁴ action.

Shapes: fields are ``(B, L, …, L)`` tensors (D spatial axes, C order of the site numbering of
:mod:`lawful.lattice.geometry`, so ``phi.reshape(B, V)`` is the numpy layout); log-densities are ``(B,)``.
Works for D = 1, 2, 3.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from lawful.lattice.spline import mirror, rq_spline

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
COUPLINGS = ("affine", "spline")


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
    """One real-NVP layer: the sites of ``parity`` are frozen, the others are scaled and shifted,
    φ_a ← e^{s} φ_a + t."""

    def __init__(self, dim: int, size: int, parity: int, hidden: tuple[int, ...], kernel: int,
                 n_params: int = 2) -> None:
        super().__init__()
        self.net = conv_net(dim, 1, n_params, hidden, kernel, final_tanh=True)  # channels: s, t, then the spline's
        self.register_buffer("frozen", checkerboard(dim, size, parity))

    def _outputs(self, frozen_field: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The net's outputs ``(B, channels, L…)`` at the frozen field and at its negative, as one batch."""
        x = frozen_field.unsqueeze(1)
        plus, minus = self.net(torch.cat([x, -x], dim=0)).chunk(2, dim=0)
        return plus, minus

    def _site_map(self, x: torch.Tensor, plus: torch.Tensor, minus: torch.Tensor,
                  inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The elementwise map applied before the affine step, ``(h(x), log h'(x))``; the identity here."""
        return x, torch.zeros_like(x)

    def _couple(self, field: torch.Tensor, inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.frozen
        plus, minus = self._outputs(m * field)
        s = 0.5 * (plus[:, 0] + minus[:, 0])  # even in the frozen field
        t = 0.5 * (plus[:, 1] - minus[:, 1])  # odd
        if inverse:
            x, log_dh = self._site_map((field - t) * torch.exp(-s), plus, minus, inverse=True)
        else:
            h, log_dh = self._site_map(field, plus, minus, inverse=False)
            x = h * torch.exp(s) + t
        active = m == 0
        return torch.where(active, x, field), torch.where(active, s + log_dh, 0.0).flatten(1).sum(1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(φ, log|det ∂φ/∂z|)``."""
        return self._couple(z, inverse=False)

    def inverse(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z, log|det ∂φ/∂z|)`` for the ``z`` that ``forward`` maps to ``phi``."""
        return self._couple(phi, inverse=True)


class SplineCoupling(AffineCoupling):
    """An affine coupling after a rational-quadratic spline of the active sites (:mod:`lawful.lattice.spline`),
    φ_a ← e^{s} h(φ_a) + t.

    The affine step alone moves and scales each site's conditional law; the spline bends and skews it, e.g. into
    the e^{−φ⁴/2 + 2κhφ} single-site law of φ⁴ at λ = 1/2. The symmetry needs h at −φ_f to be x ↦ −h(−x) of h at
    φ_f: the spline's parameters are the mean of the net's at φ_f and the mirrored ones at −φ_f. They are the
    net's tanh outputs, in [−1, 1]: bin slopes then stay within a factor ~30 of each other, so the inverse
    (forward KL, the density after an HMC move) stays well conditioned through many layers (logits in [−3, 3]
    lost 1e-2 in log q over four random layers).
    """

    BOUND = 4.0  #: the spline acts on [−BOUND, BOUND] and is the identity outside

    def __init__(self, dim: int, size: int, parity: int, hidden: tuple[int, ...], kernel: int, bins: int) -> None:
        super().__init__(dim, size, parity, hidden, kernel, n_params=3 * bins + 1)  # s, t, K, K, K − 1
        self.bins = bins

    def _spline_params(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k = self.bins
        last = torch.movedim(out[:, 2:], 1, -1).contiguous()  # bins last and contiguous: a fast softmax
        return last[..., :k], last[..., k:2 * k], last[..., 2 * k:]

    def _site_map(self, x: torch.Tensor, plus: torch.Tensor, minus: torch.Tensor,
                  inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        here, there = self._spline_params(plus), mirror(*self._spline_params(minus))
        widths, heights, slopes = (0.5 * (a + b) for a, b in zip(here, there, strict=True))
        return rq_spline(x, widths, heights, slopes, self.BOUND, inverse=inverse)


class SpectralGaussian(nn.Module):
    """A learned translation-invariant linear layer, φ = F⁻¹[g(p) F[z]] with g(p)⁻² = a + b p̂² + c p̂⁴
    (p̂² = Σ_μ 4 sin²(p_μ/2), a, b, c > 0): on N(0, 1) noise it is a Gaussian field with the propagator
    1/(a + b p̂² + c p̂⁴), the free-field form (the λ = 0 action e^{−S} has a = 2(1 − 2Dκ), b = 2κ, c = 0).
    It gives the couplings correlated input, so they need not build the long-wavelength modes out of local
    convolutions. Linear, so it commutes with φ → −φ; its three parameters do not depend on L, so it transfers
    between lattice sizes. It starts at a = 1, b = 0.1, c = 0.01 (in D = 2, g from 1 down to 0.64): started at
    b, c ≈ 0, the exponential parametrization has no gradient to leave them (measured: log b stayed at −5.6 over
    2500 steps).
    """

    def __init__(self, dim: int, size: int) -> None:
        super().__init__()
        momenta = 2 * math.pi * torch.arange(size, dtype=torch.float64) / size
        grids = torch.meshgrid(*[4 * torch.sin(momenta / 2) ** 2] * dim, indexing="ij")
        self.register_buffer("p2", sum(grids).to(torch.float32))
        self.log_coeffs = nn.Parameter(torch.log(torch.tensor([1.0, 0.1, 0.01])))  # log a, log b, log c
        self.dims = tuple(range(1, dim + 1))

    def _log_gain(self) -> torch.Tensor:
        """log g(p) ``(L…)``."""
        a, b, c = torch.exp(self.log_coeffs).to(self.p2.dtype).unbind()
        return -0.5 * torch.log(a + b * self.p2 + c * self.p2**2)

    def _filter(self, field: torch.Tensor, log_gain: torch.Tensor) -> torch.Tensor:
        spectrum = torch.fft.fftn(field, dim=self.dims, norm="ortho")
        return torch.fft.ifftn(spectrum * torch.exp(log_gain), dim=self.dims, norm="ortho").real

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(φ, log|det ∂φ/∂z|)``; the FFT is unitary and g even in p, so the log-det is Σ_p log g(p)."""
        log_gain = self._log_gain().to(z.dtype)
        return self._filter(z, log_gain), log_gain.sum().expand(z.shape[0])

    def inverse(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z, log|det ∂φ/∂z|)``."""
        log_gain = self._log_gain().to(phi.dtype)
        return self._filter(phi, -log_gain), log_gain.sum().expand(phi.shape[0])


class LayerFlow(nn.Module):
    """A flow that is a prior followed by ``self.layers``, each mapping ``x -> (y, log|det ∂y/∂x|)`` with an
    ``inverse``. Each subclass defines its prior: ``prior_log_prob(z) -> (B,)`` and ``sample(n, generator)``
    (:class:`RealNVPFlow`: N(0, 1); :class:`lawful.lattice.u1.flow.GaugeFlow`: Haar-uniform links)."""

    layers: nn.ModuleList

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Push prior samples ``z`` through the layers: ``(x, log q(x))``."""
        logq = self.prior_log_prob(z)
        x = z
        for layer in self.layers:
            x, logdet = layer(x)
            logq = logq - logdet
        return x, logq

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log q(x) of given configurations by inverting the layers."""
        logdet_total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        z = x
        for layer in reversed(self.layers):
            z, logdet = layer.inverse(z)
            logdet_total = logdet_total + logdet
        return self.prior_log_prob(z) - logdet_total


class RealNVPFlow(LayerFlow):
    """Stack of ``n_layers`` couplings alternating the checkerboard parity, on an N(0, 1) prior, optionally after a
    learned Gaussian layer (``spectral``).

    Hyperparameters are stored in :attr:`hparams` (what :mod:`lawful.lattice.models` saves beside the weights).
    """

    kind = "flow"

    def __init__(self, dim: int, size: int, n_layers: int = 16, hidden: tuple[int, ...] = (16, 16),
                 kernel: int = 3, coupling: str = "affine", bins: int = 8, spectral: bool = False) -> None:
        super().__init__()
        if n_layers < 2 or n_layers % 2:
            raise ValueError(f"n_layers must be an even number >= 2 (both parities get updated), got {n_layers}")
        if size % 2:
            raise ValueError(f"checkerboard couplings need an even lattice size L, got {size}")
        if coupling not in COUPLINGS:
            raise ValueError(f"coupling must be one of {COUPLINGS}, got {coupling!r}")
        if bins < 2:
            raise ValueError(f"a spline coupling needs at least 2 bins, got {bins}")
        self.hparams: dict[str, Any] = {"dim": dim, "size": size, "n_layers": n_layers, "hidden": list(hidden),
                                        "kernel": kernel, "coupling": coupling, "bins": bins, "spectral": spectral}
        self.shape = (size,) * dim
        hidden = tuple(hidden)
        couplings = [AffineCoupling(dim, size, i % 2, hidden, kernel) if coupling == "affine"
                     else SplineCoupling(dim, size, i % 2, hidden, kernel, bins) for i in range(n_layers)]
        self.layers = nn.ModuleList([SpectralGaussian(dim, size)] * spectral + couplings)

    def prior_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z; 0, 1) summed over sites, ``(B,)``."""
        return -0.5 * (z**2).flatten(1).sum(1) - 0.5 * z[0].numel() * math.log(2 * math.pi)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fields ``(n, L…)`` and their exact log q ``(n,)``."""
        p = next(self.parameters())
        z = torch.randn((n, *self.shape), generator=generator, dtype=p.dtype)  # on the CPU: the same z anywhere
        return self(z.to(p.device))
