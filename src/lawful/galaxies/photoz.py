"""Photometric redshifts by k-fold cross-validation: every prediction is out-of-fold.

Methods (each gives a point estimate and a p(z) on :data:`~lawful.galaxies.metrics.Z_GRID`):

* ``rf`` — random forest (the SDSS classic); z_phot is the median of the trees, p(z) their smoothed histogram;
* ``knn`` — k nearest neighbours in standardised features; p(z) from the neighbours' redshifts;
* ``gbm`` — histogram gradient boosting with the absolute loss (the median), plus the 16 % and 84 % quantiles
  giving a two-piece normal p(z);
* ``mdn`` — the mixture density network of :mod:`~lawful.galaxies.mdn`, fed the flux errors;
* ``template`` — the BPZ-like fit of :mod:`~lawful.galaxies.templates` (no learning but zero points and n(z | r));
* ``hybrid`` — the mixture density network with the template fit's p(z) summarised as extra features
  (its mode, median, 16/84 % quantiles and best χ²), the physical model informing the learned one.

The point estimate of a p(z) method is its median.

With ``sky_prior`` any method's p(z) is multiplied by the redshift prior of :mod:`~lawful.galaxies.sky`, fitted to
the training fold's positions and redshifts (galaxies cluster: a neighbour on the sky is likely at the same z);
z_phot is then the posterior's median. This uses the spectroscopic redshifts of the training galaxies around each
test galaxy, not its photometry alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pydantic

from lawful.core.config import Config
from lawful.galaxies.catalog import Catalog
from lawful.galaxies.metrics import (
    Z_GRID,
    normalize,
    pdf_from_samples,
    pdf_metrics,
    pit,
    point_metrics,
    quantiles,
)

METHODS = ("rf", "knn", "gbm", "mdn", "template", "hybrid")


class PhotozConfig(Config):
    """One photo-z method, cross-validated."""

    method: Literal["rf", "knn", "gbm", "mdn", "template", "hybrid"] = "rf"
    folds: int = pydantic.Field(5, ge=2, le=20, description="k of k-fold cross-validation")
    seed: int = pydantic.Field(0, ge=0, description="seeds the fold split and every model")
    trees: int = pydantic.Field(300, ge=10, description="rf: number of trees")
    neighbors: int = pydantic.Field(30, ge=2, description="knn: number of neighbours")
    members: int = pydantic.Field(3, ge=1, description="mdn/hybrid: networks in the ensemble")
    epochs: int = pydantic.Field(100, ge=5, description="mdn/hybrid: training epochs per network")
    width: int = pydantic.Field(128, ge=8, description="mdn/hybrid: units in each of the three hidden layers")
    floor: float = pydantic.Field(0.03, ge=0.0, le=0.5, description="template: fractional flux floor")
    train_on: Literal["real", "synthetic"] = pydantic.Field(
        "real", description="synthetic: train on template galaxies made like each training fold, test on the real "
                            "galaxies (model magnitudes only)")
    synthetic_n: int = pydantic.Field(20000, ge=100, description="synthetic galaxies per fold")
    train_fraction: float = pydantic.Field(
        1.0, gt=0.0, le=1.0, description="train on this seeded random fraction of each training fold (a learning "
                                         "curve; the fractions of one seed are nested); the test folds are whole")
    sky_prior: bool = pydantic.Field(
        False, description="multiply each p(z) by the prior from the training galaxies' neighbours on the sky "
                           "(needs RA, Dec; not with train_on=synthetic)")
    max_fold: int = pydantic.Field(0, ge=0, description="run only the first N folds (0: all); for quick looks")

    @pydantic.model_validator(mode="after")
    def _sky_needs_real_training(self) -> PhotozConfig:
        if self.sky_prior and self.train_on == "synthetic":
            raise ValueError("sky_prior = true needs spectroscopic training galaxies on the sky; train_on = "
                             "synthetic has none (set one of them otherwise)")
        return self


Fold = tuple[np.ndarray, np.ndarray]
Predictor = Callable[[Catalog, Catalog, PhotozConfig, int], tuple[np.ndarray, np.ndarray]]


def _features(train: Catalog, test: Catalog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features and errors of the training and test galaxies, without the columns that carry no information in
    the training set: never measured (a table without 2MASS) or constant (r − r_petro without Petrosian fluxes)."""
    (x_train, e_train, _), (x_test, e_test, _) = train.features(), test.features()
    finite = np.isfinite(x_train)
    keep = np.any(finite, axis=0)
    keep[keep] = np.nanstd(x_train[:, keep], axis=0) > 0
    return x_train[:, keep], e_train[:, keep], x_test[:, keep], e_test[:, keep]


