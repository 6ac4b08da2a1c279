"""A trained generator with what its inversion needs: build, save, load.

Kinds (:data:`KINDS`):

* ``physformer`` — :class:`~lawful.spectra.physformer.networks.PhysGenerator` with an encoder and a map from the
  labels to the free latent dimensions (the emulator);
* ``ae`` — the plain autoencoder: the same encoder, latent and training, an MLP decoder (no physics);
* ``payne`` — a Payne-like MLP emulator, labels → flux;
* ``speculator`` — SPECULATOR-style: labels → PCA coefficients → flux.

The autoencoders' latent is :data:`~lawful.spectra.physformer.networks.PHYSICAL` plus ``n_free`` free
dimensions; the emulators' is the eight forward-model labels (:data:`~lawful.spectra.synth.LABELS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lawful.spectra.physformer.networks import PHYSICAL, Encoder, MLPDecoder, PCADecoder, PhysGenerator, mlp
from lawful.spectra.synth import LABELS

KINDS = ("physformer", "ae", "payne", "speculator")
AUTOENCODERS = ("physformer", "ae")
#: the :class:`Generator` fields saved beside the networks
SAVED = ("box", "prior_mean", "prior_cov", "prior_mixture", "n_free", "model_sigma", "model_basis", "wave",
         "label_mean", "label_std", "meta", "sigma_floor")


@dataclass
class Generator:
    """``decoder`` latent → flux; ``encoder`` and ``free_map`` (labels → free dims) for the autoencoders;
    ``box`` (2, D) the training range of each latent dimension (standardised; ±inf for the free ones);
    ``prior_mean`` (D,) and ``prior_cov`` (D, D) the Gaussian of the training latents, ``prior_mixture``
    their Gaussian mixture (``weights`` (K,), ``means`` (K, D), ``precisions`` (K, D, D): the population prior);
    ``n_free`` free dimensions (the last ones); the emulator's validation residuals as ``model_sigma`` (W,)
    their RMS per pixel and ``model_basis`` (k, W) their principal components scaled by their standard
    deviations (the inversion's model-error covariance); ``wave`` (W,); ``label_mean``/``label_std`` (8,) of
    the forward-model labels; ``meta`` the rest (config, validation numbers); ``sigma_floor`` {label: σ in
    physical units} the systematic floor the inversion adds to every σ in quadrature
    (:func:`~lawful.spectra.physformer.inversion.calibrate_floor`; empty, no floor, in models saved before it)."""

    kind: str
    decoder: nn.Module
    encoder: nn.Module | None
    free_map: nn.Module | None
    box: np.ndarray
    prior_mean: np.ndarray
    prior_cov: np.ndarray
    prior_mixture: dict
    n_free: int
    model_sigma: np.ndarray
    model_basis: np.ndarray
    wave: np.ndarray
    label_mean: np.ndarray
    label_std: np.ndarray
    meta: dict = field(default_factory=dict)
    sigma_floor: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """The latent dimensions' names."""
        return self.decoder.latent.names

    def latent_of_labels(self, labels: np.ndarray) -> torch.Tensor:
        """The standardised latent (n, D) of forward-model labels (n, 8): the labels themselves for the emulators;
        the physical ones plus the free map's output for the autoencoders."""
        lab = torch.as_tensor((labels - self.label_mean) / self.label_std, dtype=torch.float32)
        if self.free_map is None:
            return lab
        phys = lab[:, [LABELS.index(n) for n in PHYSICAL]]
        return torch.cat([phys, self.free_map(lab)], dim=1)

    def physical(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """{label: physical value (n,)} of standardised latents z (n, D), for the labels in the latent."""
        lat = self.decoder.latent
        return {name: z[:, j] * float(lat.std[j]) + float(lat.mean[j]) for j, name in enumerate(lat.names)
                if not name.startswith("free")}

    def prior_draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, D) latents: labels uniform in the training box, free dimensions from their training Gaussian."""
        lo, hi = self.box
        d, k = len(self.names), self.n_free
        z = rng.uniform(np.where(np.isfinite(lo), lo, 0.0), np.where(np.isfinite(hi), hi, 0.0), (n, d))
        if k:
            z[:, d - k:] = rng.multivariate_normal(self.prior_mean[d - k:], self.prior_cov[d - k:, d - k:], n)
        return z

    def eval(self) -> "Generator":
        for net in (self.decoder, self.encoder, self.free_map):
            if net is not None:
                net.eval()
        return self


def build(kind: str, cfg, wave: np.ndarray) -> tuple[nn.Module, nn.Module | None, nn.Module | None]:
    """(decoder, encoder, free map) of ``kind`` for a :class:`~lawful.spectra.physformer.training.PhysTrainConfig`."""
    if kind not in KINDS:
        raise ValueError(f"model must be one of {KINDS}, got {kind!r}")
    n_pix = len(wave)
    if kind in AUTOENCODERS:
        names = PHYSICAL + tuple(f"free{k}" for k in range(cfg.n_free))
        if kind == "physformer":
            decoder: nn.Module = PhysGenerator(wave, cfg.resolution, cfg.n_free, cfg.width, cfg.depth,
                                               cfg.oversample)
        else:
            decoder = MLPDecoder(names, n_pix, cfg.width, cfg.depth)
        return decoder, Encoder(n_pix, len(names)), mlp(len(LABELS), 64, 2, cfg.n_free)
    if kind == "payne":
        return MLPDecoder(LABELS, n_pix, cfg.width, cfg.depth), None, None
    return PCADecoder(LABELS, n_pix, cfg.n_pca, cfg.width, cfg.depth), None, None


def save(path: Path, gen: Generator, with_encoder: bool = True) -> None:
    """``path/model.pt`` atomically; ``with_encoder=False`` leaves the encoder out (a generator to invert with,
    as shipped: the inversion then starts from the prior)."""
    from lawful.core.io import atomic_torch_save

    keep = ("decoder", "encoder", "free_map") if with_encoder else ("decoder", "free_map")
    nets = {name: getattr(gen, name).state_dict() for name in keep if getattr(gen, name) is not None}
    atomic_torch_save(Path(path) / "model.pt", {"kind": gen.kind, "nets": nets,
                                               **{f: getattr(gen, f) for f in SAVED}})


def load(path: Path) -> Generator:
    """A generator saved by :func:`save` (a directory holding ``model.pt``), in eval mode."""
    from lawful.spectra.physformer.config import PhysTrainConfig

    file = Path(path) / "model.pt"
    if not file.exists():
        raise FileNotFoundError(f"no model.pt in {path} (train one with `lawful spectra physformer train`)")
    state = torch.load(file, weights_only=False)
    if state.get("kind") not in KINDS:
        raise ValueError(f"{file} is not a PhysFormer-family model (kind {state.get('kind')!r}); "
                         f"the label regressors are evaluated with `lawful spectra evaluate`")
    cfg = PhysTrainConfig(**state["meta"]["config"])
    decoder, encoder, free_map = build(state["kind"], cfg, state["wave"])
    if "encoder" not in state["nets"]:
        encoder = None
    for name, net in (("decoder", decoder), ("encoder", encoder), ("free_map", free_map)):
        if net is not None:
            net.load_state_dict(state["nets"][name])
    return Generator(state["kind"], decoder, encoder, free_map, **{f: state[f] for f in SAVED if f in state}).eval()
