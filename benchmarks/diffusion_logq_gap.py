"""How far the diffusion sampler's log q is from the true density of the map that made the proposal.

The MH guard needs log q(φ) of the very map that produced φ: the Heun-discretized probability-flow ODE. The
sampler integrates d log q/dσ = −∇·f with the trapezoid rule along the Heun path, which is the continuous ODE's
log-density up to the discretization error ε(φ) = log q_trapezoid − log q_map. A constant ε cancels in the MH
ratio; its sample-to-sample spread does not: the chain then samples p·e^{−ε} instead of p, so an observable O
moves by about −cov(O, ε), at most std(O)·std(ε). This script measures ε on fresh proposals of trained models,
with log q_map from the full autograd Jacobian of the Heun map (float64), and prints one table.

Usage::

    python benchmarks/diffusion_logq_gap.py runs/line_diff/diffusion_L8_k0.28848 --steps 24,48 --n 12
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from lawful.lattice.models import load_model


def gaps(model, n_steps: int, n: int, seed: int = 5) -> np.ndarray:
    """ε = trapezoid log q − exact log-density of the Heun map, for ``n`` proposals ``(n,)``."""
    shape = model.shape
    prior = torch.distributions.Normal(0.0, model.sigma_max)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        x_top = torch.randn((1, *shape), generator=gen, dtype=torch.float64) * model.sigma_max
        with torch.no_grad():
            _, logq = model.integrate_ode(x_top, n_steps)
        jac = torch.autograd.functional.jacobian(
            lambda x: model.integrate_ode(x.reshape(1, *shape), n_steps)[0].reshape(-1), x_top[0].reshape(-1))
        exact = prior.log_prob(x_top[0]).sum().item() - torch.linalg.slogdet(jac)[1].item()
        out.append(logq[0].item() - exact)
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", type=Path, nargs="+", help="trained diffusion model directories")
    ap.add_argument("--steps", default="24,48", help="comma-separated ODE step counts")
    ap.add_argument("--n", type=int, default=12, help="proposals per model and step count")
    args = ap.parse_args()
    print("| model | V | ODE steps | mean ε | std ε | min ε | max ε | s |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.models:
        model, _, _ = load_model(path)
        if model.kind != "diffusion":
            raise ValueError(f"{str(path)!r} holds a {model.kind} model; this measures diffusion models")
        model = model.double()
        for n_steps in (int(s) for s in args.steps.split(",")):
            t0 = time.perf_counter()
            eps = gaps(model, n_steps, args.n)
            print(f"| {path.name} | {int(np.prod(model.shape))} | {n_steps} | {eps.mean():.3f} | {eps.std(ddof=1):.3f} "
                  f"| {eps.min():.3f} | {eps.max():.3f} | {time.perf_counter() - t0:.0f} |")


if __name__ == "__main__":
    main()
