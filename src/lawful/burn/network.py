"""Reaction networks built from pynucastro and flattened into arrays for the numba kernels.

A pynucastro network is a tree of rate objects (REACLIB rates, rates derived by detailed balance with
partition functions, and "approximate" rates that combine several of them, such as aprox13's (α,p)(p,γ)
links). :func:`compile_network` walks that tree once and stores everything the kernels need as plain
arrays (:class:`NetworkData`), cached on disk because building ``aprox13`` in pynucastro takes seconds.

Units: CGS; temperatures in K (the kernels work in T9 = T / 1e9 internally), densities in g/cm³,
molar abundances Y = X / A (mol/g), binding energies in MeV.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np

from lawful.core.io import atomic_write_bytes, cache_dir

#: Networks :func:`load_network` knows by name.
NETWORKS = ("aprox13", "c12")

#: Format version of the cached arrays; bump when :class:`NetworkData` changes.
_CACHE_VERSION = 2

#: Approximate-rate layout: rate = d + a·b / (c1 + c2 + c3); −1 marks an absent term.
_APPROX_SLOTS = {
    ("ap_pg", False): ("A(a,g)B", "A(a,p)X", "X(p,g)B", ("X(p,g)B", "X(p,a)A", "X(p,Y)C")),
    ("ap_pg", True): ("B(g,a)A", "X(p,a)A", "B(g,p)X", ("X(p,g)B", "X(p,a)A", "X(p,Y)C")),
    ("Yp_pg", False): ("A(Y,g)B", "A(Y,p)X", "X(p,g)B", ("X(p,Y)A", "X(p,a)C", "X(p,g)B")),
    ("Yp_pg", True): ("B(g,Y)A", "X(p,Y)A", "B(g,p)X", ("X(p,Y)A", "X(p,a)C", "X(p,g)B")),
    ("Yp_pa", False): ("A(Y,a)B", "A(Y,p)X", "X(p,a)B", ("X(p,Y)A", "X(p,a)B", "X(p,g)C")),
    ("Yp_pa", True): ("B(a,Y)A", "X(p,Y)A", "B(a,p)X", ("X(p,Y)A", "X(p,a)B", "X(p,g)C")),
}


class UnsupportedNetworkError(ValueError):
    """A pynucastro network holds a rate kind the kernels do not evaluate (e.g. tabulated weak rates)."""


@dataclasses.dataclass(frozen=True)
class NetworkData:
    """A network flattened into arrays (all numpy; shapes in brackets).

    Nuclei: ``names`` [n], ``A`` [n], ``Z`` [n], ``binding`` [n] total binding energy in MeV.

    Elementary rates (e = 0 … E−1), each a sum of REACLIB sets times optional partition-function and
    screening factors: ``set_a`` [S, 7] REACLIB coefficients, ``set_rate`` [S] owning rate;
    ``pf_T9`` [G] one T9 grid (the union of every table's points; linear interpolation on it is exactly the
    tables' own), ``pf_logpf`` [P, G] the log partition functions on it,
    ``pf_rate`` / ``pf_table`` / ``pf_sign`` [terms] (log-pf added with that sign);
    ``scr_pairs`` [Q, 4] (Z1, A1, Z2, A2), ``scr_rate`` / ``scr_pair`` [terms].

    Network rates (k = 0 … K−1): ``combo`` [K, 6] elementary indices (d, a, b, c1, c2, c3) with
    λ_k = d + a·b / (c1 + c2 + c3) (−1 = absent; a plain rate is just ``d``), ``prefactor`` [K]
    (1/n! for identical reactants), ``dens_exp`` [K], ``react`` [K, 3] reactant nucleus indices
    (−1 padded, repeated for identical reactants), ``nu`` [K, n] net change of each Y per reaction.
    """

    name: str
    names: tuple[str, ...]
    A: np.ndarray
    Z: np.ndarray
    binding: np.ndarray
    rate_names: tuple[str, ...]
    set_a: np.ndarray
    set_rate: np.ndarray
    n_elementary: int
    pf_T9: np.ndarray
    pf_logpf: np.ndarray
    pf_rate: np.ndarray
    pf_table: np.ndarray
    pf_sign: np.ndarray
    scr_pairs: np.ndarray
    scr_rate: np.ndarray
    scr_pair: np.ndarray
    combo: np.ndarray
    prefactor: np.ndarray
    dens_exp: np.ndarray
    react: np.ndarray
    nu: np.ndarray

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        np.savez(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_file(cls, path: Path) -> NetworkData:
        with np.load(path, allow_pickle=False) as z:
            kw = {k: z[k] for k in z.files}
        kw["name"] = str(kw["name"])
        kw["names"] = tuple(str(s) for s in kw["names"])
        kw["rate_names"] = tuple(str(s) for s in kw["rate_names"])
        kw["n_elementary"] = int(kw["n_elementary"])
        return cls(**kw)


def pynucastro_network(name: str):
    """The pynucastro ``RateCollection`` behind one of :data:`NETWORKS`.

    ``aprox13``: pynucastro's ``common_networks.aprox13()`` (13 α-chain nuclei, REACLIB rates,
    (α,p)(p,γ) approximations). ``c12``: ¹²C + ¹²C → ²⁴Mg (the REACLIB ¹²C(¹²C,α)²⁰Ne rate with its
    product replaced by ²⁴Mg through a ``ModifiedRate``) with ¹⁶O inert: the 3-isotope carbon network.
    """
    try:
        import pynucastro as pyna
    except ImportError as exc:  # pragma: no cover - pynucastro is a dependency
        raise ImportError("the burn domain needs pynucastro: pip install 'pynucastro>=3.1'") from exc
    if name == "aprox13":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # missing partition-function tables → log pf = 0
            return pyna.common_networks.aprox13()
    if name == "c12":
        rate = pyna.ReacLibLibrary().get_rate_by_name("c12(c12,a)ne20")
        modified = pyna.ModifiedRate(rate, new_products=[pyna.Nucleus("mg24")])
        return pyna.PythonNetwork(rates=[modified], inert_nuclei=[pyna.Nucleus("o16")])
    raise ValueError(f"network {name!r} is unknown; expected one of {', '.join(NETWORKS)}")


def compile_network(name: str) -> NetworkData:
    """Flatten pynucastro network ``name`` into :class:`NetworkData` (slow: builds it in pynucastro)."""
    from pynucastro.rates import ApproximateRate, DerivedRate, ReacLibRate

    net = pynucastro_network(name)
    nuclei = sorted(net.get_nuclei(), key=lambda n: (n.A, n.Z))
    index = {n: i for i, n in enumerate(nuclei)}
    elementary: list = []

    def elem(rate) -> int:
        if rate not in elementary:
            elementary.append(rate)
        return elementary.index(rate)

    combos, rates = [], net.get_rates()
    for r in rates:
        if isinstance(r, ApproximateRate):
            key = (r.approx_type, bool(r.is_reverse))
            if key not in _APPROX_SLOTS:
                raise UnsupportedNetworkError(
                    f"approximate rate type {r.approx_type!r} ({r.fname}) is not supported")
            d, a, b, denom = _APPROX_SLOTS[key]
            slots = [d, a, b, *denom]
            combos.append([elem(r.rates[s]) if s in r.rates else -1 for s in slots])
        else:
            combos.append([elem(r), -1, -1, -1, -1, -1])

    set_a, set_rate = [], []
    pf_tables: list = []
    pf_rate, pf_table, pf_sign = [], [], []
    scr_pairs: list = []
    scr_rate, scr_pair = [], []
    for e, r in enumerate(elementary):
        base = r.original_rate if hasattr(r, "original_rate") else r
        if isinstance(base, DerivedRate):
            sets = base.derived_sets
            if sets is None:
                raise UnsupportedNetworkError(f"derived rate {r.fname} has no REACLIB source sets")
            for sign, group in ((+1, base.source_rate.reactants), (-1, base.source_rate.products)):
                for nuc in group:
                    pf = nuc.partition_function if base.use_pf else None
                    if pf is None:
                        continue
                    if pf not in pf_tables:
                        pf_tables.append(pf)
                    pf_rate.append(e)
                    pf_table.append(pf_tables.index(pf))
                    pf_sign.append(sign)
        elif isinstance(base, ReacLibRate):
            sets = base.sets
        else:
            raise UnsupportedNetworkError(f"rate {r.fname} of type {type(base).__name__} is not supported")
        for s in sets:
            set_a.append(np.asarray(s.a, dtype=np.float64))
            set_rate.append(e)
        for n1, n2 in r.screening_pairs:
            pair = (n1.Z, n1.A, n2.Z, n2.A)
            if pair not in scr_pairs:
                scr_pairs.append(pair)
            scr_rate.append(e)
            scr_pair.append(scr_pairs.index(pair))

    n = len(nuclei)
    react = -np.ones((len(rates), 3), dtype=np.int64)
    nu = np.zeros((len(rates), n))
    for k, r in enumerate(rates):
        ydot_reactants = [q for q in r.reactants if q not in r.not_in_ydot_term]
        if len(ydot_reactants) > 3 or r.use_ye_weighting or r.dens_exp not in (0, 1, 2, 3):
            raise UnsupportedNetworkError(f"rate {r.fname}: more than 3 reactants or Ye weighting")
        react[k, : len(ydot_reactants)] = sorted(index[q] for q in ydot_reactants)
        for q in nuclei:
            nu[k, index[q]] = r.product_count(q) - r.reactant_count(q)
    grid = np.unique(np.concatenate([np.asarray(t.T9_points, float) for t in pf_tables])) if pf_tables else np.zeros(1)
    logpf = np.array([np.interp(grid, t.T9_points, t.log_pf_data) for t in pf_tables]).reshape(-1, len(grid))
    return NetworkData(
        name=name,
        names=tuple(q.raw for q in nuclei),
        A=np.array([q.A for q in nuclei], dtype=np.float64),
        Z=np.array([q.Z for q in nuclei], dtype=np.float64),
        binding=np.array([q.nucbind * q.A for q in nuclei], dtype=np.float64),
        rate_names=tuple(r.fname for r in rates),
        set_a=np.array(set_a).reshape(-1, 7),
        set_rate=np.array(set_rate, dtype=np.int64),
        n_elementary=len(elementary),
        pf_T9=grid,
        pf_logpf=logpf,
        pf_rate=np.array(pf_rate, dtype=np.int64),
        pf_table=np.array(pf_table, dtype=np.int64),
        pf_sign=np.array(pf_sign, dtype=np.float64),
        scr_pairs=np.array(scr_pairs, dtype=np.float64).reshape(-1, 4),
        scr_rate=np.array(scr_rate, dtype=np.int64),
        scr_pair=np.array(scr_pair, dtype=np.int64),
        combo=np.array(combos, dtype=np.int64),
        prefactor=np.array([r.prefactor for r in rates], dtype=np.float64),
        dens_exp=np.array([r.dens_exp for r in rates], dtype=np.float64),
        react=react,
        nu=nu,
    )


def load_network_data(name: str) -> NetworkData:
    """:func:`compile_network` with an on-disk cache keyed by name, pynucastro version and format."""
    if name not in NETWORKS:
        raise ValueError(f"network {name!r} is unknown; expected one of {', '.join(NETWORKS)}")
    import pynucastro

    key = hashlib.sha1(f"{name}-{pynucastro.__version__}-{_CACHE_VERSION}".encode()).hexdigest()[:12]
    path = cache_dir() / "networks" / f"{name}-{key}.npz"
    if path.exists():
        return NetworkData.from_file(path)
    data = compile_network(name)
    atomic_write_bytes(path, data.to_bytes())
    return data


class Network:
    """A reaction network ready for the numba kernels.

    Attributes: ``name``, ``names`` (nucleus names, pynucastro spelling, e.g. ``"he4"``), ``A``, ``Z``,
    ``binding`` (total binding energy per nucleus, MeV), ``data`` (:class:`NetworkData`), ``packed``
    (the :class:`~lawful.burn.kernels.PackedNetwork` the kernels take). ``screen`` switches screen5 electron screening.
    """

    def __init__(self, name: str = "aprox13", screen: bool = True):
        from lawful.burn.kernels import pack

        self.data = load_network_data(name)
        self.name = name
        self.screen = bool(screen)
        self.names = self.data.names
        self.A, self.Z, self.binding = self.data.A, self.data.Z, self.data.binding
        self.packed = pack(self.data)

    def __repr__(self) -> str:
        return f"Network({self.name!r}, {len(self.names)} nuclei, screen={self.screen})"

    def composition(self, X: dict[str, float], tol: float = 1e-6) -> np.ndarray:
        """Mass fractions [n] from ``{name: X}`` (missing nuclei are 0), validated.

        Raises ``ValueError`` for an unknown nucleus, a negative or non-finite value, or a sum off 1 by > ``tol``.
        """
        out = np.zeros(len(self.names))
        for key, value in X.items():
            name = key.strip().lower()
            if name not in self.names:
                raise ValueError(f"nucleus {key!r} is not in network {self.name}; it has {', '.join(self.names)}")
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"mass fraction X({key}) = {value} must be finite and ≥ 0")
            out[self.names.index(name)] = value
        check_mass_fractions(out, tol)
        return out

    def abar_zbar(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean mass number Ā and charge Z̄ from mass fractions X [..., n] (nuclei last); arrays of shape [...]."""
        y = X / self.A
        abar = 1.0 / y.sum(axis=-1)
        return abar, abar * (y * self.Z).sum(axis=-1)

    def rhs(self, rho, T, X) -> tuple[np.ndarray, np.ndarray]:
        """dX/dt [N, n] (1/s) and ε̇ [N] (erg/g/s) at (ρ [N], T [N], X [N, n])."""
        from lawful.burn.kernels import rhs_batch

        rho, T, X = as_zones(rho, T, X, len(self.names))
        dY, enuc = rhs_batch(rho, T, X / self.A, self.packed, self.screen)
        return dY * self.A, enuc


