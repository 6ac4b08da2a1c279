"""The forward model: its real anchors and its throughput (issue: spectra).

Prints (1) Vega's Hβ, Hγ, Hδ equivalent widths and Balmer jump, forward model against the HST/STIS CALSPEC
spectrum at its own resolution (FWHM 5.5 Å, R ≈ 800) — goal ±15 %; (2) giant B − V against Ramírez & Meléndez
(2005) at [Fe/H] = 0 and −1 as T_eff(B − V) − T_eff — goal ±100 K; (3) spectra per second at LAMOST sampling
(3462 pixels, R = 1800) for batches of 1024 and 4096 giants with 1 and 2 threads, the fused numba kernel
beside the torch path in the same run — goal ≥ 1e4 /s on 2 cores — and the cost of one pass over the output in
memory (numpy copy), the floor.

    python benchmarks/spectra_synth.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from lawful.core.threads import set_threads
from lawful.spectra import anchors
from lawful.spectra.labels import draw_labels, synth_matrix
from lawful.spectra.synth import Synthesizer

wave, flux = anchors.vega_calspec()
keep = (wave > 3400) & (wave < 5200)
observed = anchors.balmer_equivalent_widths(wave[keep], flux[keep])
grid = np.arange(3450.0, 5200.0, 1.0)
vega = Synthesizer(grid, 800.0)(torch.tensor([anchors.VEGA_LABELS])).flux[0].double().numpy()
model = anchors.balmer_equivalent_widths(grid, vega)
print("Vega, forward model against CALSPEC (R ≈ 800)")
print(f"{'quantity':12s} {'CALSPEC':>9s} {'model':>9s} {'diff':>8s} {'goal':>8s}")
for line in observed:
    diff = model[line] / observed[line] - 1
    print(f"{'EW ' + line:12s} {observed[line]:9.2f} {model[line]:9.2f} {diff:+8.1%} {'±15%':>8s}")
jo, jm = anchors.balmer_jump(wave[keep], flux[keep]), anchors.balmer_jump(grid, vega)
print(f"{'Balmer jump':12s} {jo:9.3f} {jm:9.3f} {jm / jo - 1:+8.1%} {'(report)':>8s}")

print("\ngiant B − V against Ramírez & Meléndez (2005): T_eff(B − V) − T_eff (K), goal ±100 K")
grid = np.arange(3500.0, 7600.0, 1.0)
synth = Synthesizer(grid, 1800.0)
print(f"{'T_eff':>6s} {'log g':>6s} " + " ".join(f"{'[Fe/H]=' + str(f):>12s}" for f in (0.0, -1.0)))
for teff in (4000.0, 4200.0, 4400.0, 4600.0, 4800.0, 5000.0, 5200.0):
    logg = 2.4 + (teff - 4700.0) / 700.0
    cells = []
    for feh in (0.0, -1.0):
        alpha = 0.3 if feh < 0 else 0.0
        f = synth(torch.tensor([[teff, logg, feh, alpha, 0.0, 0.0, 1.5, 0.0]], dtype=torch.float64)).flux
        bv = anchors.b_minus_v(grid, f[0].double().numpy())
        try:
            cells.append(f"{anchors.ramirez_teff(bv, feh) - teff:+12.0f}")
        except Exception:  # outside the relation's range of validity
            cells.append(f"{'(B-V ' + format(bv, '.2f') + ')':>12s}")
    print(f"{teff:6.0f} {logg:6.2f} " + " ".join(cells))

print("\nthroughput at LAMOST sampling (spectra/s, best of 3): the fused kernel (inference) beside the torch path"
      " (gradients; before the kernel, the only path) in the same run")
labels = torch.as_tensor(synth_matrix(draw_labels(4096, np.random.default_rng(0))))
lamost = Synthesizer()
print(f"{'threads':>7s} {'batch':>6s} {'kernel':>9s} {'torch':>9s} {'ratio':>6s} {'goal':>6s} {'memcpy floor':>13s}")


def rate(fn, batch: torch.Tensor) -> float:
    with torch.no_grad():
        fn(batch[:64])
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            fn(batch)
            best = min(best, time.perf_counter() - t0)
    return len(batch) / best


for threads in (1, 2):
    set_threads(threads)
    for batch in (1024, 4096):
        fast, slow = rate(lamost, labels[:batch]), rate(lamost.differentiable, labels[:batch])
        arr = lamost(labels[:batch]).normalized.numpy()
        t0 = time.perf_counter()
        for _ in range(20):
            arr.copy()
        floor = 20 * len(arr) / (time.perf_counter() - t0)
        print(f"{threads:7d} {batch:6d} {fast:9.0f} {slow:9.0f} {fast / slow:6.2f} {'1e4' if threads == 2 else '':>6s} "
              f"{floor:13.0f}")
