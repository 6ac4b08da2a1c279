"""MC-dropout inference of the shipped SPT on 2000 LAMOST-grid spectra, 20 passes: masks drawn per spectrum from
its own seeded generator (``predict_network``, since stop 51: batch-independent) against torch's per-element
dropout over the whole batch (the anchor: what ``predict_network`` did until stop 50) and against the same 20
passes with dropout off (the network's own cost, the floor). Interleaved, best of 5 repeats, 1 and 2 threads.

Then what the masks are for, on the seed-0 test split of ``runs/spectra/bench/data`` if it is there (2000 giants;
``lawful spectra data --n 20000 --seed 0``): a star's labels predicted alone and in the batch, and the T_eff
MAE and bias of the MC mean for four MC seeds, per scheme, including one mask per pass shared by the batch
(which stop 51 tried first: batch-independent, but its MC error is common to all stars).

    python benchmarks/spectra_mc_dropout.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from lawful.spectra.data import load_split, usable_pixels
from lawful.spectra.models import shipped
from lawful.spectra.networks import MCDropout
from lawful.spectra.train import Scaler, TrainConfig, build_network, clean_flux, predict_network

N, PASSES, REPEATS = 2000, 20, 5
DATA = Path("runs/spectra/bench/data/spectra.h5")

state = shipped("giants")
cfg = TrainConfig(**state["config"])
net = build_network(cfg, state["n_pixels"], state["n_out"])
net.load_state_dict(state["net"])


def per_element(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """The anchor: torch's per-element dropout over each chunk of 1024, 20 passes; (passes, n, outputs)."""
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        xt = torch.as_tensor(x)
        net.train()
        outs = [torch.cat([net(xt[i:i + 1024]) for i in range(0, len(xt), 1024)]) for _ in range(PASSES)]
        net.eval()
    return torch.stack(outs).numpy()


def shared_per_pass(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """One mask per pass for the whole batch (each layer's mask drawn once, broadcast over the spectra)."""
    drops = [m for m in net.modules() if isinstance(m, MCDropout)]
    gen = torch.Generator().manual_seed(seed)
    masks: dict[int, torch.Tensor] = {}

    def hook(module, args):
        key = id(module)
        if key not in masks:
            masks[key] = (torch.rand(args[0].shape[1:], generator=gen) >= module.p) / (1 - module.p)
        return (args[0] * masks[key],)

    handles = [m.register_forward_pre_hook(hook) for m in drops]
    try:
        net.eval()  # dropout off: the hooks apply the shared masks
        with torch.no_grad():
            xt = torch.as_tensor(x)
            outs = []
            for _ in range(PASSES):
                masks.clear()
                outs.append(torch.cat([net(xt[i:i + 1024]) for i in range(0, len(xt), 1024)]))
    finally:
        for h in handles:
            h.remove()
    return torch.stack(outs).numpy()


def per_spectrum(x: np.ndarray, seed: int = 0) -> np.ndarray:
    return predict_network(net, x, PASSES, cfg.heteroscedastic, seed=seed)[0]


def no_dropout(x: np.ndarray) -> None:
    with torch.no_grad():
        xt = torch.as_tensor(x)
        net.eval()
        for _ in range(PASSES):
            torch.cat([net(xt[i:i + 1024]) for i in range(0, len(xt), 1024)])


x = np.random.default_rng(0).normal(1.0, 0.05, size=(N, state["n_pixels"])).astype(np.float32)
schemes = {"per spectrum (shipped)": per_spectrum, "per element (anchor)": per_element,
           "dropout off (floor)": no_dropout}
print(f"MC-dropout inference, shipped SPT, {N} spectra × {PASSES} passes, best of {REPEATS} (s)")
print(f"{'scheme':26s} {'1 thread':>9s} {'2 threads':>10s} {'/ anchor (2 thr)':>17s}")
best = {name: {} for name in schemes}
for threads in (1, 2):
    torch.set_num_threads(threads)
    for name, run in schemes.items():
        run(x[:64])
    for _ in range(REPEATS):
        for name, run in schemes.items():
            t0 = time.perf_counter()
            run(x)
            best[name][threads] = min(best[name].get(threads, np.inf), time.perf_counter() - t0)
for name, t in best.items():
    print(f"{name:26s} {t[1]:9.2f} {t[2]:10.2f} {t[2] / best['per element (anchor)'][2]:17.2f}")

if DATA.exists():
    test = load_split(DATA, "test")
    good = usable_pixels(test["flux"], test["ivar"])
    xs = clean_flux(test["flux"], test["ivar"], good)
    scaler = Scaler.from_state(state["scaler"])
    truth = test["targets"][:, 0]
    print(f"\nT_eff of the MC mean on {len(xs)} test giants, four MC seeds (K): MAE / bias")
    print(f"{'scheme':26s} " + " ".join(f"{'seed ' + str(s):>14s}" for s in range(4)) + f" {'alone = batch':>14s}")
    for name, run in (("per spectrum (shipped)", per_spectrum), ("per element (anchor)", per_element),
                      ("one mask per pass", shared_per_pass)):
        cells = []
        for seed in range(4):
            out = run(xs, seed)
            mean = (out if out.ndim == 2 else out.mean(axis=0))[:, 0] * scaler.std[0] + scaler.mean[0]
            cells.append(f"{np.abs(mean - truth).mean():6.2f} / {(mean - truth).mean():+5.2f}")
        alone = run(xs[:1])
        alone = alone if alone.ndim == 2 else alone.mean(axis=0)
        batch = run(xs)
        batch = batch if batch.ndim == 2 else batch.mean(axis=0)
        cells.append(str(bool(np.allclose(alone[0], batch[0], rtol=1e-5, atol=1e-6))))
        print(f"{name:26s} " + " ".join(f"{c:>14s}" for c in cells))
