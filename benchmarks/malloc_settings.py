"""glibc malloc settings (:func:`lawful.core.memory.keep_freed_memory`) against the defaults, side by side.

Each configuration runs in a fresh subprocess (malloc's state is per process), alternating over ``--rounds``:
an untrained diffusion model's probability-flow ODE proposals and an untrained spline + spectral flow's proposals
(speed does not depend on the weights), one thread, timed after one warm-up batch. Prints ms per proposal, the
process's user and system CPU time, and the ratio default / kept.

Usage::

    python benchmarks/malloc_settings.py --size 12 --batch 256 --ode-steps 40 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, torch
from lawful.core.memory import keep_freed_memory
kind, size, batch, steps, keep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
took = keep_freed_memory() if keep else False
torch.set_num_threads(1)
torch.manual_seed(0)
gen = torch.Generator().manual_seed(0)
if kind == "diffusion":
    from lawful.lattice.diffusion import ScoreModel
    model = ScoreModel(2, size, spectral_skip=True)
    draw = lambda: model.sample_ode(batch, gen, n_steps=steps)
else:
    from lawful.lattice.flow import RealNVPFlow
    model = RealNVPFlow(2, size, 8, (32, 32), 3, "spline", 8, True)
    draw = lambda: model.sample(batch, gen)
with torch.no_grad():
    draw()
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(3):
        draw()
    t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"ms": 1e3 * (t1 - t0) / (3 * batch), "user": r1.ru_utime - r0.ru_utime,
                  "sys": r1.ru_stime - r0.ru_stime, "took": took}))
"""


def run(kind: str, args: argparse.Namespace, keep: bool) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(args.size), str(args.batch), str(args.ode_steps),
                          "1" if keep else "0"], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=12)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--ode-steps", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"L = {args.size}, batch {args.batch}, diffusion ODE steps {args.ode_steps}, {args.rounds} rounds, "
          "medians")
    print("| proposals | malloc | ms/proposal | user s | sys s | default / kept |")
    print("|---|---|---|---|---|---|")
    for kind in ("diffusion", "flow"):
        res: dict[bool, list[dict]] = {False: [], True: []}
        for _ in range(args.rounds):
            for keep in (False, True):
                res[keep].append(run(kind, args, keep))
        med = {k: {q: statistics.median(r[q] for r in v) for q in ("ms", "user", "sys")} for k, v in res.items()}
        if not all(r["took"] for r in res[True]):
            print(f"(keep_freed_memory did not take effect here: {kind} rows are both glibc defaults)")
        for keep in (False, True):
            m = med[keep]
            ratio = f"{med[False]['ms'] / med[True]['ms']:.2f}" if keep else ""
            print(f"| {kind} | {'kept' if keep else 'default'} | {m['ms']:.2f} | {m['user']:.2f} | {m['sys']:.2f} "
                  f"| {ratio} |")


if __name__ == "__main__":
    main()
