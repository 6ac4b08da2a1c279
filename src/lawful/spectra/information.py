"""How precisely a spectrum can measure its labels: the forward model's Fisher information and Cramér–Rao bounds.

For continuum-normalised spectra F(ℓ) (W pixels) with independent Gaussian noise σ_w — the data's noise law
σ² = (0.9 F + 0.1)/SNR² of :func:`lawful.spectra.data.noise_sigma` — the Fisher matrix of parameters θ is

    I(θ) = Jᵀ diag(1/σ²) J,   J = ∂F/∂θ (W, P),

and no unbiased estimator of θ_i has a variance below (I⁻¹)_ii (the others unknown, *marginal*) or, if every
other parameter were known exactly, below 1/I_ii (*conditional*). J comes from central differences of the
forward model (:class:`~lawful.spectra.synth.Synthesizer`, its fast kernel; steps :data:`STEPS`). The
parameters θ are the forward model's eight labels (:data:`~lawful.spectra.synth.LABELS`) or any linear
re-parameterisation of them, ℓ = ℓ₀ + T θ (a tie such as [C/Fe] = 0.35 [C/N], [N/Fe] = −0.65 [C/N]):
then J_θ = J_ℓ T. Shapes: labels (n, 8), Jacobians (n, W, P), Fisher matrices (n, P, P).
"""

from __future__ import annotations

import numpy as np

from lawful.spectra.synth import LABELS, check_labels

#: central-difference steps of the eight labels (K, dex, dex, dex, dex, dex, km/s, km/s): a few per cent of the
#: labels' typical errors at SNR 50, where σ from steps h and h/2 agree to 1e-4
STEPS = np.array([4.0, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.5])


def jacobian(synth, labels: np.ndarray, tie: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
    """∂F/∂θ (n, W, P) of normalised spectra at ``labels`` (n, 8), for θ with ∂ℓ/∂θ = ``tie`` (8, P; the
    identity when None), by central differences with steps ``scale`` × :data:`STEPS` along each column."""
    import torch

    labels = np.asarray(labels, dtype=float)
    check_labels(torch.as_tensor(labels))
    tie = np.eye(len(LABELS)) if tie is None else np.asarray(tie, dtype=float)
    if tie.ndim != 2 or tie.shape[0] != len(LABELS):
        raise ValueError(f"tie must have shape ({len(LABELS)}, P), got {tie.shape}")
    columns = []
    with torch.no_grad():
        for p in range(tie.shape[1]):
            # the step along column p: the smallest of the steps its labels would each take, in θ units
            moved = np.abs(tie[:, p]) > 0
            if not moved.any():
                raise ValueError(f"column {p} of tie moves no label")
            h = scale * float(np.min(STEPS[moved] / np.abs(tie[moved, p])))
            up = synth(torch.as_tensor(labels + h * tie[:, p])).normalized.double().numpy()
            down = synth(torch.as_tensor(labels - h * tie[:, p])).normalized.double().numpy()
            columns.append((up - down) / (2.0 * h))
    return np.stack(columns, axis=2)


def fisher(jac: np.ndarray, normalized: np.ndarray, snr: np.ndarray | float) -> np.ndarray:
    """Fisher matrices (n, P, P) of Jacobians ``jac`` (n, W, P) for spectra ``normalized`` (n, W) at ``snr``
    (scalar or (n,)) with the data's noise law."""
    from lawful.spectra.data import noise_sigma

    weight = 1.0 / noise_sigma(normalized, np.broadcast_to(np.asarray(snr, dtype=float), (len(normalized),))) ** 2
    return np.einsum("nwa,nw,nwb->nab", jac, weight, jac)


def cramer_rao(info: np.ndarray, marginal: bool = True) -> np.ndarray:
    """(n, P) lower bounds on the standard deviation of each parameter from Fisher matrices (n, P, P):
    √(I⁻¹)_ii with the others unknown, or 1/√I_ii with them known (``marginal=False``)."""
    if not marginal:
        return 1.0 / np.sqrt(np.einsum("nii->ni", info))
    return np.sqrt(np.einsum("nii->ni", np.linalg.inv(info)))
