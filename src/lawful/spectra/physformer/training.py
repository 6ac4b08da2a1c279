"""Training a generator (:data:`~lawful.spectra.physformer.model.KINDS`) on noise-free forward-model spectra.

Losses per batch, with x the noise-free spectrum, ℓ its labels (standardised), MSE in units of (0.01)²:

* emulators (``payne``, ``speculator``): MSE(G(ℓ), x);
* autoencoders (``physformer``, ``ae``): the generator G, the encoder E and f, the map from all eight labels to
  the free latent dimensions, at once:
  - the emulator MSE(G(ℓ_phys, f(ℓ)), x);
  - the encoder on x̃ = x plus noise at a per-spectrum SNR log-uniform in [``snr_min``, ``snr_max``]: its
    physical dimensions against the labels, MSE(E_phys(x̃), ℓ_phys) (``label_weight``), its free dimensions
    against f(ℓ), so that G(E(x̃)) is the autoencoder of a shared, interpretable latent; a small L2 on f(ℓ)
    fixes its scale. (Backpropagating the reconstruction MSE(G(E(x̃)), x) into G as well doubles the cost of
    an epoch; docs/spectra.md has what that version measured.)

A wall-clock budget (``train_seconds``) or ``epochs``, whichever ends first, and the cosine decay of the learning
rate ends there too (:class:`~lawful.core.schedule.Budget`); the best state on the validation
split kept; a checkpoint every epoch (atomic), so a killed run resumes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from lawful.core.schedule import Budget, cosine
from lawful.spectra.physformer.config import PhysTrainConfig

FLUX_UNIT = 1e-4  # (0.01)²: the MSE scale of the losses
MODEL_BASIS = 32  # principal components of the emulator's validation residuals kept for the inversion
FLOOR_SPECTRA = 500  # validation spectra the inversion's systematic floor is chosen on (all of the default n_val)
PRIOR_COMPONENTS = 8  # Gaussians in the population prior of the latents
LR_FLOOR = 0.02  # the learning rate's cosine decay ends at this fraction of ``lr``


def train(cfg: PhysTrainConfig, data: Path, out: Path, log=print) -> dict:
    """Train ``cfg.model`` on the ``train`` split of ``data`` (a spectra.h5); writes ``out/model.pt`` and returns
    a summary (validation MSE of the emulator and, for the autoencoders, of the encoder's reconstruction)."""
    import torch

    from lawful.core.config import check_same_run, to_toml_text, write_toml
    from lawful.core.io import atomic_torch_save
    from lawful.spectra.physformer.data import clean_split
    from lawful.spectra.physformer.model import AUTOENCODERS, Generator, build, save

    out.mkdir(parents=True, exist_ok=True)
    if (out / "config.toml").exists():
        check_same_run(cfg, (out / "config.toml").read_text(), out)
    write_toml(cfg, out / "config.toml")
    log("making the noise-free training spectra (cached in the output directory)")
    tr = clean_split(data, "train", cfg.vmic_scatter, cfg.seed, cfg.n_train, cache=out)
    va = clean_split(data, "val", cfg.vmic_scatter, cfg.seed, cfg.n_val, cache=out)
    torch.manual_seed(cfg.seed)
    decoder, encoder, free_map = build(cfg.model, cfg, tr["wave"])
    label_mean, label_std = tr["labels"].mean(axis=0), tr["labels"].std(axis=0) + 1e-9
    names = decoder.latent.names
    phys = [j for j, n in enumerate(names) if not n.startswith("free")]
    from lawful.spectra.synth import LABELS

    cols = [LABELS.index(names[j]) for j in phys]
    decoder.latent.mean[phys] = torch.as_tensor(label_mean[cols], dtype=torch.float32)
    decoder.latent.std[phys] = torch.as_tensor(label_std[cols], dtype=torch.float32)
    if encoder is not None:
        encoder.mean.copy_(torch.as_tensor(tr["flux"].mean(axis=0)))
        encoder.std.copy_(torch.as_tensor(tr["flux"].std(axis=0) + 1e-3))
    if cfg.model == "speculator":
        decoder.fit_basis(tr["flux"])
    n_free = cfg.n_free if free_map is not None else 0
    gen = Generator(cfg.model, decoder, encoder, free_map, np.empty(0), np.empty(0), np.empty(0), {}, n_free,
                    np.empty(0), np.empty(0), tr["wave"], label_mean, label_std)
    nets = [n for n in (decoder, encoder, free_map) if n is not None]
    params = [p for n in nets for p in n.parameters()]
    opt = torch.optim.Adam(params, lr=cfg.lr, fused=True)  # one pass over each tensor: 3.8× the foreach step
    ckpt = out / "checkpoint.pt"
    epoch, best, best_state, elapsed = 0, np.inf, None, 0.0
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        for net, sd in zip(nets, saved["nets"]):
            net.load_state_dict(sd)
        opt.load_state_dict(saved["opt"])
        epoch, best, best_state, elapsed = saved["epoch"], saved["best"], saved["best_state"], saved["elapsed"]
        torch.set_rng_state(saved["torch_rng"])
        log(f"resuming at epoch {epoch} ({elapsed:.0f} s done)")
    xt, lt = torch.as_tensor(tr["flux"]), torch.as_tensor(tr["labels"])
    t0 = time.perf_counter() - elapsed
    is_ae = cfg.model in AUTOENCODERS
    budget = Budget(cfg.epochs, cfg.train_seconds)  # the cosine decay ends where the first budget ends
    starts = range(0, len(xt), cfg.batch)
    while epoch < cfg.epochs and time.perf_counter() - t0 < cfg.train_seconds:
        horizon = budget.update(epoch, time.perf_counter() - t0)
        for net in nets:
            net.train()
        rng = np.random.default_rng([cfg.seed, epoch])  # a resumed run draws what an uninterrupted one would
        order = torch.as_tensor(rng.permutation(len(xt)))
        for b, i in enumerate(starts):
            for g in opt.param_groups:
                g["lr"] = cfg.lr * cosine(epoch + b / len(starts), horizon, floor=LR_FLOOR)
            idx = order[i:i + cfg.batch]
            loss = _loss(gen, xt[idx], lt[idx], cfg, rng) if is_ae else _emulator_mse(gen, xt[idx], lt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        epoch += 1
        val = validate(gen, va)
        score = val["emulator_mse"]
        if score < best:
            best = score
            best_state = [{k: v.clone() for k, v in n.state_dict().items()} for n in nets]
        atomic_torch_save(ckpt, {"nets": [n.state_dict() for n in nets], "opt": opt.state_dict(), "epoch": epoch,
                                 "best": best, "best_state": best_state, "elapsed": time.perf_counter() - t0,
                                 "torch_rng": torch.get_rng_state()})
        log(f"epoch {epoch}: emulator MSE {val['emulator_mse']:.2e}"
            + (f", encoder reconstruction MSE {val['encoder_mse']:.2e}" if is_ae else "")
            + f", {time.perf_counter() - t0:.0f} s")
    for net, sd in zip(nets, best_state):
        net.load_state_dict(sd)
    _finish(gen, tr, va)
    gen.meta.update({"config": cfg.model_dump(), "epochs": epoch, "train_seconds": time.perf_counter() - t0,
                     "n_train": len(xt), "config_toml": to_toml_text(cfg), **validate(gen, va)})
    save(out, gen)
    return {"model": cfg.model, "epochs": epoch, "n_train": len(xt), "train_seconds": gen.meta["train_seconds"],
            **{k: gen.meta[k] for k in ("emulator_mse", "encoder_mse") if k in gen.meta}}


def _emulator_mse(gen, x, labels):
    return (gen.decoder(gen.latent_of_labels(labels.numpy())) - x).pow(2).mean() / FLUX_UNIT


def _loss(gen, x, labels, cfg: PhysTrainConfig, rng: np.random.Generator):
    """The autoencoders' loss (module docstring) for a batch x (B, W), labels (B, 8)."""
    import torch

    from lawful.spectra.data import noise_sigma

    z_true = gen.latent_of_labels(labels.numpy())
    n_phys = z_true.shape[1] - cfg.n_free
    snr = np.exp(rng.uniform(np.log(cfg.snr_min), np.log(cfg.snr_max), len(x)))
    noisy = x + torch.as_tensor(noise_sigma(x.numpy(), snr), dtype=x.dtype) * torch.randn_like(x)
    z_enc = gen.encoder(noisy)
    emulator = (gen.decoder(z_true) - x).pow(2).mean()
    label = (z_enc[:, :n_phys] - z_true[:, :n_phys]).pow(2).mean()
    free = z_true[:, n_phys:]
    consistency = (z_enc[:, n_phys:] - free.detach()).pow(2).mean() if cfg.n_free else 0.0
    scale = 1e-2 * free.pow(2).mean() if cfg.n_free else 0.0
    return emulator / FLUX_UNIT + cfg.label_weight * label + consistency + scale


def validate(gen, va: dict[str, np.ndarray]) -> dict[str, float]:
    """Validation MSE of the emulator route and, for the autoencoders, of G(E(x)) on noise-free spectra (the
    best state is the emulator's)."""
    import torch

    with torch.no_grad():
        x = torch.as_tensor(va["flux"])
        out = {"emulator_mse": float((gen.decoder(gen.latent_of_labels(va["labels"])) - x).pow(2).mean())}
        if gen.encoder is not None:
            out["encoder_mse"] = float((gen.decoder(gen.encoder(x)) - x).pow(2).mean())
    return out


def fit_mixture(z: np.ndarray, components: int = PRIOR_COMPONENTS, seed: int = 0) -> dict[str, np.ndarray]:
    """A Gaussian mixture (scikit-learn, full covariances) of latents z (n, D): the population prior."""
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(components, covariance_type="full", reg_covar=1e-4, random_state=seed).fit(z)
    return {"weights": gmm.weights_, "means": gmm.means_, "precisions": gmm.precisions_}


def set_latent_prior(gen, z_tr: np.ndarray) -> None:
    """The inversion's box and priors from the training latents z_tr (n, D): ``box`` their range (free dimensions
    unbounded), ``prior_mean``/``prior_cov`` their Gaussian, ``prior_mixture`` their Gaussian mixture."""
    box = np.stack([z_tr.min(axis=0), z_tr.max(axis=0)])
    box[:, len(gen.names) - gen.n_free:] = [[-np.inf], [np.inf]]
    gen.box = box
    gen.prior_mean, gen.prior_cov = z_tr.mean(axis=0), np.cov(z_tr.T) + 1e-6 * np.eye(z_tr.shape[1])
    gen.prior_mixture = fit_mixture(z_tr)


def _finish(gen, tr: dict[str, np.ndarray], va: dict[str, np.ndarray], n_basis: int = MODEL_BASIS) -> None:
    """What the inversion needs: the latents' training box and Gaussian, the emulator's validation
    residuals — their RMS per pixel and their leading principal components — and the labels' systematic floor."""
    import torch

    gen.eval()
    with torch.no_grad():
        z_tr = gen.latent_of_labels(tr["labels"]).numpy().astype(float)
        resid = gen.decoder(gen.latent_of_labels(va["labels"])).numpy() - va["flux"]
    set_latent_prior(gen, z_tr)
    gen.model_sigma = np.sqrt((resid**2).mean(axis=0)).astype(np.float32)
    _, s, vt = np.linalg.svd(resid.astype(float), full_matrices=False)
    k = min(n_basis, len(s))
    gen.model_basis = (vt[:k] * (s[:k, None] / np.sqrt(len(resid)))).astype(np.float32)
    gen.sigma_floor = _floor(gen, va)


def _floor(gen, va: dict[str, np.ndarray], cfg=None) -> dict[str, float]:
    """The inversion's systematic floor per label, on the first :data:`FLOOR_SPECTRA` validation spectra, for
    inversion settings ``cfg`` (an ``InvertConfig``; None: the defaults), which ``gen.meta["floor_settings"]``
    records."""
    from lawful.spectra.physformer.inversion import calibrate_floor, floor_settings
    from lawful.spectra.synth import LABELS

    n = min(FLOOR_SPECTRA, len(va["flux"]))
    truth = {name: va["labels"][:n, LABELS.index(name)] for name in gen.names if name in LABELS}
    gen.meta["floor_settings"] = floor_settings(cfg)
    return calibrate_floor(gen, va["flux"][:n], truth, cfg=cfg)


def recalibrate_floor(model: Path, data: Path, cfg=None) -> dict[str, float]:
    """Choose the systematic floor of a saved generator afresh on the validation split of ``data`` (the spectra
    it was trained with) for the inversion settings ``cfg`` (an ``InvertConfig``; None: the defaults), weights and
    everything else untouched; saves the model and returns the floor."""
    from lawful.spectra.physformer.data import clean_split
    from lawful.spectra.physformer.model import load, save

    gen = load(model)
    train_cfg = PhysTrainConfig(**gen.meta["config"])
    gen.sigma_floor = _floor(gen, clean_split(data, "val", train_cfg.vmic_scatter, train_cfg.seed, FLOOR_SPECTRA),
                             cfg)
    save(model, gen, with_encoder=gen.encoder is not None)
    return gen.sigma_floor
