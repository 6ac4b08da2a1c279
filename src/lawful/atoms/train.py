"""Train a Deep Potential (a committee of ``committee`` members) on labelled frames.

Loss of a batch of B frames, each frame's terms scaled by its label's spread over the training set (σ_E of the
per-atom energy after the reference energies, the RMS force component σ_F, the spread of the stress components
σ_S)::

    L = (1/B) Σ_b [ p_e ((E_b − Ê_b)/N_b)²/σ_E² + p_f mean_i,α (F − F̂)²/σ_F² + p_v mean_αβ (σ − σ̂)²/σ_S² ]

with DeePMD's prefactor schedule p = p_limit + (p_start − p_limit)·lr(t)/lr(0) and its key names
(``start_pref_e`` … ``limit_pref_v``; defaults: energy 0.02 → 1, force 1000 → 1, virial 0 → 1). Adam; the
learning rate decays exponentially from ``lr`` to ``lr_stop`` over the
horizon of :class:`lawful.core.schedule.Budget` — the step budget, or the steps ``train_seconds`` allow, whichever
ends first — so a shorter budget runs the whole schedule faster instead of stopping half-way down it. The weights
kept are an exponential moving average (``ema_decay``); gradient norms above ``clip_factor`` × their running
mean are clipped. Validation metrics (on ``val_fraction`` of the frames,
seeded) are recorded every ``eval_every`` steps. A checkpoint (atomic, on a timer and on Ctrl-C) holds every
finished member and the current member's whole training state; the same command resumes it bitwise.

Data parallel: under ``torchrun`` (``WORLD_SIZE`` > 1, gloo), every rank draws the same global batch and takes its
share of the frames; gradients are summed over ranks with ``all_reduce`` before each step, so the run is the
1-process run up to reduction order. (The force loss needs a double backward, which DDP's gradient hooks do not
follow, so the all-reduce is explicit.)
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat, LayerWidths
from lawful.core.schedule import Budget

CHECKPOINT = "checkpoint.pt"
#: frames whose pairs set the descriptor's input statistics
STAT_FRAMES = 64


class TrainConfig(Config):
    """What ``lawful atoms train`` fits (Å, eV, s)."""

    data: Path = pydantic.Field(Path("runs/atoms/data"), description="a data directory (its train.extxyz) or an "
                                                                      "extxyz file")
    out: Path = pydantic.Field(Path("runs/atoms/model"), description="output directory (model.pt)")
    energy_key: str = pydantic.Field("energy", description="extxyz info key of the energy (eV)")
    forces_key: str = pydantic.Field("forces", description="extxyz arrays key of the forces (eV/A)")
    stress_key: str = pydantic.Field("stress", description="extxyz info key of the stress (eV/A^3, ASE's sign)")
    rcut: FiniteFloat = pydantic.Field(6.0, gt=0.0, description="cutoff radius (A)")
    rcut_smth: FiniteFloat = pydantic.Field(2.0, gt=0.0, description="where the switching starts (A)")
    embed: LayerWidths = pydantic.Field([16, 32], description="embedding net widths (the last is M1)")
    axis: int = pydantic.Field(8, ge=1, description="M2: embedding columns in the second factor of D")
    fit: LayerWidths = pydantic.Field([64, 64], description="fitting net hidden widths")
    force_head: bool = pydantic.Field(False, description="direct forces from a head (not conservative: a control)")
    n_train: int = pydantic.Field(0, ge=0, description="training frames (0: all but the validation share)")
    committee: int = pydantic.Field(1, ge=1, le=16, description="members (different seeds; >= 2 for the guard)")
    dtype: Literal["float32", "float64"] = pydantic.Field("float32", description="training dtype")
    steps: int = pydantic.Field(1_000_000, ge=1, description="optimizer steps per member (at most)")
    train_seconds: FiniteFloat = pydantic.Field(600.0, gt=0.0, description="wall-time budget per member (s)")
    batch_size: int = pydantic.Field(2, ge=1, description="frames per step")
    lr: FiniteFloat = pydantic.Field(1e-2, gt=0.0, description="initial learning rate")
    lr_stop: FiniteFloat = pydantic.Field(1e-4, gt=0.0, description="learning rate at the end of the budget")
    start_pref_e: FiniteFloat = pydantic.Field(0.02, ge=0.0, description="energy prefactor at the start")
    limit_pref_e: FiniteFloat = pydantic.Field(1.0, ge=0.0, description="energy prefactor at the end")
    start_pref_f: FiniteFloat = pydantic.Field(1000.0, ge=0.0, description="force prefactor at the start")
    limit_pref_f: FiniteFloat = pydantic.Field(1.0, ge=0.0, description="force prefactor at the end")
    start_pref_v: FiniteFloat = pydantic.Field(0.0, ge=0.0, description="virial prefactor at the start")
    limit_pref_v: FiniteFloat = pydantic.Field(1.0, ge=0.0, description="virial prefactor at the end")
    ema_decay: FiniteFloat = pydantic.Field(0.999, ge=0.0, lt=1.0, description="decay of the weights' moving average")
    clip_factor: FiniteFloat = pydantic.Field(10.0, ge=0.0, description="clip gradient norms above this x their "
                                                                       "running mean (0: never)")
    val_fraction: FiniteFloat = pydantic.Field(0.1, gt=0.0, lt=1.0, description="share of frames for validation")
    eval_every: int = pydantic.Field(2000, ge=1, description="steps between validation records")
    seed: int = pydantic.Field(0, ge=0, description="root seed (split, initial weights, batches)")
    checkpoint_seconds: FiniteFloat = pydantic.Field(60.0, gt=0.0, description="seconds between checkpoints")

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"out", "checkpoint_seconds", "train_seconds", "steps"})

    @pydantic.model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.rcut_smth >= self.rcut:
            raise ValueError(f"rcut_smth = {self.rcut_smth} must be below rcut = {self.rcut}")
        if self.lr_stop > self.lr:
            raise ValueError(f"lr_stop = {self.lr_stop} exceeds lr = {self.lr}")
        return self

    def keys(self):
        from lawful.atoms.frames import LabelKeys

        return LabelKeys(self.energy_key, self.forces_key, self.stress_key)


def data_file(path: Path) -> Path:
    """A data directory's ``train.extxyz``, or the file itself."""
    from lawful.atoms.data import TRAIN_FILE

    path = Path(path)
    return path / TRAIN_FILE if path.is_dir() else path


