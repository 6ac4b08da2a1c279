"""Cost of ``lattice sample --hmc-every`` with many chains: chains taken together (one batched HMC trajectory and
one batched flow density per interleaving point) against the same chains taken one by one, in one process.

The flow's weights do not change the cost, so an untrained affine flow (8 layers of [32, 32]) is used (made in
``--out``). Prints one table: wall time per MH step and chain, and the ratio.

Usage::

    python benchmarks/lattice_mixing.py                      # L=16, 16 chains, hmc_every=1
    python benchmarks/lattice_mixing.py --size 8 --chains 4 --hmc-every 4
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import lawful.lattice.sample as sample_module
from lawful.lattice.sample import sample
from lawful.lattice.train import train
from lawful.lattice.train_config import SampleConfig, TrainConfig


def seconds_per_step(cfg: SampleConfig, one_by_one: bool) -> float:
    """Wall time per MH step and chain of a fresh chain (median of 3 runs)."""
    real = sample_module._chain_groups
    if one_by_one:
        sample_module._chain_groups = lambda n, values: [range(c, c + 1) for c in range(n)]
    try:
        times = []
        for _ in range(3):
            shutil.rmtree(cfg.out, ignore_errors=True)
            t0 = time.perf_counter()
            sample(cfg, show_progress=False)
            times.append(time.perf_counter() - t0)
    finally:
        sample_module._chain_groups = real
    times.sort()
    return times[1] / (cfg.n_total * cfg.n_chains)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--kappa", type=float, default=0.25)
    ap.add_argument("--chains", type=int, default=16)
    ap.add_argument("--hmc-every", type=int, default=1)
    ap.add_argument("--n", type=int, default=128, help="MH steps per chain")
    ap.add_argument("--out", type=Path, default=Path("runs/bench_mixing"))
    args = ap.parse_args()
    model = args.out / f"flow_L{args.size}"
    train(TrainConfig(size=args.size, kappa=args.kappa, lam=0.5, train_steps=0, warm_start_steps=0, coupling="affine",
                      spectral=False, out=model),
          show_progress=False)
    cfg = SampleConfig(model=model, out=args.out / "chain", n=args.n, n_therm=0, batch_size=args.n,
                       n_chains=args.chains, hmc_every=args.hmc_every, hmc_steps=12, hmc_traj_length=2.0, seed=1)
    apart = seconds_per_step(cfg, one_by_one=True)
    together = seconds_per_step(cfg, one_by_one=False)
    print(f"\nL={args.size} κ={args.kappa} λ=0.5, {args.chains} chains, HMC (12 Omelyan steps) after every "
          f"{args.hmc_every} MH step(s), {args.n} MH steps per chain\n")
    print("| chains taken | ms per MH step and chain | ratio |")
    print("|---|---|---|")
    print(f"| one by one | {1e3 * apart:.3f} | 1.00 |")
    print(f"| together | {1e3 * together:.3f} | {apart / together:.2f} |")


if __name__ == "__main__":
    main()
