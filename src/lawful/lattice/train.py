"""Train a lattice sampler (``lawful lattice train``), checkpointing atomically and resuming.

* **flow**: reverse Kullback–Leibler divergence KL(q‖p) = E_q[log q + S] + log Z on the flow's own samples
  (no training data), optionally after ``warm_start_steps`` of forward KL (−E_p[log q]) on equilibrium fields of a
  classical chain (φ⁴: HMC; U(1): heat bath + over-relaxation + one instanton move per update, whose charge does
  not freeze); for U(1) (``theory = "u1"``) the gauge-equivariant flow of :mod:`lawful.lattice.u1.flow`, from β
  small to large by ``init_from`` (transfer) or by the warm start at the target β.
* **diffusion**: denoising score matching on an HMC ensemble generated here by our HMC
  (``n_data`` fields), augmented on the fly by the action's symmetries (φ → −φ, lattice translations).

Training stops at ``train_steps`` or ``train_seconds``, whichever comes first, and the learning rate's cosine
decay ends there too (:class:`lawful.core.schedule.Budget`). ``<out>/checkpoint.pt`` (model,
optimizer, schedule, step, elapsed time, random state, loss history) is rewritten atomically every
``checkpoint_seconds`` and on Ctrl-C; rerunning the same command resumes from it (a larger ``train_steps`` or
``train_seconds`` extends the training). The result is ``<out>/model.pt`` (:mod:`lawful.lattice.models`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lawful.core.lifecycle import checkpointing, claim_run_directory
from lawful.core.progress import progress
from lawful.core.schedule import Budget, cosine
from lawful.core.training import TrainingState
from lawful.lattice.actions import Phi4
from lawful.lattice.geometry import Lattice
from lawful.lattice.mh import ess_per_sample
from lawful.lattice.train_config import TrainConfig
from lawful.lattice.u1.config import U1TrainConfig

CHECKPOINT_FILE = "checkpoint.pt"
DATA_FILE = "train_data.h5"


@dataclass
class TrainSummary:
    """What a call to :func:`train` did."""

    out: Path
    step: int
    new_steps: int
    resumed_from: int
    seconds: float           # wall time of this call
    total_seconds: float     # training wall time over all calls (the cost to amortize)
    loss: float
    ess_batch: float         # flow: Kish ESS/N of the last training batches (NaN for diffusion)


@dataclass(frozen=True)
class FieldChain:
    """How the equilibrium fields of one theory are made: the classical ``sampler`` with ``settings``, built by
    the ``make_sampler`` of ``module`` (imported when needed: the samplers compile numba kernels), a field taken
    from each chain every ``spacing`` updates."""

    module: str
    sampler: str
    settings: tuple[tuple[str, Any], ...]
    spacing: int

    def build(self, action: Phi4 | Any) -> Any:
        """The sampler for ``action``."""
        from importlib import import_module

        return import_module(self.module).make_sampler(self.sampler, action, **dict(self.settings))

    def describe(self, n_chains: int) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in self.settings)
        return f"{self.sampler} ({settings}); every {self.spacing} updates a field from each of {n_chains} chains"


#: the classical chain of each theory (``action.name``): φ⁴ by HMC, U(1) by heat bath + over-relaxation + one
#: instanton proposal per update (the topology moves keep the charge from freezing at large β)
FIELD_CHAINS = {"phi4": FieldChain("lawful.lattice.mcmc", "hmc",
                                   (("integrator", "omelyan"), ("traj_length", 1.0), ("n_steps", 10)), 2),
                "u1": FieldChain("lawful.lattice.u1.samplers", "heatbath",
                                 (("n_overrelax", 1), ("instanton_moves", 1)), 4)}


def field_provenance(action: Phi4 | Any, n_chains: int = 64) -> str:
    """What :func:`equilibrium_fields` does for ``action`` (stored with the fields in ``train_data.h5``)."""
    return FIELD_CHAINS[action.name].describe(n_chains)


def equilibrium_fields(action: Phi4 | Any, n: int, seed: int, n_chains: int = 64, n_therm: int = 200) -> np.ndarray:
    """``n`` fields ``(n, n_dof)`` of ``n_chains`` chains from a hot start after ``n_therm`` thermalization updates
    of the theory's :data:`FIELD_CHAINS` sampler."""
    from lawful.core.rng import generators
    from lawful.lattice.mcmc import initial_configuration

    chain = FIELD_CHAINS[action.name]
    sampler, spacing = chain.build(action), chain.spacing
    gens = generators(seed, n_chains)
    state = initial_configuration(action, n_chains, gens, "hot")
    for _ in range(n_therm):
        sampler.step(state, gens)
    out = []
    while len(out) * n_chains < n:
        for _ in range(spacing):
            sampler.step(state, gens)
        out.append(state.copy())
    return np.concatenate(out)[:n]