def check_mass_fractions(X: np.ndarray, tol: float = 1e-6) -> None:
    """Raise ``ValueError`` unless every row of ``X`` is finite, ≥ 0 and sums to 1 within ``tol``."""
    X = np.atleast_2d(X)
    bad = ~np.isfinite(X) | (X < 0)
    if bad.any():
        z, i = np.argwhere(bad)[0]
        raise ValueError(f"mass fraction X[{z}, {i}] = {X[z, i]} must be finite and ≥ 0")
    s = X.sum(axis=1)
    off = np.abs(s - 1.0) > tol
    if off.any():
        z = int(np.flatnonzero(off)[0])
        raise ValueError(f"mass fractions of zone {z} sum to {s[z]:.10g}; expected 1 within {tol:g}")


def as_zones(rho, T, X, n):
    """Broadcast scalars/arrays ρ, T and X ([n] or [N, n]) to N zones: (ρ [N], T [N], X [N, n]) float64."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if X.shape[1] != n:
        raise ValueError(f"X has {X.shape[1]} columns; the network has {n} nuclei")
    rho, T = np.atleast_1d(np.asarray(rho, dtype=np.float64)), np.atleast_1d(np.asarray(T, dtype=np.float64))
    N = max(len(rho), len(T), len(X))
    try:
        rho, T = (np.broadcast_to(a, (N,)).copy() for a in (rho, T))
        X = np.ascontiguousarray(np.broadcast_to(X, (N, n)))
    except ValueError:
        raise ValueError(f"rho ({len(rho)}), T ({len(T)}) and X ({len(X)} rows) do not describe the same "
                         "zones") from None
    return rho, T, X
