"""One training step of the PhysFormer generator: the fused numba physics layers (forward ``render``, backward
its adjoint ``render_grad``) against torch autograd through the same arithmetic (``PhysGenerator.torch_path``),
beside a step of the Payne-like emulator (an MLP to the same pixels) as the anchor: forward, MSE loss and
backward for a batch of 128 random latents (the training batch; the latent needs a gradient, as the free
dimensions come from a network in training), at 1 and 2 threads, the best of 7 repeats of
10 steps (the machine is shared). Then, at 2 threads, where a whole training step of the trainer goes — the
autoencoders also train the encoder, and Adam updates everything — beside the plain autoencoder's and the
Payne's whole steps.

    python benchmarks/spectra_physformer_step.py
"""

from __future__ import annotations

import time

import numba
import torch

from lawful.spectra.grids import lamost_wave
from lawful.spectra.physformer.networks import Encoder, MLPDecoder, PhysGenerator

BATCH, REPEATS, STEPS = 128, 7, 10

torch.manual_seed(0)
wave = lamost_wave()
gen = PhysGenerator(wave)
payne = MLPDecoder(tuple(f"l{k}" for k in range(8)), len(wave))
target = torch.rand(BATCH, len(wave))
steps = {"physformer, fused kernels": (gen, torch.randn(BATCH, 9, requires_grad=True)),
         "physformer, torch autograd": (gen.torch_path, torch.randn(BATCH, 9, requires_grad=True)),
         "payne-like (anchor)": (payne, torch.randn(BATCH, 8))}


def best_ms(step) -> float:
    """The best of ``REPEATS`` means over ``STEPS`` calls of ``step()`` (ms per call), after one to compile and
    warm up."""
    step()
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for _ in range(STEPS):
            step()
        best = min(best, (time.perf_counter() - t0) / STEPS * 1e3)
    return best


def mse_step(forward, z):
    """Forward, MSE loss and backward (no optimizer)."""
    return lambda: (forward(z) - target).pow(2).mean().backward()


table = {}
for threads in (1, 2):
    torch.set_num_threads(threads)
    numba.set_num_threads(threads)
    for name, (forward, z) in steps.items():
        table.setdefault(name, {})[threads] = best_ms(mse_step(forward, z))
print(f"{'training step, batch 128':28s} {'1 thread ms':>12s} {'2 threads ms':>13s} {'/ payne (2 thr)':>16s} "
      f"{'epoch of 16k, 2 thr':>20s}")
for name, row in table.items():
    print(f"{name:28s} {row[1]:12.1f} {row[2]:13.1f} {row[2] / table['payne-like (anchor)'][2]:16.2f} "
          f"{row[2] * 16000 / BATCH / 1e3:19.1f}s")
fused, plain = table["physformer, fused kernels"], table["physformer, torch autograd"]
print(f"\nfused against torch autograd: {plain[1] / fused[1]:.2f}× at 1 thread, {plain[2] / fused[2]:.2f}× at 2")

# the parts of a whole training step at 2 threads
torch.set_num_threads(2)
numba.set_num_threads(2)
z = torch.randn(BATCH, 9)
encoder = Encoder(len(wave), 9)
adam = {name: torch.optim.Adam([*net.parameters(), *extra], fused=True)  # as the trainer's
        for name, net, extra in (("physformer", gen, encoder.parameters()), ("ae", payne, encoder.parameters()),
                                 ("payne", payne, []))}
foreach = torch.optim.Adam([*gen.parameters(), *encoder.parameters()], foreach=True)  # the trainer's until stop 49


with torch.no_grad():  # the atmosphere's state as leaves: the physics' share of a step, without the network's
    leaves = ({k: v.requires_grad_() for k, v in gen.atmosphere(z).items()}, gen.latent.physical(z, "rv"))


def whole(decoder, opt, with_encoder=True):
    opt.zero_grad()
    loss = (decoder(z[:, :8] if decoder is payne else z) - target).pow(2).mean()
    if with_encoder:
        loss = loss + (encoder(target) - z).pow(2).mean()
    loss.backward()
    opt.step()


parts = {"atmosphere network (trunk, heads)": lambda: sum(v.sum() for v in gen.atmosphere(z).values()).backward(),
         "transforms + physics kernels": lambda: (gen.flux_of_state(*leaves) - target).pow(2).mean().backward(),
         "encoder (3462 → 512 → 256 → 9)": lambda: (encoder(target) - z).pow(2).mean().backward(),
         "Adam step (generator + encoder)": adam["physformer"].step,
         "  the same, foreach (until stop 49)": foreach.step,
         "whole step: PhysFormer": lambda: whole(gen, adam["physformer"]),
         "  the same, foreach Adam": lambda: whole(gen, foreach),
         "whole step: plain autoencoder": lambda: whole(payne, adam["ae"]),
         "whole step: Payne-like": lambda: whole(payne, adam["payne"], with_encoder=False)}
print(f"\n{'a training step, batch 128, 2 threads':40s} {'ms':>7s} {'/ Payne step':>13s}")
times = {name: best_ms(part) for name, part in parts.items()}
for name, ms in times.items():
    print(f"{name:40s} {ms:7.1f} {ms / times['whole step: Payne-like']:13.2f}")
