"""NVE energy ledger of the Deep Potential side by side with EMT (the anchor: an exactly conservative force) and with
the negative control (EMT with white noise on its forces), Cu108 at 300 K, in one run.

Each runs ``lawful atoms md``'s protocol (:func:`lawful.atoms.md.run`): Langevin equilibration (1 ps), NVE at Δt
for --time ps, and a companion NVE at Δt/2 over the first ps from the same start. Reports the fitted drift
(meV/atom/ps) with its error, |drift·t|/std(KE) and σ(E)(Δt)/σ(E)(Δt/2),
against the goals |drift| <= 1e-3 meV/atom/ps and a σ ratio in 3-5.
Run: python benchmarks/atoms_md.py --model M [--time 10] [--dt 2] [--noise 0.05]
"""

from __future__ import annotations

import argparse
import tempfile

from ase.calculators.emt import EMT

from lawful.atoms.md import MDConfig, noise_heating_rate, run
from lawful.testing import noisy_forces


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="src/lawful/atoms/models/cu/model.pt")
    ap.add_argument("--time", type=float, default=10.0, help="NVE time (ps)")
    ap.add_argument("--dt", type=float, default=2.0, help="time step (fs)")
    ap.add_argument("--noise", type=float, default=0.2, help="force noise of the negative control (eV/A)")
    args = ap.parse_args()
    runs = {"Deep Potential f64": (None, args.time), "EMT (anchor)": (EMT(), args.time),
            f"EMT + noise {args.noise}": (noisy_forces(EMT(), args.noise, seed=1), min(args.time, 2.0))}
    rows = {}
    for name, (calc, time_ps) in runs.items():  # one protocol for all: lawful atoms md's
        with tempfile.TemporaryDirectory() as tmp:
            cfg = MDConfig(model=args.model, time=time_ps, dt=args.dt, element="Cu", out=tmp)
            rows[name] = run(cfg, show_progress=False, calc=calc)
    expected = noise_heating_rate(args.noise, args.dt, 63.546)
    print(f"NVE Cu108, 300 K, dt = {args.dt} fs, {args.time} ps (the noisy control: 2 ps; predicted heating "
          f"{expected:.4f} meV/atom/ps; the model at its own a0, EMT at its own)")
    print(f"{'calculator':<22} {'drift (meV/atom/ps)':>20} {'error':>9} {'|drift t|/std KE':>17} "
          f"{'sigma E (meV/atom)':>19} {'sigma ratio':>12} {'T (K)':>7}")
    for name, r in rows.items():
        print(f"{name:<22} {r['drift_mev_atom_ps']:>20.2e} {r['drift_err']:>9.1e} {r['drift_over_ke_std']:>17.2e} "
              f"{r['sigma_e_mev_atom']:>19.2e} {r['sigma_ratio']:>12.2f} {r['temperature_mean']:>7.0f}")
    print("goals: |drift| <= 1e-3 meV/atom/ps, sigma ratio (dt vs dt/2) in 3-5")


if __name__ == "__main__":
    main()
