"""The PhysFormer generator, its encoder, and the baselines' decoders (torch).

Every decoder maps a standardised latent z (B, D) — its physical dimensions z_j = (x_j − mean_j)/std_j for the
labels in ``latent_names``, its free dimensions as they are — to continuum-normalised flux (B, W) on the output
grid (LAMOST LRS by default):

* :class:`PhysGenerator` — the latent (T_eff, log g, [Fe/H], [α/Fe], v_mic, RV, free…). A trunk network of all
  but RV gives the *physical state of an atmosphere*: the log factors of the temperature increments (K) and the
  continuum opacity relative to the reference depth scale, q = κ_λ/κ_ref ≥ 1, on coarse wavelength nodes (C), and
  the log line-to-continuum opacity ratio ln η on a rest-frame log-uniform grid (G pixels). Then physics only
  (:mod:`~lawful.spectra.physformer.radiative`): S_k = B_λ(T_k) on the nodes, the exact formal solution tabulated
  in v = κ_ref/κ_total, and per pixel the normalised flux F(v_c/(1 + η))/F(v_c), v_c = 1/q, by linear
  interpolation in v;
  then the instrument (:mod:`~lawful.spectra.instrument`): Gaussian LSF at R, Doppler shift by RV and sampling
  at the output wavelengths in one positive, normalised filter. Flux ≥ 0, no emission, and ∫F_c dλ = σT_eff⁴
  hold by construction.
* :class:`MLPDecoder` — pixels straight from an MLP (the plain autoencoder's decoder; the Payne-like emulator).
* :class:`PCADecoder` — SPECULATOR-style: an MLP gives the coefficients of a PCA basis of the training spectra.
* :class:`Encoder` — spectra (B, W) → latent (B, D), per-pixel standardised input.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from lawful.spectra.atmosphere import C_CGS, H_CGS, HC_OVER_K
from lawful.spectra.grids import model_grid
from lawful.spectra.instrument import C_KMS, LSF, doppler_resample
from lawful.spectra.physformer.radiative import TAU, temperature_structure, weight_table

#: the physical latent dimensions of the autoencoders, in order (then the free ones)
PHYSICAL = ("teff", "logg", "feh", "alpha", "vmic", "rv")
TEFF_FLOOR = 1000.0  # K: the generator's T_eff is never below this, whatever the latent
INFERENCE_CHUNK = 256  # latents per call of the kernels at inference


def mlp(n_in: int, width: int, depth: int, n_out: int) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` with SiLU, then a linear output."""
    layers: list[nn.Module] = []
    for k in range(depth):
        layers += [nn.Linear(n_in if k == 0 else width, width), nn.SiLU()]
    layers.append(nn.Linear(width if depth else n_in, n_out))
    return nn.Sequential(*layers)


class Latent(nn.Module):
    """Standardisation of a decoder's latent: ``names`` (D,), ``mean`` and ``std`` buffers (D,) — the training
    labels' for the physical dimensions, (0, 1) for the free ones."""

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = tuple(names)
        self.register_buffer("mean", torch.zeros(len(names)))
        self.register_buffer("std", torch.ones(len(names)))

    def physical(self, z: torch.Tensor, name: str) -> torch.Tensor:
        """The physical value of latent dimension ``name`` for standardised z (B, D) → (B,)."""
        j = self.names.index(name)
        return z[:, j] * self.std[j] + self.mean[j]


