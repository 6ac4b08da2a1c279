"""The photosphere in one layer: pressure, electrons, ionisation and continuous opacity at τ_Rosseland ≈ 2/3.

A grey Eddington atmosphere, T⁴(τ) = ¾ T_eff⁴ (τ + ⅔), in hydrostatic equilibrium at the continuum-forming
depth: P_g = (2/3) g / κ̄ with κ̄ the continuous opacity per gram at 5000 Å, solved by fixed-point iteration.
Electrons from hydrogen and from the easily ionised metals (Saha); continuous opacity from H⁻ bound-free
(Wishart 1979 fit as given by Gray) and free-free (Bell & Berrington 1987, Gray eq. 8.13), hydrogen bound-free
from n = 2…8 (Kramers cross sections), Thomson scattering. All functions are batched torch (float64) over stars:
temperatures and gravities of shape (B,), wavelengths (Å) of shape (W,) or (B, W).
"""

from __future__ import annotations

import math

import numpy as np
import torch

K_EV = 8.617333e-5  # Boltzmann constant, eV/K
K_CGS = 1.380649e-16  # erg/K
H_CGS = 6.62607e-27
C_CGS = 2.99792458e10
C_AA = 2.99792458e18  # Å/s
HC_OVER_K = 1.4387769e8  # Å K
M_H = 1.6735e-24  # g
SAHA = 2.4147e15  # (2π m_e k / h²)^{3/2} in cm^-3 K^-3/2
SIGMA_T = 6.6524e-25
Y_HE = 0.085  # N_He / N_H
CHI_H = 13.598  # eV
EPS_DONOR = 1.0e-4  # electron donors (Na, Mg, Si, Fe, …) per H at [M/H] = 0, ionisation energy CHI_DONOR
CHI_DONOR = 7.6
#: halvings of the bracket [−2, log10 n_tot] in log10 n_e before the Newton step: 2^-32 of ≈ 20 dex is 5e-9 dex
BISECTIONS = 32


def planck(wave: torch.Tensor, temp: torch.Tensor) -> torch.Tensor:
    """B_λ(T) in erg s⁻¹ cm⁻² Å⁻¹ sr⁻¹; broadcasting wave (Å) against temp (K)."""
    x = HC_OVER_K / (wave * temp)
    return 2.0 * H_CGS * C_CGS**2 / (wave * 1e-8) ** 5 / torch.expm1(x) * 1e-8


def _hminus_bf_cross_section(wave: torch.Tensor) -> torch.Tensor:
    """H⁻ bound-free cross section per ion (cm²), Wishart (1979) polynomial, zero beyond 16 419 Å."""
    coeff = (1.99654, -1.18267e-5, 2.64243e-6, -4.40524e-10, 3.23992e-14, -1.39568e-18, 2.78701e-23)
    alpha = torch.zeros_like(wave)
    for power, a in enumerate(coeff):
        alpha = alpha + a * wave**power
    return torch.where(wave < 16419.0, alpha.clamp_min(0.0), torch.zeros_like(wave)) * 1e-18


