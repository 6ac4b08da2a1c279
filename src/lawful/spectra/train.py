"""Training label regressors on a ``spectra.h5`` split, with checkpoints and resume.

Targets (:data:`~lawful.spectra.labels.TARGETS`) are standardised after taking log10 of mass and age. The loss of
the torch models is the plain MSE of the standardised residual r (``loss="mse"``, the default), SPT's
Mahalanobis distance rᵀ Σ⁻¹ r with Σ the covariance (here the correlation matrix) of the standardised training
labels (``"mahalanobis"``), a learned Σ = L Lᵀ with the Gaussian log-det term (``"learned"``), or a
heteroscedastic Gaussian whose σ per star and label the network predicts beside the labels (``"gaussian"``,
the β-NLL; the shipped SPT since stop 45, with dropout 0.03 since stop 50). Standardising already removes the
scale imbalance the Mahalanobis loss was introduced for; what it adds is decorrelation, and on these giants it
learned more slowly (benchmarks/spectra_labels.py: spt-maha against spt-short).
Torch models train for a wall-clock budget or a number of epochs, whichever ends first (and the cosine decay of the
learning rate ends there too: :class:`~lawful.core.schedule.Budget`), keep the best validation state, and
checkpoint every epoch (atomically), so a killed run resumes. By default (``noise="fresh"``) they never see the
same noise twice: the training stars are made again noise-free from their labels (the data set's own forward
model and resolution) and every batch gets a new draw at each star's SNR — the stored noisy spectra, seen
epoch after epoch, let the networks fit their noise (benchmarks/spectra_labels.py, stop 44: the 20-minute SPT
went from 12.4 to 10.4 % in mass MPE and from 36.5 to 29.0 % in age). σ per star: MC dropout for SPT and the CNN
(``mc_samples`` passes), the spread of the trees for the random forest, the inverse Hessian for The Cannon, the
validation RMS for the others — all rescaled per label on the validation split, by factors for the 68 % interval,
±σ, and the 95 % interval, ±``half95``, that are power laws of the spectrum's SNR (:mod:`~lawful.spectra.calibration`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat
from lawful.core.schedule import EPOCHS_HELP, Budget, cosine

if TYPE_CHECKING:
    import torch

MODELS = ("spt", "spt-dot", "cnn", "mlp", "rf", "gbm", "cannon")
CLASSICAL = ("rf", "gbm", "cannon")
LOG_TARGETS = ("mass", "age")


class TrainConfig(Config):
    """One label regressor."""

    model: Literal["spt", "spt-dot", "cnn", "mlp", "rf", "gbm", "cannon"] = "spt"
    loss: Literal["mahalanobis", "learned", "mse", "gaussian"] = pydantic.Field(
        "mse", description="mse (default: measured better on standardised labels), mahalanobis (the paper's), "
                           "learned (Σ = L Lᵀ with its log-det) or gaussian (heteroscedastic: the network also "
                           "predicts each label's σ per star, by the β-NLL with β = 0.5)")
    train_seconds: FiniteFloat = pydantic.Field(600.0, gt=0, description="wall-clock budget of a torch model")
    epochs: int = pydantic.Field(200, ge=1, description=EPOCHS_HELP)
    batch: int = pydantic.Field(128, ge=1)
    lr: FiniteFloat = pydantic.Field(2e-3, gt=0)
    dropout: FiniteFloat = pydantic.Field(0.03, ge=0, lt=1, description="dropout rate (0.1 until stop 50; 0.03 "
                                          "is better for the SPT and the MLP: benchmarks/spectra_labels.py)")
    mc_samples: int = pydantic.Field(20, ge=1, description="MC-dropout passes at inference (0 dropout: 1)")
    patch: int = pydantic.Field(64, ge=2, description="SPT: pixels per token")
    dim: int = pydantic.Field(64, ge=8)
    depth: int = pydantic.Field(2, ge=1)
    heads: int = pydantic.Field(4, ge=1)
    pool: Literal["flatten", "mean"] = pydantic.Field("flatten", description="SPT head: all tokens, or their mean")
    n_train: int | None = pydantic.Field(None, ge=10, description="use only the first N training spectra")
    mask_prob: FiniteFloat = pydantic.Field(0.2, ge=0, le=1, description="torch models: the fraction of training "
                                            "spectra that get masked bands and pixels (lawful.spectra.masking; 0 "
                                            "until stop 51: benchmarks/spectra_masked.py)")
    noise: Literal["stored", "fresh"] = pydantic.Field(
        "fresh", description="torch models: the training stars made again noise-free from their labels with a "
                             "fresh noise draw at their SNR for every batch (default), or the stored noisy "
                             "spectra; the classical models fit the stored ones")
    seed: int = pydantic.Field(0, ge=0)

    @property
    def heteroscedastic(self) -> bool:
        """Whether the network predicts a σ per star and label beside each mean (``loss="gaussian"``)."""
        return self.loss == "gaussian"

    @pydantic.model_validator(mode="before")
    @classmethod
    def _classical_defaults(cls, data):
        """The classical models fit the stored spectra as they are: noise 'stored', no masks, unless asked."""
        if isinstance(data, dict) and data.get("model") in CLASSICAL:
            data = {"noise": "stored", "mask_prob": 0.0, **{k: v for k, v in data.items() if v is not None}}
        return data

    @pydantic.model_validator(mode="after")
    def _fresh_noise_and_masks_need_torch(self) -> "TrainConfig":
        if self.noise == "fresh" and self.model in CLASSICAL:
            raise ValueError(f"noise = 'fresh' redraws the noise every epoch, which only the torch models have; "
                             f"model {self.model!r} takes noise = 'stored'")
        if self.mask_prob > 0 and self.model in CLASSICAL:
            raise ValueError(f"mask_prob = {self.mask_prob} masks the torch models' training batches; model "
                             f"{self.model!r} fits the stored spectra once and takes mask_prob = 0")
        return self


class Scaler:
    """log10 of mass and age, then standardisation with the training mean and std (arrays of shape (6,))."""

    def __init__(self, targets: np.ndarray, names: tuple[str, ...]) -> None:
        self.log = np.array([n in LOG_TARGETS for n in names])
        t = self._forward_log(targets)
        self.mean, self.std = t.mean(axis=0), t.std(axis=0)

    def _forward_log(self, y: np.ndarray) -> np.ndarray:
        y = np.array(y, dtype=float)
        y[:, self.log] = np.log10(y[:, self.log])
        return y

    def forward(self, y: np.ndarray) -> np.ndarray:
        return (self._forward_log(y) - self.mean) / self.std

    def state(self) -> dict[str, np.ndarray]:
        return {"log": self.log, "mean": self.mean, "std": self.std}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "Scaler":
        obj = cls.__new__(cls)
        obj.log, obj.mean, obj.std = (np.asarray(state[k]) for k in ("log", "mean", "std"))
        return obj


def label_range(targets: np.ndarray) -> np.ndarray:
    """The lowest and highest value of each label over the training stars (2, k); predictions beyond it are
    flagged (:mod:`lawful.spectra.labelling`)."""
    return np.stack([targets.min(axis=0), targets.max(axis=0)])


def training_split(data: Path, cfg: TrainConfig, keys: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """The training stars of ``data`` that ``cfg`` trains on (the first ``cfg.n_train`` when it is set)."""
    from lawful.spectra.data import load_split

    tr = load_split(data, "train", keys)
    if cfg.n_train:
        tr = {k: (v[: cfg.n_train] if k != "wave" else v) for k, v in tr.items()}
    return tr


def save_state(state: dict, out: Path) -> None:
    """``out/model.joblib`` (classical models) or ``out/model.pt``, atomically."""
    if state["kind"] in CLASSICAL:
        import io

        import joblib

        from lawful.core.io import atomic_write_bytes

        buffer = io.BytesIO()
        joblib.dump(state, buffer)
        atomic_write_bytes(out / "model.joblib", buffer.getvalue())
    else:
        from lawful.core.io import atomic_torch_save

        atomic_torch_save(out / "model.pt", state)


def clean_flux(flux: np.ndarray, ivar: np.ndarray, good: np.ndarray | None = None,
               fill: np.ndarray | float = 1.0) -> np.ndarray:
    """Float32 flux with the unusable pixels (NaN flux, zero or NaN inverse variance) set to ``fill`` (scalar or
    per pixel (W,); :func:`lawful.spectra.masking.fill_values` gives a model's); ``good``: the
    :func:`~lawful.spectra.data.usable_pixels` mask, when the caller has it already."""
    from lawful.spectra.data import usable_pixels

    good = usable_pixels(flux, ivar) if good is None else good
    return np.where(good, flux, fill).astype(np.float32)


def build_network(cfg: TrainConfig, n_pixels: int, n_out: int) -> torch.nn.Module:
    """The torch model of ``cfg.model`` behind a per-pixel standardisation (its buffers set by training), with
    ``n_out`` outputs — twice that, a mean and a log σ per label, for ``loss="gaussian"``."""
    from torch import nn

    from lawful.spectra.networks import BCNN, MLP, SPT, Standardize

    n_out = 2 * n_out if cfg.heteroscedastic else n_out
    if cfg.model in ("spt", "spt-dot"):
        net = SPT(n_pixels, n_out, cfg.patch, cfg.dim, cfg.heads, cfg.depth, cfg.dropout,
                  "dot" if cfg.model == "spt-dot" else "hadamard", cfg.pool)
    elif cfg.model == "cnn":
        net = BCNN(n_pixels, n_out, cfg.dropout)
    else:
        net = MLP(n_pixels, n_out, cfg.dropout)
    return nn.Sequential(Standardize(n_pixels), net)


#: β of the β-NLL (Seitzer et al. 2022) for ``loss="gaussian"``: each star's NLL weighted by its σ^(2β), held
#: fixed, so that the stars the network finds hard do not stop it learning their means
BETA_NLL = 0.5
#: the range a heteroscedastic network's log σ (standardised units) is held to, in training and inference
LOG_SIGMA_RANGE = (-7.0, 3.0)


def _loss(kind: str, out: torch.Tensor, y: torch.Tensor, precision: torch.Tensor, chol: torch.Tensor | None
          ) -> torch.Tensor:
    """The training loss of network outputs ``out`` against standardised labels ``y`` (batch, k)."""
    import torch

    if kind == "gaussian":
        mean, log_sigma = split_outputs(out, True)
        log_sigma = log_sigma.clamp(*LOG_SIGMA_RANGE)
        nll = 0.5 * ((y - mean) * torch.exp(-log_sigma)).pow(2) + log_sigma
        return (nll * torch.exp(2.0 * BETA_NLL * log_sigma).detach()).mean()
    resid = out - y
    if kind == "mse":
        return resid.pow(2).mean()
    if kind == "mahalanobis":
        return torch.einsum("bi,ij,bj->b", resid, precision, resid).mean() / resid.shape[1]
    lower = torch.tril(chol, -1) + torch.diag(torch.nn.functional.softplus(torch.diagonal(chol)) + 1e-3)
    z = torch.linalg.solve_triangular(lower, resid.T, upper=False)
    return (z.pow(2).sum(0).mean() + 2.0 * torch.log(torch.diagonal(lower)).sum()) / resid.shape[1]


def split_outputs(out, heteroscedastic: bool):
    """(means, log σ) of network outputs (…, 2k) for a heteroscedastic network, else (out, None)."""
    if not heteroscedastic:
        return out, None
    k = out.shape[-1] // 2
    return out[..., :k], out[..., k:]


def train(cfg: TrainConfig, data: Path, out: Path, log=print) -> dict:
    """Train ``cfg.model`` on ``data`` (a spectra.h5); writes ``out/model.pt`` (or ``model.joblib``) and returns
    a summary with the validation MAE per label."""
    from lawful.core.config import write_toml
    from lawful.spectra.calibration import calibration_rows, fit_calibration, spectrum_snr
    from lawful.spectra.data import load_split
    from lawful.spectra.labels import TARGETS

    out.mkdir(parents=True, exist_ok=True)
    write_toml(cfg, out / "config.toml")
    tr, va = training_split(data, cfg), load_split(data, "val")
    scaler = Scaler(tr["targets"], TARGETS)
    ytr, yva = scaler.forward(tr["targets"]), scaler.forward(va["targets"])
    xtr = clean_flux(tr["flux"], tr["ivar"])
    xva = clean_flux(va["flux"], va["ivar"])
    common = {"kind": cfg.model, "config": cfg.model_dump(), "scaler": scaler.state(), "targets": TARGETS,
              "wave": tr["wave"], "label_range": label_range(tr["targets"])}
    t0 = time.perf_counter()
    if cfg.model in CLASSICAL:
        model, pca = _fit_classical(cfg, xtr, tr["ivar"], ytr)
        state = {**common, "classical": model, "pca": pca}
        mean, sigma = _predict_classical(state, xva, va["ivar"])
    else:
        noise_free = None
        if cfg.noise == "fresh":
            from lawful.spectra.data import data_config, noise_sigma, synthesize

            if "synth_labels" not in tr:
                raise ValueError(f"noise = 'fresh' remakes the training spectra from the labels they were made "
                                 f"from (train/synth_labels), which {data} does not hold: use noise = 'stored'")

            clean = synthesize(tr["synth_labels"], data_config(data).resolution)
            noise_free = (clean, noise_sigma(clean, tr["snr"]).astype(np.float32))
        state, mean, sigma = _fit_torch(cfg, xtr, ytr, xva, yva, common, out, log, noise_free)
    resid = mean - yva
    state["val_rms"] = np.sqrt((resid**2).mean(axis=0))
    if sigma is None:
        sigma = np.broadcast_to(state["val_rms"], resid.shape)
    state["calibration"] = fit_calibration(resid / sigma, spectrum_snr(va["flux"], va["ivar"]))
    state["train_seconds"] = time.perf_counter() - t0
    save_state(state, out)
    val_mae = np.abs(resid) * scaler.std
    return {"model": cfg.model, "n_train": len(xtr), "train_seconds": state["train_seconds"],
            "val_mae_std_units": dict(zip(TARGETS, (np.abs(resid).mean(axis=0)).round(4).tolist())),
            "calibration": calibration_rows(state["calibration"], TARGETS),
            "val_mae_scaled": dict(zip(TARGETS, val_mae.mean(axis=0).round(4).tolist()))}


def _fit_classical(cfg: TrainConfig, x: np.ndarray, ivar: np.ndarray, y: np.ndarray):
    if cfg.model == "cannon":
        from lawful.spectra.cannon import Cannon

        return Cannon().fit(x, ivar, y), None
    from sklearn.decomposition import PCA

    pca = PCA(n_components=min(50, x.shape[0] - 1), random_state=cfg.seed).fit(x)
    feats = pca.transform(x)
    if cfg.model == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=200, min_samples_leaf=2, n_jobs=1,
                                     random_state=cfg.seed).fit(feats, y), pca
    from sklearn.ensemble import HistGradientBoostingRegressor

    return [HistGradientBoostingRegressor(max_iter=300, random_state=cfg.seed).fit(feats, y[:, j])
            for j in range(y.shape[1])], pca


def _predict_classical(state: dict, x: np.ndarray, ivar: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    model, kind = state["classical"], state["kind"]
    if kind == "cannon":
        return model.predict(x, ivar)
    feats = state["pca"].transform(x)
    if kind == "rf":
        per_tree = np.stack([t.predict(feats) for t in model.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0) + 1e-6
    return np.stack([m.predict(feats) for m in model], axis=1), None


def _fit_torch(cfg, xtr, ytr, xva, yva, common, out, log, noise_free=None):
    """Train a torch model on (xtr, ytr), keeping the state best on (xva, yva); ``noise_free`` = (flux, σ) of the
    training stars (n, W) replaces xtr by flux + σ·N(0, 1), drawn afresh for every batch."""
    import torch

    from lawful.core.io import atomic_torch_save
    from lawful.spectra.masking import random_masks

    torch.manual_seed(cfg.seed)
    net = build_network(cfg, xtr.shape[1], ytr.shape[1])
    net[0].mean.copy_(torch.as_tensor(xtr.mean(axis=0)))
    net[0].std.copy_(torch.as_tensor(xtr.std(axis=0) + 1e-3))
    corr = np.corrcoef(ytr.T)
    precision = torch.as_tensor(np.linalg.inv(corr), dtype=torch.float32)
    chol = torch.nn.Parameter(torch.zeros(ytr.shape[1], ytr.shape[1])) if cfg.loss == "learned" else None
    params = list(net.parameters()) + ([chol] if chol is not None else [])
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
    ckpt = out / "checkpoint.pt"
    start_epoch, best, best_state, elapsed = 0, np.inf, None, 0.0
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        net.load_state_dict(saved["net"])
        opt.load_state_dict(saved["opt"])
        if chol is not None:
            chol.data.copy_(saved["chol"])
        start_epoch, best, best_state, elapsed = saved["epoch"], saved["best"], saved["best_state"], saved["elapsed"]
        log(f"resuming at epoch {start_epoch} ({elapsed:.0f} s done)")
    xt, yt = torch.as_tensor(xtr), torch.as_tensor(ytr, dtype=torch.float32)
    if noise_free is not None:
        clean, sig = (torch.as_tensor(a) for a in noise_free)
    xv = torch.as_tensor(xva)
    gen = torch.Generator().manual_seed(cfg.seed)
    t0 = time.perf_counter() - elapsed
    epoch = start_epoch
    budget = Budget(cfg.epochs, cfg.train_seconds)  # the cosine decay ends where the first budget ends
    while epoch < cfg.epochs and time.perf_counter() - t0 < cfg.train_seconds:
        for g in opt.param_groups:
            g["lr"] = cfg.lr * cosine(epoch, budget.update(epoch, time.perf_counter() - t0))
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), cfg.batch):
            idx = order[i:i + cfg.batch]
            xb = xt[idx] if noise_free is None else clean[idx] + sig[idx] * torch.randn(
                len(idx), clean.shape[1], generator=gen)
            if cfg.mask_prob > 0:
                xb = torch.where(random_masks(len(idx), xb.shape[1], cfg.mask_prob, gen), net[0].mean, xb)
            loss = _loss(cfg.loss, net(xb), yt[idx], precision, chol)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(np.abs(split_outputs(net(xv).numpy(), cfg.heteroscedastic)[0] - yva).mean())
        epoch += 1
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in net.state_dict().items()}
        atomic_torch_save(ckpt, {"net": net.state_dict(), "opt": opt.state_dict(), "epoch": epoch, "best": best,
                                 "best_state": best_state, "elapsed": time.perf_counter() - t0,
                                 "chol": chol.data if chol is not None else None})
        log(f"epoch {epoch}: val MAE {val:.4f} (standardised), best {best:.4f}, {time.perf_counter() - t0:.0f} s")
    net.load_state_dict(best_state)
    state = {**common, "net": best_state, "n_pixels": xtr.shape[1], "n_out": ytr.shape[1], "epochs": epoch}
    mean, sigma = predict_network(net, xva, mc_passes(cfg), cfg.heteroscedastic)
    return state, mean, sigma


def mc_passes(cfg: TrainConfig) -> int:
    """MC-dropout passes at inference: ``cfg.mc_samples`` for SPT and the CNN with dropout, else 1."""
    return cfg.mc_samples if cfg.dropout > 0 and cfg.model in ("spt", "spt-dot", "cnn") else 1


def mc_seeds(x: np.ndarray, passes: int, seed: int) -> np.ndarray:
    """(n, passes) 32-bit generator seeds for the MC-dropout passes of the spectra ``x`` (n, W): SHAKE-256 of
    ``seed`` and each spectrum's bytes, so identical spectra get identical seeds and any change of a pixel new
    ones."""
    import hashlib

    x = np.ascontiguousarray(x, dtype=np.float32)
    prefix = int(seed).to_bytes(8, "little", signed=True)
    digests = b"".join(hashlib.shake_256(prefix + row.tobytes()).digest(4 * passes) for row in x)
    return np.frombuffer(digests, dtype="<u4").reshape(len(x), passes).astype(np.int64)


def predict_network(net: torch.nn.Module, x: np.ndarray, mc_samples: int, heteroscedastic: bool = False,
                    seed: int = 0, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean and σ of a network's standardised outputs, in chunks of ``chunk`` spectra: σ is the MC-dropout spread
    of the means (with ``mc_samples`` > 1; else None) and, for a heteroscedastic network, its own predicted σ as
    well, added in quadrature (the mean of σ² over the passes plus the variance of the means).

    Each spectrum's dropout masks come from generators seeded by its own content and ``seed``
    (:func:`mc_seeds`), so a spectrum gets the same mean and σ on every call, whichever spectra are predicted with
    it and however they are chunked, and different spectra get independent masks."""
    import torch

    from lawful.spectra.networks import PassMasks, dropout_rate_and_sizes, mc_dropout_pass

    xt = torch.as_tensor(x, dtype=torch.float32)
    starts = range(0, len(xt), chunk)
    with torch.no_grad():
        if mc_samples > 1:
            seeds = mc_seeds(np.asarray(xt), mc_samples, seed)
            rate, sizes = dropout_rate_and_sizes(net, xt)
            outs = []
            for k in range(mc_samples):
                parts = []
                for i in starts:
                    with mc_dropout_pass(net, PassMasks(seeds[i:i + chunk, k], sizes, rate)):
                        parts.append(net(xt[i:i + chunk]))
                outs.append(torch.cat(parts).numpy())
        else:
            net.eval()
            outs = [torch.cat([net(xt[i:i + chunk]) for i in starts]).numpy()]
    means, log_sigma = split_outputs(np.stack(outs), heteroscedastic)
    var = means.var(axis=0) if mc_samples > 1 else None
    if log_sigma is not None:
        var = (0.0 if var is None else var) + np.exp(2.0 * np.clip(log_sigma, *LOG_SIGMA_RANGE)).mean(axis=0)
    return means.mean(axis=0), (np.sqrt(var) + 1e-6 if var is not None else None)
