"""Simulated cutout sets, training of the morphology classifiers, evaluation and classification of images.

Data: ``cutouts.h5`` holds ``train`` and ``test`` groups with ``images`` (n, 3, 52, 52) float32 counts and
``labels``, ``r_e``, ``snr``, ``psf_fwhm``. Network inputs are each band divided by its sky σ and stretched by
asinh(x / 3) (unit-free, so real images of any calibration can be classified), plus the standardised extra
features of :mod:`~lawful.galaxies.morphology.measure`. ``bands = "r"`` trains on the r band alone, for
single-band real images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat
from lawful.core.schedule import EPOCHS_HELP, Budget, cosine
from lawful.galaxies.morphology.measure import EXTRA, _sky_sigma, check_images, extra_features
from lawful.galaxies.morphology.simulate import CLASSES


class SimulateConfig(Config):
    """Simulated SDSS-like cutouts (:mod:`~lawful.galaxies.morphology.simulate`)."""

    n_train: int = pydantic.Field(6000, ge=30)
    n_test: int = pydantic.Field(3000, ge=30)
    difficulty: FiniteFloat = pydantic.Field(0.0, ge=0.0, le=1.0, description="0: SDSS-like; 1: small and faint")
    seed: int = pydantic.Field(0, ge=0)
    scheduler: str = pydantic.Field("serial", description="serial, local (Dask) or a scheduler address")
    workers: int = pydantic.Field(0, ge=0, description="Dask workers (0: one per core)")


class MorphConfig(Config):
    """One morphology classifier."""

    model: Literal["lecture", "deep", "rf"] = "deep"
    bands: Literal["gri", "r"] = "gri"
    epochs: int = pydantic.Field(15, ge=1, description=EPOCHS_HELP)
    train_seconds: FiniteFloat = pydantic.Field(600.0, gt=0, description="stop after this many seconds")
    batch: int = pydantic.Field(64, ge=1)
    lr: FiniteFloat = pydantic.Field(1e-3, gt=0)
    augment: bool = pydantic.Field(True, description="deep: random 90° rotations and flips")
    n_statmorph: int = pydantic.Field(1000, ge=30, description="rf: training (and test) cutouts measured by "
                                                               "statmorph")
    scheduler: str = pydantic.Field("serial", description="rf: statmorph through serial, local (Dask) or an address")
    workers: int = pydantic.Field(0, ge=0, description="rf: Dask workers for statmorph (0: one per core)")
    seed: int = pydantic.Field(0, ge=0)


def write_cutouts(cfg: SimulateConfig, out: Path) -> Path:
    """Simulate the train and test sets and write ``out/cutouts.h5`` atomically."""
    from lawful.core.io import atomic_h5
    from lawful.galaxies.morphology.simulate import simulate

    out.mkdir(parents=True, exist_ok=True)
    path = out / "cutouts.h5"
    sets = {name: simulate(n, cfg.seed * 2 + k, cfg.difficulty, scheduler=cfg.scheduler,
                           n_workers=cfg.workers or None)
            for k, (name, n) in enumerate((("train", cfg.n_train), ("test", cfg.n_test)))}
    with atomic_h5(path) as h5:
        h5.attrs["config"] = cfg.model_dump_json()
        for name, data in sets.items():
            for key, value in data.items():
                h5.create_dataset(f"{name}/{key}", data=value, compression="gzip" if key == "images" else None)
    return path


def load_cutouts(path: Path, split: str) -> dict[str, np.ndarray]:
    """One split of ``cutouts.h5`` as arrays."""
    import h5py

    with h5py.File(path, "r") as h5:
        if split not in h5:
            raise ValueError(f"{path} has no split {split!r}; it has {sorted(h5)}")
        return {key: h5[split][key][...] for key in h5[split]}


def network_input(images: np.ndarray, bands: str) -> np.ndarray:
    """Sky-normalised, asinh-stretched cutouts (n, C, H, W) float32; C = 3 for gri, 1 for r."""
    images = check_images(images)
    if bands == "r" and images.shape[1] == 3:
        images = images[:, 1:2]
    want = 3 if bands == "gri" else 1
    if images.shape[1] != want:
        raise ValueError(f"images have {images.shape[1]} band(s); a {bands} model needs {want}")
    sigma = _sky_sigma(images)
    return np.arcsinh(images / (3.0 * sigma[:, :, None, None])).astype(np.float32)


def image_features(images: np.ndarray, bands: str) -> np.ndarray:
    """Extra features (n, 5); for r-band models the colours are set to 0 (unknown)."""
    images = check_images(images)
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    feats = extra_features(images)
    if bands == "r":
        feats[:, :2] = 0.0
    return feats


def _save(path: Path, payload: dict) -> None:
    from lawful.core.io import atomic_torch_save

    atomic_torch_save(path, payload)


def train(cfg: MorphConfig, data: Path, out: Path, log: Callable[[str], None] = lambda msg: None) -> dict:
    """Train one classifier on the train split; resumes from ``out/checkpoint.pt``. Returns a summary."""
    out.mkdir(parents=True, exist_ok=True)
    d = load_cutouts(data, "train")
    feats = image_features(d["images"], cfg.bands)
    mean, std = feats.mean(0), feats.std(0) + 1e-9
    start = time.perf_counter()
    if cfg.model == "rf":
        return _train_forest(cfg, d, feats, out, start)
    import torch

    from lawful.core.threads import set_threads
    from lawful.galaxies.morphology.networks import ARCHITECTURES, augment

    set_threads(cfg.threads or None)
    x = torch.as_tensor(network_input(d["images"], cfg.bands))
    f = torch.as_tensor(((feats - mean) / std).astype(np.float32))
    y = torch.as_tensor(d["labels"].astype(np.int64))
    torch.manual_seed(cfg.seed)
    net = ARCHITECTURES[cfg.model](channels=x.shape[1], n_extra=f.shape[1], size=x.shape[-1])
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    budget = Budget(cfg.epochs, cfg.train_seconds)  # the cosine decay ends where the first budget ends
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: cosine(k, budget.horizon))
    gen = torch.Generator().manual_seed(cfg.seed)
    epoch, elapsed = 0, 0.0
    ckpt = out / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        gen.set_state(state["gen"])
        epoch, elapsed = state["epoch"], state["elapsed"]
        log(f"resumed at epoch {epoch}")
    loss_fn = torch.nn.CrossEntropyLoss()
    while epoch < cfg.epochs and elapsed < cfg.train_seconds:
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(len(y), generator=gen)
        total = 0.0
        for i in range(0, len(y), cfg.batch):
            idx = perm[i:i + cfg.batch]
            xb = augment(x[idx], gen) if cfg.augment and cfg.model == "deep" else x[idx]
            opt.zero_grad()
            loss = loss_fn(net(xb, f[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        epoch += 1
        elapsed += time.perf_counter() - t0
        budget.update(epoch, elapsed)
        sched.step()
        _save(ckpt, {"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "gen": gen.get_state(), "epoch": epoch, "elapsed": elapsed})
        log(f"{cfg.model}: epoch {epoch}/{cfg.epochs} loss {total / len(y):.4f} ({elapsed:.0f} s)")
    _save(out / "model.pt", {"kind": "cnn", "config": cfg.model_dump(), "state": net.state_dict(),
                             "mean": mean, "std": std, "size": int(x.shape[-1])})
    return {"model": cfg.model, "bands": cfg.bands, "epochs": epoch, "train_seconds": elapsed, "n_train": len(y)}


def _train_forest(cfg: MorphConfig, d: dict, feats: np.ndarray, out: Path, start: float) -> dict:
    from sklearn.ensemble import RandomForestClassifier

    from lawful.galaxies.morphology.nonparametric import morphology_parameters

    n = min(cfg.n_statmorph, len(d["labels"]))
    params = morphology_parameters(d["images"][:n], scheduler=cfg.scheduler, n_workers=cfg.workers or None)
    forest = RandomForestClassifier(400, random_state=cfg.seed, n_jobs=cfg.threads or None)
    forest.fit(np.c_[params, feats[:n]], d["labels"][:n])
    _save(out / "model.pt", {"kind": "rf", "config": cfg.model_dump(), "forest": forest})
    return {"model": "rf", "bands": cfg.bands, "train_seconds": time.perf_counter() - start, "n_train": n}


def shipped_model(bands: str) -> Path:
    """The directory of the deep CNN that ships with lawful for ``bands`` "gri" or "r" (see docs/galaxies.md)."""
    if bands not in ("gri", "r"):
        raise ValueError(f"bands {bands!r}: the shipped models are for 'gri' and 'r'")
    return Path(__file__).resolve().parent.parent / "models" / f"morph_{bands}"


def load_model(model_dir: Path):
    """A trained classifier: a function (n, B, H, W) images → (n, 3) class probabilities, and its config."""
    import torch

    path = model_dir / "model.pt"
    if not path.exists():
        raise FileNotFoundError(f"no trained model at {path}: run `lawful galaxies morph train` first")
    saved = torch.load(path, weights_only=False)
    cfg = MorphConfig(**saved["config"])
    if saved["kind"] == "rf":
        from lawful.galaxies.morphology.nonparametric import morphology_parameters

        def predict_rf(images: np.ndarray) -> np.ndarray:
            feats = image_features(images, cfg.bands)
            params = morphology_parameters(images, scheduler=cfg.scheduler, n_workers=cfg.workers or None)
            return saved["forest"].predict_proba(np.c_[params, feats])

        return predict_rf, cfg
    from lawful.galaxies.morphology.networks import ARCHITECTURES

    net = ARCHITECTURES[cfg.model](channels=3 if cfg.bands == "gri" else 1, n_extra=len(EXTRA), size=saved["size"])
    net.load_state_dict(saved["state"])
    net.eval()

    def predict(images: np.ndarray) -> np.ndarray:
        images = check_images(images)
        if images.shape[-1] != saved["size"]:
            raise ValueError(f"cutouts are {images.shape[-1]}×{images.shape[-2]} pixels; the model was trained on "
                             f"{saved['size']}×{saved['size']}")
        x = torch.as_tensor(network_input(images, cfg.bands))
        f = torch.as_tensor(((image_features(images, cfg.bands) - saved["mean"]) / saved["std"]).astype(np.float32))
        with torch.no_grad():
            return torch.cat([torch.softmax(net(x[i:i + 512], f[i:i + 512]), dim=1)
                              for i in range(0, len(x), 512)]).numpy()

    return predict, cfg


def evaluate(data: Path, model_dir: Path, plots: Path | None = None) -> dict:
    """Accuracy, the confusion matrix (rows: true E, S, Irr), accuracy per SNR and r_e bin and, within E, for
    ellipticals and lenticulars apart, on the test split."""
    d = load_cutouts(data, "test")
    predict, cfg = load_model(model_dir)
    n = min(len(d["labels"]), cfg.n_statmorph) if cfg.model == "rf" else len(d["labels"])
    pred = np.argmax(predict(d["images"][:n]), axis=1)
    truth = d["labels"][:n]
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (truth, pred), 1)
    right = pred == truth

    def by_bins(values: np.ndarray, edges: list[float]) -> dict[str, float]:
        which = np.digitize(values, edges)
        labels = [f"<{edges[0]:g}"] + [f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:])] + [f">{edges[-1]:g}"]
        return {labels[k]: float(right[which == k].mean()) for k in range(len(labels)) if np.any(which == k)}

    result = {"model": cfg.model, "bands": cfg.bands, "n": int(n), "accuracy": float(right.mean()),
              "confusion": confusion.tolist(), "classes": list(CLASSES),
              "by_snr": by_bins(d["snr"][:n], [30.0, 60.0, 120.0]), "by_r_e": by_bins(d["r_e"][:n], [1.5, 2.5, 3.5])}
    if "lenticular" in d:  # cutouts written before the E class held S0s have no such column
        s0 = d["lenticular"][:n]
        result["accuracy_e_by_kind"] = {kind: float(right[(truth == 0) & sel].mean())
                                        for kind, sel in (("elliptical", ~s0), ("lenticular", s0))
                                        if np.any((truth == 0) & sel)}
    if plots is not None:
        from lawful.galaxies.plots import confusion_figure

        confusion_figure(confusion, list(CLASSES), f"{cfg.model} ({cfg.bands}): {100 * right.mean():.1f} %",
                         plots / f"confusion_{cfg.model}_{cfg.bands}.png")
    return result
