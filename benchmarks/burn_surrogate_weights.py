"""The energy weight of the burn surrogate's loss, side by side: the same net, data and steps fitted at several
energy weights and seeds (the training loop of ``lawful burn surrogate train``), each finished as ``train``
finishes (trust threshold), then scored on the held-out steps behind the guard (``evaluate``).

    python benchmarks/burn_surrogate_weights.py --network c12 --data runs/surrogate/data_c12 \\
        [--weights 0.1,1,3] [--seeds 0,1] [--steps 24000] [--device cpu|cuda]

On one CPU core a c12 fit of 24 000 steps takes about 9 minutes, an aprox13 fit about 10. The table in
docs/burn.md ("Energy weight") was measured with these fits.
"""

from __future__ import annotations

import argparse
import tempfile
import time


def fit(prep, energy_weight: float, seed: int, steps: int, device: str):
    """A step fitted like ``train`` (default hidden widths, batch and learning rate), finished on the CPU."""
    import torch

    from lawful.burn.surrogate.config import SurrogateTrainConfig
    from lawful.burn.surrogate.train import (
        finish,
        new_step,
        optimizer,
        training_step,
        training_tensors,
    )
    from lawful.core.rng import torch_generators
    from lawful.core.schedule import Budget

    cfg = SurrogateTrainConfig()
    step = new_step(prep, cfg.hidden, seed).to(device)
    tensors = training_tensors(prep, device)
    opt, sched = optimizer(step, Budget(steps, float("inf")), cfg.lr)
    gen = torch_generators(seed, 1)[0]
    if device != "cpu":
        gen = torch.Generator(device=device).manual_seed(gen.initial_seed())
    for _ in range(steps):
        training_step(step, opt, tensors, cfg.batch_size, energy_weight, gen)
        sched.step()
    step = step.to("cpu")
    finish(step, prep)
    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--network", default="c12", choices=("aprox13", "c12"))
    ap.add_argument("--data", default=None, help="generated data [default: runs/surrogate/data_<network>]")
    ap.add_argument("--weights", default="0.1,3", help="energy weights, comma-separated")
    ap.add_argument("--seeds", default="0", help="seeds, comma-separated")
    ap.add_argument("--steps", type=int, default=24000)
    ap.add_argument("--device", default="cpu", help="torch device of the fits (cpu, cuda)")
    args = ap.parse_args()

    from lawful.burn.surrogate import store
    from lawful.burn.surrogate.evaluate import evaluate
    from lawful.burn.surrogate.train import prepare
    from lawful.core.memory import keep_freed_memory

    keep_freed_memory()
    data = args.data or f"runs/surrogate/data_{args.network}"
    prep = prepare(data)
    print(f"## energy weight, {args.network}: {args.steps} steps, held-out steps of {data}, guarded\n")
    print("| energy weight | seed | trust | median energy | p99 energy | p99 species | surrogate fraction | fit s |")
    print("|---|---|---|---|---|---|---|---|")
    for w in (float(x) for x in args.weights.split(",")):
        for seed in (int(x) for x in args.seeds.split(",")):
            t = time.perf_counter()
            step = fit(prep, w, seed, args.steps, args.device)
            seconds = time.perf_counter() - t
            with tempfile.TemporaryDirectory() as tmp:
                store.save(tmp, step, prep.network, domain=prep.domain, guard=prep.guard, train={}, config_toml="")
                r = evaluate(tmp, data)
            print(f"| {w:g} | {seed} | {float(step.trust):g} | {r['median_rel_err_energy']:.2e} | "
                  f"{r['p99_rel_err_energy']:.2e} | {r['p99_rel_err_species']:.2e} | {r['surrogate_fraction']:.3f} | "
                  f"{seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
