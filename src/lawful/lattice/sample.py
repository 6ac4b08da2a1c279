"""``lawful lattice sample``: an independence Metropolis–Hastings chain fed by a trained model, written as an
ensemble that ``lawful lattice analyze`` reads like an HMC run.

Proposals are made in batches of ``batch_size``, by default in float32: the model's log q then differs from a
float64 evaluation by < 3e-5 on log-weights whose spread is 0.66 (measured on the L = 8 flow), far below any
statistical error, at 1/14 of the cost (fp64 convolutions have no fast CPU kernels); ``precision = "float64"``
is there for the doubtful. S is always evaluated in float64 on the proposed fields. Batch k of chain c is
drawn from its own stream ``SeedSequence([seed, c, k])``, which makes a resumed or extended chain bitwise equal to
an uninterrupted one wherever it was stopped. Besides the usual series, the ensemble stores every proposal's
log-weight (``extra/log_weight``, for ESS/N), the chains' current log-weights, the count of invalid (NaN/Inf)
proposals, and whether the log-density was exact (a Hutchinson trace makes it inexact; the analysis warns); for a
diffusion model also the estimated spread of its log q's ODE discretization error (``log_q_error_spread``), which
biases the chain where it is not small, and the ODE step count used. Unless ``ode_steps`` is set, the step count
starts at the trained one and is raised until that spread is at most
:data:`lawful.lattice.analysis.LOG_Q_SPREAD_MAX` (:meth:`Proposer.settle_ode_steps`); the analysis warns where it
is still above.
With ``hmc_every = k`` (flows) one HMC trajectory follows every k MH steps (:func:`_hmc_update`); the mixture
keeps e^{−S} invariant and stays exact. Chains are taken together (as many as fit 256 MiB of proposals), so each
interleaved trajectory and the flow density after it are one batched call for all of them; every chain keeps its
own streams, so the result does not depend on how they are grouped.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lawful.core.lifecycle import checkpointing, claim_run_directory
from lawful.core.progress import progress
from lawful.lattice import ensemble
from lawful.lattice.mh import log_weights, mh_batch
from lawful.lattice.run import RunSummary


@dataclass
class SampleSummary(RunSummary):
    """What a call to :func:`sample` did (updates are MH steps, one proposal each)."""

    n_invalid: int = 0


#: the most by which ``sample`` raises a diffusion model's ODE step count on its own (``ode_steps`` unset)
AUTO_ODE_FACTOR = 8


class Proposer:
    """Batched proposals of a trained model: ``(phi (n, V) float64, log_q (n,) float64)``."""

    def __init__(self, model: Any, ode_steps: int = 24, divergence: str = "exact",
                 precision: str = "float32") -> None:
        import torch

        if precision not in ("float32", "float64"):
            raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
        self.model = model.to(getattr(torch, precision))
        self.ode_steps = ode_steps
        self.divergence = divergence

    @property
    def exact(self) -> bool:
        return self.model.kind == "flow" or self.divergence == "exact"

    def settle_ode_steps(self, seed: int, auto: bool) -> float | None:
        """Estimate the spread of log q's ODE error (:meth:`log_q_error_spread`) and, if ``auto``, raise
        ``ode_steps`` until the estimate is at most :data:`~lawful.lattice.analysis.LOG_Q_SPREAD_MAX` (each raise
        from the second-order scaling, then measured again; at most :data:`AUTO_ODE_FACTOR` × the starting count).
        Returns the spread at the final count (``None`` where log q has no such error)."""
        from lawful.lattice.analysis import LOG_Q_SPREAD_MAX, steps_for_spread

        spread = self.log_q_error_spread(seed)
        start = self.ode_steps
        while auto and spread is not None and spread > LOG_Q_SPREAD_MAX and self.ode_steps < AUTO_ODE_FACTOR * start:
            need = max(steps_for_spread(self.ode_steps, spread), self.ode_steps + 1)
            self.ode_steps = min(need, AUTO_ODE_FACTOR * start)
            spread = self.log_q_error_spread(seed)
        return spread

    def log_q_error_spread(self, seed: int) -> float | None:
        """Diffusion with the exact divergence: the estimated spread of log q's ODE discretization error across
        proposals (:meth:`~lawful.lattice.diffusion.ScoreModel.log_q_error_spread`, 16 proposals from the stream
        ``[seed, 2**32]``, apart from the chains'); ``None`` for flows, whose log q is exact, and for a stochastic
        trace, which is flagged inexact already."""
        if self.model.kind == "flow" or self.divergence != "exact":
            return None
        gen = _torch_generator(np.random.SeedSequence([seed, 2**32]))
        return self.model.log_q_error_spread(16, self.ode_steps, gen)

    def log_q(self, phi: np.ndarray) -> np.ndarray:
        """Exact log q ``(n,)`` (float64) of given fields ``(n, V)``, in the proposals' precision (flows only: the
        couplings invert; a diffusion model's density of an arbitrary field would need the ODE run backwards)."""
        import torch

        if self.model.kind != "flow":
            raise ValueError(f"log q of given fields needs a flow, not a {self.model.kind} model")
        dtype = next(self.model.parameters()).dtype
        with torch.no_grad():
            x = torch.as_tensor(phi, dtype=dtype).reshape(len(phi), *self.model.shape)
            return self.model.log_prob(x).numpy().astype(np.float64)

    def __call__(self, n: int, generator: Any) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.no_grad():
            if self.model.kind == "flow":
                phi, logq = self.model.sample(n, generator)
            else:
                phi, logq = self.model.sample_ode(n, generator, self.ode_steps, self.divergence)
        return phi.reshape(n, -1).numpy().astype(np.float64), logq.numpy().astype(np.float64)


def _batch_streams(seed: int, chain: int, batch: int) -> tuple[Any, np.random.Generator]:
    """The torch generator (proposals) and numpy generator (accept/reject) of one batch of one chain."""
    ss = np.random.SeedSequence([seed, chain, batch])
    return _torch_generator(ss), np.random.Generator(np.random.PCG64(ss.spawn(1)[0]))


def _torch_generator(ss: np.random.SeedSequence) -> Any:
    """A torch generator seeded from a numpy seed sequence (63 bits of it)."""
    import torch

    g = torch.Generator()
    g.manual_seed(int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
    return g


def model_digest(model_dir: str | Path) -> str:
    """SHA-256 of the model file: a chain is only resumed with the very model that started it."""
    import hashlib

    from lawful.lattice.models import MODEL_FILE

    path = Path(model_dir)
    path = path / MODEL_FILE if path.is_dir() else path
    return hashlib.sha256(path.read_bytes()).hexdigest()


def default_out(cfg: Any) -> Path:
    return Path(cfg.out) if cfg.out is not None else Path(cfg.model) / "chain"


@dataclass
class Chains:
    """The MH chains between two steps: current fields ``phi`` (C, n_dof), their observables ``obs`` (C, n_obs) and MH
    log-weights ``log_w`` (C,), the proposals with a NaN/Inf log-weight so far, and the interleaved HMC
    trajectories run and accepted (``hmc_counts`` [2])."""

    phi: np.ndarray
    obs: np.ndarray
    log_w: np.ndarray
    n_invalid: int = 0
    hmc_counts: np.ndarray = field(default_factory=lambda: np.zeros(2))

    @classmethod
    def fresh(cls, n_chains: int, n_dof: int, n_obs: int) -> Chains:
        """Chains before their first step: no field accepted yet (log-weight −∞, observables NaN)."""
        return cls(np.zeros((n_chains, n_dof)), np.full((n_chains, n_obs), np.nan), np.full(n_chains, -np.inf))

    def copy(self) -> Chains:
        return Chains(self.phi.copy(), self.obs.copy(), self.log_w.copy(), self.n_invalid, self.hmc_counts.copy())

    def restore(self, saved: Chains) -> None:
        """Go back to ``saved`` (a :meth:`copy`), in place."""
        self.phi[:], self.obs[:], self.log_w[:] = saved.phi, saved.obs, saved.log_w
        self.n_invalid, self.hmc_counts[:] = saved.n_invalid, saved.hmc_counts


def sample(cfg: Any, *, show_progress: bool | None = None,
           on_batch: Callable[[int], None] | None = None) -> SampleSummary:
    """Run (or resume) ``cfg.n_chains`` independence-MH chains; see the module docstring.

    ``cfg`` is a :class:`~lawful.lattice.train_config.SampleConfig`; ``on_batch(n_done)`` is called after each
    batch (tests use it to interrupt a run).
    """
    from lawful.lattice.models import load_model

    model, action, record = load_model(cfg.model, cfg.expect)
    if cfg.hmc_every and model.kind != "flow":
        raise ValueError(f"hmc_every = {cfg.hmc_every} interleaves HMC with the MH chain, which needs the model's "
                         f"density of any field: only a flow gives it, {str(cfg.model)!r} holds a {model.kind} "
                         "model; use hmc_every = 0")
    model_sha = model_digest(cfg.model)
    ode_steps = cfg.ode_steps or int(record.get("train", {}).get("ode_steps", 24))
    propose = Proposer(model, ode_steps, cfg.divergence, cfg.precision)
    out = default_out(cfg)
    path = out / ensemble.ENSEMBLE_FILE
    old = ensemble.read(path) if path.is_file() else None
    # asking for fewer steps than a chain already has keeps all of them (as lattice runs do)
    n_total = max(cfg.n_total, old.n_done) if old is not None else cfg.n_total
    n_chains, vol = cfg.n_chains, action.lattice.volume
    names = (*action.observables, *ensemble.CHAIN_SERIES)
    series = {k: np.full((n_chains, n_total), np.nan) for k in names}
    log_w_all = np.full((n_chains, n_total), np.nan)
    chains = Chains.fresh(n_chains, action.n_dof, len(action.observables))
    n_start = 0
    if old is not None:
        log_q_spread = old.extra_attrs.get("log_q_error_spread")
        propose.ode_steps = int(old.extra_attrs.get("ode_steps", propose.ode_steps))  # as the chain was started
        toml_text = claim_run_directory(cfg, out, old.config_toml)
        if old.extra_attrs.get("model_sha256") != model_sha:
            raise ValueError(f"the model in {str(cfg.model)!r} has changed since the chain in {str(out)!r} was "
                             "started (e.g. it was trained further); sample into a new --out")
        n_start = old.n_done
        for k in names:
            series[k][:, :n_start] = old.series[k][:, :n_start]
        log_w_all[:, :n_start] = old.extra["log_weight"][:, :n_start]
        chains = Chains(old.phi.copy(), np.stack([series[k][:, n_start - 1] for k in action.observables], axis=1),
                        old.extra["current_log_weight"].copy(), int(old.extra_attrs.get("n_invalid", 0)),
                        np.array([old.extra_attrs.get("hmc_trajectories", 0), old.extra_attrs.get("hmc_accepted", 0)],
                                 dtype=np.float64))
    else:
        toml_text = claim_run_directory(cfg, out)
        log_q_spread = propose.settle_ode_steps(cfg.seed, auto=cfg.ode_steps is None)

    def checkpoint(n_done: int) -> None:
        ens = ensemble.Ensemble(
            config_toml=toml_text, seed=cfg.seed, n_therm=cfg.n_therm, volume=vol,
            series={k: v[:, :n_done] for k, v in series.items()}, phi=chains.phi,
            rng_states=[json.dumps({"seed": cfg.seed, "chain": c, "next_step": n_done}) for c in range(n_chains)],
            complete=n_done >= n_total,
            extra={"log_weight": log_w_all[:, :n_done], "current_log_weight": chains.log_w},
            extra_attrs={"sampler": f"mh-{model.kind}" + ("+hmc" if cfg.hmc_every else ""),
                         "action": json.dumps(record["action"]),
                         "n_invalid": chains.n_invalid,
                         "exact": propose.exact, "model": str(Path(cfg.model).resolve()), "model_sha256": model_sha,
                         "hmc_trajectories": int(chains.hmc_counts[0]), "hmc_accepted": int(chains.hmc_counts[1]),
                         **({} if log_q_spread is None else {"log_q_error_spread": float(log_q_spread),
                                                             "ode_steps": propose.ode_steps})},
        )
        ensemble.write(path, ens)

    hmc = None
    if cfg.hmc_every:
        from lawful.lattice.mcmc import HMC

        hmc = HMC(action, n_steps=cfg.hmc_steps, traj_length=cfg.hmc_traj_length)
    t0 = time.perf_counter()
    i = n_start
    at_i = None

    def rollback() -> None:  # interrupted inside a batch: back to the chains' state after step i
        if at_i is not None:
            chains.restore(at_i)

    with checkpointing(lambda: checkpoint(i), cfg.checkpoint_seconds, rollback) as checkpoints:
        with progress(show_progress) as prog:
            task = prog.add_task(f"MH {model.kind} {action.name} L={action.lattice.size}", total=n_total, completed=i,
                                 info="")
            while i < n_total:
                # the chains' state at the last finished step, restored if Ctrl-C lands inside this batch
                at_i = chains.copy()
                k, lo = divmod(i, cfg.batch_size)
                hi = min(cfg.batch_size, lo + n_total - i)
                for group in _chain_groups(n_chains, cfg.batch_size * action.n_dof):
                    draws = [_draw(propose, action, cfg.seed, c, k, cfg.batch_size) for c in group]
                    for a, b in _segments(i - lo, lo, hi, cfg.hmc_every):
                        for c, (props, meas, lw, log_u) in zip(group, draws):
                            res = mh_batch(lw[a:b], log_u[a:b], chains.log_w[c])
                            _record_chain(res, c, i - lo + a, props[a:b], meas[a:b], lw[a:b], series, log_w_all,
                                          chains, action.observables)
                            chains.n_invalid += res.n_invalid
                            if chains.log_w[c] == -np.inf:
                                raise ValueError(f"the model at {str(cfg.model)!r} produced no valid proposal in "
                                                 f"{b - a} tries (every log-weight NaN or infinite); it is broken "
                                                 "or was trained for another action")
                        if cfg.hmc_every and (i - lo + b) % cfg.hmc_every == 0:
                            chains.hmc_counts += _hmc_update(hmc, propose, cfg.seed, group, i - lo + b, chains)
                i += hi - lo
                at_i = None
                if on_batch is not None:
                    on_batch(i)
                acc = float(np.nanmean(series["acceptance"][:, n_start:i]))
                prog.update(task, completed=i, info=f"acc {acc:.3f}")
                checkpoints.tick()
    checkpoint(i)
    seconds = time.perf_counter() - t0
    acc = float(np.mean(series["acceptance"][:, n_start:i])) if i > n_start else float("nan")
    return SampleSummary(out=out, n_done=i, n_new=i - n_start, resumed_from=n_start, seconds=seconds,
                         acceptance=acc, complete=i >= n_total, n_invalid=chains.n_invalid)


def _segments(start: int, lo: int, hi: int, every: int) -> list[tuple[int, int]]:
    """Split the batch rows ``[lo, hi)`` (chain steps ``start + lo …``) after every step whose count is a multiple
    of ``every`` (0: one piece), where an HMC trajectory is interleaved."""
    if not every:
        return [(lo, hi)]
    cuts = [x - start for x in range(((start + lo) // every + 1) * every, start + hi, every)]
    edges = [lo, *cuts, hi]
    return list(itertools.pairwise(edges))


def _chain_groups(n_chains: int, batch_values: int, max_bytes: int = 256 * 2**20) -> list[range]:
    """Chains taken together: as many as keep their batches of proposals (``batch_values`` float64 each) within
    ``max_bytes``, at least one."""
    size = max(1, min(n_chains, max_bytes // (8 * batch_values)))
    return [range(c, min(c + size, n_chains)) for c in range(0, n_chains, size)]


def _draw(propose: Proposer, action: Any, seed: int, c: int, k: int, n: int) -> tuple[np.ndarray, ...]:
    """Batch ``k`` of chain ``c`` from its own streams: proposals ``(n, n_dof)``, their observables ``(n, n_obs)``,
    log-weights ``(n,)`` and the log-uniforms of the accept/reject tests ``(n,)`` (the whole batch is drawn, so the
    streams do not depend on where in the batch a run starts)."""
    gen_t, gen_u = _batch_streams(seed, c, k)
    props, logq = propose(n, gen_t)
    meas = action.measure(props)
    return props, meas, log_weights(meas[:, action.observables.index("S")], logq), np.log(gen_u.random(n))


def _hmc_update(hmc: Any, propose: Proposer, seed: int, group: range, step: int, chains: Chains) -> np.ndarray:
    """One HMC trajectory on each chain of ``group`` (batched) after their ``step``-th MH step; chain c draws from
    its own stream ``[seed, c, step, 1]``, so a resumed chain is bitwise the same. Updates the chains' observables
    and their MH log-weights −S − log q of the new fields. Both updates keep e^{−S} invariant, so the mixed chain
    is exact. Returns ``[trajectories, accepted]``."""
    sl = slice(group.start, group.stop)
    gens = [np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, c, step, 1]))) for c in group]
    info = hmc.step(chains.phi[sl], gens)
    chains.obs[sl] = hmc.action.measure(chains.phi[sl])
    chains.log_w[sl] = log_weights(chains.obs[sl, hmc.action.observables.index("S")], propose.log_q(chains.phi[sl]))
    return np.array([len(group), info.acceptance.sum()])


def _record_chain(res: Any, c: int, i: int, props: np.ndarray, meas: np.ndarray, lw: np.ndarray,
                  series: dict[str, np.ndarray], log_w_all: np.ndarray, chains: Chains,
                  observables: tuple[str, ...]) -> None:
    """Write one batch's MH record (proposals ``props`` ``(n, n_dof)``, their observables ``meas`` ``(n, n_obs)``,
    named ``observables``, and log-weights ``lw``) into chain ``c``'s series from step ``i`` on, and move the
    chain's current state."""
    n = len(lw)
    src = res.src
    obs = np.where((src >= 0)[:, None], meas[np.maximum(src, 0)], chains.obs[c][None, :])
    for col, name in enumerate(observables):
        series[name][c, i:i + n] = obs[:, col]
    series["acceptance"][c, i:i + n] = res.accepted
    series["dH"][c, i:i + n] = res.dH
    log_w_all[c, i:i + n] = lw
    if src[-1] >= 0:
        chains.phi[c] = props[src[-1]]
        chains.obs[c] = meas[src[-1]]
    chains.log_w[c] = res.log_w_after