class Tensors:
    """Training frames as model inputs and torch labels, batched on demand."""

    def __init__(self, labelled, species: list[int], rcut: float, dtype):
        import torch

        from lawful.atoms.frames import frame_arrays

        self.arrays = [frame_arrays(a, species, rcut) for a in labelled.frames]
        self.energy = torch.as_tensor(labelled.energy, dtype=dtype)
        self.forces = [torch.as_tensor(f, dtype=dtype) for f in labelled.forces]
        self.stress = torch.as_tensor(labelled.stress, dtype=dtype)
        self.n_atoms = torch.as_tensor([len(a) for a in labelled.frames], dtype=dtype)
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.arrays)

    def batch(self, idx):
        """(graph, energy [B], forces [N, 3], stress [B, 3, 3], atoms [B]) of the frames ``idx``."""
        import torch

        from lawful.atoms.frames import graph

        idx = [int(k) for k in idx]
        return (graph([self.arrays[k] for k in idx], self.dtype), self.energy[idx],
                torch.cat([self.forces[k] for k in idx]), self.stress[idx], self.n_atoms[idx])


def spreads(t: Tensors, e_ref, species_counts) -> dict:
    """The labels' spreads over the frames of ``t``: σ_E (eV/atom), σ_F (eV/Å), σ_S (eV/Å³)."""
    import torch

    resid = (t.energy - species_counts @ e_ref) / t.n_atoms
    f = torch.cat(t.forces)
    s = t.stress[torch.isfinite(t.stress).all(dim=(1, 2))]
    return {"energy": float(resid.std().clamp_min(1e-6)) if len(t) > 1 else 1.0,
            "forces": float(f[torch.isfinite(f)].pow(2).mean().sqrt().clamp_min(1e-6)),
            "stress": float(s.std().clamp_min(1e-9)) if s.numel() else 1.0}


def counts(frames, species: list[int]) -> np.ndarray:
    """[B, types] atoms of each species in each frame."""
    return np.stack([np.bincount(np.searchsorted(species, f.numbers), minlength=len(species)) for f in frames])


