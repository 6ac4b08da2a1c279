"""Networks that map a continuum-normalised spectrum (B, W), standardised per pixel (:class:`Standardize`), to
standardised labels (B, n_labels).

* :class:`SPT` — the Spectral Transformer: patch tokens, multi-head **Hadamard** self-attention, MC dropout.
  The paper's "enhanced softmax" is not public; the formula used here (per head h, channel c, token t) is

      A_tc = softmax_t((Q_tc ⊙ K_tc) / √d_h),   g_c = Σ_t A_tc V_tc,   out_tc = Q_tc ⊙ g_c,

  i.e. the Hadamard product Q ⊙ K scored per channel, normalised over the tokens (in place of the softmax over
  token pairs), pooled with V into a global context that gates every query: O(T d) instead of O(T² d).
  ``attention="dot"`` swaps in standard scaled dot-product attention for the ablation.
* :class:`BCNN` — the astroNN Bayesian CNN design (two conv layers 2→4, 4→16 filters of width 8, max-pool,
  dense 192 and 64, dropout kept on at inference).
* :class:`MLP` — a plain multilayer perceptron on the pixels.

Every dropout is an :class:`MCDropout`: ordinary dropout in training; at MC inference (:func:`mc_dropout_pass`)
each spectrum draws its masks from a generator of its own, so that its MC mean and σ do not depend on which other
spectra are predicted with it, nor on how they are split into chunks, while the MC errors of different spectra
stay independent (one mask shared by a whole pass would make them a common offset that no average removes).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn


class MCDropout(nn.Dropout):
    """Dropout with rate ``p``. In training, :class:`torch.nn.Dropout`. Inside :func:`mc_dropout_pass`, the masks of
    one MC pass come from a :class:`PassMasks`, drawn per spectrum, so a spectrum's draws do not depend on the
    other spectra in its batch."""

    def __init__(self, p: float) -> None:
        super().__init__(p)
        self.masks: PassMasks | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.masks is None or not self.training or self.p == 0:
            return super().forward(x)
        return self.masks.apply(x)


#: standard deviations of the drop count beyond its mean that :class:`PassMasks` draws gaps for at first
GAP_MARGIN = 6.0


class PassMasks:
    """The dropout masks of one MC pass over a batch of n spectra. Spectrum i's dropped elements, over all of the
    network's dropout layers in the order they are called (``sizes`` elements per spectrum in each), are
    independent Bernoulli(p) trials drawn from a generator seeded with ``seeds[i]`` alone — as the gaps between
    drops, Geometric(p), so a pass costs about size·p draws per spectrum instead of size. Kept elements are scaled
    by 1/(1 − p), as in training."""

    def __init__(self, seeds: Sequence[int], sizes: Sequence[int], p: float) -> None:
        self.scale, self.layer, size = 1.0 / (1.0 - p), 0, sum(sizes)
        self.sizes = list(sizes)
        if p == 0 or size == 0:
            self.drops = [(torch.zeros(0, dtype=torch.long),) * 2] * len(sizes)
            return
        m = max(1, int(size * p + GAP_MARGIN * math.sqrt(size * p)) + 16)  # enough gaps but for ~1e-9 of rows
        generator = torch.Generator()
        gaps = torch.empty(len(seeds), m, dtype=torch.float64)
        for row, seed in zip(gaps, seeds):
            row.geometric_(p, generator=generator.manual_seed(int(seed)))
        pos = gaps.cumsum(1) - 1.0
        short = (pos[:, -1] < size).nonzero().flatten().tolist()
        if short:  # continue the rows whose generators have not passed the end: their own streams, from where
            pos = torch.cat([pos, torch.full((len(seeds), size), float(size))], dim=1)  # they stopped
            for i in short:
                generator.manual_seed(int(seeds[i]))
                pos[i] = torch.empty(m + size, dtype=torch.float64).geometric_(p, generator=generator).cumsum(0) - 1
        rows, k = (pos < size).nonzero(as_tuple=True)
        cols = pos[rows, k].long()
        starts = torch.tensor([0, *sizes]).cumsum(0)
        layer = torch.bucketize(cols, starts[1:], right=True)
        order = torch.argsort(layer, stable=True)
        counts = torch.bincount(layer, minlength=len(sizes)).tolist()
        self.drops = [(r, c - starts[j]) for j, (r, c) in
                      enumerate(zip(rows[order].split(counts), cols[order].split(counts)))]

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """The next dropout layer's output for its input ``x`` (n, ...)."""
        if self.layer >= len(self.sizes) or x[0].numel() != self.sizes[self.layer]:
            raise RuntimeError(f"dropout layer {self.layer} got {x[0].numel()} elements per spectrum; the masks "
                               f"were drawn for layers of {self.sizes}")
        rows, cols = self.drops[self.layer]
        self.layer += 1
        out = (x * self.scale).reshape(len(x), -1)
        out[rows, cols] = 0.0
        return out.view_as(x)


