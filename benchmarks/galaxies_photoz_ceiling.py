"""Where the photo-z σ_NMAD of the 10 000 real SDSS galaxies stops improving (issue: galaxies).

Three questions about the best model of ``galaxies_photoz.py`` (the hybrid: mixture density network + template
likelihood), same folds, same seed, one run:

* capacity — twice the ensemble, twice the width, twice the epochs, one change at a time;
* other methods — the out-of-fold point estimates of hybrid, rf and gbm averaged with equal weights (a stack
  with nothing tuned on the test galaxies);
* data — a learning curve: the hybrid trained on 25, 50, 75 and 100 % of each training fold (nested subsets,
  the same test folds), fitted by σ_NMAD² = σ_∞² + a/N. σ_∞ is what unlimited training galaxies of this kind
  would give the same model; its error comes from resampling the galaxies (the four points share them).

Is the σ_NMAD goal (≤ 0.0120) a matter of capacity, of training data, or of what the photometry holds?
Finished folds are kept under ``--out`` and reused by a rerun (their seconds then are not training time).

    OMP_NUM_THREADS=2 python benchmarks/galaxies_photoz_ceiling.py [--seed 0] [--out runs/galaxies/photoz_ceiling]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lawful.galaxies.catalog import sdss_galaxies
from lawful.galaxies.metrics import point_metrics
from lawful.galaxies.photoz import PhotozConfig, cross_validate

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", type=Path, default=Path("runs/galaxies/photoz_ceiling"))
parser.add_argument("--bootstrap", type=int, default=500, help="resamples of the galaxies for σ_∞'s error")
args = parser.parse_args()

cat = sdss_galaxies()
BASE = "hybrid (3 × 128, 100 epochs)"
FRACTIONS = (0.25, 0.5, 0.75)
runs = {BASE: PhotozConfig(method="hybrid", seed=args.seed),
        "hybrid, 6 members": PhotozConfig(method="hybrid", seed=args.seed, members=6),
        "hybrid, width 256": PhotozConfig(method="hybrid", seed=args.seed, width=256),
        "hybrid, 200 epochs": PhotozConfig(method="hybrid", seed=args.seed, epochs=200),
        **{f"hybrid, {100 * f:.0f} % of training": PhotozConfig(method="hybrid", seed=args.seed, train_fraction=f)
           for f in FRACTIONS},
        "rf": PhotozConfig(method="rf", seed=args.seed),
        "gbm": PhotozConfig(method="gbm", seed=args.seed)}
z_phot, rows = {}, {}
for name, cfg in runs.items():
    result = cross_validate(cat, cfg, checkpoints=args.out / "folds")
    z_phot[name] = result["z_phot"]
    rows[name] = {**result["metrics"]}
    print(f"  {name}: {rows[name]['seconds']:.0f} s", flush=True)
stack = np.mean([z_phot[BASE], z_phot["rf"], z_phot["gbm"]], axis=0)
rows["mean of hybrid, rf, gbm z_phot"] = {**point_metrics(stack, cat.z), "seconds": np.nan}


def nmad(z: np.ndarray, rows: np.ndarray) -> float:
    return point_metrics(z[rows], cat.z[rows])["sigma_nmad"]


def asymptote(curve: list[np.ndarray], n_train: np.ndarray, rows: np.ndarray) -> tuple[float, float]:
    """σ_∞ and a of the least-squares fit σ_NMAD² = σ_∞² + a/N over the learning curve's points."""
    s2 = np.array([nmad(z, rows) ** 2 for z in curve])
    a, s_inf2 = np.polyfit(1.0 / n_train, s2, 1)
    return float(np.sqrt(max(s_inf2, 0.0))), float(a)


curve_names = [f"hybrid, {100 * f:.0f} % of training" for f in FRACTIONS] + [BASE]
curve = [z_phot[name] for name in curve_names]
n_train = np.array([*FRACTIONS, 1.0]) * len(cat) * (1 - 1 / runs[BASE].folds)
everyone = np.arange(len(cat))
s_inf, a = asymptote(curve, n_train, everyone)
rng = np.random.default_rng(args.seed)
boot = [asymptote(curve, n_train, rng.integers(0, len(cat), len(cat)))[0] for _ in range(args.bootstrap)]

print(f"\n{len(cat)} SDSS galaxies, 5-fold CV (seed {args.seed}); σ_NMAD's statistical error ≈ 1.2 % of itself\n")
print(f"{'model':32s} {'σ_NMAD':>8s} {'η 0.05':>7s} {'bias':>9s} {'s':>5s}")
for name, r in rows.items():
    print(f"{name:32s} {r['sigma_nmad']:8.4f} {100 * r['eta_005']:6.2f}% {r['bias']:+9.5f} {r['seconds']:5.0f}")
print(f"{'goal (best)':32s} {'≤0.0120':>8s} {'≤1.50%':>7s} {'|·|≤5e-4':>9s}")

print("\nlearning curve of the hybrid, fitted by σ_NMAD² = σ_∞² + a/N\n")
print(f"{'N training galaxies':>20s} {'σ_NMAD':>8s} {'fit':>8s}")
for n, z in zip(n_train, curve):
    print(f"{n:20.0f} {nmad(z, everyone):8.5f} {np.sqrt(s_inf**2 + a / n):8.5f}")
print(f"{'∞':>20s} {'':8s} {s_inf:8.5f} ± {np.std(boot):.5f} (bootstrap over galaxies, {args.bootstrap} resamples)")
print(f"{'2 × N, 4 × N':>20s} {'':8s} {np.sqrt(s_inf**2 + a / (2 * n_train[-1])):8.5f}, "
      f"{np.sqrt(s_inf**2 + a / (4 * n_train[-1])):.5f}")
