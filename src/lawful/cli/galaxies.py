"""``lawful galaxies photoz|photoz-train|photoz-predict`` and ``lawful galaxies morph
simulate|train|evaluate|classify``: photometric redshifts of real SDSS galaxies, and morphology of simulated and
real cutouts."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import typer

from lawful.cli.common import (
    CONFIG_OPT,
    JSON_OPT,
    SET_OPT,
    guarded,
    print_rows,
    print_summary,
    resolve_config,
    resumable,
    with_config_flags,
)
from lawful.core.config import Config
from lawful.galaxies.morphology.train import MorphConfig, SimulateConfig
from lawful.galaxies.photoz import PhotozConfig

app = typer.Typer(help="Galaxies: photo-z with p(z) on real SDSS galaxies; morphology from images.",
                  no_args_is_help=True)
morph_app = typer.Typer(help="Morphology (E / S / Irr) of SDSS-like cutouts: simulate, train, evaluate, classify.",
                        no_args_is_help=True)
app.add_typer(morph_app, name="morph")

PHOTOZ_KEYS = ("sigma_nmad", "eta_005", "eta_015", "bias", "crps", "coverage68", "coverage95", "n")
TABLE_HELP = ("a FITS table in the kcorrect format (MODELFLUX, MODELFLUX_IVAR, EXTINCTION, Z; optional PETROFLUX*, "
              "2MASS *_M_EXT, RA, DEC) instead of the shipped SDSS galaxies")
ROWS_HELP = "use only these rows of the table, START:STOP as in Python (e.g. 0:8000); index stays the table's row"
#: what cross-validation alone uses: fixed for a model trained on every galaxy
CV_ONLY = {"folds": 5, "max_fold": 0, "train_fraction": 1.0}


class PredictConfig(Config):
    """Applying a trained photo-z model."""

    sky_prior: bool = pydantic.Field(True, description="apply the model's sky prior, when it has one (needs RA, "
                                                       "Dec of every galaxy)")


def _catalog(table: Path | None, rows: str | None, need_z: bool = True):
    """The shipped SDSS galaxies or ``table``, and the table rows of the catalog's galaxies; ``rows`` START:STOP
    keeps a slice of them."""
    import numpy as np

    from lawful.galaxies.catalog import read_table, sdss_galaxies

    cat = sdss_galaxies() if table is None else read_table(table, need_z)
    index = np.arange(len(cat))
    if rows is None:
        return cat, index
    parts = rows.split(":")
    try:
        bounds = [int(v) if v.strip() else None for v in parts]
    except ValueError:
        bounds = None
    if bounds is None or len(bounds) != 2:
        raise ValueError(f"--rows {rows!r}: expected START:STOP with integers, e.g. 0:8000")
    index = index[slice(*bounds)]
    if len(index) == 0:
        raise ValueError(f"--rows {rows} selects no galaxy of the {len(cat)} in the table")
    return cat.subset(index), index


@app.command("photoz")
@guarded
@with_config_flags(PhotozConfig)
def photoz_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
               out: Path = typer.Option(Path("runs/galaxies/photoz"), "--out",
                                        help="directory for predictions.csv, metrics.json, the figure and the "
                                             "fold checkpoints"),
               table: Path = typer.Option(None, "--table", help=TABLE_HELP),
               json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Cross-validated photo-z of the 10 000 SDSS galaxies that kcorrect ships (or --table); every prediction
    out-of-fold."""
    from lawful.core.io import atomic_write_bytes
    from lawful.galaxies.catalog import read_table, sdss_galaxies
    from lawful.galaxies.photoz import cross_validate, write_predictions
    from lawful.galaxies.plots import photoz_figure

    cfg = resolve_config(PhotozConfig, config, flags or {}, set_)
    log = (lambda *a: None) if json_out else (lambda msg: typer.echo(msg, err=True))
    cat = sdss_galaxies() if table is None else read_table(table)
    if len(cat) < 10 * cfg.folds:
        raise ValueError(f"{len(cat)} galaxies are too few for {cfg.folds}-fold cross-validation (need ≥ "
                         f"{10 * cfg.folds})")
    out.mkdir(parents=True, exist_ok=True)
    result = resumable(cross_validate, out, cat, cfg, log, out / "folds")
    write_predictions(out / "predictions.csv", cat, result)
    metrics = {k: result["metrics"][k] for k in PHOTOZ_KEYS}
    record = {**metrics, "config": cfg.model_dump(), **({"sky_prior_per_fold": result["sky"]} if result["sky"] else {})}
    atomic_write_bytes(out / "metrics.json", json.dumps(record, indent=1).encode())
    done = result["done"]
    photoz_figure(cat.z[done], result["z_phot"][done], result["pit"],
                  f"{cfg.method}: σ_NMAD = {metrics['sigma_nmad']:.4f}", out / f"photoz_{cfg.method}.png")
    if json_out:
        print(json.dumps(metrics))
        return
    print_summary(f"{cfg.method} photo-z, {cfg.folds}-fold CV (seed {cfg.seed}) → {out / 'predictions.csv'}",
                  {**metrics, "seconds": result["metrics"]["seconds"]})


