"""The forward model itself as a generator: the inversion with no model error, the ideal every generator is
measured against.

The test spectra are the forward model's (:func:`~lawful.spectra.physformer.data.clean_split`), so inverting
them with the forward model — the same χ² fit, population prior, linearised mixture posterior and flags as every
generator, over the eight forward-model labels (:data:`~lawful.spectra.synth.LABELS`, standardised like the
Payne's latent) — leaves only what the noise and the prior allow. A generator's inversion error above this one's
is the price of its model error and of its own latent and prior (``benchmarks/spectra_physformer_ideal.py
--own`` tells them apart); an error ratio between SNRs that this one shows is the spectra's, not a generator's.
The forward model makes about 7000 spectra/s on 2 cores against the PhysFormer's 14 000, yet its inversions
took about as long (33 against 34 s per 1000 spectra in the benchmark; why was not measured).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from lawful.spectra.physformer.networks import Latent
from lawful.spectra.synth import LABELS

NAME = "forward model"  # the generator's name in evaluation results


class ForwardDecoder(nn.Module):
    """Standardised latent (B, 8) of the forward-model labels → the forward model's continuum-normalised flux
    (B, W) on ``wave`` (Å) at LSF resolution R = ``resolution``, in float64; no gradients (the inversion takes
    finite differences)."""

    def __init__(self, wave: np.ndarray, resolution: float, label_mean: np.ndarray, label_std: np.ndarray) -> None:
        from lawful.spectra.synth import Synthesizer

        super().__init__()
        self.latent = Latent(LABELS)
        self.latent.mean = torch.as_tensor(np.asarray(label_mean, dtype=float))  # float64: the labels exactly
        self.latent.std = torch.as_tensor(np.asarray(label_std, dtype=float))
        self.synth = Synthesizer(np.asarray(wave, dtype=float), resolution, dtype=torch.float64)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.synth(z.double() * self.latent.std + self.latent.mean).normalized


def forward_generator(data: Path, vmic_scatter: float = 0.3, seed: int = 0, resolution: float = 1800.0):
    """A :class:`~lawful.spectra.physformer.model.Generator` around the forward model for the spectra of ``data``
    (a spectra.h5) as :func:`~lawful.spectra.physformer.data.clean_split` makes them with ``vmic_scatter`` and
    ``seed``: its latent standardised, its box and priors fitted to the train split's labels as a trained
    generator's are, no model error (``model_sigma`` 0, no basis) and no systematic floor."""
    from lawful.spectra.data import load_split
    from lawful.spectra.physformer.data import split_labels
    from lawful.spectra.physformer.model import Generator
    from lawful.spectra.physformer.training import set_latent_prior

    part = load_split(data, "train", keys=("synth_labels",))
    labels = split_labels(part["synth_labels"], "train", vmic_scatter, seed)
    mean, std = labels.mean(axis=0), labels.std(axis=0) + 1e-9
    wave = np.asarray(part["wave"], dtype=float)
    n_wave = len(wave)
    gen = Generator(NAME, ForwardDecoder(wave, resolution, mean, std), None, None, np.empty(0), np.empty(0),
                    np.empty(0), {}, 0, np.zeros(n_wave, dtype=np.float32), np.zeros((0, n_wave), dtype=np.float32),
                    wave, mean, std, meta={"config": {"vmic_scatter": vmic_scatter, "seed": seed}})
    set_latent_prior(gen, (labels - mean) / std)
    return gen
