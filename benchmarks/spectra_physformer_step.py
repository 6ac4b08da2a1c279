"""One training step of the PhysFormer generator: the fused numba physics layers (forward ``render``, backward
its adjoint ``render_grad``) against torch autograd through the same arithmetic (``PhysGenerator.torch_path``),
beside a step of the Payne-like emulator (an MLP to the same pixels) as the anchor: forward, MSE loss and
backward for a batch of 128 random latents (the training batch; the latent needs a gradient, as the free
dimensions come from a network in training), at 1 and 2 threads, the best of 7 repeats of
10 steps (the machine is shared).

    python benchmarks/spectra_physformer_step.py
"""

from __future__ import annotations

import time

import numba
import torch

from lawful.spectra.grids import lamost_wave
from lawful.spectra.physformer.networks import MLPDecoder, PhysGenerator

BATCH, REPEATS, STEPS = 128, 7, 10

torch.manual_seed(0)
wave = lamost_wave()
gen = PhysGenerator(wave)
payne = MLPDecoder(tuple(f"l{k}" for k in range(8)), len(wave))
target = torch.rand(BATCH, len(wave))
steps = {"physformer, fused kernels": (gen, torch.randn(BATCH, 9, requires_grad=True)),
         "physformer, torch autograd": (gen.torch_path, torch.randn(BATCH, 9, requires_grad=True)),
         "payne-like (anchor)": (payne, torch.randn(BATCH, 8))}


def best_ms(forward, z) -> float:
    """The best of ``REPEATS`` means over ``STEPS`` steps (ms per step)."""
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for _ in range(STEPS):
            (forward(z) - target).pow(2).mean().backward()
        best = min(best, (time.perf_counter() - t0) / STEPS * 1e3)
    return best


table = {}
for threads in (1, 2):
    torch.set_num_threads(threads)
    numba.set_num_threads(threads)
    for name, (forward, z) in steps.items():
        best_ms(forward, z)  # compile and warm up
        table.setdefault(name, {})[threads] = best_ms(forward, z)
print(f"{'training step, batch 128':28s} {'1 thread ms':>12s} {'2 threads ms':>13s} {'/ payne (2 thr)':>16s} "
      f"{'epoch of 16k, 2 thr':>20s}")
for name, row in table.items():
    print(f"{name:28s} {row[1]:12.1f} {row[2]:13.1f} {row[2] / table['payne-like (anchor)'][2]:16.2f} "
          f"{row[2] * 16000 / BATCH / 1e3:19.1f}s")
fused, plain = table["physformer, fused kernels"], table["physformer, torch autograd"]
print(f"\nfused against torch autograd: {plain[1] / fused[1]:.2f}× at 1 thread, {plain[2] / fused[2]:.2f}× at 2")
