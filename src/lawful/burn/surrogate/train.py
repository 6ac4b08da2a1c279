"""Fit a burn surrogate to ``data.h5``: Adam with cosine decay, atomic checkpoints, bitwise resume.

Loss per sample: mean over species of |u − u_ref| for the net's raw output u (u = asinh(ΔX/δ)/10: about the
relative error of each change above δ = 1e-10; an L1 loss that a few hard samples cannot dominate), plus
``energy_weight`` times the relative error |ε − ε_ref| / (|ε_ref| + 1e10 erg/g) of the energy released by the
conserving change. (The species term sees the raw output: gradients through the mass projection couple every
species to every other and made training stall.) After training, the threshold below which the predictor alone is
trusted (:func:`~lawful.burn.surrogate.model.pick_trust`) is picked on the training data.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from lawful.burn.surrogate.config import SurrogateTrainConfig

CHECKPOINT = "checkpoint.pt"
#: floor of the energy-release relative error (erg/g): a step that releases less is judged in absolute terms
ENERGY_FLOOR = 1e10
#: training samples on which the predictor-trust threshold is picked
TRUST_SAMPLES = 20000
#: the guard's residual threshold is this quantile of the reference steps' own residuals (training set)
GUARD_QUANTILE = 0.97


def _tensors(d: dict, dX_p: np.ndarray, idx: np.ndarray, dtype):
    """Training tensors of the samples ``idx``; ``dX_p`` [len(idx), n] is the predictor's change for them."""
    import torch

    from lawful.burn.surrogate.model import target_u

    pick = {k: d[k][idx] for k in ("rho", "T", "X", "dt", "enuc")}
    return {"inputs": tuple(torch.as_tensor(a, dtype=dtype) for a in
                            (pick["rho"], pick["T"], pick["X"], pick["dt"], dX_p)),
            "u": torch.as_tensor(target_u(d["X_new"][idx] - d["X"][idx]), dtype=dtype),
            "enuc": torch.as_tensor(pick["enuc"], dtype=dtype)}


def loss_terms(step, batch):
    """(species loss, energy loss), both means over the batch."""
    rho, T, X, dt, dX_p = batch["inputs"]
    u = step.raw(rho, T, X, dt, dX_p)
    species = (u - batch["u"]).abs().mean()
    enuc = step.energy(step.compose(X, u)[3])
    energy = ((enuc - batch["enuc"]).abs() / (batch["enuc"].abs() + ENERGY_FLOOR)).mean()
    return species, energy


def guard_threshold(pred, T_new: np.ndarray, X_new: np.ndarray) -> float:
    """The residual threshold: the :data:`GUARD_QUANTILE` quantile of the reference end states' own residual,
    for the zones of ``pred`` (a :class:`~lawful.burn.surrogate.predictor.Prediction`) where the predictor ran."""
    from lawful.burn.surrogate.guard import residual_ratio

    r = residual_ratio(pred, T_new, X_new)
    return float(np.quantile(r[np.isfinite(r) & pred.ok], GUARD_QUANTILE))


def accepted_by_all(step, network, domain: dict, guard: dict, rho, T, X, dt) -> np.ndarray:
    """[N] bool: the zones (ρ, T, Δt [N], X [N, n]) whose proposals the guard accepts under every candidate
    threshold of the predictor-trust selection (:data:`~lawful.burn.surrogate.model.TRUST_CANDIDATES`)."""
    import torch

    from lawful.burn.eos import StellarEOS
    from lawful.burn.surrogate.guard import propose
    from lawful.burn.surrogate.model import TRUST_CANDIDATES
    from lawful.burn.surrogate.store import LoadedSurrogate

    loaded = LoadedSurrogate(step, network.name, tuple(network.names), domain, guard, {}, Path())
    opts = StellarEOS(table=True).options()
    ok = np.ones(rho.shape[0], dtype=bool)
    saved = step.trust.clone()
    with torch.no_grad():
        for trust in TRUST_CANDIDATES:
            step.trust.fill_(trust)
            ok &= propose(loaded, network, opts, rho, T, X, dt).accept
        step.trust.copy_(saved)
    return ok


