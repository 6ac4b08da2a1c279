"""How well diffusion models learn the long-wavelength (zero) mode of φ⁴ fields, side by side.

For each trained diffusion model directory (with its ``train_data.h5`` of HMC fields) it prints

* the slope of the lattice mean of D(φ + σn, σ) regressed on the lattice mean of φ + σn, over the first
  ``--n-fields`` training fields (2000), against the slope of the best linear estimate of the clean mean from the
  same fields (the anchor);
* χ = V⟨m²⟩ of the proposals (probability-flow ODE) against all training fields' χ, the proposals' ESS/N from
  their weights e^{−S}/q, and the spread (std) of their log-weights.

Usage::

    python benchmarks/diffusion_zero_mode.py runs/line_diff/diffusion_L12_k0.30785 \\
        runs/line_diff_ss/diffusion_L12_k0.30785 --n 1000 --ode-steps 80
"""

from __future__ import annotations

import argparse

import h5py
import numpy as np
import torch

from lawful.lattice.mh import ess_per_sample
from lawful.lattice.models import load_model

SIGMAS = (0.3, 1.0, 2.0, 4.0, 8.0, 16.0)


def zero_mode_slopes(model, phi: torch.Tensor, generator: torch.Generator) -> list[tuple[float, float]]:
    """``[(model slope, best linear slope)]`` per σ in :data:`SIGMAS`; ``phi`` clean fields ``(N, L…)``."""
    rows = []
    for sigma in SIGMAS:
        x = phi + sigma * torch.randn(phi.shape, generator=generator)
        with torch.no_grad():
            d, _ = model.denoise(x, sigma)
        mx, md, mp = (t.flatten(1).mean(1).double().numpy() for t in (x, d, phi))
        rows.append((float(np.polyfit(mx, md, 1)[0]), float(np.polyfit(mx, mp, 1)[0])))
    return rows


def proposal_stats(model, action, n: int, ode_steps: int, generator: torch.Generator) -> dict[str, float]:
    """χ, ESS/N and std of log w of ``n`` ODE proposals."""
    phis, logqs = [], []
    for _ in range(0, n, 250):
        phi, logq = model.sample_ode(min(250, n), generator, n_steps=ode_steps)
        phis.append(phi.double())
        logqs.append(logq.double())
    phi, logq = torch.cat(phis)[:n], torch.cat(logqs)[:n]
    logw = (-action.action_torch(phi) - logq).numpy()
    m = phi.flatten(1).mean(1).numpy()
    return {"chi": phi[0].numel() * float(np.mean(m**2)), "ess": ess_per_sample(logw), "std_logw": float(logw.std())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="trained diffusion model directories")
    ap.add_argument("--n", type=int, default=1000, help="proposals per model")
    ap.add_argument("--ode-steps", type=int, default=77)
    ap.add_argument("--n-fields", type=int, default=2000, help="training fields for the slope regression")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print("| model | skip | " + " | ".join(f"slope σ={s:g} (best linear)" for s in SIGMAS)
          + " | χ proposals | χ data | ESS/N | std log w |")
    print("|---" * (len(SIGMAS) + 6) + "|")
    for path in args.models:
        model, action, _ = load_model(path)
        model.eval()
        with h5py.File(f"{path}/train_data.h5", "r") as fh:
            data = fh["phi"][...]
        chi_data = data.shape[1] * float(np.mean(data.mean(1) ** 2))
        phi = torch.as_tensor(data[: args.n_fields], dtype=torch.float32).reshape(-1, *model.shape)
        slopes = zero_mode_slopes(model, phi, torch.Generator().manual_seed(0))
        stats = proposal_stats(model, action, args.n, args.ode_steps, torch.Generator().manual_seed(5))
        skip = "spectral" if model.hparams.get("spectral_skip") else "EDM"
        print(f"| {path} | {skip} | " + " | ".join(f"{a:.3f} ({b:.3f})" for a, b in slopes)
              + f" | {stats['chi']:.2f} | {chi_data:.2f} | {stats['ess']:.3f} | {stats['std_logw']:.2f} |")


if __name__ == "__main__":
    main()
