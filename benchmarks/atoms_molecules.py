"""Learning the derivatives, on rMD17-like ethanol data made here (GFN2-xTB Langevin MD, 500 K, 0.5 fs, a frame
every 20 fs): Deep Potentials trained on energies only and on energies + forces, a direct-force variant, and GDML,
at N = 50, 200, 1000 frames, all tested on the same held-out frames of other chains; then NVE of the conservative
and the direct-force models through the energy ledger, with xTB itself as the anchor; then the committee guard
against domain shift (trained at 300 K; tested at 1000 K and on dimethyl ether, never seen).

Data are made first if missing (``lawful atoms data --molecule ethanol --calculator xtb``). Every Deep Potential
gets the same wall-time budget (``--seconds``, one thread).
Run: OPENBLAS_NUM_THREADS=1 python benchmarks/atoms_molecules.py [--seconds 300] [--sizes 50,200,1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

GOALS = {"force_ratio_1000": 5.0, "force_mae_1000_mev_a": 20.0, "drift_mev_atom_ps": 1e-3}


def ensure_data(path: Path, **kw) -> Path:
    from lawful.atoms.data import DataConfig, generate

    if not (path / "test.extxyz").exists():
        generate(DataConfig(molecule="ethanol", calculator="xtb", out=path, **kw), "local", 2)
    return path


def arrays(path: Path):
    from ase.io import read

    frames = read(path, ":")
    return (np.array([a.positions for a in frames]), np.array([a.get_potential_energy() for a in frames]),
            np.array([a.get_forces() for a in frames]))


def dp_errors(model: Path, test: Path) -> dict:
    """Energy MAE (meV/atom) and force MAE (meV/Å) of member 0 on ``test``."""
    from lawful.atoms.errors import predictions
    from lawful.atoms.frames import read_labelled
    from lawful.atoms.potential import load
    from lawful.atoms.train import Tensors

    pot = load(model, "float64")
    lab = read_labelled(test, species=pot.species, need_stress=False)
    t = Tensors(lab, pot.species, pot.rcut, pot.dtype)
    p = predictions(pot.members[0], t, np.arange(len(t)))
    de = (p["energy"] - p["energy_ref"]) / p["n_atoms"]
    return {"energy_mae_mev_atom": 1e3 * float(np.mean(np.abs(de))),
            "force_mae_mev_a": 1e3 * float(np.mean(np.abs(p["forces"] - p["forces_ref"])))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="runs/atoms/eth500")
    ap.add_argument("--shift-data", default="runs/atoms/eth300")
    ap.add_argument("--sizes", default="50,200,1000")
    ap.add_argument("--seconds", type=float, default=300.0, help="training budget per Deep Potential (s)")
    ap.add_argument("--md-time", type=float, default=5.0, help="NVE time (ps)")
    ap.add_argument("--gdml-max", type=int, default=1000, help="largest N for GDML (memory: (27 N)^2 doubles)")
    ap.add_argument("--out", default="runs/atoms/bench_molecules")
    args = ap.parse_args()
    import torch

    from lawful.atoms import gdml
    from lawful.atoms.train import TrainConfig, train

    torch.set_num_threads(1)
    data = ensure_data(Path(args.data), n_configs=1200, n_test=500, n_shift=200, T_shift=1000.0)
    test = data / "test.extxyz"
    out = Path(args.out)
    sizes = [int(s) for s in args.sizes.split(",")]
    variants = {"energy only": dict(start_pref_e=1.0, limit_pref_e=1.0, start_pref_f=0.0, limit_pref_f=0.0,
                                    limit_pref_v=0.0),
                "energy + force": dict(limit_pref_v=0.0),
                "direct force head": dict(limit_pref_v=0.0, force_head=True)}
    rows: dict = {}
    for n in sizes:
        for name, kw in variants.items():
            if name == "direct force head" and n != max(sizes):
                continue
            folder = out / f"{name.replace(' ', '_').replace('+', 'and')}_{n}"
            t = time.perf_counter()
            model = train(TrainConfig(data=data, out=folder, n_train=n, train_seconds=args.seconds, dtype="float64",
                                      **kw), show_progress=False)
            rows[(name, n)] = {**dp_errors(model, test), "seconds": time.perf_counter() - t, "model": str(model)}
            print(name, n, rows[(name, n)], flush=True)
    pos, e, f = arrays(data / "train.extxyz")
    pos_t, e_t, f_t = arrays(test)
    for n in [s for s in sizes if s <= args.gdml_max]:
        t = time.perf_counter()
        m = gdml.fit(pos[:n], e[:n], f[:n])
        ep, fp = m.predict(pos_t)
        rows[("GDML (KRR on forces)", n)] = {
            "energy_mae_mev_atom": 1e3 * float(np.mean(np.abs(ep - e_t))) / pos.shape[1],
            "force_mae_mev_a": 1e3 * float(np.mean(np.abs(fp - f_t))), "seconds": time.perf_counter() - t}
        print("GDML", n, rows[("GDML (KRR on forces)", n)], flush=True)
    print(f"\nethanol, GFN2-xTB MD at 500 K; test: {len(e_t)} frames of other chains; Deep Potentials "
          f"{args.seconds:g} s each, float64, one thread")
    print(f"{'model':<22} {'N':>5} {'E MAE (meV/atom)':>17} {'F MAE (meV/A)':>14} {'seconds':>8}")
    for (name, n), r in rows.items():
        print(f"{name:<22} {n:>5} {r['energy_mae_mev_atom']:17.3f} {r['force_mae_mev_a']:14.2f} {r['seconds']:8.0f}")
    big = max(sizes)
    ratio = rows[("energy only", big)]["force_mae_mev_a"] / rows[("energy + force", big)]["force_mae_mev_a"]
    f_big = rows[("energy + force", big)]["force_mae_mev_a"]
    print(f"\nforce MAE, energy only / energy + force at N = {big}: {ratio:.1f}x (goal >= 5: "
          f"{'yes' if ratio >= 5 else 'NO'}); energy + force: {f_big:.1f} meV/A (goal <= 20: "
          f"{'yes' if f_big <= 20 else 'NO'})")

    # NVE: conservative against direct, with xTB as the anchor (one protocol: lawful atoms md's)
    from lawful.atoms.md import MDConfig, run
    from lawful.atoms.xtb import calculator as xtb_calculator

    md = {}
    for name, model, calc in (("Deep Potential (conservative)", rows[("energy + force", big)]["model"], None),
                              ("direct force head", rows[("direct force head", big)]["model"], None),
                              ("GFN2-xTB (anchor)", rows[("energy + force", big)]["model"], xtb_calculator())):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = MDConfig(model=model, molecule="ethanol", temperature=300.0, dt=0.5,
                           time=args.md_time if calc is None else min(args.md_time, 2.0), equilibrate=0.5,
                           check_time=0.5, out=tmp)
            md[name] = run(cfg, show_progress=False, calc=calc)
    print(f"\nNVE ethanol, 300 K, dt = 0.5 fs, {args.md_time:g} ps (xTB: up to 2 ps)")
    print(f"{'calculator':<30} {'drift (meV/atom/ps)':>20} {'error':>9} {'sigma E (meV/atom)':>19} "
          f"{'sigma ratio':>12} {'T (K)':>7} stopped")
    for name, s in md.items():
        print(f"{name:<30} {s.get('drift_mev_atom_ps', np.nan):20.2e} {s.get('drift_err', np.nan):9.1e} "
              f"{s.get('sigma_e_mev_atom', np.nan):19.2e} {s.get('sigma_ratio', np.nan):12.2f} "
              f"{s.get('temperature_mean', np.nan):7.0f} {s['stopped'] or ''}")
    cons = md["Deep Potential (conservative)"]
    print(f"conservative drift {cons['drift_mev_atom_ps']:.1e} ± {cons['drift_err']:.1e} meV/atom/ps (goal |drift| "
          f"<= 1e-3: {'yes' if abs(cons['drift_mev_atom_ps']) <= 1e-3 else 'NO'})")

    # domain shift: a committee trained at 300 K
    from lawful.atoms.evaluate import evaluate

    shift = ensure_data(Path(args.shift_data), temperature=300.0, n_configs=600, n_test=200, n_shift=200,
                        T_shift=1000.0, seed=1)
    committee = train(TrainConfig(data=shift, out=out / "committee_300K", committee=3, train_seconds=args.seconds / 2,
                                  dtype="float64", limit_pref_v=0.0), show_progress=False)
    s = evaluate(committee, shift / "test.extxyz", reference="none", plots=False)
    g = s["guard"]
    print(f"\ncommittee (3 members) trained at 300 K: guard ROC AUC {g['auc']:.3f} for 'force RMSE > 2x in-domain' "
          f"({g['positives']}/{g['frames']} positives)")
    print(f"{'set':<12} {'frames':>7} {'force RMSE (meV/A)':>19} {'large error':>12} {'flagged':>8}")
    for name, r in g["sets"].items():
        print(f"{name:<12} {r['frames']:>7} {r['force_rmse_mev_a']:19.1f} {r['large_error_share']:12.1%} "
              f"{r['flagged_share']:8.1%}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({"errors": {f"{k[0]} {k[1]}": v for k, v in rows.items()},
                                                  "md": md, "guard": g}, indent=1, default=str))


if __name__ == "__main__":
    main()
