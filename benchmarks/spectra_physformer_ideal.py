"""How far each generator's inversion is from the ideal: the forward model itself as the generator (issue:
PhysFormer; :mod:`lawful.spectra.physformer.exact`).

The test spectra are the forward model's, so inverting them with the forward model — the same χ² fit,
population prior, linearised mixture posterior — has no model error: its MAE is what the noise and the prior
allow, and its MAE(10)/MAE(100) is the spectra's own. Every trained generator of a ``benchmarks/spectra_physformer.py``
run (``--out``) inverts the same noisy spectra (seeded per SNR as in ``evaluate``), and per star the absolute
errors are paired: the excess of each generator's MAE over the ideal's and the PhysFormer's against the plain
autoencoder's and the Payne's, in % of the ideal's MAE, with standard errors from the paired differences.

    python benchmarks/spectra_physformer_ideal.py [--out runs/spectra/physformer_fused] [--test 1000]
                                                  [--snrs 5,10,20,50,100,200] [--models physformer,ae,payne]
                                                  [--own] [--name ideal]

``--own`` splits each generator's excess over the ideal in two: it also inverts the generator's own spectra (its
emulator at the true labels, the same standard-normal noise draws, so the errors stay paired) — what its latent
and prior cost with no model error — and the rest, its errors on the forward model's spectra minus those on its
own, is what its model error costs. Then, for the latent's share, the Cramér–Rao σ of T_eff, log g and [Fe/H]
at SNR 200 without prior (median over the first 100 test giants; forward-difference Jacobians at the true
labels): with every latent dimension free, and with the dimensions beyond the six physical labels held fixed
(the free ones; [C/Fe] and [N/Fe] for the emulators): how much those dimensions blur each label.

Writes ``OUT/NAME.json`` (the tables' numbers) and ``OUT/NAME_errors.npz`` (per-star errors and σ).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from lawful.spectra.physformer.data import clean_split, noisy
from lawful.spectra.physformer.evaluation import SNRS, snr_noise
from lawful.spectra.physformer.exact import NAME, forward_generator
from lawful.spectra.physformer.inversion import invert, jacobian
from lawful.spectra.physformer.model import load
from lawful.spectra.synth import LABELS

parser = argparse.ArgumentParser()
parser.add_argument("--out", type=Path, default=Path("runs/spectra/physformer_fused"),
                    help="a benchmarks/spectra_physformer.py run: data/ and one directory per trained generator")
parser.add_argument("--test", type=int, default=1000, help="test spectra per SNR")
parser.add_argument("--snrs", default=",".join(map(str, SNRS)))
parser.add_argument("--models", default="physformer,ae,payne,speculator")
parser.add_argument("--name", default="ideal", help="the results' file names in OUT")
parser.add_argument("--own", action="store_true", help="also invert each generator's own spectra (no model error)")
args = parser.parse_args()
snrs = tuple(int(s) for s in args.snrs.split(","))
data = args.out / "data" / "spectra.h5"
kinds = args.models.split(",")
missing = [k for k in kinds if not (args.out / k / "model.pt").exists()]
if not data.exists() or missing:
    raise SystemExit(f"{args.out} lacks {'data/spectra.h5' if not data.exists() else ', '.join(missing)}: "
                     "run benchmarks/spectra_physformer.py --out there first")
gens = {k: load(args.out / k) for k in kinds}
config = gens[kinds[0]].meta["config"]
gens[NAME] = forward_generator(data, config["vmic_scatter"], config["seed"])
test = clean_split(data, "test", config["vmic_scatter"], 0, args.test)
truth = {name: test["labels"][:, j] for j, name in enumerate(LABELS)}
reported = ("teff", "logg", "feh")

own_spectra = {}
if args.own:
    with torch.no_grad():
        own_spectra = {k: gens[k].decoder(gens[k].latent_of_labels(test["labels"])).numpy() for k in kinds}


def record(key: str, out: dict) -> None:
    for label in reported:
        errors[f"{key}/{label}"] = out["labels"][label] - truth[label]
        errors[f"{key}/{label}/sigma"] = out["sigma"][label]


errors: dict[str, np.ndarray] = {}  # "model/snr/label" → signed errors (n,); and its σ under "…/sigma"
seconds: dict[str, float] = {}
for snr in snrs:
    flux, ivar = snr_noise(test["flux"], snr)
    for name, gen in gens.items():
        t0 = time.perf_counter()
        record(f"{name}/{snr}", invert(gen, flux, ivar))
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
        print(f"SNR {snr} {name}: T_eff MAE {np.mean(np.abs(errors[f'{name}/{snr}/teff'])):.2f} K", flush=True)
    for name, spectra in own_spectra.items():  # no model error, so no systematic floor for it
        record(f"{name} own/{snr}", invert(gens[name], *snr_noise(spectra, snr), floor=False))
np.savez(args.out / f"{args.name}_errors.npz", **{k.replace("/", "|"): v for k, v in errors.items()})


def cramer_rao(gen, labels: np.ndarray, ivar: np.ndarray, h: float = 1e-3) -> tuple[dict, dict]:
    """Median Cramér–Rao σ per reported label (physical units) for spectra of ``labels`` (n, 8) with inverse
    variance ``ivar`` (n, W), no prior: ({label: σ} all latent dimensions free, {label: σ} those beyond the six
    physical labels held fixed)."""
    with torch.no_grad():
        z0 = gen.latent_of_labels(labels).numpy().astype(float)
    d = z0.shape[1]
    jac, _ = jacobian(gen, z0, h)  # as the inversion takes it
    fisher = np.einsum("nwi,nw,nwj->nij", jac, ivar.astype(float), jac)
    std = gen.decoder.latent.std.numpy().astype(float)
    idx = [gen.names.index(label) for label in reported]
    keep = [j for j, n in enumerate(gen.names) if n in ("teff", "logg", "feh", "alpha", "vmic", "rv")]

    def sigma(f: np.ndarray, cols: list[int]) -> dict:
        """The reported labels' median σ from the Fisher matrices f over the latent dimensions ``cols``."""
        var = np.einsum("nii->ni", np.linalg.inv(f))
        return {label: float(np.median(np.sqrt(var[:, cols.index(i)])) * std[i]) for label, i in zip(reported, idx)}

    return sigma(fisher, list(range(d))), sigma(fisher[:, keep][:, :, keep], keep)


