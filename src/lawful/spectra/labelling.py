"""Labels for spectra a user brings (``lawful spectra predict``): each file read and put on the model's grid, all
labelled at once with their σ, and flagged where the model cannot vouch for its answer.

Input: one table per spectrum that astropy reads (FITS, ECSV, …), as ``lawful spectra synth`` writes it: a
wavelength column ``wave`` (Å, or the column's own unit; vacuum, or air when the header says AIRORVAC = 'air',
then converted by specutils' ``air_to_vac``), the continuum-normalised flux (column ``norm_flux`` by default) and
its inverse variance (``ivar``). A spectrum on another grid is resampled onto the model's by specutils'
flux-conserving resampler (:func:`lawful.spectra.interop.from_specutils`); pixels it does not cover, NaN fluxes and
zero inverse variances are masked, and counted per spectrum. Refused before any prediction, naming the file: a
missing column, wavelengths not increasing, a noise-free spectrum (infinite ivar: the σ calibration needs the
noise), a spectrum with no usable pixel or an SNR ≤ 0.

Flags: ``outside`` (n, 6) marks labels predicted beyond the range of the model's training labels; ``snr_outside``
(n,) a spectrum whose SNR lies beyond those the σ calibration was fitted on (it then gets the factors of the
nearest end).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: units of the labels, in the order of :data:`lawful.spectra.labels.TARGETS`
UNITS = {"teff": "K", "logg": "dex", "feh": "dex", "alpha": "dex", "mass": "Msun", "age": "Gyr"}


def read_spectrum(path: Path, grid: np.ndarray, flux_column: str = "norm_flux",
                  ivar_column: str = "ivar") -> tuple[np.ndarray, np.ndarray, bool]:
    """(flux, ivar, resampled) of the spectrum in the table at ``path`` on ``grid`` (Å, vacuum; (W,))."""
    import astropy.units as u
    from astropy.table import Table
    from specutils.utils.wcs_utils import air_to_vac

    from lawful.spectra.interop import from_specutils, to_specutils

    table = Table.read(path)
    missing = [c for c in ("wave", flux_column, ivar_column) if c not in table.colnames]
    if missing:
        raise ValueError(f"{path}: no column {', '.join(missing)}; it has {', '.join(table.colnames)} (name the "
                         f"flux and inverse-variance columns with --flux-column and --ivar-column)")
    column = table["wave"]
    wave = (column.quantity.to_value(u.AA, equivalencies=u.spectral()) if column.unit is not None
            else np.asarray(column, dtype=float))
    if str(table.meta.get("AIRORVAC", "vac")).strip().lower() == "air":
        wave = air_to_vac(wave * u.AA).to_value(u.AA)
    flux, ivar = np.asarray(table[flux_column], dtype=float), np.asarray(table[ivar_column], dtype=float)
    if not np.all(np.diff(wave) > 0):
        raise ValueError(f"{path}: the wavelengths must increase from pixel to pixel")
    if np.isposinf(ivar).any():
        raise ValueError(f"{path}: ivar is infinite in {int(np.isposinf(ivar).sum())} pixels, a noise-free "
                         f"spectrum; the σ calibration depends on the noise (`lawful spectra synth --snr S`)")
    if len(wave) == len(grid) and np.allclose(wave, grid, rtol=1e-7, atol=0.0):
        return flux, ivar, False
    flux, ivar, _ = from_specutils(to_specutils(wave, flux, ivar, unit=""), grid)
    return flux, ivar, True


def label_files(state: dict, paths: list[Path], flux_column: str = "norm_flux",
                ivar_column: str = "ivar") -> dict[str, np.ndarray]:
    """:func:`lawful.spectra.evaluate.predict` for the spectra in ``paths`` (n), read by :func:`read_spectrum`,
    with ``resampled`` (n,), ``outside`` (n, 6) and ``snr_outside`` (n,) beside its output."""
    from lawful.spectra.calibration import SNR_PIVOT, spectrum_snr
    from lawful.spectra.evaluate import predict

    if "label_range" not in state:
        raise ValueError("this model records no range of training labels (trained before stop 50): record it "
                         "with `lawful spectra recalibrate --model DIR --data DATA`")
    if not paths:
        raise ValueError("no spectra given")
    grid = np.asarray(state["wave"])
    read = [read_spectrum(Path(p), grid, flux_column, ivar_column) for p in paths]
    flux, ivar = np.stack([r[0] for r in read]), np.stack([r[1] for r in read])
    snr = spectrum_snr(flux, ivar)
    bad = [str(p) for p, s in zip(paths, snr) if not s > 0]
    if bad:
        raise ValueError(f"{len(bad)} spectra have no usable pixel or a median S/N ≤ 0: {', '.join(bad[:5])}")
    pred = predict(state, flux, ivar)
    low, high = np.asarray(state["label_range"])
    pred["outside"] = (pred["mean"] < low) | (pred["mean"] > high)
    calibration = state["calibration"]
    if isinstance(calibration, dict):
        lo_snr, hi_snr = SNR_PIVOT * np.exp(np.asarray(calibration["log_snr_range"]))
        pred["snr_outside"] = (pred["snr"] < lo_snr) | (pred["snr"] > hi_snr)
    else:  # constant factors (before stop 45): no SNR range
        pred["snr_outside"] = np.zeros(len(paths), dtype=bool)
    pred["resampled"] = np.array([r[2] for r in read])
    return pred


def rows(pred: dict[str, np.ndarray], paths: list[Path], targets: tuple[str, ...]) -> list[dict]:
    """One dict per spectrum: ``file``, ``snr``, ``masked``, ``resampled``, per label ``{mean, sigma68, half95}``
    (the units of :data:`UNITS`), ``outside`` (the flagged labels' names) and ``snr_outside``."""
    return [{"file": str(path), "snr": float(pred["snr"][i]), "masked": int(pred["masked"][i]),
             "resampled": bool(pred["resampled"][i]),
             "labels": {t: {"mean": float(pred["mean"][i, j]), "sigma68": float(pred["sigma"][i, j]),
                            "half95": float(pred["half95"][i, j])} for j, t in enumerate(targets)},
             "outside": [t for j, t in enumerate(targets) if pred["outside"][i, j]],
             "snr_outside": bool(pred["snr_outside"][i])} for i, path in enumerate(paths)]


def write_csv(table: list[dict], path: Path) -> None:
    """``table`` (from :func:`rows`) as a CSV, one line per spectrum, written atomically; the label columns are
    ``<label>_<unit>``, ``<label>_sigma68`` and ``<label>_half95``; ``outside`` joins the flagged names by ';'."""
    import csv
    import io

    from lawful.core.io import atomic_write_bytes

    targets = list(table[0]["labels"])
    header = ["file", "snr", "masked", "resampled"]
    for t in targets:
        header += [f"{t}_{UNITS[t]}", f"{t}_sigma68", f"{t}_half95"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*header, "outside", "snr_outside"])
    for row in table:
        values = [row["file"], f"{row['snr']:.2f}", row["masked"], int(row["resampled"])]
        for t in targets:
            values += [f"{row['labels'][t][k]:.6g}" for k in ("mean", "sigma68", "half95")]
        writer.writerow([*values, ";".join(row["outside"]), int(row["snr_outside"])])
    atomic_write_bytes(Path(path), buffer.getvalue().encode())
