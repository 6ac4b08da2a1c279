"""How well can mass and age be known from these spectra at all? The forward model's own Fisher information,
turned into the mean percentage error of an ideal estimator (issue: spectra).

In the synthetic giants (``lawful.spectra.labels``) mass reaches the spectrum only through [C/N]:
[C/N] = −0.25 − 1.1 log10 M + N(0, σ_CN), and age follows mass: log10 τ = 1 − 2.5 log10 M + 0.25 [Fe/H] +
N(0, 0.04). Log g is drawn from APOGEE independently of mass, so it carries none. For every test star:

1. the Jacobian of the continuum-normalised spectrum with respect to θ = (T_eff, log g, [Fe/H], [α/M], [C/N],
   RV) by central differences of the forward model (:mod:`lawful.spectra.information`; v_mic tied to log g,
   [C/Fe] = 0.35 [C/N] and [N/Fe] = −0.65 [C/N], as the data are made), with the data's noise
   σ² = (0.9 F + 0.1)/SNR²;
2. the Fisher matrix F = Jᵀ Σ⁻¹ J and the Cramér–Rao σ of [C/N] marginalised over the other five labels,
   √(F⁻¹)_CN,CN — what an unbiased fit of the exact forward model could reach;
3. an ideal estimator that measures [C/N] with that σ (one Gaussian draw per star) and knows every relation of
   the data set: the posterior of log M on a grid (the log-uniform prior, 0.8–2.5 M☉ or 0.8–1.2 M☉ for the
   high-α disc, the age ≤ 13.5 Gyr cut, the σ_CN scatter), age by sampling the age relation under it, and as
   estimates the posterior's 1/M- and 1/τ-weighted medians, which minimise the expected percentage error.

Rows: the ideal estimator at the stars' own SNR; the same with T_eff, log g, [Fe/H], [α/M] and RV known exactly
(no prior on them, however informative, can do better than that); at fixed SNR; and with [C/N] known exactly
(the floor of the relations alone). Stars: the test split of ``--data`` (what the models of ``spectra_labels.py`` were
scored on) or, without it, ``--n`` fresh draws.

    OMP_NUM_THREADS=2 python benchmarks/spectra_mass_information.py [--data runs/spectra/bench/data/spectra.h5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import norm

from lawful.spectra.data import load_split
from lawful.spectra.information import cramer_rao, fisher, jacobian
from lawful.spectra.labels import (
    AGE_MAX,
    AGE_SCATTER,
    C_SHARE,
    HIGH_ALPHA,
    HIGH_ALPHA_MASS_MAX,
    MASS_RANGE,
    N_SHARE,
    VMIC_SLOPE,
    draw_labels,
    mean_cn,
    mean_log_age,
    synth_matrix,
)
from lawful.spectra.synth import LABELS, Synthesizer

parser = argparse.ArgumentParser()
parser.add_argument("--data", type=Path, default=Path("runs/spectra/bench/data/spectra.h5"))
parser.add_argument("--n", type=int, default=2000, help="fresh stars when --data does not exist")
parser.add_argument("--sigma-cn", type=float, default=0.02, help="scatter of [C/N] at fixed mass the data used")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

rng = np.random.default_rng(args.seed)
if args.data.exists():
    test = load_split(args.data, "test", ("synth_labels", "targets", "snr"))
    labels8, snr = test["synth_labels"], test["snr"]
    mass, age = test["targets"][:, 4], test["targets"][:, 5]
    source = f"the {len(snr)} test stars of {args.data}"
else:
    drawn = draw_labels(args.n, rng, args.sigma_cn)
    labels8, snr, mass, age = synth_matrix(drawn), drawn["snr"], drawn["mass"], drawn["age"]
    source = f"{args.n} fresh stars (seed {args.seed})"
col = {name: i for i, name in enumerate(LABELS)}
cn_true = labels8[:, col["c_fe"]] / C_SHARE
feh = labels8[:, col["feh"]]
high_alpha = labels8[:, col["alpha"]] >= HIGH_ALPHA

# θ = (T_eff, log g, [Fe/H], [α/M], [C/N], RV) as the data tie the eight labels to them
THETA = ("teff", "logg", "feh", "alpha", "cn", "rv")
TIE = np.zeros((len(LABELS), len(THETA)))
for j, name in enumerate(("teff", "logg", "feh", "alpha")):
    TIE[col[name], j] = 1.0
TIE[col["vmic"], 1] = VMIC_SLOPE  # v_mic's tie to log g (inside its clip for every giant here)
TIE[col["c_fe"], 4], TIE[col["n_fe"], 4] = C_SHARE, N_SHARE
TIE[col["rv"], 5] = 1.0
ICN = THETA.index("cn")

start = time.perf_counter()
synth = Synthesizer()
with torch.no_grad():
    flux = synth(torch.as_tensor(labels8)).normalized.double().numpy()
jac = jacobian(synth, labels8, TIE)
jac_half = jacobian(synth, labels8, TIE, scale=0.5)  # the derivative's error: steps h against h/2
seconds = time.perf_counter() - start


def sigma_cn(snr_values: np.ndarray, j: np.ndarray = jac, marginal: bool = True) -> np.ndarray:
    """Cramér–Rao σ([C/N]) per star (dex), marginalised over the other labels of θ, or (``marginal=False``)
    with them known exactly."""
    return cramer_rao(fisher(j, flux, snr_values), marginal)[:, ICN]


LOGM = np.linspace(*np.log10(MASS_RANGE), 1200)
LOG_AGE_MAX = np.log10(AGE_MAX)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted median of ``values`` (n, G) under ``weights`` (n, G)."""
    order = np.argsort(values, axis=1)
    v, w = np.take_along_axis(values, order, 1), np.take_along_axis(weights, order, 1)
    c = np.cumsum(w, axis=1)
    i = np.argmax(c >= 0.5 * c[:, -1:], axis=1)
    return v[np.arange(len(v)), i]


