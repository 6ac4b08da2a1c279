"""Cost of one flow proposal (φ and its exact log q) by architecture, side by side in one process.

The weights do not change the cost, so untrained flows are timed. Proposals run as ``lattice sample`` makes them:
float32, batches of 1024, no autograd. Prints one table: µs per proposal (median of 5 batches), the ratio to the
affine flow, and a training step (reverse KL, batch 128, forward + backward) with its ratio.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/flow_cost.py                 # L = 8 and 16, 8 layers [32, 32]
    OMP_NUM_THREADS=1 python benchmarks/flow_cost.py --sizes 16 --layers 16
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lawful.lattice.actions import Phi4
from lawful.lattice.flow import RealNVPFlow
from lawful.lattice.geometry import Lattice

ARCHS = {"affine": ("affine", False), "affine + spectral": ("affine", True), "spline": ("spline", False),
         "spline + spectral": ("spline", True)}


def _median_seconds(fn, repeats: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def flow_cost(flow: RealNVPFlow, action: Phi4, batch: int) -> tuple[float, float]:
    """(µs per proposal in batches of ``batch``, seconds per reverse-KL training step of batch 128)."""
    gen = torch.Generator().manual_seed(1)

    def propose() -> None:
        with torch.no_grad():
            flow.sample(batch, gen)

    def train_step() -> None:
        phi, logq = flow.sample(128, gen)
        (logq + action.action_torch(phi)).mean().backward()

    return _median_seconds(propose) / batch * 1e6, _median_seconds(train_step, 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8,16", help="lattice sizes L, comma-separated")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", default="32,32")
    ap.add_argument("--batch", type=int, default=1024)
    args = ap.parse_args()
    hidden = tuple(int(h) for h in args.hidden.split(","))
    print(f"torch threads: {torch.get_num_threads()}; {args.layers} couplings of {list(hidden)}; float32")
    print("| L | flow | µs per proposal | × affine | s per training step (batch 128) | × affine |")
    print("|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        action = Phi4(Lattice(2, size), 0.25, 0.5)
        base: tuple[float, float] | None = None
        for name, (coupling, spectral) in ARCHS.items():
            torch.manual_seed(0)
            cost = flow_cost(RealNVPFlow(2, size, args.layers, hidden, 3, coupling, 8, spectral), action, args.batch)
            base = base or cost
            print(f"| {size} | {name} | {cost[0]:.0f} | {cost[0] / base[0]:.2f} | {cost[1]:.3f} | "
                  f"{cost[1] / base[1]:.2f} |")


if __name__ == "__main__":
    main()
