"""Photo-z methods: out-of-fold predictions, the template fit, synthetic galaxies, checkpoints, the command."""

import json

import numpy as np
import pytest

from lawful.galaxies.catalog import sdss_galaxies
from lawful.galaxies.metrics import point_metrics, quantiles
from lawful.galaxies.photoz import PhotozConfig, cross_validate, folds, training_rows
from lawful.galaxies.templates import TemplateFit, model_maggies, synthetic_catalog, template_seds
from tests.helpers import invoke


@pytest.fixture(scope="module")
def cat():
    return sdss_galaxies()


def test_predictions_are_out_of_fold(cat):
    """With redshifts shuffled against the photometry, an out-of-fold forest has no skill; one that had seen
    the test galaxies would reproduce their redshifts."""
    rng = np.random.default_rng(0)
    shuffled = cat.subset(np.arange(2000))
    shuffled = type(shuffled)(**{**shuffled.__dict__, "z": rng.permutation(shuffled.z)})
    r = cross_validate(shuffled, PhotozConfig(method="rf", trees=30, folds=4))
    spread = point_metrics(np.full(2000, np.median(shuffled.z)), shuffled.z)["sigma_nmad"]
    assert r["metrics"]["sigma_nmad"] > 0.8 * spread


def test_folds_partition_the_galaxies():
    parts = folds(103, 5, seed=4)
    test = np.concatenate([te for _, te in parts])
    assert sorted(test) == list(range(103))
    assert all(np.intersect1d(tr, te).size == 0 for tr, te in parts)


def test_learning_curve_fractions_are_nested_subsets_of_the_training_fold():
    tr, te = folds(1000, 5, seed=2)[0]
    assert np.array_equal(training_rows(tr, 1.0, 7), tr)  # the whole fold, in its order: results unchanged
    rows = {f: training_rows(tr, f, 7) for f in (0.25, 0.5, 0.75)}
    assert [len(r) for r in rows.values()] == [200, 400, 600]
    assert set(rows[0.25]) < set(rows[0.5]) < set(rows[0.75]) < set(tr)
    assert not set(rows[0.75]) & set(te)
    assert not np.array_equal(training_rows(tr, 0.5, 8), rows[0.5])  # another seed, another subset


def test_a_smaller_training_fraction_trains_on_fewer_galaxies(cat, monkeypatch):
    from lawful.galaxies import photoz

    seen = []

    class Constant:
        def predict(self, test):
            return np.full(len(test), 0.1), np.ones((len(test), 1001))

    monkeypatch.setitem(photoz.FITTERS, "knn", lambda train, cfg, seed: seen.append(len(train)) or Constant())
    result = cross_validate(cat.subset(np.arange(1000)), PhotozConfig(method="knn", train_fraction=0.3, max_fold=2))
    assert seen == [240, 240] and result["metrics"]["n"] == 400


@pytest.mark.parametrize("fraction", [0.0, -0.5, 1.5])
def test_a_training_fraction_outside_0_1_is_refused(fraction):
    with pytest.raises(ValueError, match="train_fraction"):
        PhotozConfig(train_fraction=fraction)


def test_random_forest_on_one_fold_matches_the_anchor(cat):
    # the anchor: a random forest on r and four colours, 0.0135 and 1.8 % on this table
    m = cross_validate(cat, PhotozConfig(method="rf", trees=100, max_fold=1))["metrics"]
    assert m["n"] == 2000
    assert m["sigma_nmad"] < 0.0145 and m["eta_005"] < 0.025 and abs(m["bias"]) < 2e-3


def test_mdn_p_of_z_is_calibrated_on_one_fold(cat):
    m = cross_validate(cat, PhotozConfig(method="mdn", members=1, epochs=25, max_fold=1))["metrics"]
    assert m["sigma_nmad"] < 0.016
    for key, p in (("coverage68", 0.68), ("coverage95", 0.95)):  # 4 binomial σ of 2000 galaxies, plus 2 points
        assert abs(m[key] - p) < 4 * np.sqrt(p * (1 - p) / 2000) + 0.02


def test_templates_are_interpolated_between_neighbours():
    wave, seds, names = template_seds(2)
    assert len(names) == 8 + 7 * 2 and seds.shape == (22, wave.size)
    np.testing.assert_allclose(seds[1], (2 * seds[0] + seds[3]) / 3, rtol=1e-12)
    m = model_maggies(2)
    assert np.all(np.isfinite(m)) and np.all(m > 0)
    # the 4000 Å break moves from g to r near z = 0.3, so an elliptical reddens in g − r (Fukugita et al. 1995)
    gr = -2.5 * np.log10(m[:, 0, 1] / m[:, 0, 2])
    assert 0.6 < gr[0] < 0.9 and gr[400] > gr[0] + 0.5


