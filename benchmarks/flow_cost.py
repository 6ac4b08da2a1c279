"""Cost of one flow proposal (φ and its exact log q) by architecture, side by side in one process.

The weights do not change the cost, so untrained flows are timed. Proposals run as ``lattice sample`` makes them:
float32, batches of 1024, no autograd. Prints one table: µs per proposal (best of interleaved rounds), the ratio to the
affine flow, the convolution arithmetic of one proposal per lattice site (counted by torch's ``FlopCounterMode``,
both signs of the frozen field; the spline, activations and FFTs are not counted, so this is a lower bound) and
the rate it runs at, as a fraction of a large float32 matrix product timed in the same rounds (this core's
practical peak), and a training step (reverse KL, batch 128, forward + backward) with its ratio.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/flow_cost.py                 # L = 8 and 16, 8 layers [32, 32]
    OMP_NUM_THREADS=1 python benchmarks/flow_cost.py --sizes 16 --layers 16
"""

from __future__ import annotations

import argparse
import functools
import math
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from lawful.lattice.actions import Phi4
from lawful.lattice.flow import RealNVPFlow
from lawful.lattice.geometry import Lattice

ARCHS = {"affine": ("affine", False), "affine + spectral": ("affine", True), "spline": ("spline", False),
         "spline + spectral": ("spline", True)}


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved_min(fns: dict[str, object], repeats: int) -> dict[str, float]:
    """Smallest wall time of each callable over ``repeats`` rounds, the callables taken in turn within each round
    (so a slow spell of the shared machine hits them all alike); one warm-up call each first."""
    for fn in fns.values():
        fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            best[name] = min(best[name], _seconds(fn))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8,16", help="lattice sizes L, comma-separated")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", default="32,32")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    hidden = tuple(int(h) for h in args.hidden.split(","))
    print(f"torch threads: {torch.get_num_threads()}; {args.layers} couplings of {list(hidden)}; float32; "
          f"min of {args.repeats} interleaved rounds")
    print("| L | flow | µs per proposal | × affine | conv flop per site | GFLOP/s | of GEMM peak "
          "| s per training step (batch 128) | × affine |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        action = Phi4(Lattice(2, size), 0.25, 0.5)
        gen = torch.Generator().manual_seed(1)
        propose, train_step, flops = {"GEMM": _gemm}, {}, {}
        for name, (coupling, spectral) in ARCHS.items():
            torch.manual_seed(0)
            flow = RealNVPFlow(2, size, args.layers, hidden, 3, coupling, 8, spectral)
            propose[name] = functools.partial(_propose, flow, args.batch, gen)
            train_step[name] = functools.partial(_train_step, flow, action, gen)
            flops[name] = conv_flops_per_site(flow, gen)
        t_prop = interleaved_min(propose, args.repeats)
        t_train = interleaved_min(train_step, max(3, args.repeats // 2))
        peak = 2 * GEMM_N**3 / t_prop["GEMM"]
        for name in ARCHS:
            rate = flops[name] * size**2 * args.batch / t_prop[name]
            print(f"| {size} | {name} | {t_prop[name] / args.batch * 1e6:.0f} | "
                  f"{t_prop[name] / t_prop['affine']:.2f} | {flops[name]:.0f} | {rate / 1e9:.1f} | "
                  f"{rate / peak:.0%} | {t_train[name]:.3f} | {t_train[name] / t_train['affine']:.2f} |")
        print(f"float32 GEMM ({GEMM_N}², the anchor): {peak / 1e9:.1f} GFLOP/s")


GEMM_N = 1024
_A, _B = torch.randn(GEMM_N, GEMM_N), torch.randn(GEMM_N, GEMM_N)


def _gemm() -> None:
    torch.mm(_A, _B)


def conv_flops_per_site(flow: RealNVPFlow, gen: torch.Generator, batch: int = 4) -> float:
    """Convolution flops of one proposal per lattice site, as torch's ``FlopCounterMode`` counts them."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        flow.sample(batch, gen)
    return counter.get_total_flops() / (batch * math.prod(flow.shape))


def _propose(flow: RealNVPFlow, batch: int, gen: torch.Generator) -> None:
    with torch.no_grad():
        flow.sample(batch, gen)


def _train_step(flow: RealNVPFlow, action: Phi4, gen: torch.Generator) -> None:
    """One reverse-KL forward and backward pass at batch 128 (as ``lattice train``; no optimizer update)."""
    phi, logq = flow.sample(128, gen)
    (logq + action.action_torch(phi)).mean().backward()


if __name__ == "__main__":
    main()