def set_statistics(model, t: Tensors, e_ref, e_scale: float) -> None:
    """The model's input statistics from the pairs of up to :data:`STAT_FRAMES` frames, its reference energies
    ``e_ref`` and energy scale ``e_scale`` (eV; :func:`energy_scale`)."""
    import torch

    from lawful.atoms.deepmd import pair_vectors

    g, *_ = t.batch(range(min(len(t), STAT_FRAMES)))
    with torch.no_grad():
        d = pair_vectors(g.pos, g.frame, g.i, g.j, g.offset, torch.zeros(g.n_frames, 3, 3, dtype=t.dtype), False)
        s, _ = model.environment(d)
        r = torch.linalg.vector_norm(d, dim=1)
        env = torch.cat([s.unsqueeze(1), (s / r).unsqueeze(1) * d], dim=1)
        model.set_statistics(s, env, g.i.shape[0] / g.pos.shape[0], e_ref, e_scale)


def energy_scale(cfg: TrainConfig, sigma: dict) -> float:
    """The fitting nets' output unit (eV per atom): σ_F × 1 Å when forces are trained (the forces then start at
    their labels' size), else σ_E, the spread of the per-atom energy: with σ_F's unit (65× σ_E for ethanol) an
    energy-only fit stayed on a plateau near the mean (ethanol, N = 1000, 300 s: test energy MAE 8.9 meV/atom
    with σ_F, 6.9 with σ_E)."""
    trains_forces = max(cfg.start_pref_f, cfg.limit_pref_f) > 0
    return sigma["forces"] if trains_forces else sigma["energy"]


def batch_loss(model, batch, sigma: dict, pref: tuple[float, float, float], n_global: int):
    """(loss, (energy, force, virial) terms as sums over the batch's frames) of one batch; the loss is the sum
    over its frames divided by the global batch size ``n_global`` (so ranks' losses add up to the mean)."""
    import torch

    g, energy, forces, stress, n_atoms = batch
    if pref[1] == 0 and pref[2] == 0 and not model.force_head:  # energy only: no derivatives to train through
        _, e = model.frame_energies(*g.inputs(), **g.pairs())
        f, s = None, None
    else:
        want_v = pref[2] > 0 and bool(torch.isfinite(stress).all(dim=(1, 2)).any())
        _, e, f, s = model.energy_forces_stress(*g.inputs(), create_graph=True, stress=want_v, **g.pairs())
    term_e = ((e - energy) / n_atoms).pow(2) / sigma["energy"] ** 2
    term_f = torch.zeros_like(e)
    if f is not None:
        df = (f - forces).pow(2).sum(1)
        term_f = term_f.index_add(0, g.frame, df) / (3 * n_atoms) / sigma["forces"] ** 2
    term_v = torch.zeros_like(e)
    if s is not None:
        has = torch.isfinite(stress).all(dim=(1, 2))
        term_v = torch.where(has, (s - torch.nan_to_num(stress)).pow(2).mean(dim=(1, 2)), term_v) / sigma["stress"] ** 2
    terms = torch.stack([term_e.sum(), term_f.sum(), term_v.sum()])
    loss = (pref[0] * terms[0] + pref[1] * terms[1] + pref[2] * terms[2]) / n_global
    return loss, terms


def prefactors(cfg: TrainConfig, lr_now: float) -> tuple[float, float, float]:
    """DeePMD's prefactors at learning rate ``lr_now``."""
    x = lr_now / cfg.lr
    return tuple(getattr(cfg, f"limit_pref_{k}") + (getattr(cfg, f"start_pref_{k}") - getattr(cfg, f"limit_pref_{k}"))
                 * x for k in "efv")