def ideal(sig_meas: np.ndarray, draws: int = 4000) -> tuple[float, float]:
    """MPE (%) of mass and age of the ideal estimator that measures [C/N] with σ ``sig_meas`` (n,)."""
    y = cn_true + sig_meas * rng.standard_normal(len(cn_true))
    s = np.hypot(sig_meas, args.sigma_cn)[:, None]
    upper = np.log10(np.where(high_alpha, HIGH_ALPHA_MASS_MAX, MASS_RANGE[1]))[:, None]
    m = 10.0 ** LOGM
    post = (norm.pdf(y[:, None], mean_cn(m)[None, :], s) * (LOGM[None, :] <= upper)
            * norm.cdf((LOG_AGE_MAX - mean_log_age(m[None, :], feh[:, None])) / AGE_SCATTER))  # flat in log M
    post /= post.sum(axis=1, keepdims=True)
    mass_hat = weighted_median(np.broadcast_to(m, post.shape), post / m)
    # age: log M from the posterior grid, then the age relation's scatter, truncated at 13.5 Gyr
    offset = np.arange(len(y))[:, None]
    cdf = (np.cumsum(post, axis=1) + offset).ravel()  # every row's CDF shifted by its index: one sorted array
    pick = np.searchsorted(cdf, rng.random((len(y), draws)) + offset) - offset * len(LOGM)  # (n, draws) grid indices
    pick = np.clip(pick, 0, len(LOGM) - 1)
    log_age = mean_log_age(m[pick], feh[:, None]) + AGE_SCATTER * rng.standard_normal(pick.shape)
    kept = log_age <= LOG_AGE_MAX
    tau = 10.0 ** log_age
    age_hat = weighted_median(tau, kept / tau)
    return (float(100 * np.mean(np.abs(mass_hat - mass) / mass)),
            float(100 * np.mean(np.abs(age_hat - age) / age)))


sig_own = sigma_cn(snr)
fd_error = np.median(np.abs(sigma_cn(snr, jac_half) / sig_own - 1.0))
print(f"{source}; median SNR {np.median(snr):.0f}; Jacobians (25 spectra per star) in {seconds:.0f} s; "
      f"σ([C/N]) from steps h and h/2 differ by {100 * fd_error:.1e} % (median)\n")
print(f"{'[C/N] measured with':38s} {'median σ_CN,meas':>16s} {'MPE mass %':>11s} {'MPE age %':>10s}")
rows = [("Cramér–Rao σ at each star's SNR", sig_own),
        ("the same, the other labels known", sigma_cn(snr, marginal=False))]
rows += [(f"Cramér–Rao σ at SNR {s:g}", sigma_cn(np.full(len(snr), float(s)))) for s in (20, 50, 100, 200)]
rows += [("exactly (σ = 0: the relations' floor)", np.zeros(len(snr)))]
for name, sig in rows:
    mpe_mass, mpe_age = ideal(sig)
    print(f"{name:38s} {np.median(sig):13.4f} dex {mpe_mass:11.2f} {mpe_age:10.2f}")
print(f"{'goal (SPT paper, real LAMOST spectra)':38s} {'':16s} {6.6:11.2f} {17.6:10.2f}")
