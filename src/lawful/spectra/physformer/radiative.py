"""The physics layers of the PhysFormer generator: a temperature structure and an exact formal solution.

**Depth grid.** Continuum optical depth τ on ``TAU`` (K = 16 nodes, τ₀ = 0, then log-spaced to 100). The continuum
opacity is grey, so τ is also the Rosseland depth.

**Temperature structure.** Around the grey Eddington profile T⁴ = ¾ T_eff⁴ (τ + ⅔), with K learned factors
e^{a_k} (|a_k| ≤ :data:`MAX_LOG_FACTOR`):

    T⁴_k ∝ ⅔ e^{a_0} + Σ_{j=1..k} (τ_j − τ_{j−1}) e^{a_j},

a sum of positive increments, so T(τ) is non-decreasing outward-in by construction; then rescaled so that the
bolometric flux of the formal solution equals σ T_eff⁴ exactly (:func:`temperature_structure`).

**Formal solution.** In LTE without scattering, S_λ(τ) = B_λ(T(τ)). A line adds opacity η κ_c at the same
depths (Milne–Eddington: η constant with depth), so the line's optical depth is (1 + η) τ and, with
v = 1/(1 + η),

    F_λ(v) = 2π ∫₀^∞ S_λ(τ) E₂((1+η) τ) (1+η) dτ = 2π ∫₀^∞ S_λ(v t) E₂(t) dt.

For S piecewise linear between the depth nodes (constant below the last) the integral is exact with
exponential integrals, ∫E₂ = −E₃ and ∫ t E₂ = −t E₃ − E₄: F(v) = Σ_k W_k(v) S_k (:func:`formal_weights`). The
weights are tabulated once on M values of v ∈ [0, 1]; the generator interpolates linearly in v, in which the
Milne–Eddington solution is exactly linear. Guarantees, each tested:

* F ≥ 0 (S ≥ 0, W ≥ 0);
* no emission: S non-decreasing in τ ⇒ F non-increasing in η, so the normalised flux F(η)/F(0) ∈ [0, 1];
* Σ_k W_k(1) σT_k⁴/π = σ T_eff⁴ after the rescaling (∫ B_λ dλ = σT⁴/π, and the scheme is linear in S).
"""

from __future__ import annotations

import functools
import math

import numpy as np

#: continuum optical-depth nodes (K = 16): 0, then 10^-4 … 100 log-spaced
TAU = np.concatenate([[0.0], np.geomspace(1e-4, 100.0, 15)])
#: nodes of the v = 1/(1 + η) table (linear interpolation in v: at most 6e-4 from the exact F(η)/F(0) for a
#: 4500 K grey atmosphere at 4000 Å, 7e-5 at 8000 Å)
N_V = 17
#: bound on the learned log factors of the temperature increments
MAX_LOG_FACTOR = 1.5
SIGMA_SB = 5.670374e-5  # erg s⁻¹ cm⁻² K⁻⁴


def formal_weights(v: float | np.ndarray, tau: np.ndarray = TAU) -> np.ndarray:
    """W_k(v) (…, K) with F(v) = Σ_k W_k S_k = 2π ∫ S(v t) E₂(t) dt for S piecewise linear on ``tau``
    (τ₀ = 0), constant below the last node. v ∈ (0, 1]; v → 0 gives W = π δ_k0 (the surface value)."""
    from scipy.special import expn

    v = np.maximum(np.atleast_1d(np.asarray(v, dtype=float)), 1e-12)
    t = tau[None, :] / v[:, None]  # (V, K) node positions in t = (1 + η) τ
    e3, e4 = expn(3, t), expn(4, t)
    a, b = t[:, :-1], t[:, 1:]
    i0 = e3[:, :-1] - e3[:, 1:]  # ∫_a^b E₂
    i1 = a * e3[:, :-1] + e4[:, :-1] - b * e3[:, 1:] - e4[:, 1:]  # ∫_a^b t E₂
    width = b - a
    rising = (i1 - a * i0) / width  # weight of the right node of each segment
    falling = (b * i0 - i1) / width  # weight of the left node
    w = np.zeros_like(t)
    w[:, :-1] += falling
    w[:, 1:] += rising
    w[:, -1] += e3[:, -1]  # constant below the last node: ∫_{t_K}^∞ E₂ = E₃(t_K)
    return 2.0 * math.pi * np.clip(w, 0.0, None)


@functools.cache
def weight_table(n_v: int = N_V) -> tuple[np.ndarray, np.ndarray]:
    """(v nodes (M,), W (M, K)) on v = 0, 1/(M−1), …, 1."""
    v = np.linspace(0.0, 1.0, n_v)
    w = formal_weights(v)
    w.setflags(write=False)
    return v, w


def temperature_structure(teff, log_factors):
    """T(τ_k) (B, K) in K from T_eff (B,) and learned log factors (B, K) (torch; module docstring): monotone
    in τ, and Σ_k W_k(1) T_k⁴ = π T_eff⁴ exactly."""
    import torch

    tau = torch.as_tensor(TAU, dtype=log_factors.dtype)
    dtau = torch.cat([torch.tensor([2.0 / 3.0], dtype=tau.dtype), tau[1:] - tau[:-1]])
    a = MAX_LOG_FACTOR * torch.tanh(log_factors)
    u = torch.cumsum(dtau * torch.exp(a), dim=1)  # ∝ T⁴ / T_eff⁴, non-decreasing
    w1 = torch.tensor(np.array(weight_table()[1][-1]), dtype=u.dtype)
    u = u * (math.pi / (u @ w1))[:, None]
    return teff[:, None] * u**0.25


def bolometric_flux(temperature) -> np.ndarray:
    """∫ F_λ dλ of the formal solution (B,) in erg s⁻¹ cm⁻² for temperatures T (B, K) on :data:`TAU` with a grey
    continuum: Σ_k W_k(1) σT_k⁴/π, since ∫ B_λ dλ = σT⁴/π and the scheme is linear in S."""
    w1 = weight_table()[1][-1]
    t = np.asarray(temperature, dtype=float)
    return SIGMA_SB * (t**4 @ w1) / math.pi


def direct_flux(source: np.ndarray, v: float, tau: np.ndarray = TAU) -> float:
    """2π ∫ S(v t) E₂(t) dt by adaptive quadrature (scipy) for S linear between the nodes ``tau`` — the
    independent check of the tabulated formal solution (the RTE residual)."""
    from scipy.integrate import quad
    from scipy.special import expn

    def integrand(t: float) -> float:
        return float(np.interp(v * t, tau, source)) * float(expn(2, t))

    points = [p for p in tau[1:] / max(v, 1e-12) if p < 60.0]
    value = quad(integrand, 0.0, 60.0, points=points, limit=400, epsabs=0.0, epsrel=1e-10)[0]
    return 2.0 * math.pi * value