def train(cfg: SurrogateTrainConfig, *, show_progress: bool | None = None) -> Path:
    """Train (or resume) and write ``out/model.pt``; returns the model directory."""
    import torch

    from lawful.burn.eos import StellarEOS
    from lawful.burn.network import Network
    from lawful.burn.surrogate import data as sdata
    from lawful.burn.surrogate import store
    from lawful.burn.surrogate.model import build_step, domain_of, feature_stats, pick_trust
    from lawful.burn.surrogate.predictor import Prediction
    from lawful.core.config import check_same_run, to_toml_text
    from lawful.core.io import atomic_write_bytes
    from lawful.core.progress import progress
    from lawful.core.rng import torch_generators

    d = sdata.load(cfg.data)
    net = Network(d["network"])
    out = Path(cfg.out)
    cfg_toml = to_toml_text(cfg)
    ckpt_path = out / CHECKPOINT
    if (out / "config.toml").exists():
        check_same_run(cfg, (out / "config.toml").read_text(), out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "config.toml", cfg_toml.encode())
    train_idx = np.flatnonzero(~d["held_out"])
    if train_idx.size == 0:
        raise ValueError(f"{cfg.data} holds no training samples (all held out)")
    # one predictor pass: its ΔX feeds the net, its LU calibrates the guard; zones it cannot take are left out
    pred = Prediction(net, StellarEOS(table=True).options(), d["rho"][train_idx], d["T"][train_idx],
                      d["X"][train_idx], d["dt"][train_idx])
    guard = {"residual": guard_threshold(pred, d["T_new"][train_idx], d["X_new"][train_idx]), "clip": 1e-6,
             "T_ash_max": 6.5e9}
    # the domain is the box the data cover (a zone inside it that the predictor cannot take fails that check)
    domain = domain_of(d["rho"][train_idx], d["T"][train_idx], d["dt"][train_idx])
    dX_p, eX_p, train_idx = pred.dX[pred.ok], pred.eX[pred.ok], train_idx[pred.ok]
    del pred  # its LU factors are (n+1)² floats per sample
    torch.manual_seed(cfg.seed)
    step = build_step(len(net.names), cfg.hidden)
    feature_stats(step, d["rho"][train_idx], d["T"][train_idx], d["X"][train_idx], d["dt"][train_idx], dX_p)
    with torch.no_grad():
        step.A.copy_(torch.as_tensor(net.A))
        step.binding.copy_(torch.as_tensor(net.binding))
    batches = _tensors(d, dX_p, train_idx, torch.float32)
    opt = torch.optim.Adam(step.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 * (1 + math.cos(math.pi * min(k / cfg.steps, 1.0))))
    gen = torch_generators(cfg.seed, 1)[0]
    done, seconds, history = 0, 0.0, []
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        step.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["schedule"])
        gen.set_state(ckpt["generator"])
        done, seconds, history = int(ckpt["step"]), float(ckpt["seconds"]), list(ckpt["history"])

    def checkpoint() -> None:
        import io

        buf = io.BytesIO()
        torch.save({"model": step.state_dict(), "optimizer": opt.state_dict(), "schedule": sched.state_dict(),
                    "generator": gen.get_state(), "step": done, "seconds": seconds + time.perf_counter() - start,
                    "history": history}, buf)
        atomic_write_bytes(ckpt_path, buf.getvalue())

    start = last = time.perf_counter()
    n = train_idx.size
    try:
        with progress(show_progress) as prog:
            task = prog.add_task("surrogate", total=cfg.steps, completed=done)
            while done < cfg.steps and seconds + time.perf_counter() - start < cfg.seconds:
                pick = torch.randint(n, (cfg.batch_size,), generator=gen)
                batch = {"inputs": tuple(a[pick] for a in batches["inputs"]), "u": batches["u"][pick],
                         "enuc": batches["enuc"][pick]}
                species, energy = loss_terms(step, batch)
                loss = species + cfg.energy_weight * energy
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                done += 1
                if done % 100 == 0:
                    history.append([done, species.item(), energy.item()])
                    prog.update(task, completed=done, description=f"surrogate loss {loss.item():.2e}")
                if time.perf_counter() - last > cfg.checkpoint_seconds:
                    checkpoint()
                    last = time.perf_counter()
    except KeyboardInterrupt:
        checkpoint()
        raise
    checkpoint()
    seconds += time.perf_counter() - start
    pick = np.arange(0, train_idx.size, max(1, train_idx.size // TRUST_SAMPLES))
    rows = train_idx[pick]
    zones = [d[k][rows] for k in ("rho", "T", "X", "dt")]
    judged = accepted_by_all(step, net, domain, guard, *zones)
    with torch.no_grad():
        step.trust.fill_(pick_trust(step, *zones, dX_p[pick], eX_p[pick], d["enuc"][rows],
                                    sdata.from_hydro(d["group"][rows]), ENERGY_FLOOR, judged))
    store.save(out, step, net, domain=domain, guard=guard, config_toml=cfg_toml,
               train={"steps": done, "seconds": seconds, "samples": int(n), "history": history,
                      "data": str(cfg.data)})
    return out
