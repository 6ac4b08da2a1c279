"""The post-hoc recalibration of the label regressors' σ, as a function of each spectrum's SNR.

A model's raw σ (MC dropout, the trees' spread, the validation RMS) hardly changes with the noise of the spectrum,
while the errors do: with one factor per label the SPT's 68 % intervals covered 40–50 % of the test giants at
SNR < 20 and 80–87 % at SNR > 100 (0.68 only on average). So the factor is a power law of the spectrum's SNR,
fitted per label and per interval on the validation stars: for z = error/σ,

    log f_level(SNR) = a + b · log(SNR / 50),

the ``level`` quantile regression of log |z| on log(SNR/50) (scikit-learn's ``QuantileRegressor``), so that ±f σ
covers ``level`` of the stars at every SNR. Two levels, two fits: the errors are heavier-tailed than a Gaussian,
and one factor for both left the 68 % intervals covering 75 %. SNR is the spectrum's own (:func:`spectrum_snr`),
so the same number is at hand for any spectrum, and it is clipped to the validation stars' range (a power law
is not extrapolated).
"""

from __future__ import annotations

import numpy as np

#: the two-sided intervals σ is calibrated for: ±σ covers 68.27 % of the stars, ±``half95`` 95 %
LEVELS = (0.6827, 0.95)
#: the SNR the power laws are pivoted at (the middle of the giants' SNR distribution)
SNR_PIVOT = 50.0
#: fewer validation stars than this get constant factors (slope 0): the quantiles of |z| alone
MIN_STARS_FOR_SLOPE = 200


def spectrum_snr(flux: np.ndarray, ivar: np.ndarray, good: np.ndarray | None = None) -> np.ndarray:
    """The median per-pixel S/N, flux · √ivar, over each spectrum's usable pixels (n,); about 0.85 × the
    continuum SNR for the giants' line-rich spectra. A spectrum without a usable pixel gets NaN. ``good``: the
    :func:`~lawful.spectra.data.usable_pixels` mask, when the caller has it already."""
    from lawful.spectra.data import usable_pixels

    good = usable_pixels(flux, ivar) if good is None else good
    ratio = np.where(good, flux * np.sqrt(np.where(good, ivar, 0.0)), np.nan)
    snr = np.full(len(ratio), np.nan)
    usable = good.any(axis=1)
    snr[usable] = np.nanmedian(ratio[usable], axis=1)
    return snr


def fit_calibration(z: np.ndarray, snr: np.ndarray) -> dict[str, np.ndarray]:
    """The power laws of the module docstring from validation z = error/σ (n, k) and SNR (n,):
    ``{"coef": (2 levels, 2 (a, b), k), "log_snr_range": (2,)}``."""
    from sklearn.linear_model import QuantileRegressor

    z, snr = np.asarray(z, dtype=float), np.asarray(snr, dtype=float)
    if z.ndim != 2 or snr.shape != (len(z),):
        raise ValueError(f"z must be (n, k) and snr (n,), got {z.shape} and {snr.shape}")
    if not np.all(np.isfinite(snr) & (snr > 0)):
        raise ValueError("every validation spectrum needs a positive SNR to calibrate on")
    x = np.log(snr / SNR_PIVOT)
    log_z = np.log(np.maximum(np.abs(z), 1e-12))
    coef = np.zeros((len(LEVELS), 2, z.shape[1]))
    for i, level in enumerate(LEVELS):
        if len(z) < MIN_STARS_FOR_SLOPE:
            coef[i, 0] = np.log(np.maximum(np.quantile(np.abs(z), level, axis=0), 1e-12))
            continue
        for j in range(z.shape[1]):  # 2 × k small linear programmes over the validation stars
            fit = QuantileRegressor(quantile=level, alpha=0.0, solver="highs-ipm").fit(x[:, None], log_z[:, j])
            coef[i, :, j] = fit.intercept_, fit.coef_[0]
    return {"coef": coef, "log_snr_range": np.array([x.min(), x.max()])}


def calibration_factors(calibration: dict | np.ndarray, snr: np.ndarray) -> np.ndarray:
    """σ factors (2 levels, n, k) for spectra of SNR (n,); a model saved with constant factors (2, k) (before
    stop 45) gets those for every SNR, and a spectrum of unknown SNR the factor at the pivot."""
    snr = np.asarray(snr, dtype=float)
    if not isinstance(calibration, dict):
        factors = np.asarray(calibration, dtype=float)
        return np.broadcast_to(factors[:, None, :], (factors.shape[0], len(snr), factors.shape[1]))
    coef = np.asarray(calibration["coef"])
    with np.errstate(all="ignore"):
        x = np.clip(np.nan_to_num(np.log(snr / SNR_PIVOT), nan=0.0), *calibration["log_snr_range"])
    factors = np.exp(coef[:, 0, None, :] + coef[:, 1, None, :] * x[None, :, None])
    factors[1] = np.maximum(factors[1], factors[0])  # two separate fits: the 95 % interval never the narrower
    return factors


def calibration_rows(calibration: dict | np.ndarray, targets: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per label: the factor at SNR 50 and its power of SNR, for each level (a summary to print)."""
    at_pivot = calibration_factors(calibration, np.array([SNR_PIVOT]))[:, 0]
    slope = np.asarray(calibration["coef"])[:, 1] if isinstance(calibration, dict) else np.zeros_like(at_pivot)
    return {name: {"factor68": float(at_pivot[0, j]), "slope68": float(slope[0, j]),
                   "factor95": float(at_pivot[1, j]), "slope95": float(slope[1, j])}
            for j, name in enumerate(targets)}
