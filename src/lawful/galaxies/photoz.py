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

The point estimate of a p(z) method is its median. Each method is a fitted object (:data:`FITTERS`: fit on
training galaxies, then ``predict`` any others), which cross-validation fits once per fold and
:mod:`~lawful.galaxies.photoz_model` once on a whole table, to save and apply to new ones.

With ``sky_prior`` any method's p(z) is multiplied by the redshift prior of :mod:`~lawful.galaxies.sky`, fitted to
the training fold's positions and redshifts (galaxies cluster: a neighbour on the sky is likely at the same z);
z_phot is then the posterior's median. This uses the spectroscopic redshifts of the training galaxies around each
test galaxy, not its photometry alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

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

if TYPE_CHECKING:
    from lawful.galaxies.templates import TemplateFit

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


class Predictor(Protocol):
    """A method fitted to training galaxies."""

    features: FeatureSet

    def predict(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        """z_phot (n,) and p(z) (n, G) on :data:`~lawful.galaxies.metrics.Z_GRID` of the galaxies of ``cat``."""


Fitter = Callable[[Catalog, PhotozConfig, int], Predictor]


@dataclasses.dataclass
class FeatureSet:
    """The features (of :meth:`Catalog.features`) a method learns from: those that carry information in its
    training set (not never measured, as in a table without 2MASS, nor constant, as r − r_petro without
    Petrosian fluxes), and the range each spans there."""

    keep: np.ndarray  #: (14,) bool: which of the catalog's features are used
    names: tuple[str, ...]  #: (F,) their names
    lo: np.ndarray  #: (F,) the training galaxies' smallest value of each
    hi: np.ndarray  #: (F,) and largest

    @classmethod
    def fit(cls, train: Catalog) -> FeatureSet:
        x, _, names = train.features()
        keep = np.any(np.isfinite(x), axis=0)
        keep[keep] = np.nanstd(x[:, keep], axis=0) > 0
        return cls(keep, tuple(np.asarray(names)[keep]), np.nanmin(x[:, keep], axis=0), np.nanmax(x[:, keep], axis=0))

    def __call__(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        """Features and their 1σ errors (NaN where unknown), each (n, F)."""
        x, e, _ = cat.features()
        return x[:, self.keep], e[:, self.keep]

    def outside(self, cat: Catalog) -> np.ndarray:
        """(n, F) bool: a galaxy's feature beyond the training range (a missing one is not)."""
        x, _ = self(cat)
        with np.errstate(invalid="ignore"):
            return (x < self.lo) | (x > self.hi)


@dataclasses.dataclass
class Forest:
    """``rf``: z_phot the median of the trees' predictions, p(z) their smoothed histogram."""

    features: FeatureSet
    forest: object  #: sklearn RandomForestRegressor

    @classmethod
    def fit(cls, train: Catalog, cfg: PhotozConfig, seed: int) -> Forest:
        from sklearn.ensemble import RandomForestRegressor

        features = FeatureSet.fit(train)
        forest = RandomForestRegressor(cfg.trees, min_samples_leaf=3, n_jobs=cfg.threads or None, random_state=seed)
        return cls(features, forest.fit(features(train)[0], train.z))

    def predict(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        x = self.features(cat)[0]
        samples = np.stack([tree.predict(x) for tree in self.forest.estimators_], axis=1)
        return np.median(samples, axis=1), pdf_from_samples(samples)


@dataclasses.dataclass
class Neighbours:
    """``knn``: the training redshifts of the nearest neighbours in standardised features."""

    features: FeatureSet
    center: np.ndarray  #: (F,) training medians
    scale: np.ndarray  #: (F,) training standard deviations
    search: object  #: sklearn NearestNeighbors fitted to the scaled training features
    z: np.ndarray  #: (N,) training redshifts

    @classmethod
    def fit(cls, train: Catalog, cfg: PhotozConfig, seed: int) -> Neighbours:
        from sklearn.neighbors import NearestNeighbors

        features = FeatureSet.fit(train)
        x = features(train)[0]
        model = cls(features, np.nanmedian(x, axis=0), np.nanstd(x, axis=0) + 1e-9, None, train.z)
        model.search = NearestNeighbors(n_neighbors=cfg.neighbors).fit(model._scaled(x))
        return model

    def _scaled(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(x), (x - self.center) / self.scale, 0.0)

    def predict(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        _, idx = self.search.kneighbors(self._scaled(self.features(cat)[0]))
        samples = self.z[idx]
        return np.median(samples, axis=1), pdf_from_samples(samples)


@dataclasses.dataclass
class Boosting:
    """``gbm``: histogram gradient boosting of the median (absolute loss) and of the 16 % and 84 % quantiles,
    giving a two-piece normal p(z)."""

    features: FeatureSet
    models: dict  #: {"50", "16", "84"}: sklearn HistGradientBoostingRegressor

    @classmethod
    def fit(cls, train: Catalog, cfg: PhotozConfig, seed: int) -> Boosting:
        from sklearn.ensemble import HistGradientBoostingRegressor

        features = FeatureSet.fit(train)
        x = features(train)[0]
        models = {}
        for name, kw in (("50", {"loss": "absolute_error"}), ("16", {"loss": "quantile", "quantile": 0.16}),
                         ("84", {"loss": "quantile", "quantile": 0.84})):
            model = HistGradientBoostingRegressor(max_iter=800, learning_rate=0.05, max_leaf_nodes=15,
                                                  min_samples_leaf=30, random_state=seed, **kw)
            models[name] = model.fit(x, train.z)
        return cls(features, models)

    def predict(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        x = self.features(cat)[0]
        q = {name: model.predict(x) for name, model in self.models.items()}
        lo = np.maximum(q["50"] - q["16"], 1e-3)
        hi = np.maximum(q["84"] - q["50"], 1e-3)
        dz = Z_GRID[None, :] - q["50"][:, None]
        pdf = np.exp(-0.5 * (dz / np.where(dz < 0, lo[:, None], hi[:, None])) ** 2)
        return q["50"], normalize(pdf + 1e-300)


@dataclasses.dataclass
class Template:
    """``template``: the BPZ-like fit of :mod:`~lawful.galaxies.templates`, trained only in its zero points and
    its prior n(z | r)."""

    features: FeatureSet  #: the range of the training galaxies, for flags; the fit itself uses model magnitudes
    template: TemplateFit

    @classmethod
    def fit(cls, train: Catalog, cfg: PhotozConfig, seed: int) -> Template:
        return cls(FeatureSet.fit(train), _template_fit(train, cfg))

    def predict(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        pdf = self.template.pdf(cat.model, cat.model_err)
        return quantiles(pdf, 0.5), pdf


@dataclasses.dataclass
class Mixture:
    """``mdn``: the mixture density network ensemble of :mod:`~lawful.galaxies.mdn`, fed the features and their
    errors; ``hybrid``: the same, fed also the template fit's likelihood summarised (:func:`template_features`)."""

    features: FeatureSet
    ensemble: object  #: mdn.Ensemble
    template: TemplateFit | None = None  #: hybrid only

    @classmethod
    def fit(cls, train: Catalog, cfg: PhotozConfig, seed: int) -> Mixture:
        from lawful.galaxies import mdn

        features = FeatureSet.fit(train)
        model = cls(features, None, _template_fit(train, cfg) if cfg.method == "hybrid" else None)
        x, e = model._inputs(train)
        model.ensemble = mdn.fit(x, e, train.z, seed, members=cfg.members, epochs=cfg.epochs, width=cfg.width)
        return model

    def _inputs(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        x, e = self.features(cat)
        if self.template is None:
            return x, e
        extra, extra_err = template_features(cat, self.template)
        return np.c_[x, extra], np.c_[e, extra_err]

    def predict(self, cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
        pdf = self.ensemble.pdf(*self._inputs(cat))
        return quantiles(pdf, 0.5), pdf


def _template_fit(train: Catalog, cfg: PhotozConfig) -> TemplateFit:
    from lawful.galaxies.templates import TemplateFit

    return TemplateFit.train(train.model, train.model_err, train.z, floor=cfg.floor)


def template_features(cat: Catalog, fit: TemplateFit) -> tuple[np.ndarray, np.ndarray]:
    """(n, 5) features from the template likelihood of every galaxy — mode, 16/50/84 % quantiles, best
    −log L — and their (unknown, NaN) errors."""
    like = normalize(fit.likelihood(cat.model, cat.model_err))
    q = quantiles(like, np.array([0.16, 0.5, 0.84]))
    feats = np.c_[Z_GRID[np.argmax(like, axis=1)], q, -np.log(like.max(axis=1))]
    return feats, np.full_like(feats, np.nan)


FITTERS: dict[str, Fitter] = {"rf": Forest.fit, "knn": Neighbours.fit, "gbm": Boosting.fit, "mdn": Mixture.fit,
                              "template": Template.fit, "hybrid": Mixture.fit}


def fit_on(train: Catalog, cfg: PhotozConfig, seed: int) -> tuple[Predictor, frozenset[str]]:
    """``cfg.method`` fitted to the training galaxies — or, with ``train_on = synthetic``, to template galaxies
    made like them — and the optional photometry (:attr:`Catalog.measured`) it learnt from."""
    if cfg.train_on == "synthetic":
        from lawful.galaxies.templates import synthetic_catalog

        train = synthetic_catalog(train, cfg.synthetic_n, seed)
    return FITTERS[cfg.method](train, cfg, seed), train.measured


def check_redshifts(cat: Catalog) -> None:
    """Refuse a catalog without spectroscopic redshifts for training or validation."""
    if not np.all(np.isfinite(cat.z)):
        raise ValueError(f"{int(np.sum(~np.isfinite(cat.z)))} of {len(cat)} galaxies have no spectroscopic redshift "
                         f"(a table to learn from needs a Z column)")


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

    check_redshifts(cat)
    if cfg.sky_prior:
        cat.require_positions("sky_prior = true")
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
            predictor, measured = fit_on(train, cfg, cfg.seed * 100 + k)
            z_phot[te], pdf[te] = predictor.predict(test.restricted(measured))
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
