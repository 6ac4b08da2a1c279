"""Fit a burn surrogate to ``data.h5``: Adam with cosine decay, atomic checkpoints, bitwise resume.

Loss per sample: mean over species of |u − u_ref| for the net's raw output u (u = asinh(ΔX/δ)/10: about the
relative error of each change above δ = 1e-10; an L1 loss that a few hard samples cannot dominate), plus
``energy_weight`` times the relative error |ε − ε_ref| / (|ε_ref| + 1e10 erg/g) of the energy released by the
conserving change. (The species term sees the raw output: gradients through the mass projection couple every
species to every other and made training stall.) After training, the threshold below which the predictor alone is
trusted (:func:`~lawful.burn.surrogate.model.pick_trust`) is picked on the training data, and the error
detector (:mod:`lawful.burn.surrogate.detector`) is fitted to the finished net's errors on the training zones
the guard's physics checks accept.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from lawful.burn.surrogate.accuracy import ENERGY_FLOOR, MAJOR
from lawful.burn.surrogate.config import SurrogateTrainConfig
from lawful.core.schedule import Budget, cosine

CHECKPOINT = "checkpoint.pt"
#: training samples on which the predictor-trust threshold is picked
TRUST_SAMPLES = 20000
#: the guard's residual threshold is this quantile of the reference steps' own residuals (training set)
GUARD_QUANTILE = 0.97
#: zones hotter than the lowest T above which the finished guard accepts less than this share of the training
#: proposals go straight to the fallback (``guard["T_skip"]``; the proposals would cost more than they save)
SKIP_ACCEPTANCE = 0.1
#: training rows the skip temperature is measured on, and the fewest rows above it
SKIP_SAMPLES, SKIP_MIN_ROWS = 40000, 200


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


def accepted_by_all(step, prep, rho, T, X, dt) -> np.ndarray:
    """[N] bool: the zones (ρ, T, Δt [N], X [N, n]) whose proposals the guard of ``step`` on ``prep``
    (:class:`Prepared`) accepts under every candidate threshold of the predictor-trust selection
    (:data:`~lawful.burn.surrogate.model.TRUST_CANDIDATES`)."""
    import torch

    from lawful.burn.eos import StellarEOS
    from lawful.burn.surrogate.guard import propose
    from lawful.burn.surrogate.model import TRUST_CANDIDATES

    loaded = prep.loaded(step)
    opts = StellarEOS(table=True).options()
    ok = np.ones(rho.shape[0], dtype=bool)
    with torch.no_grad():
        for trust in TRUST_CANDIDATES:
            ok &= propose(loaded, prep.network, opts, rho, T, X, dt, trust=trust).accept
    return ok


@dataclasses.dataclass
class Prepared:
    """What a fit needs from a data set: the data ``d`` (:func:`lawful.burn.surrogate.data.load`), its
    ``network``, the training rows ``rows`` [M] the predictor could take, the predictor's change ``dX_p`` and
    error estimate ``eX_p`` [M, n] on them, the guard thresholds, the (log ρ, log T, log Δt) domain and the
    predictor's ``substeps``."""

    d: dict
    network: object
    rows: np.ndarray
    dX_p: np.ndarray
    eX_p: np.ndarray
    guard: dict
    domain: dict
    substeps: int = 1

    def zones(self, pick: np.ndarray) -> list[np.ndarray]:
        """ρ, T, X, Δt of the training rows ``pick`` (indices into ``rows``)."""
        return [self.d[k][self.rows[pick]] for k in ("rho", "T", "X", "dt")]

    def loaded(self, step):
        """``step`` (during or after training) as a :class:`~lawful.burn.surrogate.store.LoadedSurrogate` with
        this data's guard, domain and predictor (no error detector), for the guard's ``propose``."""
        from lawful.burn.surrogate.store import LoadedSurrogate

        net = self.network
        return LoadedSurrogate(step, net.name, tuple(net.names), self.domain, self.guard, {}, Path(),
                               substeps=self.substeps)