def _hminus_ff(wave: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """H⁻ free-free absorption per neutral H atom per unit electron pressure (cm² / (dyn cm⁻²))."""
    lw = torch.log10(wave)
    f0 = -2.2763 - 1.6850 * lw + 0.76661 * lw**2 - 0.053346 * lw**3
    f1 = 15.2827 - 9.2846 * lw + 1.99381 * lw**2 - 0.142631 * lw**3
    f2 = -197.789 + 190.266 * lw - 67.9775 * lw**2 + 10.6913 * lw**3 - 0.625151 * lw**4
    lt = torch.log10(theta)
    return 1e-26 * 10.0 ** (f0 + f1 * lt + f2 * lt**2)


def hydrogen_level_fraction(n: int | torch.Tensor, temp: torch.Tensor) -> torch.Tensor:
    """N_n / N_HI, Boltzmann with U(H I) = 2 and g_n = 2n²."""
    return n**2 * torch.exp(-CHI_H * (1.0 - 1.0 / n**2) / (K_EV * temp))


def saha_ratio(chi: float | torch.Tensor, u_lower: float | torch.Tensor, u_upper: float | torch.Tensor,
               temp: torch.Tensor) -> torch.Tensor:
    """Φ(T) = n_e N_{i+1} / N_i in cm⁻³."""
    return SAHA * temp**1.5 * 2.0 * u_upper / u_lower * torch.exp(-chi / (K_EV * temp))


def electron_density(p_gas: torch.Tensor, temp: torch.Tensor, metal_scale: torch.Tensor) -> tuple[torch.Tensor,
                                                                                                  torch.Tensor]:
    """(n_e, N_H) in cm⁻³ at gas pressure ``p_gas`` (dyn cm⁻²): charge balance of H and the donors,
    n_e = N_H (φ_H/(n_e + φ_H) + ε_D 10^[M/H] φ_D/(n_e + φ_D)) with N_H = (n − n_e)/(1 + Y_He), by bisection in
    log n_e (without gradients) to 5e-9 dex, then one Newton step in ln n_e, which brings it to rounding error
    and gives the exact derivatives (the implicit function theorem: the slope is held fixed).
    ``metal_scale`` = 10^[M/H]."""
    n_tot = p_gas / (K_CGS * temp)
    phi_h = saha_ratio(CHI_H, 2.0, 1.0, temp)
    phi_m = saha_ratio(CHI_DONOR, 1.0, 1.0, temp)
    donor = EPS_DONOR * metal_scale * phi_m
    log_ne = _bisect_log_ne(*(x.detach().numpy() for x in (n_tot, phi_h, phi_m, donor)))
    ne = 10.0 ** torch.as_tensor(log_ne, dtype=n_tot.dtype)
    free = n_tot - ne
    supply = phi_h / (ne + phi_h) + donor / (ne + phi_m)
    residual = torch.log(ne * (1.0 + Y_HE)) - torch.log(free * supply)  # g(ln n_e), zero at the root
    slope = 1.0 + ne / free + ne * (phi_h / (ne + phi_h) ** 2 + donor / (ne + phi_m) ** 2) / supply  # dg/d ln n_e
    ne = ne * torch.exp(-residual / slope.detach())
    return ne, (n_tot - ne) / (1.0 + Y_HE)


def _bisect_log_ne(n_tot: np.ndarray, phi_h: np.ndarray, phi_m: np.ndarray, donor: np.ndarray) -> np.ndarray:
    """log10 n_e (B,) to within 2^-BISECTIONS of the bracket [−2, log10 n_tot], where the electrons equal
    their supply (numpy: its per-call cost on (B,) arrays is a third of torch's, and no gradients are needed)."""
    lo = np.full_like(n_tot, -2.0)
    hi = np.log10(n_tot)
    for _ in range(BISECTIONS):
        mid = (lo + hi) * 0.5
        ne = 10.0**mid
        too_many = ne * (1.0 + Y_HE) > (n_tot - ne) * (phi_h / (ne + phi_h) + donor / (ne + phi_m))
        hi = np.where(too_many, mid, hi)
        lo = np.where(too_many, lo, mid)
    return (lo + hi) * 0.5


def hydrogen_edge(n: int) -> float:
    """Wavelength (Å) of the bound-free edge of hydrogen's level n (the Balmer jump at n = 2)."""
    return 911.753 * n**2


def continuum_opacity(wave: torch.Tensor, temp: torch.Tensor, ne: torch.Tensor, n_h: torch.Tensor) -> torch.Tensor:
    """Continuous absorption + scattering per H nucleus (cm²), shape (B, W) for wave (W,) or (B, W)."""
    t = temp[:, None]
    theta = 5040.0 / t
    pe = (ne * K_CGS * temp)[:, None]
    x_neutral = (ne / (ne + saha_ratio(CHI_H, 2.0, 1.0, temp)))[:, None]
    stim = -torch.expm1(-HC_OVER_K / (wave * t))
    hm_bf = 4.158e-10 * _hminus_bf_cross_section(wave) * pe * theta**2.5 * 10.0 ** (0.754 * theta)
    hm_bf = hm_bf * (1.0 - 10.0 ** (-12398.4 / wave * theta))
    hm_ff = _hminus_ff(wave, theta) * pe
    h_bf = torch.zeros_like(hm_bf)
    for n in range(2, 9):
        edge = hydrogen_edge(n)
        sigma = 7.907e-18 * n * (wave / edge) ** 3
        h_bf = h_bf + torch.where(wave <= edge, sigma, torch.zeros_like(sigma)) * hydrogen_level_fraction(n, t)
    h_bf = h_bf * stim
    return x_neutral * (hm_bf + hm_ff + h_bf) + SIGMA_T * (ne / n_h)[:, None]


def photosphere(teff: torch.Tensor, logg: torch.Tensor, metal_scale: torch.Tensor, iterations: int = 6
                ) -> dict[str, torch.Tensor]:
    """Gas pressure, electron and hydrogen densities at τ = 2/3 where T = T_eff (all shape (B,), cgs).

    Hydrostatic equilibrium P_g = (2/3) g/κ̄(P_g) is solved for x = log10 P_g as h(x) = log10((2/3) g/κ̄) − x = 0
    by the secant method from x₀ = log10 g and one damped step, ``iterations`` secant steps (h has slope ≈ −1.5,
    since κ̄ ∝ n_e ∝ P_g^½ where metals give the electrons). Over the whole label range P_g is within 3e-9 of
    200 damped fixed-point steps after 6 secant steps and 3e-13 after 8 (tested); 40 damped steps, the earlier
    solver, were within 4e-8."""
    g = 10.0**logg
    ref = torch.tensor([5000.0], dtype=teff.dtype)
    mass_per_h = (1.0 + 4.0 * Y_HE) * M_H

    def h(log_p: torch.Tensor) -> torch.Tensor:
        ne, n_h = electron_density(10.0**log_p, teff, metal_scale)
        kappa = continuum_opacity(ref, teff, ne, n_h)[:, 0] / mass_per_h
        return torch.log10((2.0 / 3.0) * g / kappa) - log_p

    x0 = torch.log10(g) + 0.0 * teff
    h0 = h(x0)
    x1 = x0 + 0.5 * h0
    for _ in range(iterations):
        h1 = h(x1)
        step = h1 - h0
        safe = step.abs() > 1e-14
        x_next = torch.where(safe, x1 - h1 * (x1 - x0) / torch.where(safe, step, torch.ones_like(step)), x1)
        x0, h0, x1 = x1, h1, x_next
    ne, n_h = electron_density(10.0**x1, teff, metal_scale)
    return {"p_gas": 10.0**x1, "ne": ne, "n_h": n_h,
            "x_neutral": ne / (ne + saha_ratio(CHI_H, 2.0, 1.0, teff))}


def grey_temperature(tau: torch.Tensor, teff: torch.Tensor) -> torch.Tensor:
    """Eddington grey temperature T(τ) = (¾ T_eff⁴ (τ + ⅔))^{1/4}."""
    return (0.75 * teff**4 * (tau + 2.0 / 3.0)) ** 0.25


def milne_eddington(wave: torch.Tensor, teff: torch.Tensor, kappa: torch.Tensor, kappa_ref: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Continuum flux and the Milne–Eddington gradient at each wavelength.

    The source function S(τ_λ) = B_λ(T(τ)) is replaced by the straight line S = B₀ + B₁ τ_λ through its values
    at the surface and at τ_λ = 2/3 (the secant, exact where the continuum and the line cores form), with
    τ_R = τ_λ κ_ref / κ_λ. Returns (F_λ = π (B₀ + ⅔ B₁), b = ⅔ B₁ / B₀): the Eddington–Barbier continuum in
    erg s⁻¹ cm⁻² Å⁻¹, and the gradient that sets the depth of a line, 1 − F/F_c = b/(1 + b) · η/(1 + η)
    for a line-to-continuum opacity ratio η.
    """
    tau_r = (2.0 / 3.0) * kappa_ref[:, None] / kappa
    b_deep = planck(wave, grey_temperature(tau_r, teff[:, None]))
    b_surface = planck(wave, grey_temperature(torch.zeros_like(tau_r), teff[:, None]))
    return math.pi * b_deep, (b_deep - b_surface) / b_surface