class PhysGenerator(nn.Module):
    """Latent (B, len(PHYSICAL) + n_free) → normalised flux (B, W) through radiative transfer (module docstring).

    ``wave`` (W,) output Å; ``resolution`` R of the LSF; ``oversample`` rest-frame pixels per λ/R;
    ``coarse_step`` pixels per wavelength node of the source function.
    """

    def __init__(self, wave: np.ndarray, resolution: float = 1800.0, n_free: int = 3, width: int = 256,
                 depth: int = 3, oversample: float = 3.0, coarse_step: int = 16) -> None:
        super().__init__()
        self.latent = Latent(PHYSICAL + tuple(f"free{k}" for k in range(n_free)))
        grid = model_grid(float(wave[0]), float(wave[-1]), resolution, oversample)
        self.log_grid0, self.dln = float(np.log(grid[0])), float(np.log(grid[1] / grid[0]))
        self.node_dln = coarse_step * self.dln
        node_of_pixel = np.minimum(np.rint(np.arange(len(grid)) / coarse_step).astype(int),
                                   (len(grid) - 1) // coarse_step)
        nodes = grid[::coarse_step][: node_of_pixel.max() + 1]
        v, w = weight_table()
        self.n_v = len(v)
        self.register_buffer("node_wave", torch.tensor(nodes, dtype=torch.float32))
        self.register_buffer("node_a", torch.tensor(HC_OVER_K / nodes, dtype=torch.float32))  # hc/kλ (K)
        c1 = 2.0 * H_CGS * C_CGS**2 / (nodes * 1e-8) ** 5 * 1e-8  # 2hc²/λ⁵, erg s⁻¹ cm⁻² Å⁻¹ sr⁻¹
        self.register_buffer("node_c1", torch.tensor(c1, dtype=torch.float32))
        self.register_buffer("pixel_node", torch.tensor(node_of_pixel, dtype=torch.long))
        self.register_buffer("weights_t", torch.tensor(np.array(w).T, dtype=torch.float32))  # (K, M)
        self.lsf = LSF(resolution, self.dln, self.log_grid0, wave)
        self.register_buffer("log_wave", torch.tensor(np.log(np.asarray(wave, dtype=float))))
        #: the fixed arrays the kernels take after the shift (:func:`~lawful.spectra.physformer.kernels.render`)
        self.kernel_arguments = (np.ascontiguousarray(self.weights_t.T.double().numpy()), self.pixel_node.numpy(),
                                 self.lsf.offsets, self.lsf.pad, self.lsf.phase_table(), self.lsf.base)
        self.i_rv = PHYSICAL.index("rv")
        n_in = len(PHYSICAL) - 1 + n_free
        self.trunk = mlp(n_in, width, depth, width)
        self.trunk.append(nn.SiLU())
        self.temperature_head = nn.Linear(width, len(TAU))
        self.continuum_head = nn.Linear(width, len(nodes))
        self.opacity_head = nn.Linear(width, len(grid))
        for head in (self.temperature_head, self.continuum_head, self.opacity_head):
            nn.init.zeros_(head.weight)
        nn.init.zeros_(self.temperature_head.bias)
        nn.init.constant_(self.continuum_head.bias, -5.0)  # grey to start: ln q = softplus(−5) ≈ 0.007
        nn.init.constant_(self.opacity_head.bias, -4.0)

    @property
    def n_pixels(self) -> int:
        """G, the rest-frame pixels on which η is learned."""
        return self.opacity_head.out_features

    def atmosphere(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """The physical state for latent z (B, D): ``temperature`` T(τ_k) (B, K) in K, ``log_q`` ln(κ_λ/κ_ref)
        ≥ 0 (B, C) the continuum opacity on the nodes, and ``log_eta`` ln η (B, G) on the rest-frame grid."""
        h = self.trunk(torch.cat([z[:, : self.i_rv], z[:, self.i_rv + 1:]], dim=1))
        teff = self.latent.physical(z, "teff").clamp(TEFF_FLOOR)  # a latent far outside training stays physical
        return physical_state(teff, self.temperature_head(h), self.continuum_head(h), self.opacity_head(h))

    def physics_inputs(self, state: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The atmosphere's elementwise transforms that the formal solution reads (in the state's dtype,
        differentiable): the source function without its factor 2hc²/λ⁵, 1/(exp(hc/kλT) − 1) (B, C, K);
        v_c = κ_ref/κ_c = 1/q ∈ (0, 1] (B, C); σ = 1/(1 + η) (B, G)."""
        temperature = state["temperature"]
        source = torch.reciprocal(torch.expm1(self.node_a.to(temperature.dtype)[None, :, None]
                                              / temperature[:, None, :]))
        return source, torch.exp(-state["log_q"]), torch.sigmoid(-state["log_eta"])

    def rest_frame(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(normalised flux F(v_c/(1 + η))/F(v_c) (B, G) before the instrument, with v_c = κ_ref/κ_λ; the
        continuum F(v_c) (B, C) on the nodes in erg s⁻¹ cm⁻² Å⁻¹)."""
        source, v_c, sig = self.physics_inputs(self.atmosphere(z))
        table = source @ self.weights_t  # (B, C, M): F(v_m) at every node
        continuum = _lookup(table, v_c * (self.n_v - 1))
        ratio = (table / continuum[..., None]).flatten(1)
        pos = v_c[:, self.pixel_node] * sig * (self.n_v - 1)
        m = pos.detach().floor().clamp(0, self.n_v - 2)
        frac = pos - m
        idx = self.pixel_node * self.n_v + m.long()
        r0 = torch.gather(ratio, 1, idx)
        r1 = torch.gather(ratio, 1, idx + 1)
        return r0 + frac * (r1 - r0), continuum * self.node_c1

    def spectra(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """``normalized`` (B, W), ``continuum`` and ``flux`` F_λ (B, W) in erg s⁻¹ cm⁻² Å⁻¹ on the output grid."""
        residual, continuum = self.rest_frame(z)
        rv = self.latent.physical(z, "rv")
        normalized = self.lsf(residual, rv)
        cont = doppler_resample(continuum, float(torch.log(self.node_wave[0])), self.node_dln, self.log_wave, rv)
        return {"normalized": normalized, "continuum": cont, "flux": normalized * cont}

    def torch_path(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised flux (B, W) by torch operations alone, with the instrument's exact Gaussian weights: the
        reference that the fused kernels of :meth:`forward` are tested against."""
        residual, _ = self.rest_frame(z)
        return self.lsf(residual, self.latent.physical(z, "rv"))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised flux (B, W): the network in torch, then the formal solution and the instrument in the fused
        numba kernels (:mod:`~lawful.spectra.physformer.kernels`), differentiable in the weights and in z (RV
        included) through their adjoint."""
        if not torch.is_grad_enabled() and len(z) > INFERENCE_CHUNK:  # the transforms' arrays stay in cache
            return torch.cat([self(part) for part in torch.split(z, INFERENCE_CHUNK)])
        state, rv = self.atmosphere(z), self.latent.physical(z, "rv")
        if not torch.is_grad_enabled():  # inference: the transforms in float64, in which the kernels work
            state, rv = {k: v.double() for k, v in state.items()}, rv.double()
        return self.flux_of_state(state, rv).to(z.dtype)

    def flux_of_state(self, state: dict[str, torch.Tensor], rv: torch.Tensor) -> torch.Tensor:
        """Normalised flux (B, W) of atmospheres ``state`` (as :meth:`atmosphere` gives) seen at radial velocities
        ``rv`` (B,) km/s, through the fused kernels; differentiable in both."""
        shift = torch.log1p(rv / C_KMS) / self.dln  # in rest-frame pixels
        return _FusedPhysics.apply(*self.physics_inputs(state), shift, self)


class _FusedPhysics(torch.autograd.Function):
    """The formal solution and the instrument (source, v_c, σ, Doppler shift → normalised flux) as one autograd
    node: forward by :func:`~lawful.spectra.physformer.kernels.render`, backward by its adjoint
    :func:`~lawful.spectra.physformer.kernels.render_grad` (``benchmarks/spectra_physformer_step.py``)."""

    @staticmethod
    def forward(ctx, source, v_c, sig, shift, gen):
        from lawful.spectra.physformer.kernels import render, rest_frame_buffers

        # in the inputs' dtype (float32 in training, float64 at inference); the kernels accumulate in float64
        arrays = tuple(np.ascontiguousarray(t.detach().to(sig.dtype).numpy()) for t in (source, v_c, sig, shift))
        out = np.empty((len(shift), len(gen.log_wave)), dtype=arrays[2].dtype)
        n_keep = len(shift) if any(ctx.needs_input_grad[:4]) else 0  # the adjoint's, when it will run
        kept = rest_frame_buffers(n_keep, gen.node_wave.shape[0], gen.n_v, gen.n_pixels, gen.lsf.pad)
        render(*arrays, *gen.kernel_arguments, out, *kept)
        ctx.arrays, ctx.kept, ctx.gen = arrays, kept, gen
        return torch.from_numpy(out)

    @staticmethod
    def backward(ctx, grad_out):
        from lawful.spectra.physformer.kernels import render_grad

        grads = [np.empty_like(a) for a in ctx.arrays]
        grad = np.ascontiguousarray(grad_out.detach().numpy().astype(ctx.arrays[2].dtype, copy=False))
        render_grad(*ctx.arrays[1:], *ctx.gen.kernel_arguments, *ctx.kept, grad, *grads)
        return (*(torch.from_numpy(g).to(grad_out.dtype) for g in grads), None)


def physical_state(teff: torch.Tensor, log_factors: torch.Tensor, continuum: torch.Tensor,
                   log_eta: torch.Tensor) -> dict[str, torch.Tensor]:
    """An atmosphere from unconstrained numbers: T_eff (B,) K, the temperature increments' log factors (B, K), the
    continuum opacity before its softplus (B, C) and ln η (B, G) → :meth:`PhysGenerator.atmosphere`'s state
    (T(τ) monotone and normalised to T_eff, ln q ≥ 0)."""
    return {"temperature": temperature_structure(teff, log_factors), "log_q": nn.functional.softplus(continuum),
            "log_eta": log_eta}


def _lookup(table: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """table (B, C, M) at fractional positions pos (B, C) along its last axis, linearly."""
    m = pos.detach().floor().clamp(0, table.shape[-1] - 2)
    frac = pos - m
    lo = torch.gather(table, 2, m.long()[..., None])[..., 0]
    hi = torch.gather(table, 2, m.long()[..., None] + 1)[..., 0]
    return lo + frac * (hi - lo)


class MLPDecoder(nn.Module):
    """Latent (B, D) → normalised flux (B, W) = 1 + MLP(z): no physics (the plain AE's decoder, the Payne)."""

    def __init__(self, names: tuple[str, ...], n_pixels: int, width: int = 256, depth: int = 3) -> None:
        super().__init__()
        self.latent = Latent(names)
        self.net = mlp(len(names), width, depth, n_pixels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return 1.0 + self.net(z)


class PCADecoder(nn.Module):
    """SPECULATOR-style: flux = mean + Σ_i c_i(z) e_i with the first ``n_components`` principal components e_i of
    the training spectra and an MLP for the (standardised) coefficients c_i."""

    def __init__(self, names: tuple[str, ...], n_pixels: int, n_components: int = 32, width: int = 256,
                 depth: int = 3) -> None:
        super().__init__()
        self.latent = Latent(names)
        self.net = mlp(len(names), width, depth, n_components)
        self.register_buffer("mean_flux", torch.ones(n_pixels))
        self.register_buffer("basis", torch.zeros(n_components, n_pixels))  # rows: σ_i e_i

    def fit_basis(self, flux: np.ndarray) -> None:
        """The PCA of training spectra (n, W): mean and the components scaled by their standard deviations."""
        mean = flux.mean(axis=0)
        _, s, vt = np.linalg.svd(flux - mean, full_matrices=False)
        k = self.basis.shape[0]
        self.mean_flux.copy_(torch.as_tensor(mean))
        self.basis.copy_(torch.as_tensor(vt[:k] * (s[:k, None] / math.sqrt(len(flux)))))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.mean_flux + self.net(z) @ self.basis


class Encoder(nn.Module):
    """Spectra (B, W) → latent (B, D): per-pixel standardisation (``mean``/``std`` buffers), then an MLP."""

    def __init__(self, n_pixels: int, n_latent: int, width: int = 512) -> None:
        super().__init__()
        self.register_buffer("mean", torch.ones(n_pixels))
        self.register_buffer("std", torch.ones(n_pixels))
        self.net = nn.Sequential(nn.Linear(n_pixels, width), nn.SiLU(), nn.Linear(width, width // 2), nn.SiLU(),
                                 nn.Linear(width // 2, n_latent))

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        return self.net((flux - self.mean) / self.std)