@app.command("photoz-train")
@guarded
@with_config_flags(PhotozConfig, fixed=CV_ONLY)
def photoz_train_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
                     out: Path = typer.Option(Path("runs/galaxies/photoz_model"), "--out",
                                              help="directory for model.joblib and train.json"),
                     table: Path = typer.Option(None, "--table", help=TABLE_HELP),
                     rows: str = typer.Option(None, "--rows", help=ROWS_HELP),
                     json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Train one photo-z method on every galaxy of the table (its redshifts), to predict others with
    photoz-predict; measure the method first with `lawful galaxies photoz` (cross-validation)."""
    import time

    from lawful.core.io import atomic_write_bytes
    from lawful.galaxies import photoz_model

    cfg = resolve_config(PhotozConfig, config, flags or {}, set_, fixed=CV_ONLY)
    cat, _ = _catalog(table, rows)
    start = time.perf_counter()
    model = photoz_model.train(cat, cfg)
    out.mkdir(parents=True, exist_ok=True)
    path = photoz_model.save(model, out)
    summary = {"model": str(path), "method": cfg.method, "n_train": model.n_train,
               "z_min": model.z_range[0], "z_max": model.z_range[1],
               "photometry": ",".join(["model", *sorted(model.measured)]),
               "features": ",".join(model.predictor.features.names), "seconds": time.perf_counter() - start}
    if model.sky is not None:
        summary |= {"sky_u": model.sky.u.round(4).tolist(), "sky_sigma_km_s": round(model.sky.velocity_dispersion, 1)}
    atomic_write_bytes(out / "train.json", json.dumps({**summary, "config": cfg.model_dump()}, indent=1).encode())
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"{cfg.method} photo-z trained on {model.n_train} galaxies → {path}", summary, skip=("model",))


@app.command("photoz-predict")
@guarded
@with_config_flags(PredictConfig)
def photoz_predict_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
                       model_dir: Path = typer.Option(..., "--model", help="a directory from photoz-train"),
                       out: Path = typer.Option(..., "--out", help="directory for predictions.csv and pz.h5"),
                       table: Path = typer.Option(None, "--table", help=TABLE_HELP.replace("Z;", "Z if known;")),
                       rows: str = typer.Option(None, "--rows", help=ROWS_HELP),
                       json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """p(z) of the galaxies of a table (redshifts not needed; when given, the metrics are printed) from a model
    of photoz-train, with the galaxies it cannot vouch for flagged."""
    import numpy as np

    from lawful.galaxies import photoz_model

    cfg = resolve_config(PredictConfig, config, flags or {}, set_)
    model = photoz_model.load(model_dir)
    cat, index = _catalog(table, rows, need_z=False)
    out.mkdir(parents=True, exist_ok=True)
    csv, h5, result = photoz_model.write(out, model, cat, cfg.sky_prior, index)
    summary = {"n": len(cat), "outside_training": int(np.count_nonzero(result["outside"] != "")),
               "near_training": int(result["near_training"].sum()), "sky_prior": result["sky_prior"]}
    if result["metrics"] is not None:
        if result["metrics"]["n"] < len(cat):
            summary["n_with_z"] = result["metrics"]["n"]  # the metrics are theirs
        summary |= {k: result["metrics"][k] for k in PHOTOZ_KEYS if k != "n"}
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"{model.config.method} photo-z of {len(cat)} galaxies", {"written": f"{csv}, {h5.name}", **summary})


@morph_app.command("simulate")
@guarded
@with_config_flags(SimulateConfig)
def simulate_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
                 out: Path = typer.Option(..., "--out", help="directory for cutouts.h5 and a figure of examples"),
                 json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Simulated g, r, i cutouts (galsim) of E, S and Irr galaxies, train and test splits."""
    import time

    from lawful.galaxies.morphology.train import load_cutouts, write_cutouts
    from lawful.galaxies.plots import cutout_figure

    cfg = resolve_config(SimulateConfig, config, flags or {}, set_)
    start = time.perf_counter()
    path = write_cutouts(cfg, out)
    test = load_cutouts(path, "test")
    cutout_figure(test["images"][:12], test["labels"][:12], out / "examples.png")
    summary = {"file": str(path), "n_train": cfg.n_train, "n_test": cfg.n_test,
               "seconds": time.perf_counter() - start}
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"{cfg.n_train + cfg.n_test} cutouts, difficulty {cfg.difficulty:g}", summary)