def optimizer(model, cfg: TrainConfig, budget: Budget):
    """Adam with lr(t) = lr·(lr_stop/lr)^(t/horizon), the horizon from ``budget``: (optimizer, scheduler)."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    ratio = cfg.lr_stop / cfg.lr
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: ratio ** min(k / budget.horizon, 1.0))
    return opt, sched



class GradientClip:
    """Clip the gradient norm at ``factor`` × its running mean (decay 0.99; the mean follows the clipped norms):
    with the force prefactor at 1000, rare batches give gradients 60× the median, and one such step at the
    starting learning rate can saturate every tanh and end the training."""

    def __init__(self, factor: float):
        self.factor, self.mean = factor, 0.0

    def __call__(self, model) -> None:
        import torch

        if self.factor <= 0:
            return
        limit = self.factor * self.mean if self.mean > 0 else float("inf")
        norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), limit))
        self.mean = norm if self.mean == 0 else 0.99 * self.mean + 0.01 * min(norm, limit)


class EMA:
    """Exponential moving average of a module's parameters and buffers (the weights a training keeps):
    decay min(``decay``, (1 + t)/(10 + t)) at step t, so early averages are not dominated by the initial weights."""

    def __init__(self, model, decay: float):
        self.model, self.decay = copy.deepcopy(model), decay
        for p in self.model.parameters():
            p.requires_grad_(False)

    def update(self, model, step: int) -> None:
        import torch

        d = min(self.decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for a, b in zip(self.model.parameters(), model.parameters()):
                a.mul_(d).add_(b, alpha=1 - d)
            for a, b in zip(self.model.buffers(), model.buffers()):
                a.copy_(b)


def _distributed() -> tuple[int, int]:
    """(rank, world size) of a torchrun launch (gloo initialised here), else (0, 1)."""
    import os

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank(), world


def _all_reduce(model, terms, world: int) -> None:
    """Sum the gradients of ``model`` and the loss ``terms`` over the ranks."""
    if world == 1:
        return
    import torch.distributed as dist

    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
    dist.all_reduce(terms)


def split(n: int, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) frame indices: a seeded permutation, ``val_fraction`` (at least 1) held out, and of
    the rest the first ``n_train`` (all if 0) for training."""
    if n < 2:
        raise ValueError(f"{n} frame(s): training needs at least 2 (one for validation)")
    perm = np.random.default_rng([cfg.seed, 1]).permutation(n)
    n_val = max(1, int(round(cfg.val_fraction * n)))
    if cfg.n_train > n - n_val:
        raise ValueError(f"n_train = {cfg.n_train} exceeds the {n - n_val} frames left after {n_val} for validation")
    stop = n_val + cfg.n_train if cfg.n_train else n
    return np.sort(perm[n_val:stop]), np.sort(perm[:n_val])


