"""Learned samplers behind the MH guard vs tuned HMC for 2D φ⁴ (λ = 0.5): one table, one run.

For each lattice point (L, κ) it trains (or resumes/reuses, in ``--models``) a real-NVP flow and a diffusion
model, runs their independence-MH chains, tunes HMC over trajectory length and step count (the cheapest cost per
independent sample wins) and runs it, all in this process, and prints:

* acceptance, ESS/N (Kish, from the proposals' weights), τ_int(m²) and τ_int(|m|) (Γ-method, in MH steps or
  HMC trajectories), χ = ⟨m²⟩/V and ⟨|m|⟩/V with errors and their pull against HMC;
* cost per effectively independent sample, 2 τ_int(m²) × (cost of one step), in wall time and in force-evaluation
  equivalents (one φ⁴ force evaluation on one field, timed in this run), without and with the training time
  amortized over 10⁴ independent samples;
* the arithmetic per lattice site of one independent sample, 2 τ_int(m²) × (flop per site of one step), a measure
  that does not depend on the machine: HMC's is counted from the numba kernels (:func:`hmc_flops_per_site`), a
  learned proposal's by torch's ``FlopCounterMode`` (convolutions and matrix products, with the backward passes of
  the diffusion model's exact divergence) plus the action that weighs it.

The flow defaults here are the issue's affine real NVP, 8 layers of [32, 32], 8000 steps (the first tables of
docs/lattice.md were run with them); ``--flow-coupling spline --flow-spectral --flow-steps 3000`` is what
``lawful lattice train`` now trains by default.

Usage::

    python benchmarks/lattice_samplers.py                       # L=8, κ=0.25 (the flow tutorial point)
    python benchmarks/lattice_samplers.py --points 8:0.25,8:0.28848 --flow-steps 8000 --diffusion-steps 3000
    python benchmarks/lattice_samplers.py --points 16:0.25 --skip-diffusion --flow-layers 16 --flow-steps 4500 \
        --train-seconds 6000 --flow-init runs/flow16deep/L8 --models runs/flow16deep   # a deeper flow, transferred
    python benchmarks/lattice_samplers.py --points 6:0.26774,8:0.28848,10:0.30015,12:0.30785,14:0.31271 \
        --skip-diffusion --transfer --flow-steps 2500 --train-seconds 1200 --models runs/line --mix 1
        # the constant-ξ line: each flow fine-tuned from the one before, and mixed with the tuned HMC
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from lawful.core.memory import keep_freed_memory
from lawful.lattice.actions import Phi4
from lawful.lattice.analysis import analyze
from lawful.lattice.config import Phi4RunConfig
from lawful.lattice.geometry import Lattice
from lawful.lattice.models import load_model
from lawful.lattice.run import run
from lawful.lattice.sample import Proposer, sample
from lawful.lattice.train import train
from lawful.lattice.train_config import SampleConfig, TrainConfig

LAM = 0.5
AMORTIZE = 1e4
HMC_GRID = ((0.5, 4), (1.0, 6), (1.0, 10), (2.0, 12))  # (trajectory length, Omelyan steps)


def force_seconds(action: Phi4, reps: int = 200) -> float:
    """Wall time of one force evaluation on one field (batch of 64, median of ``reps``)."""
    phi = np.random.default_rng(0).normal(size=(64, action.lattice.volume))
    action.force(phi)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        action.force(phi)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) / 64


def measure_flops_per_site(dim: int) -> int:
    """Flop per site of the measurement that weighs a proposal or closes a trajectory (``kernels.measure``):
    D for the neighbour sum, 10 for m, W and the local terms."""
    return dim + 10


def hmc_flops_per_site(dim: int, n_steps: int) -> int:
    """Flop per site of one Omelyan 2MN trajectory, counted from ``lawful.lattice.kernels``: 2 n + 1 kicks
    (2D adds for the neighbour sum, 9 for the φ⁴ terms and p += εF), 2 n drifts (2 each), and H before and after
    (the measurement and ½p²: 2 more)."""
    return (2 * n_steps + 1) * (2 * dim + 9) + 2 * n_steps * 2 + 2 * (measure_flops_per_site(dim) + 2)


def proposal_flops_per_site(model_dir: Path, ode_steps: int, with_log_q: bool, n: int = 2) -> float:
    """Flop per site of one proposal of the model in ``model_dir`` (``FlopCounterMode``: convolutions and matrix
    products, backward passes included) and its weight; ``with_log_q`` adds a flow's density of a given field
    (the inverse pass a mixed chain needs after each HMC trajectory)."""
    model, action, _ = load_model(model_dir)
    propose = Proposer(model, ode_steps)
    vol = action.lattice.volume
    with FlopCounterMode(display=False) as counter:
        phi, _ = propose(n, torch.Generator().manual_seed(0))
        if with_log_q:
            propose.log_q(phi)
    return counter.get_total_flops() / (n * vol) + measure_flops_per_site(action.lattice.dim)


def hmc_row(size: int, kappa: float, out: Path, n_traj: int, t_force: float) -> dict:
    """Tune HMC on short runs, then run the cheapest setting for ``n_traj`` trajectories × 16 chains (always
    afresh, so its timing comes from this run)."""
    shutil.rmtree(out, ignore_errors=True)
    best = None
    for traj_length, n_steps in HMC_GRID:
        cfg = Phi4RunConfig(dim=2, size=size, kappa=kappa, lam=LAM, n_traj=1500, n_therm=200, n_chains=16,
                            n_steps=n_steps, traj_length=traj_length, seed=7,
                            out=out / f"tune_{traj_length}_{n_steps}")
        run(cfg, show_progress=False)
        tau = analyze(cfg.out).estimates["m2"].tau_int
        forces = cfg.n_steps * 2 + 1  # Omelyan 2MN: two forces per step (+ the first)
        cost = forces * 2 * tau
        if best is None or cost < best[0]:
            best = (cost, traj_length, n_steps)
    _, traj_length, n_steps = best
    cfg = Phi4RunConfig(dim=2, size=size, kappa=kappa, lam=LAM, n_traj=n_traj // 16, n_therm=200, n_chains=16,
                        n_steps=n_steps, traj_length=traj_length, seed=8, out=out / "hmc")
    s = run(cfg, show_progress=False)
    an = analyze(cfg.out)
    wall_per_traj = s.seconds / (s.n_new * cfg.n_chains)
    flops = hmc_flops_per_site(2, n_steps)
    return {**_row(f"HMC τ={traj_length:g}, {n_steps} steps", an, wall_per_traj, 0.0, t_force, flops),
            "hmc": (traj_length, n_steps)}


def learned_row(kind: str, size: int, kappa: float, models: Path, steps: int, seconds: float, n: int,
                t_force: float, init_from: Path | None = None, arch: dict | None = None,
                mix: tuple[int, float, int] | None = None) -> dict:
    """Train (or reuse) a model and run its MH chain afresh; ``mix = (k, τ, steps)`` puts one HMC trajectory
    after every k MH steps (flows)."""
    out = models / f"{kind}_L{size}_k{kappa:g}" if init_from is None else models / f"{kind}_L{size}_k{kappa:g}_tl"
    extra = {"warm_start_steps": 300} if kind == "flow" else {"batch_size": 256, "ode_steps": 24}
    if init_from is not None:
        extra = {"warm_start_steps": 0, "init_from": init_from}
    cfg = TrainConfig(sampler=kind, dim=2, size=size, kappa=kappa, lam=LAM, train_steps=steps,
                      train_seconds=seconds, seed=1, out=out, **extra, **(arch or {}))
    ts = train(cfg, show_progress=True)
    k, traj_length, n_steps = mix or (0, 1.0, 10)
    scfg = SampleConfig(model=out, n=n, n_therm=100, batch_size=1024 if kind == "flow" else 256, seed=3,
                        hmc_every=k, hmc_traj_length=traj_length, hmc_steps=n_steps,
                        out=out / (f"chain_{n}_step{ts.step}" + (f"_hmc{k}" if k else "")))
    shutil.rmtree(scfg.out, ignore_errors=True)  # afresh, so its timing comes from this run
    s = sample(scfg, show_progress=True)
    an = analyze(scfg.out)
    wall = s.seconds / s.n_new
    flops = proposal_flops_per_site(out, int(an.ode_steps or 24), with_log_q=bool(k))
    if k:
        flops += hmc_flops_per_site(2, n_steps) / k
    layers = (f"{'spectral + ' if cfg.spectral else ''}{cfg.n_layers} {'' if cfg.coupling == 'affine' else 'spline '}"
              "layers, " if kind == "flow" else "")
    name = f"{kind} ({layers}{ts.step} steps{', from ' + str(init_from) if init_from else ''})"
    if k:
        name += f" + HMC τ={traj_length:g}, {n_steps} steps after every {k}"
    return {**_row(name, an, wall, ts.total_seconds, t_force, flops), "model": out}


def _row(name: str, an, wall_per_step: float, train_seconds: float, t_force: float, flops_per_step: float) -> dict:
    e = an.estimates
    tau = e["m2"].tau_int
    wall = 2 * tau * wall_per_step
    return {"sampler": name, "acc": an.acceptance, "ess": an.ess_per_sample, "tau_m2": (tau, e["m2"].tau_int_error),
            "tau_absm": (e["abs_m"].tau_int, e["abs_m"].tau_int_error), "chi": e["chi"].pair(),
            "absm": e["abs_m_density"].pair(), "wall": wall, "force_eq": wall / t_force,
            "wall_amortized": wall + train_seconds / AMORTIZE,
            "force_eq_amortized": (wall + train_seconds / AMORTIZE) / t_force, "train_s": train_seconds,
            "kflop": 2 * tau * flops_per_step / 1e3}


def _fmt(v: float, e: float) -> str:
    from lawful.cli.common import fmt

    return fmt(v, e)


def main() -> None:
    keep_freed_memory()  # as the lawful CLI does (benchmarks/malloc_settings.py)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", default="8:0.25", help="comma-separated L:kappa points (lambda = 0.5, D = 2)")
    ap.add_argument("--models", type=Path, default=Path("runs/bench_samplers"), help="trained models (reused)")
    ap.add_argument("--flow-steps", type=int, default=8000)
    ap.add_argument("--diffusion-steps", type=int, default=3000)
    ap.add_argument("--train-seconds", type=float, default=1800.0, help="per model")
    ap.add_argument("--n-flow", type=int, default=20000)
    ap.add_argument("--n-diffusion", type=int, default=4000)
    ap.add_argument("--n-hmc", type=int, default=32000, help="HMC trajectories in total (16 chains)")
    ap.add_argument("--skip-diffusion", action="store_true")
    ap.add_argument("--flow-init", type=Path, default=None,
                    help="start the flow from this trained model (e.g. a smaller L: transfer learning)")
    ap.add_argument("--transfer", action="store_true",
                    help="each point's flow starts from the previous point's flow (the first from --flow-init)")
    ap.add_argument("--skip-flow", action="store_true")
    ap.add_argument("--mix", type=int, default=0,
                    help="also a flow chain with one tuned-HMC trajectory after every MIX MH steps (0: none)")
    ap.add_argument("--n-mix", type=int, default=4000, help="MH steps of the mixed chain")
    ap.add_argument("--flow-layers", type=int, default=8, help="flow coupling layers")
    ap.add_argument("--flow-hidden", default="32,32", help="flow hidden channels, comma-separated")
    ap.add_argument("--flow-coupling", choices=("affine", "spline"), default="affine", help="flow coupling layers")
    ap.add_argument("--flow-spectral", action="store_true", help="flow: learned Gaussian layer before the couplings")
    args = ap.parse_args()
    rows = []
    flow_init = args.flow_init
    for point in args.points.split(","):
        size_text, kappa_text = point.split(":")
        size, kappa = int(size_text), float(kappa_text)
        action = Phi4(Lattice(2, size), kappa, LAM)
        t_force = force_seconds(action)
        base = args.models / f"hmc_L{size}_k{kappa:g}"
        point_rows = [hmc_row(size, kappa, base, args.n_hmc, t_force)]
        if not args.skip_flow:
            arch = {"n_layers": args.flow_layers, "hidden": [int(h) for h in args.flow_hidden.split(",")],
                    "coupling": args.flow_coupling, "spectral": args.flow_spectral}
            point_rows.append(learned_row("flow", size, kappa, args.models, args.flow_steps, args.train_seconds,
                                          args.n_flow, t_force, flow_init, arch))
            if args.mix:
                point_rows.append(learned_row("flow", size, kappa, args.models, args.flow_steps, args.train_seconds,
                                              args.n_mix, t_force, flow_init, arch, (args.mix, *point_rows[0]["hmc"])))
            if args.transfer:
                flow_init = point_rows[-1]["model"]
        if not args.skip_diffusion:
            point_rows.append(learned_row("diffusion", size, kappa, args.models, args.diffusion_steps,
                                          args.train_seconds, args.n_diffusion, t_force))
        ref = point_rows[0]
        for r in point_rows:
            r.update(L=size, kappa=kappa, t_force=t_force)
            r["pull_chi"] = (r["chi"][0] - ref["chi"][0]) / math.hypot(r["chi"][1], ref["chi"][1])
            r["pull_absm"] = (r["absm"][0] - ref["absm"][0]) / math.hypot(r["absm"][1], ref["absm"][1])
        rows += point_rows
    print(f"\nφ⁴ D=2 λ={LAM}; costs per independent sample = 2 τ_int(m²) × cost per step; force unit = one "
          "force evaluation on one field; '+train' amortizes the training time over 1e4 independent samples\n")
    head = ("| L | κ | sampler | acc | ESS/N | τ_int(m²) | τ_int(abs m) | χ | pull | ⟨abs m⟩/V | pull | wall/indep (ms) "
            "| force-eq/indep | +train wall (ms) | +train force-eq | kflop/site/indep |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        ess = "" if r["ess"] is None else f"{r['ess']:.3f}"
        print(f"| {r['L']} | {r['kappa']:g} | {r['sampler']} | {r['acc']:.3f} | {ess} | {_fmt(*r['tau_m2'])} | "
              f"{_fmt(*r['tau_absm'])} | {_fmt(*r['chi'])} | {r['pull_chi']:+.1f} | {_fmt(*r['absm'])} | "
              f"{r['pull_absm']:+.1f} | {1e3 * r['wall']:.3f} | {r['force_eq']:.0f} | "
              f"{1e3 * r['wall_amortized']:.3f} | {r['force_eq_amortized']:.0f} | {r['kflop']:.4g} |")
    for r in rows:
        if r["kappa"] == 0.25 and r["L"] == 8:
            print(f"reference (arXiv:2101.08176): 0.25·χ = 0.75(1); {r['sampler']}: "
                  f"{_fmt(0.25 * r['chi'][0], 0.25 * r['chi'][1])}")
    print(f"one force evaluation on one field: {1e6 * rows[0]['t_force']:.2f} µs")


if __name__ == "__main__":
    main()
