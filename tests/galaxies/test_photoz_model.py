"""A photo-z model trained on every galaxy of a table, saved, and applied to others: the same predictions as
cross-validation, a faithful round trip, real held-out redshifts, and the flags and refusals."""

import json

import numpy as np
import pytest

from lawful.galaxies import photoz_model
from lawful.galaxies.catalog import read_table, sdss_galaxies, table_path
from lawful.galaxies.photoz import PhotozConfig, cross_validate, folds
from tests.helpers import invoke


@pytest.fixture(scope="module")
def cat():
    return sdss_galaxies()


def _kcorrect_columns(rows: slice, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Columns of the shipped kcorrect table (all of them unless ``names``) for ``rows``."""
    from astropy.io import fits

    with fits.open(table_path()) as hdul:
        data = hdul[1].data[rows]
        return {c: np.asarray(data[c]) for c in (names or data.columns.names)}


def _write_table(path, columns):
    from astropy.table import Table

    Table(columns).write(path, overwrite=True)
    return path


@pytest.mark.parametrize("method", ["knn", "template"])
def test_a_model_trained_on_a_fold_predicts_what_cross_validation_did(cat, method):
    """The deterministic methods: training on a fold's galaxies and predicting its test galaxies reproduces the
    out-of-fold predictions of cross-validation exactly."""
    sub = cat.subset(np.arange(2000))
    cfg = PhotozConfig(method=method, folds=4, max_fold=1)
    tr, te = folds(len(sub), 4, 0)[0]
    cv = cross_validate(sub, cfg)
    result = photoz_model.predict(photoz_model.train(sub.subset(tr), cfg), sub.subset(te))
    np.testing.assert_array_equal(result["z_phot"], cv["z_phot"][te])
    np.testing.assert_allclose(result["z_lo68"], cv["z_lo68"][te], atol=1e-12)


@pytest.mark.parametrize("method", ["mdn", "hybrid", "gbm"])
def test_a_saved_model_predicts_exactly_what_it_did_before_saving(cat, tmp_path, method):
    train, test = cat.subset(np.arange(1500)), cat.subset(np.arange(1500, 1800))
    model = photoz_model.train(train, PhotozConfig(method=method, members=1, epochs=5, sky_prior=True))
    before = photoz_model.predict(model, test)
    after = photoz_model.predict(photoz_model.load(photoz_model.save(model, tmp_path)), test)
    for key in ("pdf", "z_phot", "z_hi95"):
        np.testing.assert_array_equal(after[key], before[key])
    assert before["sky_prior"] and after["sky_prior"]


def test_train_and_predict_commands_on_held_out_real_galaxies(tmp_path):
    """Rows 0–7999 train, rows 8000–9999 are predicted: the real spectroscopic redshifts judge it (the issue's
    anchor for a forest: σ_NMAD 0.0135, η(0.05) 1.8 %)."""
    model_dir, pred_dir = tmp_path / "model", tmp_path / "pred"
    trained = invoke("galaxies", "photoz-train", "--method", "rf", "--trees", "60", "--rows", "0:8000", "--out",
                     model_dir, "--json")
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout)
    assert summary["n_train"] == 8000 and summary["photometry"] == "model,2mass,petrosian"
    assert (model_dir / "train.json").exists()
    result = invoke("galaxies", "photoz-predict", "--model", model_dir, "--rows", "8000:", "--out", pred_dir,
                    "--json")
    assert result.exit_code == 0, result.output
    m = json.loads(result.stdout)
    assert m["n"] == 2000 and not m["sky_prior"] and m["near_training"] == 0
    assert m["sigma_nmad"] < 0.0145 and m["eta_005"] < 0.025 and abs(m["bias"]) < 2e-3
    for key, p in (("coverage68", 0.68), ("coverage95", 0.95)):  # 4 binomial σ of 2000 galaxies, plus 3 points
        assert abs(m[key] - p) < 4 * np.sqrt(p * (1 - p) / 2000) + 0.03
    table = np.genfromtxt(pred_dir / "predictions.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    assert table.dtype.names == ("index", "z_spec", "z_phot", "z_lo68", "z_hi68", "z_lo95", "z_hi95", "outside",
                                 "near_training")
    assert list(table["index"]) == list(range(8000, 10000))
    np.testing.assert_allclose(table["z_spec"], sdss_galaxies().z[8000:], atol=1e-6)
    assert np.all((table["z_lo95"] <= table["z_lo68"]) & (table["z_lo68"] <= table["z_phot"])
                  & (table["z_phot"] <= table["z_hi68"]) & (table["z_hi68"] <= table["z_hi95"]))
    import h5py

    with h5py.File(pred_dir / "pz.h5") as f:
        pdf, grid = f["pdf"][:], f["z_grid"][:]
        assert list(f["index"][:]) == list(range(8000, 10000))
    np.testing.assert_allclose(np.trapezoid(pdf, grid, axis=1), 1.0, atol=1e-4)


def test_a_table_without_redshifts_is_predicted_and_without_metrics(cat, tmp_path):
    columns = _kcorrect_columns(slice(0, 300), ("MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION"))
    no_z = _write_table(tmp_path / "no_z.fits", columns)
    model = photoz_model.train(cat.subset(np.arange(300, 2300)).model_only(), PhotozConfig(method="knn"))
    photoz_model.save(model, tmp_path / "model")
    result = invoke("galaxies", "photoz-predict", "--model", tmp_path / "model", "--table", no_z, "--out",
                    tmp_path / "pred", "--json")
    assert result.exit_code == 0, result.output
    assert "sigma_nmad" not in json.loads(result.stdout)
    header = (tmp_path / "pred" / "predictions.csv").read_text().splitlines()[0]
    assert header == "index,z_phot,z_lo68,z_hi68,z_lo95,z_hi95,outside,near_training"
    with pytest.raises(ValueError, match="Z column"):  # nothing to learn from
        photoz_model.train(read_table(no_z, need_z=False), PhotozConfig(method="knn"))


def test_photometry_the_model_learnt_from_is_required_and_the_rest_ignored(cat, tmp_path):
    full = _kcorrect_columns(slice(0, 400))
    model_only = {k: full[k] for k in ("MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION", "Z")}
    with_all, without = (_write_table(tmp_path / f"{n}.fits", c) for n, c in (("all", full), ("model", model_only)))
    trained_on_all = photoz_model.train(cat.subset(np.arange(400, 3000)), PhotozConfig(method="knn"))
    with pytest.raises(ValueError, match="PETROFLUX.*J_M_EXT|2mass"):
        photoz_model.predict(trained_on_all, read_table(without))
    # a model of model magnitudes alone sees a table with Petrosian and 2MASS as if it had none
    trained_on_model = photoz_model.train(cat.subset(np.arange(400, 3000)).model_only(), PhotozConfig(method="knn"))
    a = photoz_model.predict(trained_on_model, read_table(with_all))
    b = photoz_model.predict(trained_on_model, read_table(without))
    np.testing.assert_array_equal(a["z_phot"], b["z_phot"])
    names = trained_on_model.predictor.features.names  # r_petro = r: its colours repeat the model ones
    assert "r-r_petro" not in names and not {"r-J", "J-H", "H-K"} & set(names) and len(names) == 10


def test_galaxies_fainter_than_the_training_sample_are_flagged(cat, tmp_path):
    """The SDSS Main sample stops at r ≈ 17.8: the same galaxies made 3 mag fainter lie beyond the training
    range in r (their colours stay inside it), and are flagged."""
    columns = _kcorrect_columns(slice(0, 50), ("MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION", "Z"))
    faint = dict(columns, MODELFLUX=columns["MODELFLUX"] * 10 ** (-0.4 * 3.0),
                 MODELFLUX_IVAR=columns["MODELFLUX_IVAR"] * 10 ** (0.8 * 3.0))  # the same S/N
    model = photoz_model.train(cat.subset(np.arange(50, 3000)).model_only(), PhotozConfig(method="knn"))
    faint_cat = read_table(_write_table(tmp_path / "faint.fits", faint))
    flags = photoz_model.predict(model, faint_cat)["outside"]
    beyond = faint_cat.model[:, 2] > cat.model[50:3000, 2].max()
    assert beyond.sum() >= 40
    assert [set(f.split(";")) == {"r", "r_petro"} for f in flags] == beyond.tolist()  # r_petro = r here
    assert sum(f == "" for f in photoz_model.predict(model, cat.subset(np.arange(50)))["outside"]) >= 45


def test_the_sky_prior_flags_training_galaxies_and_needs_positions(cat, tmp_path):
    train = cat.subset(np.arange(2000))
    model = photoz_model.train(train, PhotozConfig(method="knn", sky_prior=True))
    assert photoz_model.predict(model, cat.subset(np.arange(100)))["near_training"].all()  # they are training galaxies
    assert not photoz_model.predict(model, cat.subset(np.arange(100)), sky_prior=False)["near_training"].any()
    no_positions = _kcorrect_columns(slice(0, 30), ("MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION", "Z", "PETROFLUX",
                                                    "PETROFLUX_IVAR", "J_M_EXT", "J_MSIG_EXT", "H_M_EXT",
                                                    "H_MSIG_EXT", "K_M_EXT", "K_MSIG_EXT"))
    table = read_table(_write_table(tmp_path / "no_sky.fits", no_positions))
    with pytest.raises(ValueError, match="RA and Dec"):
        photoz_model.predict(model, table)
    assert len(photoz_model.predict(model, table, sky_prior=False)["z_phot"]) == 30


@pytest.mark.parametrize("args, match", [
    (["--rows", "5:2"], "selects no galaxy"),
    (["--rows", "a:b"], "START:STOP"),
    (["--model", "nowhere"], "no photo-z model"),
])
def test_predict_refuses_bad_input(tmp_path, args, match):
    model = photoz_model.train(sdss_galaxies().subset(np.arange(500)), PhotozConfig(method="knn"))
    photoz_model.save(model, tmp_path)
    result = invoke("galaxies", "photoz-predict", "--model", tmp_path, "--out", tmp_path / "p", *args)
    assert result.exit_code == 2 and match in result.output, result.output


def test_predictions_in_chunks_are_the_whole_tables_and_stream_to_disk(cat, tmp_path):
    """Chunks bound the memory of a large table (its (n, 1001) p(z)); they change no number, and ``write`` keeps
    one chunk of p(z) in memory at a time."""
    import h5py

    from lawful.galaxies.metrics import pdf_metrics

    model = photoz_model.train(cat.subset(np.arange(300, 2300)), PhotozConfig(method="template", sky_prior=True))
    test = cat.subset(np.arange(300))
    whole = photoz_model.predict(model, test, chunk=4096)
    for key, value in photoz_model.predict(model, test, chunk=7).items():
        if key != "metrics":
            np.testing.assert_array_equal(value, whole[key])
    assert whole["metrics"]["crps"] == pytest.approx(pdf_metrics(whole["pdf"], test.z)["crps"], rel=1e-12)
    csv, h5, written = photoz_model.write(tmp_path, model, test, chunk=64)
    with h5py.File(h5) as f:
        np.testing.assert_array_equal(f["pdf"][:], whole["pdf"].astype(np.float32))
    assert written["metrics"] == whole["metrics"]
    assert len(csv.read_text().splitlines()) == 301


def test_a_table_with_some_redshifts_is_judged_on_those_alone(cat, tmp_path):
    columns = _kcorrect_columns(slice(0, 200), ("MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION", "Z"))
    z = columns["Z"].astype(float).copy()
    z[::4] = np.nan  # a quarter without a spectrum
    table = _write_table(tmp_path / "some_z.fits", dict(columns, Z=z))
    photoz_model.save(photoz_model.train(cat.subset(np.arange(200, 2200)).model_only(), PhotozConfig(method="knn")),
                      tmp_path / "model")
    result = invoke("galaxies", "photoz-predict", "--model", tmp_path / "model", "--table", table, "--out",
                    tmp_path / "pred", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n"] == 200 and summary["n_with_z"] == 150
    rows = np.genfromtxt(tmp_path / "pred" / "predictions.csv", delimiter=",", names=True, dtype=None,
                         encoding="utf-8")
    known = np.isfinite(rows["z_spec"])
    assert known.sum() == 150
    from lawful.galaxies.metrics import point_metrics

    assert summary["sigma_nmad"] == pytest.approx(
        point_metrics(rows["z_phot"][known], rows["z_spec"][known])["sigma_nmad"], abs=2e-6)  # csv has 6 digits
    with pytest.raises(ValueError, match="50 of 200 galaxies have no spectroscopic redshift"):
        cross_validate(read_table(table), PhotozConfig(method="knn", folds=2))