def _augment(phi: Any, generator: Any, first_axis: int = 1) -> Any:
    """Random sign flip per field and one random lattice translation per batch (symmetries of S: φ → −φ for φ⁴,
    charge conjugation θ → −θ for U(1)); the lattice axes start at ``first_axis`` (2 for links (B, 2, L, L))."""
    import torch

    b, axes = phi.shape[0], tuple(range(first_axis, phi.ndim))
    sign = torch.randint(0, 2, (b,), generator=generator, dtype=phi.dtype) * 2 - 1
    shifts = [int(s) for s in torch.randint(0, phi.shape[-1], (len(axes),), generator=generator)]
    return torch.roll(phi * sign.reshape(-1, *([1] * (phi.ndim - 1))), shifts, dims=axes)


def build_action(cfg: TrainConfig | U1TrainConfig) -> Any:
    """The action ``cfg`` trains a sampler for (φ⁴ or U(1))."""
    if cfg.theory == "u1":
        from lawful.lattice.u1.action import U1

        return U1(cfg.size, cfg.beta)
    return Phi4(Lattice(cfg.dim, cfg.size), cfg.kappa, cfg.lam)


def build_network(cfg: TrainConfig | U1TrainConfig, data: np.ndarray | None = None) -> Any:
    """An untrained network for ``cfg`` (the diffusion model's σ_data is the data's standard deviation)."""
    if cfg.theory == "u1":
        from lawful.lattice.u1.flow import GaugeFlow

        return GaugeFlow(cfg.size, cfg.n_layers, tuple(cfg.hidden), cfg.kernel, cfg.bins)
    if cfg.sampler == "flow":
        from lawful.lattice.flow import RealNVPFlow

        return RealNVPFlow(cfg.dim, cfg.size, cfg.n_layers, tuple(cfg.hidden), cfg.kernel, cfg.coupling, cfg.bins,
                           cfg.spectral)
    import torch

    from lawful.lattice.diffusion import ScoreModel

    sigma_data = float(np.std(data)) if data is not None else 1.0
    model = ScoreModel(cfg.dim, cfg.size, tuple(cfg.hidden), cfg.kernel, spectral_skip=cfg.spectral_skip,
                       sigma_max=cfg.sigma_max, sigma_data=sigma_data)
    if cfg.spectral_skip and data is not None:
        model.set_power(torch.as_tensor(data).reshape(-1, *model.shape))
    return model


def _training_data(cfg: TrainConfig | U1TrainConfig, action: Any, out: Path) -> np.ndarray | None:
    """Equilibrium fields ``(n_data, n_dof)`` (:func:`equilibrium_fields`) when the sampler needs them, generated
    once and kept in ``out/train_data.h5``."""
    import h5py

    from lawful.core.io import atomic_h5

    if cfg.sampler == "flow" and cfg.warm_start_steps == 0:
        return None
    path = out / DATA_FILE
    if path.is_file():
        with h5py.File(path, "r") as fh:
            return fh["phi"][...]
    t0 = time.perf_counter()
    data = equilibrium_fields(action, cfg.n_data, cfg.seed + 1)
    with atomic_h5(path) as fh:
        fh.create_dataset("phi", data=data)
        fh.attrs["what"] = field_provenance(action)
        fh.attrs["seconds"] = time.perf_counter() - t0  # part of the training's cost
    return data


