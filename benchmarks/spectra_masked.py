"""Label models on spectra with masked pixels: what a bad band does to the labels and to their σ.

Real LAMOST spectra lose pixels: the dichroic overlap of the blue and red arms (about 5700–5900 Å), the blue
end where the throughput is low, bad columns, sky residuals. A masked pixel is read as the continuum (flux 1,
`train.clean_flux`). On the test split of a data set (default the seed-0 benchmark's, `lawful spectra data --n
20000 --seed 0 --out runs/spectra/bench/data`), each scenario masks pixels (ivar = 0, so `predict` counts them)
and every model given predicts the same spectra: MPE of mass and age, MAE of T_eff, log g and [Fe/H], and the
68 % coverage (lowest and highest over the six labels: a σ that still covers the errors of a damaged spectrum
is what the user needs most). With several models, the per-star percentage errors of mass and age are then
compared in pairs with the first, scenario by scenario.

    OMP_NUM_THREADS=2 python benchmarks/spectra_masked.py --model src/lawful/spectra/models/giants [--model DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lawful.spectra.data import load_split
from lawful.spectra.evaluate import load_model, metrics, paired_difference, percentage_errors, predict

parser = argparse.ArgumentParser()
parser.add_argument("--data", type=Path, default=Path("runs/spectra/bench/data/spectra.h5"))
parser.add_argument("--model", type=Path, action="append", required=True)
parser.add_argument("--seed", type=int, default=0, help="seed of the random masks")
parser.add_argument("--scenarios", default=None, help="comma-separated scenario names to run (default: all)")
args = parser.parse_args()

test = load_split(args.data, "test")
wave, n = test["wave"], len(test["flux"])
rng = np.random.default_rng(args.seed)


def band(lo: float, hi: float) -> np.ndarray:
    return np.broadcast_to((wave >= lo) & (wave <= hi), (n, len(wave)))


def random_bands(width: int, count: int = 1) -> np.ndarray:
    """``count`` bands of ``width`` pixels per spectrum, at uniformly random places."""
    mask = np.zeros((n, len(wave)), dtype=bool)
    cols = np.arange(len(wave))
    for _ in range(count):
        start = rng.integers(0, len(wave) - width, size=n)
        mask |= (cols >= start[:, None]) & (cols < start[:, None] + width)
    return mask


SCENARIOS = {
    "none": np.zeros((n, len(wave)), dtype=bool),
    "dichroic 5700-5900 A": band(5700.0, 5900.0),
    "blue end < 4100 A": band(0.0, 4100.0),
    "ends <4000, >8000 A": band(0.0, 4000.0) | band(8000.0, 1e5),
    "5 % scattered pixels": rng.random((n, len(wave))) < 0.05,
    "1 random band of 50 px": random_bands(50),
    "1 random band of 200 px": random_bands(200),
    "3 random bands of 100 px": random_bands(100, 3),
}

if args.scenarios:
    unknown = sorted(set(args.scenarios.split(",")) - set(SCENARIOS))
    if unknown:
        parser.error(f"--scenarios: unknown {unknown}; expected some of {list(SCENARIOS)}")
    SCENARIOS = {name: SCENARIOS[name] for name in args.scenarios.split(",")}
states = {path: load_model(path) for path in args.model}
paired: dict[str, dict[Path, np.ndarray]] = {}
header = (f"{'scenario':24s} {'model':28s} {'masked px':>9s} {'MPE mass':>9s} {'MPE age':>8s} {'T_eff K':>8s} "
          f"{'log g':>7s} {'[Fe/H]':>7s} {'cov68 min-max':>14s}")
print(f"{n} test spectra of {args.data}")
print(header)
for name, mask in SCENARIOS.items():
    ivar = np.where(mask, 0.0, test["ivar"])
    for path, state in states.items():
        pred = predict(state, test["flux"], ivar, wave)
        rows = metrics(state, pred, test["targets"])
        cov = [rows[label]["coverage68"] for label in state["targets"]]
        paired.setdefault(name, {})[path] = percentage_errors(pred["mean"], test["targets"])[:, 4:6]
        print(f"{name:24s} {str(path)[-28:]:28s} {np.mean(pred['masked']):9.0f} {rows['mass']['mpe']:9.2f} "
              f"{rows['age']['mpe']:8.2f} {rows['teff']['mae']:8.1f} {rows['logg']['mae']:7.3f} "
              f"{rows['feh']['mae']:7.3f} {min(cov):6.2f}-{max(cov):.2f}", flush=True)

first = args.model[0]
print(f"\nper-star percentage errors against {first}, paired (mean difference ± its standard error)")
print(f"{'scenario':24s} {'model':28s} {'Δ mass':>15s} {'Δ age':>15s}")
for name, per_model in paired.items():
    for path in args.model[1:]:
        mean, se = paired_difference(per_model[path], per_model[first])
        cells = " ".join(f"{mean[k]:+7.2f} ± {se[k]:5.2f}" for k in (0, 1))
        print(f"{name:24s} {str(path)[-28:]:28s} {cells}")
