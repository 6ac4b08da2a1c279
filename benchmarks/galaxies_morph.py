"""Morphology of simulated SDSS-like cutouts: the lecture's CNN, the deeper CNN and the statmorph forest on one
test set, accuracy by SNR and size, and the real HST ellipticals NGC 4342 and M32 (issue: galaxies).

Goals: ≥ 95 % three-class accuracy at SDSS-like SNR, the lecture's CNN reproduced and beaten, NGC 4342 and M32
classified E (early type: the simulated E class holds ellipticals and lenticulars).

    OMP_NUM_THREADS=2 python benchmarks/galaxies_morph.py [--n-train 6000] [--difficulty 0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lawful.galaxies.morphology import real
from lawful.galaxies.morphology.simulate import CLASSES
from lawful.galaxies.morphology.train import (
    MorphConfig,
    SimulateConfig,
    evaluate,
    load_model,
    train,
    write_cutouts,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--n-test", type=int, default=3000)
    parser.add_argument("--difficulty", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/galaxies/morph_bench"))
    args = parser.parse_args()

    t0 = time.perf_counter()
    data = args.out / "cutouts.h5"
    if not data.exists():
        write_cutouts(SimulateConfig(n_train=args.n_train, n_test=args.n_test, difficulty=args.difficulty,
                                     seed=args.seed, scheduler="local", workers=2), args.out)
    print(f"{args.n_train} + {args.n_test} cutouts (difficulty {args.difficulty:g}) in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    models = {"lecture CNN": MorphConfig(model="lecture", epochs=15, seed=args.seed),
              "deep CNN": MorphConfig(model="deep", epochs=15, seed=args.seed),
              "deep CNN, r only": MorphConfig(model="deep", bands="r", epochs=15, seed=args.seed),
              "statmorph + RF": MorphConfig(model="rf", n_statmorph=1000, seed=args.seed, scheduler="local"),
              "statmorph + RF, r": MorphConfig(model="rf", bands="r", n_statmorph=1000, seed=args.seed,
                                               scheduler="local")}
    results = {}
    for name, cfg in models.items():
        out = args.out / name.replace(" ", "_").replace(",", "").replace("+", "")
        summary = train(cfg, data, out)
        results[name] = evaluate(data, out, plots=args.out / "plots")
        results[name]["train_seconds"] = summary["train_seconds"]
        print(f"  {name}: {summary['train_seconds']:.0f} s", flush=True)
    real_images = {name: real.sdss_like(real.mgefit_image(name), sky=0.0) for name in ("ngc4342", "m32")}
    for name in ("deep CNN, r only", "statmorph + RF, r"):
        predict, _ = load_model(args.out / name.replace(" ", "_").replace(",", "").replace("+", ""))
        probs = predict(np.stack(list(real_images.values())))
        results[name]["real"] = {k: dict(zip(CLASSES, map(float, p))) for k, p in zip(real_images, probs)}

    snr_bins = list(next(iter(results.values()))["by_snr"])
    size_bins = list(next(iter(results.values()))["by_r_e"])
    print(f"\naccuracy on {results['lecture CNN']['n']} test cutouts (statmorph rows: first 1000), by SNR inside 2 r_e "
          f"and by r_e (″)\n")
    print(f"{'model':20s} {'acc':>6s} {'train s':>8s} " + " ".join(f"{'SNR ' + b:>10s}" for b in snr_bins) + " "
          + " ".join(f"{'r_e ' + b:>9s}" for b in size_bins))
    for name, r in results.items():
        print(f"{name:20s} {100 * r['accuracy']:5.1f}% {r['train_seconds']:8.0f} "
              + " ".join(f"{100 * r['by_snr'][b]:9.1f}%" for b in snr_bins) + " "
              + " ".join(f"{100 * r['by_r_e'][b]:8.1f}%" for b in size_bins))
    print(f"{'goal (best)':20s} {'≥95%':>6s}   (lecture CNN reproduced and beaten)\n")
    for name, r in results.items():
        kinds = ", ".join(f"{kind}s {100 * acc:.1f} %" for kind, acc in r["accuracy_e_by_kind"].items())
        print(f"{name}: confusion (rows true E, S, Irr) {r['confusion']}; E right: {kinds}")
    print("\nreal ellipticals (NGC 4342 HST F814W, M32 INT I) made SDSS-like (r_50 = 6.2 px, SNR 100), "
          "P(E) / P(S) / P(Irr):")
    for name in ("deep CNN, r only", "statmorph + RF, r"):
        for gal, p in results[name]["real"].items():
            print(f"  {name:20s} {gal:8s} " + " / ".join(f"{p[c]:.2f}" for c in CLASSES)
                  + f"  → {max(p, key=p.get)} (goal E)")
    (args.out / "table.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
