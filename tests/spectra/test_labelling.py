"""`lawful spectra predict`: a user's own spectrum files, put on the model's grid, labelled, flagged."""

import json

import numpy as np
import pytest
from astropy.table import Table

from lawful.spectra.labels import TARGETS
from tests.helpers import invoke


def synth(path, teff=4700.0, logg=2.5, feh=-0.2, snr=60.0, *grid):
    """A giant written by `lawful spectra synth` (LAMOST grid, or ``--wave-min/--wave-max``), of 1.17 M☉ by the
    training stars' [C/N]–mass relation ([C/N] = −0.34; synth's default [C/N] = 0 would be below 0.8 M☉)."""
    res = invoke("spectra", "synth", "--teff", teff, "--logg", logg, "--feh", feh, "--c-fe", -0.1, "--n-fe", 0.24,
                 "--snr", snr, *grid, "--out", path, "--json")
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture(scope="module")
def state():
    from lawful.spectra.models import shipped

    return shipped()


def test_predict_labels_a_synth_file_as_predict_does_and_writes_the_csv(tmp_path, state):
    from lawful.spectra.evaluate import predict

    path = synth(tmp_path / "giant.fits")
    res = invoke("spectra", "predict", path, "--out", tmp_path / "labels.csv", "--json")
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.output)
    table = Table.read(path)
    direct = predict(state, np.asarray(table["norm_flux"])[None], np.asarray(table["ivar"])[None])
    for j, name in enumerate(TARGETS):
        assert row["labels"][name]["mean"] == pytest.approx(direct["mean"][0, j], rel=1e-12)
        assert row["labels"][name]["half95"] == pytest.approx(direct["half95"][0, j], rel=1e-12)
    assert not row["resampled"] and row["masked"] == 0 and row["outside"] == [] and not row["snr_outside"]
    csv = Table.read(tmp_path / "labels.csv", format="ascii.csv")
    assert csv["teff_K"][0] == pytest.approx(row["labels"]["teff"]["mean"], rel=1e-5)
    assert csv["mass_Msun"][0] == pytest.approx(row["labels"]["mass"]["mean"], rel=1e-5)
    assert list(csv.colnames[-2:]) == ["outside", "snr_outside"]
    res = invoke("spectra", "predict", path)  # the table for people
    assert res.exit_code == 0 and "teff (K)" in res.output and "giant.fits" in res.output


def test_a_spectrum_on_another_grid_is_resampled_and_what_it_does_not_cover_is_masked(tmp_path, state):
    from lawful.spectra.labelling import label_files

    """The same star on a 1 Å grid over the whole range gets the labels it gets on the model's own grid (each
    with its own noise); over 4000–8000 Å only, the pixels outside are masked and counted."""
    wide = synth(tmp_path / "wide.fits", 4700.0, 2.5, -0.2, 100.0, "--wave-min", 3850, "--wave-max", 8850)
    lamost = synth(tmp_path / "lamost.fits", 4700.0, 2.5, -0.2, 100.0)
    narrow = synth(tmp_path / "narrow.fits", 4700.0, 2.5, -0.2, 100.0, "--wave-min", 4000, "--wave-max", 8000)
    pred = label_files(state, [wide, lamost, narrow])
    np.testing.assert_array_equal(pred["resampled"], [True, False, True])
    wave = np.asarray(state["wave"])
    uncovered = int(np.sum((wave < 4000.0) | (wave > 8000.0)))
    assert pred["masked"][0] == pred["masked"][1] == 0 and abs(pred["masked"][2] - uncovered) <= 2
    for label in ("teff", "logg", "feh", "mass"):
        j = TARGETS.index(label)
        assert abs(pred["mean"][0, j] - pred["mean"][1, j]) < pred["half95"][0, j] + pred["half95"][1, j], label


def test_air_wavelengths_are_converted_to_vacuum(tmp_path, state):
    """The same spectrum with its wavelengths in air and the header saying so lands on the model's vacuum grid
    unresampled; without the header it is 1–2 Å off and has to be resampled."""
    import astropy.units as u
    from specutils.utils.wcs_utils import vac_to_air

    from lawful.spectra.labelling import read_spectrum

    table = Table.read(synth(tmp_path / "vac.fits"))
    table["wave"] = vac_to_air(np.asarray(table["wave"]) * u.AA).to_value(u.AA)
    table.meta["AIRORVAC"] = "air"
    table.write(tmp_path / "air.fits")
    flux, ivar, resampled = read_spectrum(tmp_path / "air.fits", np.asarray(state["wave"]))
    assert not resampled
    np.testing.assert_array_equal(flux, table["norm_flux"])
    table.meta["AIRORVAC"] = "vac"
    table.write(tmp_path / "unflagged.fits")
    assert read_spectrum(tmp_path / "unflagged.fits", np.asarray(state["wave"]))[2]


def test_labels_beyond_the_training_range_and_snr_beyond_the_calibration_are_flagged(tmp_path, state):
    """With T_eff trained on 4500–5500 K only, the 4300 K giant is flagged in T_eff alone and the 4700 K one not;
    S/N 1000 lies beyond the validation stars' S/N, S/N 60 within."""
    from lawful.spectra.calibration import SNR_PIVOT
    from lawful.spectra.labelling import label_files

    assert state["label_range"].shape == (2, len(TARGETS))  # the shipped model records its training range
    assert np.all(state["label_range"][0] < state["label_range"][1])
    assert SNR_PIVOT * np.exp(state["calibration"]["log_snr_range"][1]) < 1000
    narrowed = {**state, "label_range": np.array([[4500.0, -1, -3, -1, 0.1, 0.1], [5500.0, 6, 1, 1, 10, 20]])}
    paths = [synth(tmp_path / "cool.fits", 4300.0), synth(tmp_path / "warm.fits", 4700.0),
             synth(tmp_path / "bright.fits", 4700.0, 2.5, -0.2, 1000.0)]
    pred = label_files(narrowed, paths)
    expected = np.zeros((3, len(TARGETS)), dtype=bool)
    expected[0, TARGETS.index("teff")] = True
    np.testing.assert_array_equal(pred["outside"], expected)
    np.testing.assert_array_equal(pred["snr_outside"], [False, False, True])


def test_bad_spectra_are_refused_before_any_prediction(tmp_path, state):
    from lawful.spectra.labelling import label_files

    good = synth(tmp_path / "good.fits")
    table = Table.read(good)
    cases = {"nocol": (lambda t: t.remove_column("ivar"), "no column ivar; it has wave, flux, norm_flux"),
             "noisefree": (lambda t: t["ivar"].__setitem__(slice(None), np.inf), "noise-free"),
             "reversed": (lambda t: t.reverse(), "must increase"),
             "nan": (lambda t: t["norm_flux"].__setitem__(slice(None), np.nan), "no usable pixel")}
    for name, (spoil, message) in cases.items():
        bad = table.copy()
        spoil(bad)
        bad.write(tmp_path / f"{name}.fits")
        with pytest.raises(ValueError, match=message):
            label_files(state, [good, tmp_path / f"{name}.fits"])
    with pytest.raises(ValueError, match="no spectra given"):
        label_files(state, [])
    old = {k: v for k, v in state.items() if k != "label_range"}
    with pytest.raises(ValueError, match="lawful spectra recalibrate"):
        label_files(old, [good])
    res = invoke("spectra", "predict", tmp_path / "nocol.fits")
    assert res.exit_code == 2 and "no column ivar" in res.output and "Traceback" not in res.output
