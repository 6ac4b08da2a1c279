"""The four generators of ``spectra_physformer.py`` at an equal number of epochs (equal data seen), beside the
same generators at an equal wall-clock budget (that benchmark's ``results.json``, same data and split), to say
whether the PhysFormer's shortfall in reconstruction is what it learns per spectrum or what an epoch costs.

Each generator trains for ``--epochs`` epochs (by default as many as the PhysFormer managed in the equal-time run)
with the cosine decay of its learning rate laid over those epochs; then reconstruction (χ² fit of the latent),
emulator and G(E(x)) MSE on the first ``--test`` test spectra, and the inversion's MAE at ``--snrs``.

    python benchmarks/spectra_physformer_epochs.py [--epochs N] [--test 1000] [--snrs 10,20,100]
                                                   [--data runs/spectra/physformer/data/spectra.h5]
                                                   [--equal-time runs/spectra/physformer/results.json]
                                                   [--out runs/spectra/physformer_epochs]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lawful.spectra.data import DataConfig, generate
from lawful.spectra.physformer.config import PhysTrainConfig
from lawful.spectra.physformer.evaluation import evaluate
from lawful.spectra.physformer.model import load
from lawful.spectra.physformer.training import train

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=None,
                    help="epochs of every generator (default: the equal-time PhysFormer's, else 94)")
parser.add_argument("--test", type=int, default=1000, help="test spectra")
parser.add_argument("--snrs", default="10,20,100", help="comma-separated SNRs to invert at")
parser.add_argument("--data", type=Path, default=Path("runs/spectra/physformer/data/spectra.h5"))
parser.add_argument("--equal-time", type=Path, default=Path("runs/spectra/physformer/results.json"))
parser.add_argument("--out", type=Path, default=Path("runs/spectra/physformer_epochs"))
args = parser.parse_args()
snrs = tuple(int(s) for s in args.snrs.split(","))

if not args.data.exists():
    generate(DataConfig(n=20000, seed=0), args.data.parent)
kinds = ("physformer", "ae", "payne", "speculator")
timed_models = {k: load(args.equal_time.parent / k).meta for k in kinds
                if (args.equal_time.parent / k / "model.pt").exists()}
epochs = args.epochs or timed_models.get("physformer", {}).get("epochs", 94)
summaries = {}
for kind in kinds:
    # the wall-clock budget is a day: the epochs end every run
    s = train(PhysTrainConfig(model=kind, epochs=epochs, train_seconds=86400.0), args.data, args.out / kind,
              log=lambda *a: None)
    summaries[kind] = s
    print(f"trained {kind}: {s['epochs']} epochs in {s['train_seconds']:.0f} s", flush=True)
results = evaluate(args.data, [args.out / k for k in kinds], snrs, args.test, spt=None, log=lambda *a: None)
for kind in kinds:
    results[kind]["epochs"], results[kind]["train_seconds"] = summaries[kind]["epochs"], summaries[kind][
        "train_seconds"]
(args.out / "results.json").write_text(json.dumps(results, indent=1))
timed = json.loads(args.equal_time.read_text()) if args.equal_time.exists() else {}

print(f"\nreconstruction MSE on {args.test} noise-free test spectra")
print(f"{'generator':12s} | {'equal epochs: epochs':>20s} {'s/epoch':>8s} {'recon':>9s} {'emulator':>9s} "
      f"{'G(E(x))':>9s} | {'equal time: epochs':>18s} {'recon':>9s} {'emulator':>9s}")
for kind in kinds:
    r = results[kind]
    enc = "—" if r["encoder_mse"] is None else f"{r['encoder_mse']:.2e}"
    row = (f"{kind:12s} | {r['epochs']:20d} {r['train_seconds'] / r['epochs']:8.2f} {r['recon_mse']:9.2e} "
           f"{r['emulator_mse']:9.2e} {enc:>9s} |")
    if kind in timed and kind in timed_models:
        row += f" {timed_models[kind]['epochs']:18d} {timed[kind]['recon_mse']:9.2e} {timed[kind]['emulator_mse']:9.2e}"
    print(row)
for label, unit in (("teff", "K"), ("logg", "dex"), ("feh", "dex")):
    print(f"\n{label} MAE ({unit}) by SNR, equal epochs (equal time)")
    print(f"{'generator':12s} " + " ".join(f"{'SNR ' + str(s):>19s}" for s in snrs))
    for kind in kinds:
        cells = []
        for s in snrs:
            cell = f"{results[kind]['by_snr'][str(s)][label]['mae']:8.3g}"
            if str(s) in timed.get(kind, {}).get("by_snr", {}):
                cell += f" ({timed[kind]['by_snr'][str(s)][label]['mae']:8.3g})"
            cells.append(f"{cell:>19s}")
        print(f"{kind:12s} " + " ".join(cells))