def _cutouts_file(data: Path) -> Path:
    """``--data`` names a directory holding cutouts.h5, or the file itself."""
    return data / "cutouts.h5" if data.is_dir() else data


@morph_app.command("train")
@guarded
@with_config_flags(MorphConfig)
def train_cmd(config: Path = CONFIG_OPT, set_: list[str] = SET_OPT,
              data: Path = typer.Option(..., "--data", help="directory with cutouts.h5 (or the file)"),
              out: Path = typer.Option(..., "--out", help="model directory (resumes from its checkpoint)"),
              json_out: bool = JSON_OPT, flags: dict | None = None) -> None:
    """Train the lecture's CNN, the deeper CNN or the statmorph random forest on the train split."""
    from lawful.galaxies.morphology.train import train

    cfg = resolve_config(MorphConfig, config, flags or {}, set_)
    log = (lambda *a: None) if json_out else (lambda msg: typer.echo(msg, err=True))
    summary = resumable(train, out, cfg, _cutouts_file(data), out, log)
    if json_out:
        print(json.dumps(summary))
        return
    print_summary(f"{cfg.model} ({cfg.bands}) trained → {out / 'model.pt'}", summary)


@morph_app.command("evaluate")
@guarded
def evaluate_cmd(data: Path = typer.Option(..., "--data", help="directory with cutouts.h5 (or the file)"),
                 model: list[Path] = typer.Option(..., "--model", help="model directory (repeatable)"),
                 plots: Path = typer.Option(None, "--plots", help="directory for confusion-matrix figures"),
                 json_out: bool = JSON_OPT) -> None:
    """Accuracy, confusion matrix and accuracy per SNR and size bin (and, within E, for ellipticals and
    lenticulars) of each model on the test split."""
    from lawful.galaxies.morphology.train import evaluate

    results = {str(m): evaluate(_cutouts_file(data), m, plots) for m in model}
    if json_out:
        print(json.dumps(results))
        return
    for name, r in results.items():
        rows = {f"true {c}": dict(zip([f"→ {k}" for k in r["classes"]], row)) for c, row in
                zip(r["classes"], r["confusion"])}
        print_rows(f"{r['model']} ({r['bands']}) on {r['n']} test cutouts: accuracy {100 * r['accuracy']:.1f} %",
                   rows, {f"→ {k}": f"→ {k}" for k in r["classes"]})
        for label, key in (("SNR", "by_snr"), ("r_e (″)", "by_r_e"), ("kind, within E", "accuracy_e_by_kind")):
            if key in r:
                print_rows(f"accuracy by {label}", {"accuracy": r[key]}, {k: k for k in r[key]})