def mae(name: str, snr: int, label: str) -> float:
    return float(np.mean(np.abs(errors[f"{name}/{snr}/{label}"])))


def paired(a: str, b: str, snr: int, label: str) -> tuple[float, float]:
    """(MAE(a) − MAE(b), its standard error) in % of the ideal's MAE, from the per-star differences."""
    d = np.abs(errors[f"{a}/{snr}/{label}"]) - np.abs(errors[f"{b}/{snr}/{label}"])
    scale = 100.0 / mae(NAME, snr, label)
    return float(d.mean() * scale), float(d.std(ddof=1) / np.sqrt(len(d)) * scale)


per_1000 = {k: 1000 * v / (args.test * len(snrs)) for k, v in seconds.items()}
summary: dict = {"n": args.test, "seconds_per_1000": per_1000, "mae": {}, "coverage68": {},
                 "excess_over_ideal_pct": {}, "physformer_minus_pct": {}}
for label in reported:
    print(f"\n{label}: MAE by SNR (68 % coverage), {args.test} test giants")
    print(f"{'generator':16s} " + " ".join(f"{'SNR ' + str(s):>15s}" for s in snrs) + f" {'MAE10/MAE100':>13s}")
    for name in gens:
        cells = []
        for s in snrs:
            cov = float(np.mean(np.abs(errors[f"{name}/{s}/{label}"]) <= errors[f"{name}/{s}/{label}/sigma"]))
            summary["mae"].setdefault(name, {}).setdefault(label, {})[str(s)] = mae(name, s, label)
            summary["coverage68"].setdefault(name, {}).setdefault(label, {})[str(s)] = cov
            cells.append(f"{mae(name, s, label):8.3g} ({cov:.2f})")
        ratio = mae(name, 10, label) / mae(name, 100, label) if {10, 100} <= set(snrs) else np.nan
        print(f"{name:16s} " + " ".join(cells) + f" {ratio:13.2f}")
    print(f"\n{label}: MAE above the ideal's, % of the ideal's (± paired standard error)")
    for name in kinds:
        cells = []
        for s in snrs:
            d, se = paired(name, NAME, s, label)
            summary["excess_over_ideal_pct"].setdefault(name, {}).setdefault(label, {})[str(s)] = [d, se]
            cells.append(f"{d:+7.1f} ± {se:4.1f}")
        print(f"{name:16s} " + " ".join(f"{c:>15s}" for c in cells))
    if "physformer" in kinds:
        print(f"\n{label}: PhysFormer's MAE minus the rival's, % of the ideal's (± paired standard error)")
        for rival in (k for k in kinds if k != "physformer"):
            cells = []
            for s in snrs:
                d, se = paired("physformer", rival, s, label)
                summary["physformer_minus_pct"].setdefault(rival, {}).setdefault(label, {})[str(s)] = [d, se]
                cells.append(f"{d:+7.1f} ± {se:4.1f}")
            print(f"{'− ' + rival:16s} " + " ".join(f"{c:>15s}" for c in cells))
if own_spectra:
    print("\nEach generator's MAE above the ideal's, split: on its own spectra (its latent and prior, no model error)"
          " + what its model error adds (forward-model spectra minus its own), % of the ideal's MAE ± paired s.e.")
    for label in reported:
        print(f"\n{label}")
        for name in own_spectra:
            for part, (a, b) in (("own spectra", (f"{name} own", NAME)), ("model error", (name, f"{name} own"))):
                cells = []
                for s in snrs:
                    d, se = paired(a, b, s, label)
                    summary.setdefault("split_pct", {}).setdefault(name, {}).setdefault(part, {}).setdefault(
                        label, {})[str(s)] = [d, se]
                    cells.append(f"{d:+7.1f} ± {se:4.1f}")
                print(f"{name + ', ' + part:28s} " + " ".join(f"{c:>15s}" for c in cells))
    print("\nCramér–Rao σ at SNR 200, no prior, median of 100 test giants: every latent dimension free / the "
          "dimensions beyond the six physical labels fixed")
    print(f"{'generator':16s} " + " ".join(f"{label:>20s}" for label in reported))
    _, ivar200 = noisy(test["flux"][:100], 200.0, np.random.default_rng(0))
    for name, gen in gens.items():
        free_sigma, fixed_sigma = cramer_rao(gen, test["labels"][:100], ivar200)
        summary.setdefault("cramer_rao_snr200", {})[name] = {"all_free": free_sigma, "extra_fixed": fixed_sigma}
        print(f"{name:16s} " + " ".join(f"{free_sigma[k]:9.3g} / {fixed_sigma[k]:<8.3g}" for k in reported))
print("\ninversion s / 1000 spectra: " + ", ".join(f"{k} {v:.1f}" for k, v in summary["seconds_per_1000"].items()))
(args.out / f"{args.name}.json").write_text(json.dumps(summary, indent=1))
