"""A photo-z model trained on every spectroscopic galaxy of a table, saved, and applied to other tables.

Cross-validation (:func:`~lawful.galaxies.photoz.cross_validate`) measures a method; this is how it is then used:
:func:`train` fits the method to all the galaxies of a table with redshifts — and, with ``sky_prior``, the
neighbour prior of :mod:`~lawful.galaxies.sky` to their positions — and :func:`predict` gives the p(z) of
galaxies of any table in the same format, with or without redshifts. The model is one ``model.joblib`` file
(scikit-learn's persistence: load only models you trust, as with any pickle).

What the model cannot vouch for is said, never hidden:

* photometry the model learnt from but the table lacks (Petrosian fluxes, 2MASS) is refused before any work —
  the features would silently change meaning; photometry the table has but the model never saw is ignored;
* ``outside``: the features beyond the range the training galaxies span (e.g. ``r`` for a galaxy fainter than
  the spectroscopic sample) — an extrapolation of the learnt mapping;
* ``near_training``: with the sky prior, a galaxy within :data:`SAME_GALAXY_ARCSEC` of a training galaxy is
  probably that galaxy, whose own redshift then enters its prior.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np

from lawful.galaxies.catalog import OPTIONAL_PHOTOMETRY, Catalog
from lawful.galaxies.metrics import Z_GRID, coverages, crps, normalize, pit, point_metrics, quantiles
from lawful.galaxies.photoz import PhotozConfig, Predictor, check_redshifts, fit_on

#: a target within this separation (arcsec) of a training galaxy is counted as that galaxy
SAME_GALAXY_ARCSEC = 1.0
MODEL_FILE = "model.joblib"
#: galaxies predicted at a time: bounds the (chunk, 1001) p(z) arrays and the sky prior's neighbour kernels
CHUNK = 1024
FORMAT = 1


@dataclasses.dataclass
class PhotozModel:
    """A fitted photo-z method and what it was fitted to."""

    config: PhotozConfig
    predictor: Predictor
    measured: frozenset[str]  #: the optional photometry (:data:`OPTIONAL_PHOTOMETRY` keys) it learnt from
    sky: object | None  #: the fitted :class:`~lawful.galaxies.sky.SkyPrior`, or None
    n_train: int
    z_range: tuple[float, float]  #: the training redshifts' range
    version: str  #: lawful's version that trained it
    format: int = FORMAT


def train(cat: Catalog, cfg: PhotozConfig) -> PhotozModel:
    """``cfg.method`` fitted to every galaxy of ``cat`` (which must all have redshifts, and positions when
    ``cfg.sky_prior``); seeded by ``cfg.seed``."""
    from lawful.core.io import lawful_version
    from lawful.core.threads import set_threads

    check_redshifts(cat)
    if cfg.sky_prior:
        cat.require_positions("sky_prior = true")
    set_threads(cfg.threads or None)
    predictor, measured = fit_on(cat, cfg, cfg.seed)
    sky = None
    if cfg.sky_prior:
        from lawful.galaxies.sky import SkyPrior

        sky = SkyPrior.fit(cat.ra, cat.dec, cat.z)
    return PhotozModel(cfg, predictor, measured, sky, len(cat), (float(cat.z.min()), float(cat.z.max())),
                       lawful_version())


def save(model: PhotozModel, directory: Path) -> Path:
    """``directory/model.joblib`` (zlib level 3: a forest's trees shrink about fourfold), written atomically;
    returns its path."""
    import joblib

    from lawful.core.io import atomic_write_bytes

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    path = Path(directory) / MODEL_FILE
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load(path: Path) -> PhotozModel:
    """The model in ``path`` (a directory holding model.joblib, or the file)."""
    import joblib

    path = Path(path)
    path = path / MODEL_FILE if path.is_dir() else path
    if not path.exists():
        raise FileNotFoundError(f"no photo-z model at {path} (train one with `lawful galaxies photoz-train`)")
    model = joblib.load(path)
    if not isinstance(model, PhotozModel) or model.format != FORMAT:
        raise ValueError(f"{path} is not a photo-z model of format {FORMAT} (retrain it with this version of lawful)")
    return model


def predict(model: PhotozModel, cat: Catalog, sky_prior: bool = True, chunk: int = CHUNK) -> dict:
    """p(z) of the galaxies of ``cat``: ``pdf`` (n, G) on :data:`~lawful.galaxies.metrics.Z_GRID`, ``z_phot``
    (its median), ``z_lo68``, ``z_hi68``, ``z_lo95``, ``z_hi95`` (n,), ``outside`` (n,) str (the features beyond
    the training range, ';'-separated, '' if none), ``near_training`` (n,) bool (False without the sky prior),
    ``sky_prior`` whether it was applied, and ``metrics`` over the galaxies with a redshift (None if none has).

    The model's sky prior is applied when it has one and ``sky_prior``; the table must then give every galaxy a
    position. Computed ``chunk`` galaxies at a time; the whole (n, G) p(z) is returned — :func:`write` keeps
    only one chunk of it in memory."""
    return _run(model, cat, sky_prior, chunk)


def _run(model: PhotozModel, cat: Catalog, sky_prior: bool, chunk: int, pdf_sink=None) -> dict:
    """:func:`predict` ``chunk`` galaxies at a time; with ``pdf_sink(rows, pdf)`` each chunk's p(z) goes there
    and is not kept (``pdf`` is then absent from the result)."""
    use_sky = _check(model, cat, sky_prior)
    if chunk < 1:
        raise ValueError(f"chunk = {chunk} galaxies: must be at least 1")
    parts = []
    for start in range(0, len(cat), chunk):
        rows = slice(start, min(start + chunk, len(cat)))
        part = _predict_chunk(model, cat.subset(rows), use_sky)
        if pdf_sink is not None:
            pdf_sink(rows, part.pop("pdf"))
        parts.append(part)
    result = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    return {**result, "sky_prior": use_sky, "metrics": _metrics(cat, result)}


def _check(model: PhotozModel, cat: Catalog, sky_prior: bool) -> bool:
    """Refuse a table the model cannot predict, before any work; whether the sky prior will be applied."""
    if len(cat) == 0:
        raise ValueError("the table has no galaxies to predict")
    lacking = model.measured - cat.measured
    if lacking:
        columns = [c for group in sorted(lacking) for c in OPTIONAL_PHOTOMETRY[group]]
        raise ValueError(f"the model learnt from {sorted(lacking)} photometry, which the table lacks (columns "
                         f"{columns}); give them, or train a model on a table without them")
    use_sky = sky_prior and model.sky is not None
    if use_sky:
        cat.require_positions("the model's sky prior", "give RA, DEC columns, or predict without the sky prior")
    return use_sky


def _predict_chunk(model: PhotozModel, cat: Catalog, use_sky: bool) -> dict:
    """:func:`predict`'s per-galaxy arrays for the galaxies of ``cat``, and their CRPS and PIT (NaN where z is
    unknown)."""
    seen = cat.restricted(model.measured)
    z_phot, pdf = model.predictor.predict(seen)
    near = np.zeros(len(cat), dtype=bool)
    if use_sky:
        pdf = model.sky.posterior(pdf, cat.ra, cat.dec)
        z_phot = quantiles(pdf, 0.5)
        near = model.sky.nearest_arcmin(cat.ra, cat.dec) < SAME_GALAXY_ARCSEC / 60.0
    else:
        pdf = normalize(np.asarray(pdf, dtype=float))
    features = model.predictor.features
    beyond = features.outside(seen)
    outside = np.full(len(cat), "", dtype=object)
    for i in np.flatnonzero(beyond.any(axis=1)):  # the few flagged galaxies get their feature names
        outside[i] = ";".join(np.asarray(features.names)[beyond[i]])
    lo68, hi68, lo95, hi95 = quantiles(pdf, np.array([0.16, 0.84, 0.025, 0.975])).T
    known = np.isfinite(cat.z)
    score, u = np.full(len(cat), np.nan), np.full(len(cat), np.nan)
    score[known], u[known] = crps(pdf[known], cat.z[known]), pit(pdf[known], cat.z[known])
    return {"pdf": pdf, "z_phot": z_phot, "z_lo68": lo68, "z_hi68": hi68, "z_lo95": lo95, "z_hi95": hi95,
            "outside": outside, "near_training": near, "crps": score, "pit": u}


def _metrics(cat: Catalog, result: dict) -> dict | None:
    """The point and p(z) metrics of the galaxies with a redshift (``n`` of them), or None if none has one."""
    known = np.isfinite(cat.z)
    if not known.any():
        return None
    return {**point_metrics(result["z_phot"][known], cat.z[known]), "crps": float(np.mean(result["crps"][known])),
            **coverages(result["pit"][known]), "n": int(known.sum())}


def write(directory: Path, model: PhotozModel, cat: Catalog, sky_prior: bool = True,
          index: np.ndarray | None = None, chunk: int = CHUNK) -> tuple[Path, Path, dict]:
    """Predict (:func:`predict`) into ``directory``, ``chunk`` galaxies at a time: ``predictions.csv`` (index,
    [z_spec, if any galaxy has one,] z_phot, z_lo68, z_hi68, z_lo95, z_hi95, outside, near_training; one row per
    galaxy of ``cat``, in its order) and ``pz.h5`` (``index`` (n,), ``z_grid`` (G,), ``pdf`` (n, G) float32,
    gzip), both written atomically; returns their paths and :func:`predict`'s result without ``pdf``.
    ``index``: each galaxy's row in its table (default 0 … n − 1)."""
    from lawful.core.io import atomic_h5, atomic_write_bytes

    _check(model, cat, sky_prior)  # before any file is opened
    index = np.arange(len(cat)) if index is None else np.asarray(index)
    h5 = Path(directory) / "pz.h5"
    with atomic_h5(h5) as f:
        f.create_dataset("index", data=index)
        f.create_dataset("z_grid", data=Z_GRID)
        pdf = f.create_dataset("pdf", shape=(len(cat), len(Z_GRID)), dtype=np.float32, compression="gzip",
                               shuffle=True, chunks=(min(len(cat), 256), len(Z_GRID)))

        def store(rows: slice, chunk_pdf: np.ndarray) -> None:
            pdf[rows] = chunk_pdf.astype(np.float32)

        result = _run(model, cat, sky_prior, chunk, store)
        f.attrs["sky_prior"] = result["sky_prior"]
    has_z = np.isfinite(cat.z).any()  # a z_spec column ("nan" where unknown) when any galaxy has one
    header = ["index"] + (["z_spec"] if has_z else []) + ["z_phot", "z_lo68", "z_hi68", "z_lo95", "z_hi95",
                                                           "outside", "near_training"]
    numbers = ([cat.z] if has_z else []) + [result[k] for k in ("z_phot", "z_lo68", "z_hi68", "z_lo95", "z_hi95")]
    fields = [index.astype(str), *(np.char.mod("%.6f", c) for c in numbers), result["outside"].astype(str),
              result["near_training"].astype(int).astype(str)]
    rows = fields[0]
    for column in fields[1:]:  # a few columns, each joined for all galaxies at once
        rows = np.char.add(np.char.add(rows, ","), column)
    csv = Path(directory) / "predictions.csv"
    atomic_write_bytes(csv, ("\n".join([",".join(header), *rows]) + "\n").encode())
    return csv, h5, result