def _rf(train: Catalog, test: Catalog, cfg: PhotozConfig, seed: int):
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(cfg.trees, min_samples_leaf=3, n_jobs=cfg.threads or None, random_state=seed)
    x_train, _, x, _ = _features(train, test)
    forest.fit(x_train, train.z)
    samples = np.stack([tree.predict(x) for tree in forest.estimators_], axis=1)
    return np.median(samples, axis=1), pdf_from_samples(samples)


def _knn(train: Catalog, test: Catalog, cfg: PhotozConfig, seed: int):
    from sklearn.neighbors import NearestNeighbors

    x_train, _, x_test, _ = _features(train, test)
    med, std = np.nanmedian(x_train, axis=0), np.nanstd(x_train, axis=0) + 1e-9

    def scaled(x: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(x), (x - med) / std, 0.0)

    _, idx = NearestNeighbors(n_neighbors=cfg.neighbors).fit(scaled(x_train)).kneighbors(scaled(x_test))
    samples = train.z[idx]
    return np.median(samples, axis=1), pdf_from_samples(samples)


def _gbm(train: Catalog, test: Catalog, cfg: PhotozConfig, seed: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    x_train, _, x_test, _ = _features(train, test)
    q = {}
    for name, kw in (("50", {"loss": "absolute_error"}), ("16", {"loss": "quantile", "quantile": 0.16}),
                     ("84", {"loss": "quantile", "quantile": 0.84})):
        model = HistGradientBoostingRegressor(max_iter=800, learning_rate=0.05, max_leaf_nodes=15,
                                              min_samples_leaf=30, random_state=seed, **kw)
        q[name] = model.fit(x_train, train.z).predict(x_test)
    lo = np.maximum(q["50"] - q["16"], 1e-3)
    hi = np.maximum(q["84"] - q["50"], 1e-3)
    dz = Z_GRID[None, :] - q["50"][:, None]
    pdf = np.exp(-0.5 * (dz / np.where(dz < 0, lo[:, None], hi[:, None])) ** 2)
    return q["50"], normalize(pdf + 1e-300)


def _mdn(train: Catalog, test: Catalog, cfg: PhotozConfig, seed: int, extra=None):
    from lawful.galaxies import mdn

    x_train, e_train, x_test, e_test = _features(train, test)
    if extra is not None:
        x_train, e_train = np.c_[x_train, extra[0][0]], np.c_[e_train, extra[0][1]]
        x_test, e_test = np.c_[x_test, extra[1][0]], np.c_[e_test, extra[1][1]]
    pdf = mdn.fit_predict(x_train, e_train, train.z, x_test, e_test, seed, members=cfg.members, epochs=cfg.epochs,
                          width=cfg.width)
    return quantiles(pdf, 0.5), pdf


def _template_fit(train: Catalog, cfg: PhotozConfig):
    from lawful.galaxies.templates import TemplateFit

    return TemplateFit.train(train.model, train.model_err, train.z, floor=cfg.floor)


def _template(train: Catalog, test: Catalog, cfg: PhotozConfig, seed: int):
    pdf = _template_fit(train, cfg).pdf(test.model, test.model_err)
    return quantiles(pdf, 0.5), pdf


def template_features(cat: Catalog, fit) -> tuple[np.ndarray, np.ndarray]:
    """(n, 5) features from the template likelihood of every galaxy — mode, 16/50/84 % quantiles, best
    −log L — and their (unknown, NaN) errors."""
    like = normalize(fit.likelihood(cat.model, cat.model_err))
    q = quantiles(like, np.array([0.16, 0.5, 0.84]))
    feats = np.c_[Z_GRID[np.argmax(like, axis=1)], q, -np.log(like.max(axis=1))]
    return feats, np.full_like(feats, np.nan)


def _hybrid(train: Catalog, test: Catalog, cfg: PhotozConfig, seed: int):
    fit = _template_fit(train, cfg)
    return _mdn(train, test, cfg, seed, extra=(template_features(train, fit), template_features(test, fit)))


PREDICTORS: dict[str, Predictor] = {"rf": _rf, "knn": _knn, "gbm": _gbm, "mdn": _mdn, "template": _template,
                                    "hybrid": _hybrid}


def folds(n: int, k: int, seed: int) -> list[Fold]:
    """k (train, test) index pairs of a seeded shuffled split of n galaxies."""
    from sklearn.model_selection import KFold

    return list(KFold(k, shuffle=True, random_state=seed).split(np.arange(n)))


def training_rows(train: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """The first ``round(fraction · len(train))`` (at least one) of a seeded permutation of a fold's training
    rows, so that for one seed a smaller fraction's galaxies are a subset of a larger one's."""
    keep = max(1, round(fraction * len(train)))
    return np.sort(train[np.random.default_rng(seed).permutation(len(train))[:keep]])


def _fold_file(checkpoints: Path | None, cfg: PhotozConfig, k: int) -> Path | None:
    if checkpoints is None:
        return None
    key = cfg.model_dump(exclude={"threads", "max_fold", "sky_prior"})  # the prior is applied after
    tag = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return checkpoints / f"fold{k}_{cfg.method}_{tag}.npz"


def cross_validate(cat: Catalog, cfg: PhotozConfig, log: Callable[[str], None] = lambda msg: None,
                   checkpoints: Path | None = None) -> dict:
    """Out-of-fold z_phot, 68 % interval and p(z) of every galaxy (NaN for galaxies of skipped folds), metrics.

    With ``checkpoints`` each finished fold is written there atomically and reused by a rerun of the same config
    (the fold's photometric p(z), before any sky prior, so that a rerun with ``sky_prior`` reuses it too).
    ``result["sky"]`` lists each fold's fitted prior (u per separation bin, σ in km/s) when ``sky_prior`` is set.
    """
    from lawful.core.io import atomic_write_bytes
    from lawful.core.threads import set_threads

    if cfg.sky_prior and not cat.has_positions:
        missing = int(np.sum(~(np.isfinite(cat.ra) & np.isfinite(cat.dec))))
        raise ValueError(f"sky_prior = true needs RA and Dec for every galaxy; {missing} of {len(cat)} have none "
                         f"(a table needs RA, DEC columns)")
    set_threads(cfg.threads or None)
    n = len(cat)
    sky = []
    z_phot = np.full(n, np.nan)
    pdf = np.zeros((n, len(Z_GRID)), dtype=np.float32)
    done = np.zeros(n, dtype=bool)
    start = time.perf_counter()
    splits = folds(n, cfg.folds, cfg.seed)
    for k, (tr, te) in enumerate(splits[:cfg.max_fold or None]):
        path = _fold_file(checkpoints, cfg, k)
        train, test = cat.subset(training_rows(tr, cfg.train_fraction, cfg.seed * 100 + k)), cat.subset(te)
        if path is not None and path.exists():
            with np.load(path) as saved:
                z_phot[te], pdf[te] = saved["z_phot"], saved["pdf"]
            log(f"{cfg.method}: fold {k + 1}/{cfg.folds} from {path}")
        else:
            fit_on = train
            if cfg.train_on == "synthetic":
                from lawful.galaxies.templates import synthetic_catalog

                fit_on, test = synthetic_catalog(train, cfg.synthetic_n, cfg.seed * 100 + k), test.model_only()
            z_phot[te], pdf[te] = PREDICTORS[cfg.method](fit_on, test, cfg, cfg.seed * 100 + k)
            if path is not None:
                buf = io.BytesIO()
                np.savez_compressed(buf, z_phot=z_phot[te], pdf=pdf[te])
                atomic_write_bytes(path, buf.getvalue())
            log(f"{cfg.method}: fold {k + 1}/{cfg.folds} in {time.perf_counter() - start:.0f} s")
        done[te] = True
        if cfg.sky_prior:
            from lawful.galaxies.sky import SkyPrior

            prior = SkyPrior.fit(train.ra, train.dec, train.z)
            posterior = prior.posterior(pdf[te], test.ra, test.dec)
            pdf[te], z_phot[te] = posterior, quantiles(posterior, 0.5)
            sky.append({"u": prior.u.round(4).tolist(), "sigma_km_s": round(prior.velocity_dispersion, 1)})
            log(f"{cfg.method}: fold {k + 1} sky prior u(θ) = {sky[-1]['u']}, σ = {sky[-1]['sigma_km_s']} km/s")
    pdf = normalize(pdf[done].astype(float))
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    lo[done], hi[done] = quantiles(pdf, np.array([0.16, 0.84])).T
    metrics = {**point_metrics(z_phot[done], cat.z[done]), **pdf_metrics(pdf, cat.z[done]),
               "n": int(done.sum()), "seconds": time.perf_counter() - start}
    return {"metrics": metrics, "z_phot": z_phot, "z_lo68": lo, "z_hi68": hi, "done": done,
            "pit": pit(pdf, cat.z[done]), "sky": sky}


def write_predictions(path: Path, cat: Catalog, result: dict) -> None:
    """``predictions.csv``: index (row of the table), z_spec, z_phot, z_lo68, z_hi68 — out-of-fold rows only."""
    from lawful.core.io import atomic_write_bytes

    rows = np.nonzero(result["done"])[0]
    table = np.c_[rows, cat.z[rows], result["z_phot"][rows], result["z_lo68"][rows], result["z_hi68"][rows]]
    buf = io.StringIO()
    np.savetxt(buf, table, fmt=["%d"] + ["%.6f"] * 4, delimiter=",", header="index,z_spec,z_phot,z_lo68,z_hi68",
               comments="")
    atomic_write_bytes(path, buf.getvalue().encode())