def prepare(data_dir, substeps: int = 1) -> Prepared:
    """Load a data set and run the predictor (in ``substeps``) over its training rows: its ΔX feeds the net, its LU
    calibrates the guard; the rows it cannot take are left out."""
    from lawful.burn.eos import StellarEOS
    from lawful.burn.network import Network
    from lawful.burn.surrogate import data as sdata
    from lawful.burn.surrogate.model import domain_of
    from lawful.burn.surrogate.predictor import Prediction

    d = sdata.load(data_dir)
    net = Network(d["network"])
    rows = np.flatnonzero(~d["held_out"])
    if rows.size == 0:
        raise ValueError(f"{data_dir} holds no training samples (all held out)")
    pred = Prediction(net, StellarEOS(table=True).options(), d["rho"][rows], d["T"][rows], d["X"][rows],
                      d["dt"][rows], substeps)
    # the ash limit is the hottest state the model was trained from (generate's T_max leaves out hotter ones)
    guard = {"residual": guard_threshold(pred, d["T_new"][rows], d["X_new"][rows]), "clip": 1e-6,
             "T_ash_max": float(d["T"][rows].max())}
    # the domain is the box the data cover (a zone inside it that the predictor cannot take fails that check)
    domain = domain_of(d["rho"][rows], d["T"][rows], d["dt"][rows], d["X"][rows])
    return Prepared(d, net, rows[pred.ok], pred.dX[pred.ok], pred.eX[pred.ok], guard, domain, substeps)


def new_step(prep: Prepared, hidden: list[int], seed: int):
    """An untrained step for ``prep``'s network with its feature standardization and nuclear data set."""
    import torch

    from lawful.burn.surrogate.model import build_step, feature_stats

    torch.manual_seed(seed)
    step = build_step(len(prep.network.names), hidden)
    all_rows = np.arange(prep.rows.size)
    feature_stats(step, *prep.zones(all_rows), prep.dX_p)
    with torch.no_grad():
        step.A.copy_(torch.as_tensor(prep.network.A))
        step.binding.copy_(torch.as_tensor(prep.network.binding))
    return step


def optimizer(step, budget: Budget, lr: float):
    """Adam with a cosine decay of the learning rate from ``lr`` to 0 over ``budget.horizon`` steps (the step
    budget, or the steps the time budget allows): (optimizer, scheduler)."""
    import torch

    opt = torch.optim.Adam(step.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: cosine(k, budget.horizon))
    return opt, sched


def training_tensors(prep: Prepared, device="cpu") -> dict:
    """The float32 training tensors of every prepared row, on ``device``."""
    import torch

    t = _tensors(prep.d, prep.dX_p, prep.rows, torch.float32)
    return {"inputs": tuple(a.to(device) for a in t["inputs"]), "u": t["u"].to(device),
            "enuc": t["enuc"].to(device)}


def training_step(step, opt, tensors: dict, batch_size: int, energy_weight: float, gen):
    """One Adam step on ``batch_size`` rows drawn with ``gen`` (a torch.Generator on the tensors' device);
    returns the (species, energy) loss terms. The caller steps the learning-rate schedule."""
    import torch

    pick = torch.randint(tensors["u"].shape[0], (batch_size,), generator=gen, device=gen.device)
    batch = {"inputs": tuple(a[pick] for a in tensors["inputs"]), "u": tensors["u"][pick],
             "enuc": tensors["enuc"][pick]}
    species, energy = loss_terms(step, batch)
    opt.zero_grad()
    (species + energy_weight * energy).backward()
    opt.step()
    return species, energy


