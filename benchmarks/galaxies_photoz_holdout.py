"""Photo-z models as a user deploys them: each method trained once on rows 0–7999 of the kcorrect wheel's 10 000
SDSS galaxies (``photoz_model.train``, the path of ``lawful galaxies photoz-train``), then applied to rows
8000–9999 (``photoz_model.predict``, the path of ``photoz-predict``), whose real spectroscopic redshifts judge
it; with the sky prior and without it, from the same trained model. The rows are in no order on the sky or in
z, so the last 2000 are a random sample.

Printed beside the issue's anchor (a random forest on r and four colours: σ_NMAD 0.0135, η(0.05) 1.8 %), the
cross-validation goals, and — measured in the same run — the random forest's 5-fold cross-validation of all
10 000 galaxies (its metrics over all of them, and over the same 2000 predicted here, which tells how easy
these 2000 are); the seconds to train on 8000 galaxies and to predict 2000, and the predictions per second.

    OMP_NUM_THREADS=2 python benchmarks/galaxies_photoz_holdout.py [--methods rf,knn,...] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lawful.galaxies import photoz_model
from lawful.galaxies.catalog import sdss_galaxies
from lawful.galaxies.metrics import point_metrics
from lawful.galaxies.photoz import METHODS, PhotozConfig, cross_validate

parser = argparse.ArgumentParser()
parser.add_argument("--methods", default=",".join(METHODS))
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--split", type=int, default=8000, help="rows before this train, the rest are predicted")
parser.add_argument("--out", type=Path, default=Path("runs/galaxies/photoz_holdout"))
args = parser.parse_args()

cat = sdss_galaxies()
train, test = cat.subset(np.arange(args.split)), cat.subset(np.arange(args.split, len(cat)))
KEYS = ("sigma_nmad", "eta_005", "eta_015", "bias", "crps", "coverage68", "coverage95")
rows: dict[str, dict] = {}
for method in args.methods.split(","):
    start = time.perf_counter()
    model = photoz_model.train(train, PhotozConfig(method=method, seed=args.seed, sky_prior=True))
    fit_s = time.perf_counter() - start
    for sky in (False, True):
        start = time.perf_counter()
        result = photoz_model.predict(model, test, sky_prior=sky)
        seconds = time.perf_counter() - start
        name = f"{method} +sky" if sky else method
        rows[name] = {**{k: result["metrics"][k] for k in KEYS}, "train_s": fit_s, "predict_s": seconds,
                      "per_s": len(test) / seconds, "outside": int(np.count_nonzero(result["outside"] != ""))}
        print(f"  {name}: trained in {fit_s:.0f} s, predicted in {seconds:.1f} s", flush=True)

cv = cross_validate(cat, PhotozConfig(method="rf", seed=args.seed))
held = np.arange(args.split, len(cat))
cv_rows = {"rf 5-fold CV, all": cv["metrics"], "rf 5-fold CV, same": point_metrics(cv["z_phot"][held], cat.z[held])}

print(f"\n{len(train)} SDSS galaxies train each method once; the other {len(test)} are predicted "
      f"(seed {args.seed}); +sky: the same model with its sky prior\n")
print(f"{'method':<22}{'σ_NMAD':>8}{'η 0.05':>8}{'η 0.15':>8}{'bias':>10}{'CRPS':>8}{'cov68':>8}{'cov95':>8}"
      f"{'train s':>9}{'pred s':>8}{'gal/s':>8}{'flagged':>9}")
for name, r in rows.items():
    print(f"{name:<22}{r['sigma_nmad']:>8.4f}{r['eta_005']:>8.2%}{r['eta_015']:>8.2%}{r['bias']:>+10.5f}"
          f"{r['crps']:>8.4f}{r['coverage68']:>8.3f}{r['coverage95']:>8.3f}{r['train_s']:>9.0f}"
          f"{r['predict_s']:>8.1f}{r['per_s']:>8.0f}{r['outside']:>9d}")
for name, m in cv_rows.items():
    print(f"{name:<22}{m['sigma_nmad']:>8.4f}{m['eta_005']:>8.2%}{m['eta_015']:>8.2%}{m['bias']:>+10.5f}")
print(f"{'anchor (rf)':<22}{0.0135:>8.4f}{0.018:>8.2%}")
print(f"{'CV goal':<22}{'≤0.0120':>8}{'≤1.50%':>8}{'':>8}{'|·|≤5e-4':>10}{'':>8}{'.65-.71':>8}{'.92-.98':>8}")
args.out.mkdir(parents=True, exist_ok=True)
(args.out / "results.json").write_text(json.dumps({**rows, **cv_rows}, indent=1))