def train(cfg: TrainConfig, *, show_progress: bool | None = None, on_step=None) -> Path:
    """Train (or resume) the committee of ``cfg`` and write ``out/model.pt``; returns its path. ``on_step(step)``
    runs after every optimizer step (a test's hook)."""
    import torch

    from lawful.atoms.errors import errors
    from lawful.atoms.frames import read_labelled
    from lawful.atoms.potential import Potential, build_members, species_of
    from lawful.core.io import atomic_torch_save
    from lawful.core.lifecycle import check_run_directory, checkpointing, claim_run_directory
    from lawful.core.progress import progress
    from lawful.core.training import TrainingState, deterministic

    out = Path(cfg.out)
    ckpt_path = out / CHECKPOINT
    check_run_directory(cfg, out)  # before the data are read
    need = {"need_forces": max(cfg.start_pref_f, cfg.limit_pref_f) > 0,
            "need_stress": max(cfg.start_pref_v, cfg.limit_pref_v) > 0}
    labelled = read_labelled(data_file(cfg.data), cfg.keys(), **need)
    rank, world = _distributed()
    if cfg.batch_size % world:
        raise ValueError(f"batch_size = {cfg.batch_size} must be a multiple of the {world} processes")
    out.mkdir(parents=True, exist_ok=True)
    cfg_toml = claim_run_directory(cfg, out) if rank == 0 else ""
    dtype = getattr(torch, cfg.dtype)
    species = species_of(labelled.frames)
    data = Tensors(labelled, species, cfg.rcut, dtype)
    train_idx, val_idx = split(len(data), cfg)
    n_by_species = counts(labelled.frames, species)
    e_ref = np.linalg.lstsq(n_by_species[train_idx].astype(float), labelled.energy[train_idx], rcond=None)[0]
    e_ref_t = torch.as_tensor(e_ref, dtype=dtype)
    sigma = spreads(data, e_ref_t, torch.as_tensor(n_by_species, dtype=dtype))
    hyper = {"rcut": cfg.rcut, "rcut_smth": cfg.rcut_smth, "embed": cfg.embed, "axis": cfg.axis, "fit": cfg.fit,
             "force_head": cfg.force_head}
    finished: list[dict] = []
    histories: list[list] = []
    member, resume = 0, None
    if ckpt_path.exists():
        resume = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        finished, histories, member = resume["finished"], resume["histories"], int(resume["member"])
    with progress(show_progress if rank == 0 else False) as prog, deterministic():
        while member < cfg.committee:
            torch.manual_seed(cfg.seed * 1000 + member)
            model = build_members(species, hyper, 1, dtype)[0]
            set_statistics(model, data, e_ref_t, energy_scale(cfg, sigma))
            ema = EMA(model, cfg.ema_decay)
            budget = Budget(cfg.steps, cfg.train_seconds)
            clip = GradientClip(cfg.clip_factor)
            opt, sched = optimizer(model, cfg, budget)
            gen = torch.Generator().manual_seed(cfg.seed * 1000 + member)
            state = TrainingState(model, opt, sched, gen)
            if resume is not None and resume["state"] is not None:  # the member the checkpoint was taken in
                state.load_state_dict(resume["state"])
                ema.model.load_state_dict(resume["ema"])
                clip.mean = float(resume["grad_norm"])
                budget.update(state.step, state.seconds)
            resume = None

            def checkpoint(state=state, ema=ema, member=member, clip=clip) -> None:
                if rank == 0:
                    atomic_torch_save(ckpt_path, {"finished": finished, "histories": histories, "member": member,
                                      "state": state.state_dict(), "ema": ema.model.state_dict(),
                                      "grad_norm": clip.mean})

            task = prog.add_task(f"member {member}", total=None, info="")

            def record(train_terms: list, state=state, ema=ema, sched=sched, task=task) -> None:
                val = errors(ema.model, data, val_idx)
                state.history.append({"step": state.step, "seconds": state.seconds, "lr": sched.get_last_lr()[0],
                                      "train": train_terms, **val})
                prog.update(task, completed=state.step,
                            info=f"validation force RMSE {val['force_rmse_mev_a']:.1f} meV/Å")

            last = state.history[-1]["train"] if state.history else [math.nan] * 3
            state.start_clock()
            with checkpointing(checkpoint, cfg.checkpoint_seconds) as checkpoints:
                while state.step < cfg.steps and state.seconds < cfg.train_seconds:
                    pick = torch.randint(len(train_idx), (cfg.batch_size,), generator=gen)
                    local = train_idx[pick.numpy()][rank::world]
                    pref = prefactors(cfg, sched.get_last_lr()[0])
                    loss, terms = batch_loss(model, data.batch(local), sigma, pref, cfg.batch_size)
                    opt.zero_grad()
                    loss.backward()
                    terms = terms.detach()
                    _all_reduce(model, terms, world)
                    clip(model)
                    opt.step()
                    ema.update(model, state.step)
                    state.end_step(budget)
                    last = (terms / cfg.batch_size).tolist()
                    if state.step % cfg.eval_every == 0 or state.step == 1:
                        record(last)
                    if on_step is not None:
                        on_step(state.step)
                    checkpoints.tick()
            if state.history[-1]["step"] != state.step:  # the finished member's own validation
                record(last)
            histories.append(state.history)
            finished.append(ema.model.state_dict())
            member += 1
            if rank == 0:
                atomic_torch_save(ckpt_path, {"finished": finished, "histories": histories, "member": member,
                                              "state": None})
    members = build_members(species, hyper, cfg.committee, dtype)
    for m, sd in zip(members, finished):
        m.load_state_dict(sd)
    final = errors(members[0], data, val_idx)
    potential = Potential(species, members, record={
        "config": cfg_toml, "species": species, "sigma": sigma, "e_ref": e_ref.tolist(),
        "frames": {"train": int(train_idx.size), "validation": int(val_idx.size)}, "validation": final,
        "histories": histories, "data": str(cfg.data)})
    if cfg.committee > 1:
        from lawful.atoms.guard import calibrate

        potential.guard = calibrate(potential, [labelled.frames[k] for k in val_idx],
                                    [labelled.forces[k] for k in val_idx])
    if rank == 0:
        from lawful.atoms.plots import learning_curves

        potential.save(out)
        learning_curves(histories, out)
    return out / "model.pt"

