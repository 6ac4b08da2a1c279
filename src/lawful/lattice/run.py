"""Run Markov chains of lattice φ⁴ or 2D U(1) gauge theory to an HDF5 ensemble, checkpointing atomically and resuming.

``run(cfg)`` validates everything before any work, refuses an output directory that holds a different run,
resumes from ``<out>/ensemble.h5`` when it holds the same run (``n_traj`` may grow to extend it), checkpoints
every ``checkpoint_seconds`` and on Ctrl-C (then re-raises ``KeyboardInterrupt``), and returns a summary.
A resumed run continues every chain's random stream exactly, so it is bitwise identical to an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lawful.core.lifecycle import check_run_directory, checkpointing, claim_run_directory
from lawful.core.progress import progress
from lawful.core.rng import generator_state, generators, restore_generator
from lawful.lattice import ensemble
from lawful.lattice.actions import Phi4
from lawful.lattice.config import Phi4RunConfig
from lawful.lattice.geometry import Lattice
from lawful.lattice.mcmc import make_sampler
from lawful.lattice.u1.config import U1RunConfig


@dataclass
class RunSummary:
    """What a call to :func:`run` did."""

    out: Path
    n_done: int
    n_new: int
    resumed_from: int
    seconds: float
    acceptance: float
    complete: bool

    @property
    def updates_per_second(self) -> float:
        return self.n_new / self.seconds if self.seconds > 0 else float("nan")


def build(cfg: Phi4RunConfig | U1RunConfig):
    """The action and sampler a config describes (raises ``ValueError`` on bad values, before any work)."""
    if cfg.theory == "u1":
        from lawful.lattice.u1 import samplers
        from lawful.lattice.u1.action import U1

        action = U1(cfg.size, cfg.beta)
        return action, samplers.make_sampler(cfg.sampler, action, n_steps=cfg.n_steps, traj_length=cfg.traj_length,
                                             integrator=cfg.integrator, delta=cfg.delta,
                                             n_overrelax=cfg.n_overrelax, instanton_moves=cfg.instanton_moves)
    action = Phi4(Lattice(cfg.dim, cfg.size), cfg.kappa, cfg.lam)
    sampler = make_sampler(cfg.sampler, action, n_steps=cfg.n_steps, traj_length=cfg.traj_length,
                           integrator=cfg.integrator, delta=cfg.delta)
    return action, sampler


def _restore_or_start(cfg: Phi4RunConfig | U1RunConfig, action: Any, out: Path):
    """State, generators, series buffers ``(C, max(n_total, n_done))``, updates done and the stored run's config
    (None when fresh); a directory holding another run is refused before its arrays are used."""
    path = out / ensemble.ENSEMBLE_FILE
    stored = None
    if path.exists():
        old = ensemble.read(path)
        stored = old.config_toml
        check_run_directory(cfg, out, stored)
        n_done = old.n_done  # asked for fewer updates than already done: all of them are kept
        gens = [restore_generator(s) for s in old.rng_states]
        phi, old_series = old.phi.copy(), old.series
    else:
        n_done, old_series = 0, {}
        gens = generators(cfg.seed, cfg.n_chains)
        phi = action.initial(cfg.n_chains, gens, cfg.start)
    series = {name: np.full((cfg.n_chains, max(cfg.n_total, n_done)), np.nan)
              for name in (*action.observables, *ensemble.CHAIN_SERIES)}
    for name, values in old_series.items():
        series[name][:, :n_done] = values
    return phi, gens, series, n_done, stored


def run(
    cfg: Phi4RunConfig | U1RunConfig,
    *,
    show_progress: bool | None = None,
    on_update: Callable[[int], None] | None = None,
) -> RunSummary:
    """Run (or resume) the chains ``cfg`` describes; see the module docstring. ``on_update(i)`` is called
    after update ``i`` has been recorded (used by tests to interrupt a run at a chosen point)."""
    action, sampler = build(cfg)
    out = Path(cfg.out)
    phi, gens, series, n_start, stored = _restore_or_start(cfg, action, out)
    toml_text = claim_run_directory(cfg, out, stored)
    ensemble.drop_config_chunks_from(out, n_start)
    n_total = series["S"].shape[1]
    saved_idx: list[int] = []
    saved_phi: list[np.ndarray] = []

    def checkpoint(n_done: int) -> None:
        if saved_idx:
            ensemble.write_config_chunk(out, saved_idx[0], np.array(saved_idx), np.stack(saved_phi))
            saved_idx.clear()
            saved_phi.clear()
        ens = ensemble.Ensemble(
            config_toml=toml_text, seed=cfg.seed, n_therm=cfg.n_therm, volume=cfg.volume,
            series={k: v[:, :n_done] for k, v in series.items()}, phi=phi,
            rng_states=[generator_state(g) for g in gens], complete=n_done >= n_total,
        )
        ensemble.write(out / ensemble.ENSEMBLE_FILE, ens)

    t0 = time.perf_counter()
    i = n_start
    accepted = 0.0  # running sum of acceptance over this call's updates (for the progress display)
    with checkpointing(lambda: checkpoint(i), cfg.checkpoint_seconds) as checkpoints:
        with progress(show_progress) as prog:
            task = prog.add_task(f"{cfg.sampler} {cfg.label}", total=n_total, completed=n_start,
                                 info="")
            while i < n_total:
                info = sampler.step(phi, gens)
                meas = action.measure(phi)
                for col, name in enumerate(action.observables):
                    series[name][:, i] = meas[:, col]
                series["acceptance"][:, i] = info.acceptance
                series["dH"][:, i] = info.dH
                accepted += float(np.sum(info.acceptance))
                i += 1
                if cfg.save_every and i % cfg.save_every == 0:
                    saved_idx.append(i)
                    saved_phi.append(phi.copy())
                if on_update is not None:
                    on_update(i)
                checkpoints.tick()
                if i % 64 == 0 or i == n_total:
                    acc = accepted / (cfg.n_chains * (i - n_start))
                    prog.update(task, completed=i, info=f"acc {acc:.3f}")
    checkpoint(i)
    seconds = time.perf_counter() - t0
    acc = accepted / (cfg.n_chains * (i - n_start)) if i > n_start else float("nan")
    return RunSummary(out=out, n_done=i, n_new=i - n_start, resumed_from=n_start, seconds=seconds,
                      acceptance=acc, complete=i >= n_total)