@morph_app.command("classify")
@guarded
def classify_cmd(images: list[Path] = typer.Argument(None, help="FITS, .npy or PNG/JPEG images of galaxies"),
                 model: Path = typer.Option(..., "--model", help="model directory"),
                 shipped: list[str] = typer.Option(None, "--shipped",
                                                   help="a real image that a wheel ships: ngc4342, m32 (mgefit) or "
                                                        "hdf (the Hubble Deep Field's brightest sources)"),
                 r50: float = typer.Option(6.2, "--r50", help="half-light radius (pixels) to rescale real images to "
                                                              "(default: the training galaxies' median)"),
                 snr: float = typer.Option(100.0, "--snr", help="SNR inside 2 r_50 of the rescaled image"),
                 json_out: bool = JSON_OPT) -> None:
    """Class probabilities of real galaxy images, each first made SDSS-like (rescaled, blurred, noised)."""
    import numpy as np

    from lawful.galaxies.morphology import real
    from lawful.galaxies.morphology.simulate import CLASSES, SIZE
    from lawful.galaxies.morphology.train import load_model

    if r50 <= 0 or snr <= 0:
        raise ValueError(f"--r50 {r50:g} and --snr {snr:g} must be positive")
    predict, cfg = load_model(model)
    named: dict[str, np.ndarray] = {str(p): real.load_image(p) for p in images or []}
    for name in shipped or []:
        if name == "hdf":
            named.update({f"hdf{k}": im for k, im in enumerate(real.hubble_deep_field_cutouts())})
        else:
            named[name] = real.mgefit_image(name)
    if not named:
        raise ValueError("give image files or --shipped ngc4342|m32|hdf")
    want = 3 if cfg.bands == "gri" else 1
    for name, im in named.items():
        if im.shape[0] != want and not (want == 1 and im.shape[0] == 3):
            raise ValueError(f"{name} has {im.shape[0]} band(s); this {cfg.bands} model needs {want} — train one "
                             f"with --bands {'r' if im.shape[0] == 1 else 'gri'}")
    sky = {name: 0.0 for name in shipped or [] if name != "hdf"}  # mgefit images come sky-subtracted
    bands = {name: im if want == 3 else im[(1 if im.shape[0] == 3 else 0):][:1] for name, im in named.items()}
    cutouts = np.stack([real.sdss_like(im, r50, snr, sky=sky.get(name)) for name, im in bands.items()])
    edges = {name: real.field_extent(im, sky.get(name)) * r50 for name, im in bands.items()}
    probs = predict(cutouts)
    rows = {name: {**{c: float(p) for c, p in zip(CLASSES, row)}, "class": CLASSES[int(np.argmax(row))],
                   "field_edge_px": round(edges[name], 1)} for name, row in zip(named, probs)}
    if json_out:
        print(json.dumps(rows))
        return
    print_rows(f"{cfg.model} ({cfg.bands}) class probabilities", rows,
               {**{c: c for c in (*CLASSES, "class")}, "field_edge_px": "field edge (px)"})
    for name, edge in edges.items():
        if edge < SIZE / 2:
            typer.echo(f"{name}: the image's field ends {edge:.1f} px from the centre, inside the {SIZE}-pixel "
                       f"cutout: an artificial edge, which can turn an elliptical into S (docs/galaxies.md); --r50 ≥ "
                       f"{r50 * SIZE / 2 / edge:.1f} keeps it outside", err=True)
