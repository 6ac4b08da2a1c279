"""The burn surrogate where users run it: coupled C/O detonations over resolutions, domain lengths and fuel
densities, each run with the implicit burner and with the surrogate, side by side in one process.

Per run: the surrogate's share of guarded sub-steps, sub-steps per burning zone-step, the refusals, the front
speed against the implicit run's, the nuclear energy released, and the burn time per zone-step of both (the
Strang half-steps' wall time over the burning zone-steps, fallbacks included), with their ratio. A run is
``zones:density:length[:ny]`` (g/cm³, cm; ``ny`` > 1: the 2D detonation); it lasts ``--crossing`` × length /
1.2e9 cm/s (the front crosses that share of the domain), and its front speed is fitted over the second half of
that time.

    python benchmarks/burn_surrogate_sweep.py [--model DIR] [--runs 128:1e7:2e7,...] [--crossing 0.6]
                                              [--max-substeps 4] [--error-limit 0] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

RUNS = ("128:1e7:2e7,512:1e7:2e7,1024:1e7:2e7,160:1e7:4e8,640:1e7:4e8,2048:1e7:4e8,256:1e8:2e7,256:1e9:2e7,"
        "64:1e7:2e7:16")
#: a C/O detonation front moves at about this speed (cm/s) at these densities
FRONT_SPEED = 1.2e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="surrogate model directory [default: the shipped aprox13 one]")
    ap.add_argument("--runs", default=RUNS, help="comma-separated zones:density:length[:ny]")
    ap.add_argument("--crossing", type=float, default=0.6, help="share of the domain the front crosses")
    ap.add_argument("--max-substeps", type=int, default=4, help="the surrogate's burn_max_substeps")
    ap.add_argument("--error-limit", type=float, default=0.0,
                    help="the error detector's limit (x 1e-2; 0: the model's own)")
    ap.add_argument("--threads", type=int, default=1, help="numba and torch threads (0: all cores)")
    args = ap.parse_args()

    from burn_surrogate import detonation

    from lawful.core.threads import set_threads

    set_threads(args.threads)
    print(f"model {args.model or 'shipped aprox13'}, {args.threads or 'all'} thread(s), max {args.max_substeps} "
          f"sub-steps, error limit {args.error_limit or 'the model’s'}\n\n"
          "| zones | ρ (g/cm³) | length (cm) | burning zone-steps | share | sub-steps per zone-step | "
          "front speed vs implicit | energy ratio | burn µs/zone-step implicit | surrogate | speed-up | refusals |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")
    for spec in args.runs.split(","):
        n, rho, length, *ny = spec.split(":")
        keys = {"rho": float(rho), "length": float(length), "tmax": args.crossing * float(length) / FRONT_SPEED,
                "ny": int(ny[0]) if ny else 1}
        imp = detonation(int(n), "aprox13", None, "implicit", **keys)
        sur = detonation(int(n), "aprox13", args.model, "surrogate", args.error_limit,
                         burn_max_substeps=args.max_substeps, **keys)
        refusals = {k: v for k, v in sur["surrogate_failed"].items() if v}
        print(f"| {n}{' × ' + ny[0] if ny else ''} | {float(rho):.0e} | {float(length):.0e} | "
              f"{sur['burn_zone_steps']} | "
              f"{sur['surrogate_fraction']:.1%} | {sur['surrogate_substeps_per_zone_step']:.2f} | "
              f"{sur['front_speed'] / imp['front_speed'] - 1:+.3%} | "
              f"{sur['nuclear_energy_released'] / imp['nuclear_energy_released']:.5f} | "
              f"{imp['burn_us_per_zone_step']:.1f} | {sur['burn_us_per_zone_step']:.1f} | "
              f"{imp['burn_us_per_zone_step'] / sur['burn_us_per_zone_step']:.2f}× | {json.dumps(refusals)} |",
              flush=True)


if __name__ == "__main__":
    main()
