"""Deep Potential accuracy against its reference (ASE's EMT, fcc Cu), side by side with the issue's goals, in one run.

Errors on an in-domain test set the model never saw (``lawful atoms data --seed 1``), properties of the model and
of EMT computed by the same routines (a0, B, C11, C12, C44, vacancy formation energy), and, for a committee, the
guard's ROC AUC for "force RMSE > 2 x the in-domain RMSE" on the test set pooled with the five shift sets.
Trains the model first unless --model is given (``--train-seconds`` per member, one thread).
Run: python benchmarks/atoms_accuracy.py [--model M] [--data D] [--test T] [--train-seconds 1500] [--committee 1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

GOALS = {"energy_rmse_mev_atom": ("<=", 1.0), "force_rmse_rel": ("<=", 0.03), "stress_rmse_rel": ("<=", 0.02)}
PROPERTY_GOALS = {"a0": 0.001, "B_gpa": 0.03, "C11_gpa": 0.03, "C12_gpa": 0.03, "C44_gpa": 0.03, "vacancy_ev": 0.03}


def ensure_data(path: Path, seed: int, n_configs: int) -> Path:
    from lawful.atoms.data import DataConfig, generate

    if not (path / "train.extxyz").exists():
        generate(DataConfig(n_configs=n_configs, n_shift=30, seed=seed, out=path), "local", 2)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="a trained model.pt (else one is trained)")
    ap.add_argument("--data", default="runs/atoms/data_cu600", help="training data (made if missing: 600 configs)")
    ap.add_argument("--test", default="runs/atoms/data_cu_test", help="test data (made if missing: seed 1)")
    ap.add_argument("--train-seconds", type=float, default=1500.0)
    ap.add_argument("--committee", type=int, default=1)
    ap.add_argument("--out", default="runs/atoms/bench_model")
    args = ap.parse_args()
    import torch

    from lawful.atoms.evaluate import evaluate
    from lawful.atoms.train import TrainConfig, train

    torch.set_num_threads(1)
    data = ensure_data(Path(args.data), 0, 600)
    test = ensure_data(Path(args.test), 1, 150)
    model = args.model
    if model is None:
        t = time.perf_counter()
        model = train(TrainConfig(data=data, out=args.out, train_seconds=args.train_seconds,
                                  committee=args.committee), show_progress=False)
        print(f"trained {args.committee} member(s) in {time.perf_counter() - t:.0f} s")
    s = evaluate(model, test, plots=True)
    m, ref = s["model"], s["reference"]
    print(f"\nerrors on {s['frames']} held-out in-domain frames ({test})")
    print(f"{'metric':<24} {'model':>10} {'goal':>10}  met")
    for key in ("energy_rmse_mev_atom", "force_rmse_mev_a", "force_rmse_rel", "stress_rmse_gpa", "stress_rmse_rel"):
        op, goal = GOALS.get(key, ("", np.nan))
        met = "yes" if key in GOALS and m[key] <= goal else ("no" if key in GOALS else "")
        print(f"{key:<24} {m[key]:>10.4g} {op + format(goal, '.3g') if key in GOALS else '':>10}  {met}")
    print(f"\n{'property':<12} {'model':>10} {'EMT':>10} {'relative':>10} {'goal':>8}  met")
    for key, goal in PROPERTY_GOALS.items():
        rel = m[key] / ref[key] - 1
        print(f"{key:<12} {m[key]:>10.5g} {ref[key]:>10.5g} {rel:>+10.4f} {goal:>8.3f}  "
              f"{'yes' if abs(rel) <= goal else 'no'}")
    if "guard" in s:
        g = s["guard"]
        print(f"\nguard: ROC AUC {g['auc']:.3f} (goal >= 0.9) on {g['frames']} frames, {g['positives']} with force "
              f"RMSE > 2x in-domain")
        print(f"{'set':<10} {'frames':>6} {'force RMSE':>11} {'large error':>12} {'flagged':>8}")
        for name, r in g["sets"].items():
            print(f"{name:<10} {r['frames']:>6} {r['force_rmse_mev_a']:>11.1f} {r['large_error_share']:>12.2f} "
                  f"{r['flagged_share']:>8.2f}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "accuracy.json").write_text(json.dumps(s, indent=1))


if __name__ == "__main__":
    main()
