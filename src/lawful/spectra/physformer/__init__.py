"""PhysFormer: a generator of stellar spectra whose last layers are radiative transfer, and labels by χ² inversion.

Networks map a physical latent (T_eff, log g, [Fe/H], [α/Fe], v_mic, RV and free dimensions) to the state of an
atmosphere — T(τ) around the grey Eddington profile and the line-to-continuum opacity ratio η(λ) — and the
flux follows from an exact formal solution of the transfer equation (:mod:`~.radiative`, fused for inference
in :mod:`~.kernels`), then the instrument. Trained as an autoencoder and an emulator at once on the forward
model's spectra (:mod:`~.training`), with a plain autoencoder, a Payne-like and a SPECULATOR-like emulator as
baselines (:mod:`~.networks`, :mod:`~.model`); inverted by batched Levenberg–Marquardt, errors from the posterior
linearised at the optimum or MCMC (:mod:`~.inversion`) and compared across SNR (:mod:`~.evaluation`).
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "PhysGenerator": "networks", "PhysTrainConfig": "config", "InvertConfig": "inversion", "invert": "inversion",
    "load": "model", "evaluate": "evaluation",
})
