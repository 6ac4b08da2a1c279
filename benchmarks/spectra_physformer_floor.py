"""How closely the PhysFormer's physics layers alone can reproduce the forward model's spectra: the atmosphere
state of each spectrum — the temperature factors (K), the continuum opacity ln q (C nodes) and ln η on every
rest-frame pixel — fitted directly by Adam (learning rate 0.05 in cosine decay) through the fused kernels, no
network; the labels' T_eff and RV as given. The MSE reached bounds what the generator's network could reach by
learning the map from labels to that state; the difference to a trained generator's MSE is the network's share.
Rest-frame grids of 3 (the default) and 4 pixels per λ/R (4 is the forward model's own grid), or those given.

    python benchmarks/spectra_physformer_floor.py [--n 16] [--steps 3000] [--grids 3,4] [--data runs/spectra/physformer]

Needs the noise-free validation spectra that ``benchmarks/spectra_physformer.py`` caches
(``DATA/physformer/clean_val_500_0.3_0.npz``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from lawful.core.schedule import cosine
from lawful.spectra.physformer.networks import PhysGenerator, physical_state
from lawful.spectra.physformer.radiative import TAU
from lawful.spectra.physformer.training import LR_FLOOR
from lawful.spectra.synth import LABELS

parser = argparse.ArgumentParser()
parser.add_argument("--n", type=int, default=16, help="validation spectra fitted")
parser.add_argument("--steps", type=int, default=3000)
parser.add_argument("--grids", default="3,4", help="rest-frame pixels per λ/R, comma-separated (each ≥ 2)")
parser.add_argument("--data", type=Path, default=Path("runs/spectra/physformer"))
args = parser.parse_args()

saved = np.load(args.data / "physformer" / "clean_val_500_0.3_0.npz")
target = torch.as_tensor(saved["flux"][: args.n])
labels = saved["labels"][: args.n]
teff = torch.as_tensor(labels[:, LABELS.index("teff")], dtype=torch.float32)
rv = torch.as_tensor(labels[:, LABELS.index("rv")], dtype=torch.float32)
checkpoints = sorted({args.steps // 4, args.steps // 2, args.steps})
rows = {}
for oversample in (float(g) for g in args.grids.split(",")):
    gen = PhysGenerator(saved["wave"], oversample=oversample)
    log_factors = torch.zeros(args.n, len(TAU), requires_grad=True)
    q_raw = torch.full((args.n, len(gen.node_a)), -5.0, requires_grad=True)  # the generator's initial state
    log_eta = torch.full((args.n, gen.n_pixels), -4.0, requires_grad=True)
    opt = torch.optim.Adam([log_factors, q_raw, log_eta], lr=0.05)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        for group in opt.param_groups:  # cosine decay: a constant rate ends in oscillation
            group["lr"] = 0.05 * cosine(step, args.steps, floor=LR_FLOOR)
        state = physical_state(teff, log_factors, q_raw, log_eta)
        mse = (gen.flux_of_state(state, rv) - target).pow(2).mean()
        opt.zero_grad()
        (mse * 1e4).backward()
        opt.step()
        if step in checkpoints:
            rows.setdefault(oversample, {})[step] = float(mse.detach())
    rows[oversample]["seconds"] = time.perf_counter() - t0

print(f"{'rest-frame grid':24s} " + " ".join(f"{'MSE @' + str(s):>12s}" for s in checkpoints) + f" {'s':>6s}")
for oversample, row in rows.items():
    print(f"{f'{oversample:g} pixels per λ/R':24s} " + " ".join(f"{row[s]:12.3e}" for s in checkpoints)
          + f" {row['seconds']:6.0f}")
print(f"({args.n} validation giants; the MSE is taken before each step's update)")