def dropout_rate_and_sizes(net: nn.Module, x: torch.Tensor) -> tuple[float, list[int]]:
    """The rate of ``net``'s :class:`MCDropout` layers (one for all) and how many elements per spectrum each masks,
    in the order they are called, in one forward pass of spectra like ``x`` (n, W) (measured on ``x[:1]`` in eval
    mode)."""
    drops = [m for m in net.modules() if isinstance(m, MCDropout)]
    rates = {m.p for m in drops}
    if len(rates) > 1:
        raise ValueError(f"MC dropout needs one rate for all layers, got {sorted(rates)}")
    sizes: list[int] = []
    hooks = [m.register_forward_hook(lambda m, args, out: sizes.append(args[0][0].numel())) for m in drops]
    try:
        net.eval()
        with torch.no_grad():
            net(x[:1])
    finally:
        for h in hooks:
            h.remove()
    return (rates.pop() if rates else 0.0), sizes


@contextmanager
def mc_dropout_pass(net: nn.Module, masks: PassMasks) -> Iterator[None]:
    """``net`` in MC-dropout mode for one pass over a batch with these masks; eval mode and ordinary dropout
    restored afterwards."""
    drops = [m for m in net.modules() if isinstance(m, MCDropout)]
    try:
        net.train()
        for m in drops:
            m.masks = masks
        yield
    finally:
        for m in drops:
            m.masks = None
        net.eval()


class Standardize(nn.Module):
    """Per-pixel standardisation with the training set's mean and standard deviation (buffers, saved with the
    model): the line-depth signals are small beside the mean spectrum."""

    def __init__(self, n_pixels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.ones(n_pixels))
        self.register_buffer("std", torch.ones(n_pixels))

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return (flux - self.mean) / self.std


class HadamardAttention(nn.Module):
    """Multi-head Hadamard self-attention (module docstring), tokens (B, T, d) → (B, T, d)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim = {dim} must be a multiple of heads = {heads}")
        self.heads, self.dh = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.drop = MCDropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.dh).unbind(dim=2)
        scores = torch.softmax(q * k / math.sqrt(self.dh), dim=1)  # over tokens, per head and channel
        context = (scores * v).sum(dim=1, keepdim=True)
        return self.out(self.drop((q * context).reshape(b, t, d)))


class DotAttention(nn.Module):
    """Standard multi-head scaled dot-product self-attention, for the ablation: the computation of
    :class:`torch.nn.MultiheadAttention` (whose parameters it holds, so saved models load) with an
    :class:`MCDropout` on the attention weights (B, heads, T, T)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.heads, self.dh = heads, dim // heads
        self.drop = MCDropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        qkv = nn.functional.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias)
        q, k, v = qkv.view(b, t, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)  # each (B, heads, T, dh)
        weights = self.drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), dim=-1))
        return self.attn.out_proj((weights @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm transformer block: attention and a GELU feed-forward, each with dropout and a residual."""

    def __init__(self, dim: int, heads: int, dropout: float, attention: str) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = (HadamardAttention if attention == "hadamard" else DotAttention)(dim, heads, dropout)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), MCDropout(dropout), nn.Linear(2 * dim, dim))
        self.drop = MCDropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x)))
        return x + self.drop(self.ff(self.norm2(x)))


class SPT(nn.Module):
    """Spectral Transformer: (B, W) flux → (B, n_out); patches of ``patch`` pixels, ``depth`` blocks."""

    def __init__(self, n_pixels: int, n_out: int, patch: int = 32, dim: int = 64, heads: int = 4, depth: int = 2,
                 dropout: float = 0.1, attention: str = "hadamard", pool: str = "flatten") -> None:
        super().__init__()
        if attention not in ("hadamard", "dot"):
            raise ValueError(f"attention must be 'hadamard' or 'dot', got {attention!r}")
        self.patch = patch
        self.n_tokens = math.ceil(n_pixels / patch)
        self.pad = self.n_tokens * patch - n_pixels
        self.embed = nn.Linear(patch, dim)
        self.pos = nn.Parameter(torch.zeros(1, self.n_tokens, dim))
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, dropout, attention) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.pool = pool
        width = dim if pool == "mean" else dim * self.n_tokens
        self.head = nn.Sequential(nn.Linear(width, 128), nn.GELU(), MCDropout(dropout), nn.Linear(128, n_out))

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        x = nn.functional.pad(flux, (0, self.pad)).view(flux.shape[0], self.n_tokens, self.patch)
        x = self.embed(x) + self.pos
        for block in self.blocks:
            x = block(x)
        # no normalisation before a flattening head: a per-token LayerNorm would erase the depth of the lines
        return self.head(self.norm(x).mean(dim=1) if self.pool == "mean" else x.flatten(1))


class BCNN(nn.Module):
    """astroNN-style Bayesian CNN: conv(4, 8) → conv(16, 8) → max-pool 4 → dense 192 → dense 64 → out."""

    def __init__(self, n_pixels: int, n_out: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 4, 8), nn.ReLU(), MCDropout(dropout), nn.Conv1d(4, 16, 8),
                                      nn.ReLU(), MCDropout(dropout), nn.MaxPool1d(4))
        n_flat = 16 * ((n_pixels - 14) // 4)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(n_flat, 192), nn.ReLU(), MCDropout(dropout),
                                  nn.Linear(192, 64), nn.ReLU(), MCDropout(dropout), nn.Linear(64, n_out))

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(flux[:, None]))


class MLP(nn.Module):
    """Pixels → 256 → 128 → out, GELU, dropout."""

    def __init__(self, n_pixels: int, n_out: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_pixels, 256), nn.GELU(), MCDropout(dropout), nn.Linear(256, 128),
                                 nn.GELU(), MCDropout(dropout), nn.Linear(128, n_out))

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.net(flux)
