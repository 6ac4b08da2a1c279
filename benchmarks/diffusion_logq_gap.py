"""How far the diffusion sampler's log q is from the true density of the map that made the proposal.

The MH guard needs log q(φ) of the very map that produced φ: the Heun-discretized probability-flow ODE. The
sampler integrates d log q/dσ = −∇·f with the trapezoid rule along the Heun path, which is the continuous ODE's
log-density up to the discretization error ε(φ) = log q_trapezoid − log q_map. A constant ε cancels in the MH
ratio; its sample-to-sample spread does not: the chain then samples p·e^{−ε} instead of p, so an observable O
moves by about −cov(O, ε), at most std(O)·std(ε). This script measures ε on fresh proposals of trained models,
with log q_map from the full autograd Jacobian of the Heun map (float64), and prints one table.

With ``--sde-steps`` it also measures the exact alternative that needs no density of a map: proposals from the
reverse SDE (Euler–Maruyama, or ancestral steps), weighted on the extended space of the whole path as in annealed
importance sampling, log w = −S(x_N) + Σ log L_k(x_k | x_{k+1}) − log N(x_0) − Σ log K_k(x_{k+1} | x_k), with the
forward-noising Gaussians L_k as backward kernels. That weight is exact for any score model, but its variance
decides whether it is usable: the table gives ESS/N and the spread of log w next to the ODE's.

Usage::

    python benchmarks/diffusion_logq_gap.py runs/line_diff/diffusion_L8_k0.28848 --steps 24,48 --n 12
    python benchmarks/diffusion_logq_gap.py runs/bench_samplers/diffusion_L8_k0.25 --steps 24 --sde-steps 32,128
"""

from __future__ import annotations

import argparse
import itertools
import math
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


def _log_normal(x: torch.Tensor, mu: torch.Tensor | float, var: float) -> torch.Tensor:
    """log N(x; μ, var·I) per field ``(B,)``."""
    v = x[0].numel()
    return -0.5 * ((x - mu) ** 2).flatten(1).sum(1) / var - 0.5 * v * math.log(2 * math.pi * var)


@torch.no_grad()
def sde_log_weights(model, action, n: int, n_steps: int, kind: str, seed: int = 1) -> np.ndarray:
    """Extended-space log-weights ``(n,)`` of ``n`` reverse-SDE proposals (σ_max → σ_min, ``kind`` "em" or
    "ancestral"); see the module docstring."""
    gen = torch.Generator().manual_seed(seed)
    sig = model.sigmas(n_steps)[:-1].tolist()  # every step keeps noise, so every kernel has a density
    x = torch.randn((n, *model.shape), generator=gen, dtype=torch.float64) * sig[0]
    log_q = _log_normal(x, 0.0, sig[0] ** 2)
    for s0, s1 in itertools.pairwise(sig):
        d, _ = model.denoise(x, s0)
        if kind == "em":
            mu, var = x + 2 * (s0 - s1) * (d - x) / s0, 2 * s0 * (s0 - s1)
        else:
            mu, var = d + (s1 / s0) ** 2 * (x - d), s1**2 * (s0**2 - s1**2) / s0**2
        x_next = mu + math.sqrt(var) * torch.randn(x.shape, generator=gen, dtype=torch.float64)
        log_q += _log_normal(x_next, mu, var) - _log_normal(x, x_next, s0**2 - s1**2)
        x = x_next
    return -action.measure(x.reshape(n, -1).numpy())[:, 5] - log_q.numpy()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", type=Path, nargs="+", help="trained diffusion model directories")
    ap.add_argument("--steps", default="24,48", help="comma-separated ODE step counts")
    ap.add_argument("--n", type=int, default=12, help="proposals per model and step count")
    ap.add_argument("--sde-steps", default="", help="comma-separated SDE step counts for the path-weight table")
    ap.add_argument("--n-sde", type=int, default=1000, help="proposals per SDE and ODE weight estimate")
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
    if args.sde_steps:
        from lawful.lattice.mh import ess_per_sample

        print("\n| model | proposals | steps | ESS/N | std log w |\n|---|---|---|---|---|")
        for path in args.models:
            model, action, _ = load_model(path)
            model = model.double()
            with torch.no_grad():
                phi, log_q = model.sample_ode(args.n_sde, torch.Generator().manual_seed(1), 24)
            lw = -action.measure(phi.reshape(args.n_sde, -1).numpy())[:, 5] - log_q.numpy()
            rows = [("ODE (Heun, trapezoid log q)", 24, lw)]
            for kind, label in (("em", "SDE Euler–Maruyama, path weight"), ("ancestral", "SDE ancestral, path weight")):
                for n_steps in (int(s) for s in args.sde_steps.split(",")):
                    rows.append((label, n_steps, sde_log_weights(model, action, args.n_sde, n_steps, kind)))
            for label, n_steps, lw in rows:
                print(f"| {path.name} | {label} | {n_steps} | {ess_per_sample(lw[None, :]):.4f} | {np.std(lw):.2f} |")


if __name__ == "__main__":
    main()
