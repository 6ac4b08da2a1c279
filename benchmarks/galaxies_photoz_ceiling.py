"""Where the photo-z σ_NMAD of the 10 000 real SDSS galaxies stops improving (issue: galaxies).

The best model of ``galaxies_photoz.py`` (the hybrid: mixture density network + template likelihood) is
rerun with twice the ensemble, twice the width and twice the epochs, one change at a time; then the
out-of-fold point estimates of hybrid, rf and gbm are averaged with equal weights (a stack with nothing tuned on
the test galaxies). Same folds, same seed, one run. The question it answers: is the σ_NMAD goal (≤ 0.0120)
a matter of capacity, or of what the photometry holds?

    OMP_NUM_THREADS=2 python benchmarks/galaxies_photoz_ceiling.py [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from lawful.galaxies.catalog import sdss_galaxies
from lawful.galaxies.metrics import point_metrics
from lawful.galaxies.photoz import PhotozConfig, cross_validate

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

cat = sdss_galaxies()
runs = {"hybrid (3 × 128, 100 epochs)": PhotozConfig(method="hybrid", seed=args.seed),
        "hybrid, 6 members": PhotozConfig(method="hybrid", seed=args.seed, members=6),
        "hybrid, width 256": PhotozConfig(method="hybrid", seed=args.seed, width=256),
        "hybrid, 200 epochs": PhotozConfig(method="hybrid", seed=args.seed, epochs=200),
        "rf": PhotozConfig(method="rf", seed=args.seed),
        "gbm": PhotozConfig(method="gbm", seed=args.seed)}
z_phot, rows = {}, {}
for name, cfg in runs.items():
    result = cross_validate(cat, cfg)
    z_phot[name] = result["z_phot"]
    rows[name] = {**result["metrics"]}
    print(f"  {name}: {rows[name]['seconds']:.0f} s", flush=True)
stack = np.mean([z_phot["hybrid (3 × 128, 100 epochs)"], z_phot["rf"], z_phot["gbm"]], axis=0)
rows["mean of hybrid, rf, gbm z_phot"] = {**point_metrics(stack, cat.z), "seconds": np.nan}

print(f"\n{len(cat)} SDSS galaxies, 5-fold CV (seed {args.seed}); σ_NMAD's statistical error ≈ 1.2 % of itself\n")
print(f"{'model':32s} {'σ_NMAD':>8s} {'η 0.05':>7s} {'bias':>9s} {'s':>5s}")
for name, r in rows.items():
    print(f"{name:32s} {r['sigma_nmad']:8.4f} {100 * r['eta_005']:6.2f}% {r['bias']:+9.5f} {r['seconds']:5.0f}")
print(f"{'goal (best)':32s} {'≤0.0120':>8s} {'≤1.50%':>7s} {'|·|≤5e-4':>9s}")