def finish(step, prep: Prepared) -> None:
    """Set ``step``'s predictor-trust threshold, picked on up to :data:`TRUST_SAMPLES` training rows among the
    zones the guard accepts under every candidate."""
    import torch

    from lawful.burn.surrogate import data as sdata
    from lawful.burn.surrogate.model import pick_trust

    pick = np.arange(0, prep.rows.size, max(1, prep.rows.size // TRUST_SAMPLES))
    zones = prep.zones(pick)
    rows = prep.rows[pick]
    judged = accepted_by_all(step, prep, *zones)
    with torch.no_grad():
        step.trust.fill_(pick_trust(step, *zones, prep.dX_p[pick], prep.eX_p[pick], prep.d["enuc"][rows],
                                    sdata.from_hydro(prep.d["group"][rows]), ENERGY_FLOOR, judged))


def skip_temperature(loaded, prep: Prepared) -> float:
    """The lowest temperature T_s (K) such that the guard of ``loaded`` (the finished model, detector included)
    accepts less than :data:`SKIP_ACCEPTANCE` of the proposals for training rows hotter than T_s (at least
    :data:`SKIP_MIN_ROWS` of them; up to :data:`SKIP_SAMPLES` rows, evenly spaced); inf when no such T_s exists.
    Near NSE (aprox13 above ~8e9 K) the guard refuses almost everything, and skipping saves the proposals."""
    from lawful.burn.eos import StellarEOS
    from lawful.burn.surrogate.guard import propose

    pick = np.arange(0, prep.rows.size, max(1, prep.rows.size // SKIP_SAMPLES))
    rho, T, X, dt = prep.zones(pick)
    accept = propose(loaded, prep.network, StellarEOS(table=True).options(), rho, T, X, dt).accept
    order = np.argsort(T)[::-1]  # hottest first
    share = np.cumsum(accept[order]) / np.arange(1, order.size + 1)  # acceptance above each T, going down
    ok = (share < SKIP_ACCEPTANCE) & (np.arange(1, order.size + 1) >= SKIP_MIN_ROWS)
    if not ok.any():
        return float("inf")
    k = np.flatnonzero(ok)[-1]  # the most rows (the lowest T) that still meet the bound
    return float(T[order[k]])


def fit_error_detector(step, prep: Prepared, seed: int, steps: int):
    """The error detector of the finished ``step``, fitted to its error scores on every training row that the
    guard's physics checks accept (:func:`lawful.burn.surrogate.detector.fit_detector`, ``steps`` Adam steps)."""
    from lawful.burn.eos import StellarEOS
    from lawful.burn.surrogate.detector import error_score, fit_detector
    from lawful.burn.surrogate.guard import propose

    zones = prep.zones(np.arange(prep.rows.size))
    p = propose(prep.loaded(step), prep.network, StellarEOS(table=True).options(), *zones, features=True)
    score = error_score(p.X, p.enuc, prep.d["X_new"][prep.rows], prep.d["enuc"][prep.rows], major=MAJOR,
                        energy_floor=ENERGY_FLOOR)
    return fit_detector(p.features[p.accept], score[p.accept], seed, steps)


def train(cfg: SurrogateTrainConfig, *, show_progress: bool | None = None) -> Path:
    """Train (or resume) and write ``out/model.pt``; returns the model directory."""
    import torch

    from lawful.burn.surrogate import store
    from lawful.core.lifecycle import check_run_directory, checkpointing, claim_run_directory
    from lawful.core.progress import progress
    from lawful.core.rng import torch_generators
    from lawful.core.training import TrainingState

    out = Path(cfg.out)
    ckpt_path = out / CHECKPOINT
    check_run_directory(cfg, out)  # before the data are read
    prep = prepare(cfg.data, cfg.predictor_substeps)
    cfg_toml = claim_run_directory(cfg, out)
    step = new_step(prep, cfg.hidden, cfg.seed)
    tensors = training_tensors(prep)
    budget = Budget(cfg.steps, cfg.seconds)
    opt, sched = optimizer(step, budget, cfg.lr)
    gen = torch_generators(cfg.seed, 1)[0]
    state = TrainingState(step, opt, sched, gen)
    if ckpt_path.exists():
        state.load_state_dict(torch.load(ckpt_path, map_location="cpu", weights_only=True))

    def checkpoint() -> None:
        state.save(ckpt_path)

    state.start_clock()
    with checkpointing(checkpoint, cfg.checkpoint_seconds) as checkpoints:
        with progress(show_progress) as prog:
            task = prog.add_task("surrogate", total=cfg.steps, completed=state.step)
            while state.step < cfg.steps and state.seconds < cfg.seconds:
                species, energy = training_step(step, opt, tensors, cfg.batch_size, cfg.energy_weight, gen)
                state.end_step(budget)
                if state.step % 100 == 0:
                    state.history.append([state.step, species.item(), energy.item()])
                    loss = species.item() + cfg.energy_weight * energy.item()
                    prog.update(task, completed=state.step, description=f"surrogate loss {loss:.2e}")
                checkpoints.tick()
    checkpoint()
    finish(step, prep)
    detector, guard = None, dict(prep.guard)
    if cfg.detector:
        detector = fit_error_detector(step, prep, cfg.seed, cfg.detector_steps)
        guard["error"] = math.log10(cfg.error_limit)
    loaded = dataclasses.replace(prep.loaded(step), guard=guard, detector=detector)
    guard["T_skip"] = skip_temperature(loaded, prep)
    store.save(out, step, prep.network, domain=prep.domain, guard=guard, config_toml=cfg_toml, detector=detector,
               substeps=prep.substeps,
               train={"steps": state.step, "seconds": state.seconds, "samples": int(prep.rows.size),
                      "history": state.history, "data": str(cfg.data)})
    return out