def _transfer_weights(model: Any, cfg: TrainConfig | U1TrainConfig) -> None:
    """Load the weights of the model in ``cfg.init_from`` into ``model`` (e.g. trained on a smaller lattice:
    the convolutions are translation-equivariant, so the same weights define a flow on any L; or at another
    coupling, to go from β small to large)."""
    from lawful.lattice.models import load_model

    source, _, record = load_model(cfg.init_from)
    ours = {k: v for k, v in model.hparams.items() if k != "size"}
    theirs = {k: v for k, v in source.hparams.items() if k != "size"}  # with the defaults of older records
    if record["action"]["name"] != cfg.theory:
        raise ValueError(f"init_from {str(cfg.init_from)!r} holds a model of the {record['action']['name']} theory; "
                         f"this run trains one for {cfg.theory}")
    if record["kind"] != cfg.sampler or ours != theirs:
        raise ValueError(f"init_from {str(cfg.init_from)!r} holds a {record['kind']} with {theirs}; this run "
                         f"trains a {cfg.sampler} with {ours} (only the lattice size and the couplings may differ)")
    weights = {k: v for k, v in source.state_dict().items() if k in dict(model.named_parameters())}
    model.load_state_dict(weights, strict=False)


def training_device(name: str) -> Any:
    """The torch device ``name`` ("cpu", "cuda", "cuda:N"), refused by name before any work if it is not there."""
    import torch

    device = torch.device(name)
    if device.type == "cuda" and not (torch.cuda.is_available()
                                      and (device.index or 0) < torch.cuda.device_count()):
        raise ValueError(f"device {name!r} was asked for, but torch sees {torch.cuda.device_count()} CUDA device(s) "
                         f"(torch {torch.__version__}); use device = \"cpu\"")
    return device


def path_gradient_surrogate(model: Any, action: Any, phi: Any) -> Any:
    """A loss whose gradient is the path gradient of KL(q‖p) (Vaitl et al., arXiv:2206.09016): ∂/∂x [log q(x) +
    S(x)] at the samples x = f(z), with the density's parameters held fixed, times ∂x/∂θ. Its expectation is the
    reverse-KL gradient; its variance vanishes where q = p. The derivative in x costs one inverse pass and its
    backward. The surrogate's value is not the KL (the caller reports the ESS instead)."""
    import torch

    x = phi.detach().requires_grad_(True)
    density = model.log_prob(x) + action.action_torch(x)
    (grad_x,) = torch.autograd.grad(density.sum(), x)
    return (grad_x.detach() * phi).flatten(1).sum(1).mean()


def _loss_fn(cfg: TrainConfig | U1TrainConfig, model: Any, action: Any, data: np.ndarray | None,
             gen: Any) -> Callable[[int], tuple[Any, float, float]]:
    """``step -> (tensor to differentiate, loss value to report, batch ESS/N or NaN)`` for this sampler."""
    import torch

    fields = torch.as_tensor(data, dtype=torch.float32).reshape(-1, *model.shape) if data is not None else None
    warm_steps = cfg.warm_start_steps if cfg.sampler == "flow" else 0  # forward KL on equilibrium fields first

    def batch() -> Any:
        idx = torch.randint(0, fields.shape[0], (cfg.batch_size,), generator=gen)
        return _augment(fields[idx], gen, first_axis=2 if cfg.theory == "u1" else 1)

    if cfg.sampler == "diffusion":
        from lawful.lattice.diffusion import dsm_loss

        def diffusion_loss(step: int) -> tuple[Any, float, float]:
            loss = dsm_loss(model, batch(), gen, cfg.sigma_log_mean, cfg.sigma_log_std)
            return loss, loss.item(), float("nan")

        return diffusion_loss

    def flow_loss(step: int) -> tuple[Any, float, float]:
        if step < warm_steps:
            loss = -model.log_prob(batch()).mean()
            return loss, loss.item(), float("nan")
        phi, logq = model.sample(cfg.batch_size, gen)
        s = action.action_torch(phi)
        kl = (logq + s).mean()
        ess = ess_per_sample((-s - logq).detach().cpu().numpy())
        if getattr(cfg, "gradient", "reparam") == "path":
            return path_gradient_surrogate(model, action, phi), kl.item(), ess
        return kl, kl.item(), ess

    return flow_loss


