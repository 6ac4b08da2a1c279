"""Burn surrogate vs the implicit integrator, side by side in one process.

1. accuracy on held-out states (``lawful.burn.surrogate.evaluate``): errors against the tight-tolerance reference,
   guard statistics, max |ΣX − 1|;
2. cost per zone-step on the held-out hydro zone-steps (one call per hydro step): implicit BDF (rtol 1e-6, what
   ``lawful hydro run`` uses), the guarded surrogate (guard and fallback included), the surrogate alone, and
   scipy's BDF on a subset (same RHS and analytic Jacobian, one zone at a time);
3. the coupled detonation (``lawful hydro run detonation``) with each burner: front speed, share of burning
   zone-steps the surrogate took, burn time per zone-step;
4. the error detector's limit (``--limits``; "off" is a limit no prediction reaches): held-out accuracy and
   surrogate fraction, and the coupled detonation's share and front speed, per limit.

    python benchmarks/burn_surrogate.py [--network aprox13] [--data runs/surrogate/data_aprox13] [--model DIR]
                                        [--n 256] [--repeats 3] [--scipy-zones 20] [--limits off,3,1,0.5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def _best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def cost_table(d, loaded, net, repeats: int, scipy_zones: int) -> list[tuple[str, float]]:
    from burn_integrator import _scipy_zone

    from lawful.burn.burner import ImplicitBurner
    from lawful.burn.eos import StellarEOS
    from lawful.burn.surrogate.evaluate import hydro_calls
    from lawful.burn.surrogate.guard import SurrogateBurner, propose

    eos = StellarEOS(table=True)
    implicit = ImplicitBurner(net, eos, rtol=1e-6)
    tight = ImplicitBurner(net, eos, rtol=1e-6, atol=1e-12)
    guarded = SurrogateBurner(loaded, net, eos, implicit)
    groups = hydro_calls(d, np.flatnonzero(d["held_out"]))
    hydro = np.sort(np.concatenate(groups))
    opts = eos.options()

    def run(fn):
        return lambda: [fn(d["rho"][g], d["T"][g], d["X"][g], float(d["dt"][g[0]])) for g in groups]

    def alone(rho, T, X, dt):
        return propose(loaded, net, opts, rho, T, X, np.full(len(rho), dt))

    n = hydro.size
    rows = [("implicit BDF (ours, rtol 1e-6, atol 1e-8: hydro's default)", _best(run(implicit), repeats) / n),
            ("implicit BDF (rtol 1e-6, atol 1e-12)", _best(run(tight), repeats) / n),
            ("surrogate + guard + fallback", _best(run(guarded), repeats) / n),
            ("surrogate + guard, no fallback", _best(run(alone), repeats) / n)]
    rows += _components(d, groups, loaded, net, opts, repeats, n)
    pick = hydro[:: max(1, n // scipy_zones)][:scipy_zones]
    t = time.perf_counter()
    for z in pick:
        _scipy_zone(net, d["rho"][z], d["T"][z], d["X"][z], d["dt"][z], True, opts)
    rows.append(("scipy BDF (same RHS + Jacobian)", (time.perf_counter() - t) / len(pick)))
    return rows


def _components(d, groups, loaded, net, opts, repeats: int, n: int) -> list[tuple[str, float]]:
    """The parts of the surrogate path, each timed alone on the same calls (µs per zone-step)."""
    import torch

    from lawful.burn.surrogate import detector as sdetector
    from lawful.burn.surrogate.data import energy_release
    from lawful.burn.surrogate.predictor import Prediction

    args = [(d["rho"][g], d["T"][g], d["X"][g], np.full(g.size, d["dt"][g[0]])) for g in groups]
    preds = [Prediction(net, opts, *a, loaded.substeps) for a in args]
    tensors = [tuple(torch.as_tensor(x) for x in (*a, p.dX, p.eX)) for a, p in zip(args, preds)]
    with torch.inference_mode():
        outs = [loaded.step(*t) for t in tensors]

    def net_only():
        with torch.inference_mode():
            for t in tensors:
                loaded.step(*t)

    def check():
        for a, p, o in zip(args, preds, outs):  # the end state at the start T is enough to time it
            p.correction(a[1], o[0].numpy())

    def detect():  # features and the detector's MLP on every zone (the end state at the start T again)
        for a, p, o in zip(args, preds, outs):
            X_new, enuc = o[0].numpy(), o[1].numpy()
            f = sdetector.features(*a, p.dX, p.eX, X_new, a[1] * 1.01, enuc, energy_release(net, a[2], a[2] + p.dX),
                                   np.ones(enuc.size))
            sdetector.predict(loaded.detector, f)

    rows = [(f"  of which the predictor (RODAS3 in {loaded.substeps}: 3 RHS, Jacobian, LU each)",
             _best(lambda: [Prediction(net, opts, *a, loaded.substeps) for a in args], repeats) / n),
            ("  of which the net (on every zone) and the composition map", _best(net_only, repeats) / n),
            ("  of which the Newton check (1 RHS, LU solve)", _best(check, repeats) / n)]
    if loaded.detector is not None:
        rows.append(("  of which the error detector (features, MLP; on every zone)", _best(detect, repeats) / n))
    return rows


def implicit_accuracy(d, net) -> list[tuple[str, float, float]]:
    """(tolerances, median, p99) of the implicit burner's relative energy error on the held-out steps, against the
    data's reference (rtol 1e-8, atol 1e-12), at hydro's tolerances and with a tighter atol."""
    from lawful.burn.burner import ImplicitBurner
    from lawful.burn.eos import StellarEOS
    from lawful.burn.surrogate.accuracy import errors
    from lawful.burn.surrogate.evaluate import burn_each

    idx = np.flatnonzero(d["held_out"])
    out = []
    for atol in (1e-8, 1e-12):
        burner = ImplicitBurner(net, StellarEOS(table=True), rtol=1e-6, atol=atol)
        X, enuc = burn_each(burner, *(d[k][idx] for k in ("rho", "T", "X", "dt")))
        err = errors(X, enuc, d["X_new"][idx], d["enuc"][idx])["energy"]
        out.append((f"rtol 1e-6, atol {atol:g}", float(np.median(err)), float(np.quantile(err, 0.99))))
    return out


#: an error limit no prediction reaches: the detector refuses nothing
OFF = 1e30


def detonation(n: int, network: str, model: str | None, burner: str, error_limit: float = 0.0, **keys) -> dict:
    """Summary of one detonation run (``error_limit`` 0: the model's own; ``keys``: more config keys, e.g.
    ``rho``, ``length``, ``tmax``), with the burn time per zone-step."""
    from lawful.hydro.problems import detonation as det
    from lawful.hydro.run import run, summary

    with tempfile.TemporaryDirectory() as tmp:
        surrogate = {"burn_model": model or "", "burn_error_limit": error_limit} if burner == "surrogate" else {}
        cfg = det.Config(n=n, network=network, burner=burner, out=Path(tmp), **surrogate, **keys)
        res = run(cfg, "detonation", show_progress=False)
        s = summary(cfg, "detonation", res)
        s["burn_us_per_zone_step"] = 1e6 * res.setup.step.seconds["half"] / s["burn_zone_steps"]
        return s


def limit_table(args, data_dir, imp: dict) -> None:
    """Section 4: per error-detector limit, the held-out accuracy and fraction and the coupled share."""
    from lawful.burn.surrogate.evaluate import evaluate

    print(f"\n## the error detector's limit: held-out steps and the coupled detonation (n = {args.n})\n\n"
          "| limit (× 1e-2) | held-out fraction | p99 energy | p99 species | median energy | p99 energy, accepted | "
          "coupled share | front speed vs implicit |\n|---|---|---|---|---|---|---|---|")
    for name in args.limits.split(","):
        limit = OFF if name == "off" else float(name)
        acc = evaluate(args.model, data_dir, error_limit=limit)
        sur = detonation(args.n, args.network, args.model, "surrogate", limit)
        print(f"| {name} | {acc['surrogate_fraction']:.3f} | {acc['p99_rel_err_energy']:.3g} | "
              f"{acc['p99_rel_err_species']:.3g} | {acc['median_rel_err_energy']:.3g} | "
              f"{acc['accepted_p99_rel_err_energy']:.3g} | {sur['surrogate_fraction']:.3f} | "
              f"{sur['front_speed'] / imp['front_speed'] - 1:+.3%} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--network", default="aprox13", choices=("aprox13", "c12"))
    ap.add_argument("--data", default=None, help="generated data [default: runs/surrogate/data_<network>]")
    ap.add_argument("--model", default=None, help="model directory [default: the shipped one]")
    ap.add_argument("--n", type=int, default=256, help="detonation zones")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scipy-zones", type=int, default=20)
    ap.add_argument("--limits", default="off,3,1,0.5",
                    help="error-detector limits (× 1e-2) of section 4, comma-separated ('off', or '' to skip)")
    args = ap.parse_args()

    from lawful.burn.network import Network
    from lawful.burn.surrogate import data as sdata
    from lawful.burn.surrogate import store
    from lawful.burn.surrogate.evaluate import evaluate

    net = Network(args.network)
    data_dir = args.data or f"runs/surrogate/data_{args.network}"
    if not Path(data_dir, sdata.DATA_FILE).exists():
        sys.exit(f"no data at {data_dir}: run `lawful burn surrogate generate --network {args.network} "
                 f"--out {data_dir}` first")
    loaded = store.load(args.model, net)
    acc = evaluate(loaded.path, data_dir)
    print(f"## accuracy on {acc['held_out']} held-out steps ({args.network}, model {loaded.path})\n")
    print("| quantity | guarded result | surrogate alone (accepted zones) |\n|---|---|---|")
    for key in ("median_rel_err_species", "median_rel_err_energy", "p99_rel_err_species", "p99_rel_err_energy"):
        print(f"| {key} | {acc[key]:.3g} | {acc['accepted_' + key]:.3g} |")
    print(f"\nmax |ΣX−1| = {acc['max_sum_residual']:.1e}, min X = {acc['min_X']:.1e}, surrogate fraction "
          f"{acc['surrogate_fraction']:.3f}, refusals {json.dumps(acc['failed'])}")
    print(f"a perfect guard (refusing exactly the worst accepted zones, exact fallback) could keep at most "
          f"{acc['fraction_bound_p99_energy']:.3f} of the zones with the energy p99 ≤ 1e-2\n")

    d = sdata.load(data_dir)
    print("## the implicit burner's own energy error on the same steps\n\n| burner | median | p99 |\n|---|---|---|")
    for name, med, p99 in implicit_accuracy(d, net):
        print(f"| implicit BDF, {name} | {med:.3g} | {p99:.3g} |")
    print()
    rows = cost_table(d, loaded, net, args.repeats, args.scipy_zones)
    base = rows[0][1]
    print("## cost per zone-step, held-out hydro zone-steps\n\n| burner | µs per zone-step | vs implicit |\n|---|---|---|")
    for name, sec in rows:
        print(f"| {name} | {1e6 * sec:.1f} | {base / sec:.2f}× |")

    imp = detonation(args.n, args.network, args.model, "implicit")
    sur = detonation(args.n, args.network, args.model, "surrogate")
    print(f"\n## coupled detonation, n = {args.n}, {args.network}\n\n| quantity | implicit | surrogate | ratio |\n"
          "|---|---|---|---|")
    for key in ("front_speed", "nuclear_energy_released", "burn_us_per_zone_step", "seconds"):
        print(f"| {key} | {imp[key]:.6g} | {sur[key]:.6g} | {sur[key] / imp[key]:.4f} |")
    print(f"\nfront speed difference {abs(sur['front_speed'] / imp['front_speed'] - 1):.2%} "
          f"(fit errors {imp['front_speed_err'] / imp['front_speed']:.2%}, "
          f"{sur['front_speed_err'] / sur['front_speed']:.2%}); surrogate took {sur['surrogate_fraction']:.1%} of "
          f"{sur['burn_zone_steps']} burning zone-steps; refusals {json.dumps(sur['surrogate_failed'])}")
    if args.limits and loaded.detector is not None:
        limit_table(args, data_dir, imp)


if __name__ == "__main__":
    main()
