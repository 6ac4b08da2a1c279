"""The gauge-equivariant U(1) flow trained on an accelerator: does far more training than two CPU cores give make
the flow useful at L = 16, β = 6 (issue 29)?

Trains by transfer in β at the target L (on a GPU a step costs about the same at L = 8 and 16: it is bound by
kernel launches, not by the lattice), each stage from the previous stage's weights, then measures the final flow
on ``--fresh`` fresh samples: Kish ESS/N of the importance weights w = e^{−S}/q, the variance of log w, and the
self-normalised estimates of ⟨cos θ_P⟩ and ⟨Q²⟩ against the exact finite-volume values. The model directory it
writes is an ordinary lawful model: ``lawful lattice sample --model OUT/flow_L16_b6`` runs the exact MH chain on
the CPU.

    python benchmarks/u1_flow_device.py --device cuda --size 16 --betas 2,3,4,5,6 --stage-seconds 40 \
        --final-seconds 300 --batch 1024 --out runs/u1_device
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from lawful.lattice.mh import ess_per_sample
from lawful.lattice.models import load_model
from lawful.lattice.train import train
from lawful.lattice.u1 import exact
from lawful.lattice.u1.config import U1TrainConfig
from lawful.lattice.u1.flow import wrap


def fresh_sample_weights(model_dir: Path, n: int, device: str, seed: int) -> dict:
    """ESS/N, var log w, and reweighted ⟨cos θ_P⟩, ⟨Q²⟩ (with the flow's own unweighted values) of ``n`` fresh
    samples of the model in ``model_dir``."""
    model, action, _ = load_model(model_dir)
    model = model.to(device).eval()
    gen = torch.Generator().manual_seed(seed)
    logw, cosp, q2 = [], [], []
    with torch.no_grad():
        for start in range(0, n, 1024):
            theta, logq = model.sample(min(1024, n - start), gen)
            plaq = wrap(action.torch_plaquettes(theta))
            logw.append((-action.action_torch(theta) - logq).double().cpu())
            cosp.append(plaq.cos().flatten(1).mean(1).double().cpu())
            q2.append((plaq.flatten(1).sum(1) / (2 * math.pi)).round().double().cpu() ** 2)
    logw, cosp, q2 = (torch.cat(x).numpy() for x in (logw, cosp, q2))
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return {"n": n, "ess_per_sample": ess_per_sample(logw), "var_logw": float(np.var(logw)),
            "plaquette": float(np.sum(w * cosp)), "plaquette_unweighted": float(cosp.mean()),
            "Q2": float(np.sum(w * q2)), "Q2_unweighted": float(q2.mean()),
            "exact_plaquette": exact.mean_plaquette(action.beta, action.size),
            "exact_Q2": exact.topological_susceptibility(action.beta, action.size)[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--betas", default="2,3,4,5,6", help="the transfer chain; the last is the target")
    ap.add_argument("--stage-seconds", type=float, default=40.0, help="training seconds of each stage but the last")
    ap.add_argument("--final-seconds", type=float, default=300.0, help="training seconds at the target β")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--fresh", type=int, default=16384, help="fresh samples for the final measurement")
    ap.add_argument("--out", type=Path, default=Path("runs/u1_device"))
    args = ap.parse_args()

    betas = [float(b) for b in args.betas.split(",")]
    previous, stages = None, []
    for k, beta in enumerate(betas):
        cfg = U1TrainConfig(size=args.size, beta=beta, batch_size=args.batch, device=args.device, init_from=previous,
                            train_seconds=args.final_seconds if k == len(betas) - 1 else args.stage_seconds,
                            out=args.out / f"flow_L{args.size}_b{beta:g}")
        s = train(cfg, show_progress=False)
        stages.append({"beta": beta, "steps": s.step, "seconds": s.total_seconds, "ess_batch": s.ess_batch})
        print(f"β = {beta:g}: {s.step} steps in {s.total_seconds:.0f} s ({s.step / s.total_seconds:.1f}/s), batch "
              f"ESS/N {s.ess_batch:.4f}", flush=True)
        previous = cfg.out
    t0 = time.perf_counter()
    fresh = fresh_sample_weights(previous, args.fresh, args.device, seed=12345)
    fresh["seconds"] = time.perf_counter() - t0
    result = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
              "size": args.size, "batch": args.batch, "stages": stages, "fresh": fresh,
              "train_seconds": sum(s["seconds"] for s in stages), "model": str(previous)}
    (args.out / "result.json").write_text(json.dumps(result, indent=1))
    print(f"\nU(1) L = {args.size}, β = {betas[-1]:g}, trained on {result['device']} for "
          f"{result['train_seconds']:.0f} s (batch {args.batch})")
    print(f"{'stage β':>8s} {'steps':>7s} {'s':>6s} {'batch ESS/N':>12s}")
    for s in stages:
        print(f"{s['beta']:8g} {s['steps']:7d} {s['seconds']:6.0f} {s['ess_batch']:12.4f}")
    print(f"fresh samples: {fresh['n']}, ESS/N {fresh['ess_per_sample']:.4f}, var log w {fresh['var_logw']:.2f}")
    print(f"⟨cos θ_P⟩ reweighted {fresh['plaquette']:.4f} (flow alone {fresh['plaquette_unweighted']:.4f}; exact "
          f"{fresh['exact_plaquette']:.4f}); ⟨Q²⟩ reweighted {fresh['Q2']:.3f} (flow alone "
          f"{fresh['Q2_unweighted']:.3f}; exact {fresh['exact_Q2']:.4f})")


if __name__ == "__main__":
    main()