def train(cfg: TrainConfig | U1TrainConfig, *, show_progress: bool | None = None,
          on_step: Callable[[int], None] | None = None) -> TrainSummary:
    """Train (or resume training) the sampler ``cfg`` describes; see the module docstring."""
    import torch

    from lawful.core.rng import torch_generators
    from lawful.lattice.models import save_model

    device = training_device(getattr(cfg, "device", "cpu"))
    action = build_action(cfg)
    out = Path(cfg.out)
    ckpt_path = out / CHECKPOINT_FILE
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True) if ckpt_path.is_file() else None
    toml_text = claim_run_directory(cfg, out, ckpt["config"] if ckpt is not None else None)
    data = _training_data(cfg, action, out)
    torch.manual_seed(cfg.seed)  # weight initialization only; sampling uses the explicit generator below
    model = build_network(cfg, data).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    budget = Budget(cfg.train_steps, cfg.train_seconds)  # the cosine decay ends where the first budget ends
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: cosine(k, budget.horizon))
    if cfg.init_from is not None and ckpt is None:
        _transfer_weights(model, cfg)
    gen = torch_generators(cfg.seed, 1)[0]
    state = TrainingState(model, opt, sched, gen)
    if ckpt is not None:
        state.load_state_dict(ckpt)
    start_step = state.step
    loss_fn = _loss_fn(cfg, model, action, data, gen)

    def checkpoint() -> None:
        state.save(ckpt_path, config=toml_text)

    t0 = time.perf_counter()
    state.start_clock()
    model.train()
    with checkpointing(checkpoint, cfg.checkpoint_seconds) as checkpoints:
        with progress(show_progress) as prog:
            task = prog.add_task(f"train {cfg.sampler} {cfg.label}", total=cfg.train_steps,
                                 completed=state.step, info="")
            while state.step < cfg.train_steps and state.seconds < cfg.train_seconds:
                loss, value, ess = loss_fn(state.step)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
                opt.step()
                state.end_step(budget)
                state.history.append((state.step, value, ess))
                if on_step is not None:
                    on_step(state.step)
                if state.step % 10 == 0 or state.step == cfg.train_steps:
                    recent = np.array([h[2] for h in state.history[-50:]])
                    info = f"loss {value:.4g}" + (f"  ESS/N {np.nanmean(recent):.3f}"
                                                       if np.isfinite(recent).any() else "")
                    prog.update(task, completed=state.step, info=info)
                checkpoints.tick()
    checkpoint()
    history = state.history
    recent = np.array([h[2] for h in history[-50:]]) if history else np.array([np.nan])
    final_loss = history[-1][1] if history else float("nan")
    summary = TrainSummary(out=out, step=state.step, new_steps=state.step - start_step, resumed_from=start_step,
                           seconds=time.perf_counter() - t0, total_seconds=state.seconds, loss=final_loss,
                           ess_batch=float(np.nanmean(recent)) if np.isfinite(recent).any() else float("nan"))
    model.eval().to("cpu")  # a model file loads anywhere
    save_model(out, model, action, config_toml=toml_text,
               train={"steps": state.step, "seconds": state.seconds, "loss": final_loss,
                      "ess_batch": summary.ess_batch,
                      **({"ode_steps": cfg.ode_steps} if cfg.sampler == "diffusion" else {})})
    return summary
