"""QM9 U0 learning curves by KRR (CM, BoB, FCHL19 local; direct and Δ on GFN2-xTB) beside the issue's goals.

One run, one seed, one test set of ``--n-test`` molecules for every curve; σ and λ chosen on validation splits of
the training molecules only (:mod:`lawful.atoms.krr`). Also times the xTB baseline for ``--xtb-timing`` QM9
molecules from an empty cache on 2 Dask workers of one thread each.
Run: OPENBLAS_NUM_THREADS=2 python benchmarks/atoms_qm9.py [--max-global 16000] [--max-local 8000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = (100, 200, 400, 1000, 2000, 4000, 8000, 16000)
#: (curve, N) -> largest MAE allowed (kcal/mol); "local" means the best local representation
GOALS = {("cm", 1000): 13.2, ("bob", 1000): 7.4, ("cm", 8000): 6.6, ("bob", 8000): 3.5, ("local", 8000): 2.0,
         ("delta", 1000): 1.9, ("delta", 4000): 1.3, ("delta", 16000): 1.0}
#: goals met at any N up to theirs (chemical accuracy at N <= 16000)
UP_TO = {("delta", 16000)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-global", type=int, default=16000)
    ap.add_argument("--max-local", type=int, default=8000)
    ap.add_argument("--max-local-delta", type=int, default=4000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--xtb-timing", type=int, default=10000)
    ap.add_argument("--out", default="runs/atoms/bench_qm9")
    args = ap.parse_args()
    from lawful.atoms import qm9, xtb
    from lawful.atoms.chemspace import QM9Config, run, write_curve
    from lawful.atoms.krr import CurvePoint

    mols = qm9.load()
    if args.xtb_timing:
        rows = np.random.default_rng(12345).choice(len(mols), args.xtb_timing, replace=False)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            _, ok, n = xtb.qm9_baseline(mols.subset(rows), Path(tmp) / "timing.h5", scheduler="local")
            dt = time.perf_counter() - t
        print(f"xTB baseline: {n} QM9 molecules in {dt:.0f} s on 2 workers x 1 thread "
              f"({1e3 * dt / n:.1f} ms each); {int((~ok).sum())} not converged; goal <= 300 s: "
              f"{'met' if dt <= 300 else 'MISSED'}")
    runs = {"cm": ("cm", "none", args.max_global), "bob": ("bob", "none", args.max_global),
            "local": ("local", "none", args.max_local), "cm Δ xTB": ("cm", "xtb", args.max_global),
            "bob Δ xTB": ("bob", "xtb", args.max_global), "local Δ xTB": ("local", "xtb", args.max_local_delta)}
    curves, summaries = {}, {}
    for label, (rep, delta, n_max) in runs.items():
        if n_max <= 0:
            continue
        sizes = [n for n in SIZES if n <= n_max]
        t = time.perf_counter()
        s = run(QM9Config(representation=rep, delta=delta, n_train=sizes[-1], curve=sizes, n_test=args.n_test,
                          seed=args.seed), mols=mols, scheduler="local")
        s["seconds"] = time.perf_counter() - t
        summaries[label] = s
        curves[label] = [CurvePoint(**p) for p in s["curve"]]
        print(f"{label}: {s['seconds']:.0f} s, slope {s['slope']:.2f}, "
              + ", ".join(f"N={p['n_train']}: {p['mae']:.2f}" for p in s["curve"]), flush=True)
    out = Path(args.out)
    write_curve(out, curves, summaries)
    print(f"\nQM9 U0 test MAE (kcal/mol), {args.n_test} test molecules, seed {args.seed}")
    print(f"{'N':>6} " + " ".join(f"{label:>12}" for label in curves))
    for n in SIZES:
        cells = []
        for label, pts in curves.items():
            mae = next((p.mae for p in pts if p.n_train == n), None)
            cells.append(f"{mae:12.2f}" if mae is not None else f"{'':>12}")
        print(f"{n:>6} " + " ".join(cells))
    print(f"{'slope':>6} " + " ".join(f"{summaries[label]['slope']:12.2f}" for label in curves))
    print("\ngoal                     measured   goal  met")
    for (kind, n), goal in GOALS.items():
        labels = [label for label in curves if (kind == "delta" and "Δ" in label)
                  or (kind != "delta" and "Δ" not in label and label.startswith(kind))]
        vals = [p.mae for label in labels for p in curves[label]
                if p.n_train == n or ((kind, n) in UP_TO and p.n_train <= n)]
        if not vals:
            print(f"{kind + ' N=' + str(n):<24} {'not run':>9} {goal:6.1f}")
            continue
        best = min(vals)
        name = kind + (" N<=" if (kind, n) in UP_TO else " N=") + str(n)
        print(f"{name:<24} {best:9.2f} {goal:6.1f}  {'yes' if best <= goal else 'NO'}")
    print(f"\ncurves and plot: {out}/curve.json, {out}/curve.png")
    print(json.dumps({k: {"slope": v["slope"], "baseline_failed": v.get("baseline_failed")}
                      for k, v in summaries.items()}))


if __name__ == "__main__":
    main()
