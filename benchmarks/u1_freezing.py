"""Topological freezing of 2D U(1) at L = 16: τ_int of Q and Q² against β for every sampler, and what an independent
Q² sample costs, in one run (table, JSON and plot).

Samplers (8 chains each, started in equilibrium from the exact independent sampler, so no thermalization):

* ``hmc``: Omelyan 2MN, τ_MD = 1, 10 steps (21 force evaluations per trajectory);
* ``heatbath+or``: one heat-bath sweep and one over-relaxation sweep per update;
* ``hmc+inst`` and ``heatbath+or+inst``: the same followed by one instanton proposal (Q → Q ± 1);
* ``exact``: independent configurations (:class:`lawful.lattice.u1.samplers.ExactSampler`);
* ``flow``: the gauge-equivariant flow behind independence Metropolis–Hastings, at the (L, β) of ``--flow-points``.
  It is trained here (or its checkpoints resumed) by reverse KL with path gradients at L = 8, first at β = 2 for
  ten minutes (the issue's acceptance goal), then upward in β by transfer (``init_from``), and at the last stage on
  L = 16 (the convolutions' weights serve any L): the training time is part of its cost. With
  ``--flow-warm-start STEPS`` the flows at β > 2 are trained at their own (L, β) instead, first by forward KL on
  equilibrium fields of heat bath + over-relaxation + instanton moves for STEPS steps, then by reverse KL, for
  ``--flow-warm-minutes`` in all; making those fields is part of the cost too.

Each chain runs until it has ``TAU_LENGTH`` × the expected τ_int(Q) updates (from the issue's anchors), capped by
``--max-updates``; where the cap binds, τ_int is marked as a lower bound. Errors of ⟨Q²⟩ and ⟨cos θ_P⟩ and the τ_int
are from the Γ-method, with pulls against the exact finite-volume values (:mod:`lawful.lattice.u1.exact`).

Cost per independent Q² sample = 2 τ_int(Q²) × (wall time of one update of one chain), in seconds and in units of
one full-lattice force evaluation (measured here, one chain); for the flow, plus its training time amortized over
``AMORTIZE`` = 10⁴ independent samples. All timings on this machine in the same run (one numba thread for the
Markov chains, two torch threads for the flow).

Usage::

    python benchmarks/u1_freezing.py          # L = 16, β = 1..7; flows at L = 8, β = 2 and L = 16, β = 6 (~1 h)
    python benchmarks/u1_freezing.py --size 8 --betas 2,4 --max-updates 20000 --flow-points 8:2  # minutes
    python benchmarks/u1_freezing.py --betas 6 --flow-points 16:6 --flow-warm-start 1200 --flow-warm-minutes 12 \
        --out runs/u1/warm --plot runs/u1/warm/tau.png      # the warm-started flow against every sampler at β = 6
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from lawful.core.rng import generators  # noqa: E402
from lawful.lattice.analysis import analyze  # noqa: E402
from lawful.lattice.chain_analysis import gamma_estimate  # noqa: E402
from lawful.lattice.u1 import exact, kernels  # noqa: E402
from lawful.lattice.u1.action import U1  # noqa: E402
from lawful.lattice.u1.samplers import ExactSampler, make_sampler  # noqa: E402

#: τ_int(Q) the issue measured at L = 16 (HMC in trajectories, heat bath in sweeps); others are assumed small
EXPECTED_TAU = {"hmc": {3: 12, 4: 53, 5: 289, 6: 1400, 7: 10000}, "heatbath+or": {3: 4, 4: 17, 5: 86, 6: 400,
                                                                                 7: 1800}}
TAU_LENGTH = 150          # chain length in units of the expected τ_int
MIN_UPDATES = 3000
N_CHAINS = 8
AMORTIZE = 10_000         # independent samples the flow's training is amortized over
FIRST_STAGE_SECONDS = 600  # the flow's first stage, L = 8 at β = 2: the "10 minutes of training"
CLASSICAL = {  # name: (sampler, options)
    "hmc": ("hmc", {"n_steps": 10}),
    "heatbath+or": ("heatbath", {"n_overrelax": 1}),
    "hmc+inst": ("hmc", {"n_steps": 10, "instanton_moves": 1}),
    "heatbath+or+inst": ("heatbath", {"n_overrelax": 1, "instanton_moves": 1}),
    "exact": ("exact", {}),
}


def force_seconds(size: int, beta: float) -> float:
    """Wall time of one full-lattice force evaluation of one chain (best of 5 batches of 2000)."""
    a = U1(size, beta)
    theta = ExactSampler(a).sample(1, np.random.default_rng(0))[0]
    a.force(theta)
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(2000):
            a.force(theta)
        best = min(best, (time.perf_counter() - t0) / 2000)
    return best


def chain_row(name: str, beta: float, q: np.ndarray, plaq: np.ndarray, seconds_per_update: float, acc: float,
              capped: bool, size: int) -> dict:
    """Γ-method estimates of one sampler at one β from its (C, N) series of Q and the plaquette."""
    q2 = gamma_estimate(q**2)
    tq = gamma_estimate(q)
    pl = gamma_estimate(plaq)
    want_q2 = exact.topological_susceptibility(beta, size)[0]
    want_pl = exact.mean_plaquette(beta, size)
    return {"sampler": name, "beta": beta, "n_updates": int(q.shape[1]), "n_chains": int(q.shape[0]),
            "acceptance": acc, "Q2": [q2.value, q2.error], "Q2_exact": want_q2,
            "Q2_pull": (q2.value - want_q2) / q2.error if q2.error > 0 else 0.0,
            "plaquette_pull": (pl.value - want_pl) / pl.error if pl.error > 0 else 0.0,
            "tau_Q": [tq.tau_int, tq.tau_int_error], "tau_Q2": [q2.tau_int, q2.tau_int_error],
            "tau_plaquette": [pl.tau_int, pl.tau_int_error], "capped": capped,
            "seconds_per_update": seconds_per_update}


def run_classical(name: str, beta: float, size: int, max_updates: int, seed: int) -> dict:
    """Chains of a classical sampler from exact equilibrium configurations; returns :func:`chain_row`."""
    kind, options = CLASSICAL[name]
    a = U1(size, beta)
    want = TAU_LENGTH * EXPECTED_TAU.get(name, {}).get(int(beta), 4) if kind != "exact" else MIN_UPDATES
    n = int(min(max(want, MIN_UPDATES), max_updates))
    capped = n < want
    gens = generators(seed, N_CHAINS)
    theta = np.ascontiguousarray(ExactSampler(a).sample(N_CHAINS, np.random.default_rng(seed))[0])
    sampler = make_sampler(kind, a, **options)
    q = np.empty((N_CHAINS, n))
    plaq = np.empty((N_CHAINS, n))
    acc = 0.0
    t0 = time.perf_counter()
    for i in range(n):
        info = sampler.step(theta, gens)
        m = a.measure(theta)
        q[:, i], plaq[:, i] = m[:, kernels.OBS_Q], m[:, kernels.OBS_PLAQ]
        acc += float(np.mean(info.acceptance))
    seconds = (time.perf_counter() - t0) / (n * N_CHAINS)
    return chain_row(name, beta, q, plaq, seconds, acc / n, capped, size)


def train_flow(out: Path, beta: float, size: int, minutes: float) -> tuple[Path, float]:
    """The flow for (β, L): at L = 8 and β = 2 for :data:`FIRST_STAGE_SECONDS` (the issue's 10-minute goal), then
    β = 3, 4, … in steps of 1 (``minutes`` each, from the previous stage's weights), then at L = ``size``
    (``minutes`` × 2); each stage resumes from its checkpoint. Returns the model directory and the training seconds
    of every stage it rests on."""
    from lawful.lattice.train import train
    from lawful.lattice.u1.config import U1TrainConfig

    stages = [(8, b) for b in np.arange(2.0, beta + 0.5, 1.0)] + ([(size, beta)] if size != 8 else [])
    previous, total = None, 0.0
    for k, (L, b) in enumerate(stages):
        budget = FIRST_STAGE_SECONDS if k == 0 else 60 * minutes * (2 if L != 8 else 1)
        cfg = U1TrainConfig(size=int(L), beta=float(b), train_seconds=budget, init_from=previous,
                            out=out / f"flow_L{int(L)}_b{b:g}")
        summary = train(cfg, show_progress=False)
        total += summary.total_seconds
        previous = cfg.out
    return previous, total


def train_warm_flow(out: Path, beta: float, size: int, steps: int, minutes: float) -> tuple[Path, float]:
    """The flow for (β, L) trained there directly: ``steps`` forward-KL steps on equilibrium fields, then reverse
    KL, ``minutes`` in all. Returns the model directory and the seconds of training plus making the fields."""
    import h5py

    from lawful.lattice.train import DATA_FILE, train
    from lawful.lattice.u1.config import U1TrainConfig

    cfg = U1TrainConfig(size=size, beta=beta, train_seconds=60 * minutes, warm_start_steps=steps,
                        out=out / f"flow_L{size}_b{beta:g}_warm{steps}")
    summary = train(cfg, show_progress=False)
    with h5py.File(cfg.out / DATA_FILE, "r") as fh:
        return cfg.out, summary.total_seconds + float(fh.attrs["seconds"])


def run_flow(out: Path, beta: float, size: int, minutes: float, n: int, seed: int, warm_start: int = 0,
             warm_minutes: float = 15.0) -> dict:
    """The flow chain at (β, L): train (amortized), then independence MH; returns :func:`chain_row` plus training."""
    import torch

    from lawful.lattice.ensemble import ENSEMBLE_FILE, read
    from lawful.lattice.sample import sample
    from lawful.lattice.train_config import SampleConfig

    torch.set_num_threads(2)
    if warm_start and beta > 2:
        model, train_seconds = train_warm_flow(out, beta, size, warm_start, warm_minutes)
    else:
        model, train_seconds = train_flow(out, beta, size, minutes)
    chain = out / f"chain_L{size}_b{beta:g}"
    cfg = SampleConfig(model=model, n=n, n_therm=50, n_chains=4, seed=seed, batch_size=512, out=chain)
    t0 = time.perf_counter()
    summary = sample(cfg, show_progress=False)
    seconds = (time.perf_counter() - t0) / (summary.n_new * cfg.n_chains) if summary.n_new else math.nan
    ens = read(chain / ENSEMBLE_FILE)
    cut = cfg.n_therm
    row = chain_row("flow", beta, ens.series["Q"][:, cut:], ens.series["plaquette"][:, cut:], seconds,
                    summary.acceptance, False, size)
    row.update(train_seconds=train_seconds, ess_per_sample=analyze(chain).ess_per_sample)
    return row


def add_costs(row: dict, t_force: float) -> dict:
    """Cost per independent Q² sample (2 τ_int(Q²) updates), in seconds and force-evaluation equivalents."""
    per_sample = 2 * row["tau_Q2"][0] * row["seconds_per_update"] + row.get("train_seconds", 0.0) / AMORTIZE
    row["seconds_per_independent"] = per_sample
    row["force_evals_per_independent"] = per_sample / t_force
    return row


def plot(rows: list[dict], path: Path, size: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in [*CLASSICAL, "flow"]:
        pts = sorted((r["beta"], r["tau_Q"][0], r["tau_Q"][1], r["capped"]) for r in rows
                     if r["sampler"] == name and r["size"] == size)
        if not pts:
            continue
        b, t, e, cap = map(np.array, zip(*pts))
        line = ax.errorbar(b, t, yerr=e, marker="o" if name != "flow" else "*", ms=6 if name != "flow" else 14,
                           capsize=2, label=name)
        if cap.any():
            ax.scatter(b[cap], t[cap], marker="^", s=80, facecolors="none", edgecolors=line[0].get_color())
    ax.set_yscale("log")
    ax.set_xlabel("β")
    ax.set_ylabel("τ_int(Q) [updates]")
    ax.set_title(f"2D U(1), L = {size}: topological freezing (△: lower bound, chain capped)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_points(text: str) -> list[tuple[int, float]]:
    """``"8:2,16:6"`` → [(8, 2.0), (16, 6.0)] (lattice size : β)."""
    return [(int(p.split(":")[0]), float(p.split(":")[1])) for p in text.split(",") if p.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--betas", default="1,2,3,4,5,6,7")
    ap.add_argument("--max-updates", type=int, default=200_000, help="cap on updates per chain")
    ap.add_argument("--flow-points", default="8:2,16:6", help="L:β of the flow chains (empty: none); the classical "
                                                              "samplers also run at each flow point off --size")
    ap.add_argument("--flow-minutes", type=float, default=3.0, help="training minutes per transfer stage")
    ap.add_argument("--flow-n", type=int, default=20000, help="MH steps per flow chain (4 chains)")
    ap.add_argument("--flow-warm-start", type=int, default=0,
                    help="forward-KL steps on equilibrium fields at the flow's own (L, β) (β > 2), instead of transfer")
    ap.add_argument("--flow-warm-minutes", type=float, default=15.0, help="training minutes of a warm-started flow")
    ap.add_argument("--out", type=Path, default=Path("runs/u1/freezing"))
    ap.add_argument("--plot", type=Path, default=Path("docs/img/u1_freezing.png"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    points = [(args.size, float(b)) for b in args.betas.split(",") if b.strip()]
    flow_points = parse_points(args.flow_points)
    points += [p for p in flow_points if p[0] != args.size]
    t_force = {L: force_seconds(L, 4.0) for L in sorted({L for L, _ in points})}
    rows = []
    for L, beta in flow_points:  # the flow first: its training is the long part and wants the cores to itself
        flow = run_flow(args.out, beta, L, args.flow_minutes, args.flow_n, args.seed, args.flow_warm_start,
                        args.flow_warm_minutes)
        rows.append(add_costs({**flow, "size": L}, t_force[L]))
        print(json.dumps(rows[-1]), flush=True)
    for L, beta in points:
        for name in CLASSICAL:
            rows.append(add_costs({**run_classical(name, beta, L, args.max_updates, args.seed), "size": L},
                                  t_force[L]))
            print(json.dumps(rows[-1]), flush=True)
    rows.sort(key=lambda r: (r["size"], r["beta"]))
    (args.out / "results.json").write_text(json.dumps({"force_seconds": t_force, "rows": rows}, indent=1))
    plot(rows, args.plot, args.size)

    from rich.console import Console
    from rich.table import Table

    table = Table(title="2D U(1): τ_int (updates) and cost per independent Q² sample; one force evaluation = "
                        + ", ".join(f"{t * 1e6:.1f} µs (L = {L})" for L, t in t_force.items()))
    for col in ("L", "β", "sampler", "acc", "updates×chains", "⟨Q²⟩", "exact", "pull", "τ_int(Q)", "τ_int(Q²)",
                "s / indep.", "force evals / indep."):
        table.add_column(col, justify="right")
    for r in rows:
        bound = "≥" if r["capped"] else ""
        table.add_row(str(r["size"]), f"{r['beta']:g}", r["sampler"], f"{r['acceptance']:.3f}",
                      f"{r['n_updates']}×{r['n_chains']}", f"{r['Q2'][0]:.4f}({r['Q2'][1]:.4f})",
                      f"{r['Q2_exact']:.4f}", f"{r['Q2_pull']:+.1f}",
                      f"{bound}{r['tau_Q'][0]:.3g}({r['tau_Q'][1]:.2g})", f"{bound}{r['tau_Q2'][0]:.3g}",
                      f"{r['seconds_per_independent']:.2e}", f"{r['force_evals_per_independent']:.3g}")
    Console(width=190).print(table)
    flows = [r for r in rows if r["sampler"] == "flow"]
    for f in flows:
        hmc = next(r for r in rows if r["sampler"] == "hmc" and (r["size"], r["beta"]) == (f["size"], f["beta"]))
        print(f"L = {f['size']}, β = {f['beta']:g}: flow trained {f['train_seconds']:.0f} s, acceptance "
              f"{f['acceptance']:.3f}; τ_int(Q) HMC / flow = {hmc['tau_Q'][0] / f['tau_Q'][0]:.1f}; cost per "
              f"independent Q² sample HMC / flow = {hmc['seconds_per_independent'] / f['seconds_per_independent']:.3g}")
    print(f"plot: {args.plot}\nresults: {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