def test_template_fit_recovers_redshifts_of_template_galaxies(cat):
    real = cat.subset(np.arange(3000))
    real_fit = TemplateFit.train(real.model, real.model_err, real.z)
    train = synthetic_catalog(real, 3000, seed=1, fit=real_fit)
    test = synthetic_catalog(cat.subset(np.arange(3000, 5000)), 1000, seed=2, fit=real_fit)
    fit = TemplateFit.train(train.model, train.model_err, train.z, floor=0.0)  # no template mismatch here
    # synthetic galaxies carry the real zero points, and the fit finds them again
    np.testing.assert_allclose(fit.zero_points, real_fit.zero_points, rtol=0.02)
    pdf = fit.pdf(test.model, test.model_err)
    z_phot = quantiles(pdf, 0.5)
    m = point_metrics(z_phot, test.z)
    assert m["sigma_nmad"] < 0.015 and m["eta_005"] < 0.04
    assert abs(np.median((z_phot - test.z) / (1 + test.z))) < 0.002


def test_synthetic_galaxies_look_like_the_real_ones(cat):
    real = cat.subset(np.arange(4000))
    syn = synthetic_catalog(real, 4000, seed=3)
    assert np.median(syn.z) == pytest.approx(np.median(real.z), abs=0.01)
    np.testing.assert_allclose(np.median(syn.model[:, 2]), np.median(real.model[:, 2]), atol=0.05)
    for b in range(4):  # colours within 0.15 mag (the templates' mismatch)
        assert np.median(syn.model[:, b] - syn.model[:, b + 1]) == pytest.approx(
            np.median(real.model[:, b] - real.model[:, b + 1]), abs=0.15)


def test_photoz_command_writes_predictions_and_resumes(tmp_path):
    result = invoke("galaxies", "photoz", "--method", "knn", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert set(metrics) == {"sigma_nmad", "eta_005", "eta_015", "bias", "crps", "coverage68", "coverage95", "n"}
    table = np.genfromtxt(tmp_path / "predictions.csv", delimiter=",", names=True)
    assert table.dtype.names == ("index", "z_spec", "z_phot", "z_lo68", "z_hi68")
    assert len(table) == 10_000 and sorted(table["index"].astype(int)) == list(range(10_000))
    np.testing.assert_allclose(table["z_spec"], sdss_galaxies().z, atol=1e-6)
    assert np.all(table["z_lo68"] <= table["z_phot"]) and np.all(table["z_phot"] <= table["z_hi68"])
    assert len(list((tmp_path / "folds").glob("*.npz"))) == 5
    again = invoke("galaxies", "photoz", "--method", "knn", "--out", tmp_path)
    assert again.exit_code == 0 and again.stderr.count("from ") == 5


@pytest.mark.parametrize("args, match", [
    (["--method", "svm"], "svm"),
    (["--folds", "1"], "folds"),
    (["--set", "kappa=0.2"], "kappa"),
])
def test_photoz_command_refuses_bad_input(tmp_path, args, match):
    result = invoke("galaxies", "photoz", "--out", tmp_path, *args)
    assert result.exit_code == 2 and match in result.output


def _write_table(path, **columns):
    from astropy.table import Table

    Table(columns).write(path, overwrite=True)
    return path


def test_photoz_command_reads_a_users_table_and_refuses_bad_ones(tmp_path):
    from astropy.io import fits

    from lawful.galaxies.catalog import table_path

    with fits.open(table_path()) as hdul:
        d = hdul[1].data[:400]
        cols = {c: np.asarray(d[c]) for c in ("MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION", "Z")}
    good = _write_table(tmp_path / "good.fits", **cols)
    result = invoke("galaxies", "photoz", "--table", good, "--method", "knn", "--neighbors", "10",
                    "--out", tmp_path / "run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 400
    missing = _write_table(tmp_path / "missing.fits", **{k: v for k, v in cols.items() if k != "EXTINCTION"})
    bad_ivar = cols["MODELFLUX_IVAR"].copy()
    bad_ivar[7, 2] = -1.0
    negative = _write_table(tmp_path / "negative.fits", **{**cols, "MODELFLUX_IVAR": bad_ivar})
    nan_flux = cols["MODELFLUX"].copy()
    nan_flux[3, 0] = np.nan
    with_nan = _write_table(tmp_path / "nan.fits", **{**cols, "MODELFLUX": nan_flux})
    for path, match in ((missing, "EXTINCTION"), (negative, "negative or non-finite inverse"),
                        (with_nan, "non-finite fluxes"), (tmp_path / "absent.fits", "no catalog table")):
        result = invoke("galaxies", "photoz", "--table", path, "--out", tmp_path / "bad")
        assert result.exit_code == 2 and match in result.output, result.output


def test_networks_learn_from_synthetic_galaxies_without_petrosian_or_2mass(cat):
    """Synthetic galaxies have r_petro = r and no 2MASS: the constant and empty feature columns are dropped
    (a constant column standardised by σ = 0 once blew the network's inputs up)."""
    real = cat.subset(np.arange(6000))
    fit = TemplateFit.train(real.model, real.model_err, real.z)
    train = synthetic_catalog(real, 6000, seed=1, fit=fit)
    test = synthetic_catalog(cat.subset(np.arange(6000, 8000)), 1500, seed=2, fit=fit)
    from lawful.galaxies.photoz import FITTERS

    z_phot, _ = FITTERS["mdn"](train, PhotozConfig(method="mdn", members=1, epochs=15), 0).predict(test)
    m = point_metrics(z_phot, test.z)
    assert m["sigma_nmad"] < 0.02 and m["eta_015"] < 0.01
