"""The forward model: physical stellar spectra, batched; differentiable in torch, and for inference the same
arithmetic with everything that touches the model grid fused in a numba kernel (:mod:`~lawful.spectra.synth_kernel`).

For each star (labels in :data:`LABELS`) a one-layer photosphere (:mod:`~lawful.spectra.atmosphere`) gives the
electron density, ionisation and continuous opacity. On a log-uniform model grid the emergent flux is

    F_λ = F_c(λ) · R(λ),   F_c = π B_λ(T(τ_R = ⅔ κ_ref/κ_λ))  (Eddington–Barbier on the grey T(τ)),

and the residual R is a Milne–Eddington solution, 1 − R = b/(1+b) · η/(1+η), η the line-to-continuum opacity
ratio. Opacities that add before the ME formula: Balmer lines (n = 2 population from Boltzmann–Saha,
quasi-static Stark wings on a thermal core), strong metal lines with damping wings (pseudo-Voigt; van der Waals
damping ∝ N_H grows with log g), molecular bands (CN, CH, TiO from dissociation equilibrium with CO) and a haze
for the line forest the resonance-line list lacks (:data:`HAZE_GF`). The other listed lines enter as their
Milne–Eddington curve-of-growth equivalent widths, unresolved at the instrument's resolution. Then the
instrument (:mod:`~lawful.spectra.instrument`): Gaussian LSF at R, Doppler shift by RV and sampling at the output
wavelengths (LAMOST LRS by default) in one filter, and normalisation by the model's own continuum (noise:
:mod:`~lawful.spectra.data`).

Shapes: labels (B, 8) → flux, normalised flux (B, W) on ``Synthesizer.wave`` (W,). Units: Å (vacuum), K, cgs
log g, dex, km/s, erg s⁻¹ cm⁻² Å⁻¹.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lawful.spectra import atmosphere as atm
from lawful.spectra.atomic import ALPHA_ELEMENTS, ELEMENT_DATA, balmer_lines, line_list, solar_abundances
from lawful.spectra.grids import lamost_wave, model_grid
from lawful.spectra.instrument import C_KMS, LSF, doppler_resample
from lawful.spectra.profiles import curve_of_growth, pseudo_voigt, stark_profile

#: label order of every label tensor (B, 8)
LABELS = ("teff", "logg", "feh", "alpha", "c_fe", "n_fe", "vmic", "rv")
#: label units, for tables and files
LABEL_UNITS = {"teff": "K", "logg": "dex (cgs)", "feh": "dex", "alpha": "dex", "c_fe": "dex", "n_fe": "dex",
               "vmic": "km/s", "rv": "km/s"}
#: range the forward model is meant for (a request outside it is refused)
LABEL_RANGE = {"teff": (3000.0, 12000.0), "logg": (-0.5, 5.5), "feh": (-3.0, 1.0), "alpha": (-0.5, 1.0),
               "c_fe": (-1.5, 1.5), "n_fe": (-1.0, 2.5), "vmic": (0.0, 10.0), "rv": (-1000.0, 1000.0)}
C_AA = atm.C_AA
#: lines whose damping wings are computed in full (the others: curve-of-growth equivalent widths)
STRONG_LINES = ("CaII 3934", "CaII 3969", "NaI 5891", "NaI 5897", "MgI 5169", "MgI 5174", "MgI 5185",
                "CaII 8500", "CaII 8544", "CaII 8664")
#: molecular bands: (molecule, head Å vacuum, degradation: -1 to the violet, +1 to the red, 0 symmetric,
#: e-folding length Å, effective band f-value) — order-of-magnitude f-values, see docs/spectra.md
BANDS = (("CN", 3884.5, -1, 25.0, 0.030), ("CN", 4216.7, -1, 35.0, 0.008), ("CH", 4313.0, 0, 8.0, 0.005),
         ("TiO", 4762.3, +1, 60.0, 0.010), ("TiO", 4955.9, +1, 60.0, 0.020), ("TiO", 5168.1, +1, 60.0, 0.030),
         ("TiO", 5449.5, +1, 60.0, 0.020), ("TiO", 5848.6, +1, 60.0, 0.020), ("TiO", 6160.4, +1, 60.0, 0.030),
         ("TiO", 6653.1, +1, 60.0, 0.040), ("TiO", 7056.1, +1, 60.0, 0.060), ("TiO", 7591.4, +1, 60.0, 0.030))
#: diatomic molecules: (atom A, atom B, D₀ eV, reduced mass amu, B_e cm⁻¹, ω_e cm⁻¹)
MOLECULES = {"CN": ("C", "N", 7.76, 6.46, 1.90, 2069.0), "CH": ("C", "H", 3.47, 0.93, 14.46, 2858.0),
             "TiO": ("Ti", "O", 6.87, 11.98, 0.535, 1009.0), "CO": ("C", "O", 11.09, 6.86, 1.93, 2170.0)}
#: model pixels between continuum nodes (≈ 36 Å at 8000 Å; nodes are added on both sides of each hydrogen
#: edge): normalised spectra within 2e-5 and flux within 1e-4 of those with nodes 16× denser (tested)
COARSE_STEP = 32
#: a band's shape is set to zero where it falls below this fraction of its peak (η changes by < 1e-12 of it)
BAND_CUT = 1e-12
GAMMA_VDW = 10.0**-7.5  # van der Waals damping per H atom, cm³/s, at 10⁴ K (∝ T^0.3)
#: the forest of lines missing from the resonance-line list, as a haze of Fe I-like lines out of levels at
#: HAZE_CHI eV with HAZE_GF (g f per Å at 4000 Å, falling as λ⁻⁴): one number, calibrated on the B − V of a
#: 4500 K, log g 2.4, solar giant against Ramírez & Meléndez (2005); every other colour is a prediction.
#: The haze's strength grows as (N_Fe / N_Fe,☉)^HAZE_POWER: the blanketing of cool giants comes from strong lines
#: on the damping (square-root) part of the curve of growth, W ∝ √(N g f γ), not from weak lines (W ∝ N), so a
#: forest scaled linearly in the abundance made metal-poor giants up to 260 K too blue
HAZE_GF, HAZE_CHI, HAZE_POWER = 0.0022, 2.5, 0.5


def check_labels(labels: torch.Tensor) -> None:
    """Refuse labels outside :data:`LABEL_RANGE` or not finite, naming the label, the value and the range."""
    if labels.ndim != 2 or labels.shape[1] != len(LABELS):
        raise ValueError(f"labels must have shape (n, {len(LABELS)}) in the order {LABELS}, got {tuple(labels.shape)}")
    for j, name in enumerate(LABELS):
        lo, hi = LABEL_RANGE[name]
        col = labels[:, j]
        bad = ~torch.isfinite(col) | (col < lo) | (col > hi)
        if bool(bad.any()):
            value = float(col[bad][0])
            raise ValueError(f"{name} = {value:g} is outside the forward model's range [{lo:g}, {hi:g}] "
                             f"{LABEL_UNITS[name]}")


@dataclass
class Spectra:
    """Output of :meth:`Synthesizer.__call__`: ``flux`` physical F_λ (B, W), ``continuum`` (B, W) on the
    output grid after the LSF, ``normalized`` = flux / continuum."""

    flux: torch.Tensor
    continuum: torch.Tensor
    normalized: torch.Tensor


class Synthesizer:
    """Batched forward model on a fixed output grid.

    ``wave``: output wavelengths (Å, vacuum; default the LAMOST LRS grid); ``resolution``: R = λ/FWHM of the
    Gaussian LSF. ``dtype`` of the big arrays (float32 by default; the photosphere is always float64).
    ``coarse_step``: model pixels between the nodes that carry the continuum quantities (κ_c, F_c, the ME
    gradient, the haze), interpolated linearly in ln λ in between; the two pixels around each hydrogen
    bound-free edge are nodes too.
    """

    def __init__(self, wave: np.ndarray | None = None, resolution: float = 1800.0,
                 dtype: torch.dtype = torch.float32, coarse_step: int = COARSE_STEP) -> None:
        wave = lamost_wave() if wave is None else np.asarray(wave, dtype=float)
        if wave.ndim != 1 or wave.size < 2 or not np.all(np.diff(wave) > 0):
            raise ValueError("wave must be a strictly increasing 1-D array of wavelengths in Å")
        if not 100.0 <= resolution <= 1e5:
            raise ValueError(f"resolution = {resolution:g} is outside [100, 1e5]")
        self.resolution, self.dtype = float(resolution), dtype
        self.wave = torch.tensor(wave, dtype=torch.float64)
        grid = model_grid(float(wave[0]), float(wave[-1]), resolution)
        self.grid = torch.as_tensor(grid, dtype=torch.float64)
        self.dln = float(np.log(grid[1] / grid[0]))
        if coarse_step < 1:
            raise ValueError(f"coarse_step = {coarse_step} must be a positive number of model pixels")
        # every coarse_step-th pixel, the last one, and the two pixels around each hydrogen edge, so that the
        # continuum's jumps fall between adjacent nodes instead of being smeared over a node interval
        edges = np.searchsorted(grid, [atm.hydrogen_edge(n) for n in range(2, 9)])
        edges = edges[(edges > 0) & (edges < len(grid))]
        self.coarse_index = np.unique(np.r_[np.arange(0, len(grid), coarse_step), len(grid) - 1, edges - 1,
                                            edges]).tolist()
        self.coarse = self.grid[self.coarse_index]
        self._to_grid = self._coarse_weights(grid)  # every model pixel from the coarse nodes
        self._setup_lines(grid)
        self._setup_bands(grid)
        self.lsf = LSF(resolution, self.dln, math.log(float(grid[0])), wave)
        self._lsf_table = self.lsf.phase_table()  # the numba kernel's LSF weights
        abund = solar_abundances()
        self.eps = {el: 10.0 ** (abund[el] - 12.0) for el in set(ELEMENT_DATA) | {"H"}}

    # ---------------------------------------------------------------------------------------------- setup
    def _coarse_weights(self, wave: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed linear interpolation (in ln λ) from the coarse nodes to wavelengths ``wave`` (Å): the lower
        node's index and the upper node's weight, found once for wavelengths that never change."""
        log_x, log_nodes = np.log(np.asarray(wave, dtype=float)), np.log(self.coarse.numpy())
        hi = np.clip(np.searchsorted(log_nodes, log_x), 1, len(log_nodes) - 1)
        w = np.clip((log_x - log_nodes[hi - 1]) / (log_nodes[hi] - log_nodes[hi - 1]), 0.0, 1.0)
        return torch.as_tensor(hi - 1), torch.as_tensor(w)

    def _setup_lines(self, grid: np.ndarray) -> None:
        ll = line_list(float(grid[0]), float(grid[-1]))
        strong = np.array([n.split()[0] + " " + n.split()[1][:4] in STRONG_LINES for n in ll.names], dtype=bool)
        self.elements = ll.elements
        columns = (("wave", ll.wave), ("loggf", ll.loggf), ("e_low", ll.e_low),
                   ("element", np.asarray(ll.element, dtype=np.int64)), ("ion", np.asarray(ll.ion, dtype=np.int64)))
        self.weak = {k: torch.as_tensor(v[~strong]) for k, v in columns}
        self.strong = {k: torch.as_tensor(v[strong]) for k, v in columns}
        upper, bwave, bf = balmer_lines()
        keep = (bwave > grid[0]) & (bwave < grid[-1])
        self.balmer = {"upper": torch.as_tensor(upper[keep], dtype=torch.float64),
                       "wave": torch.as_tensor(bwave[keep]), "f": torch.as_tensor(bf[keep])}
        self.balmer["knm"] = _stark_knm(self.balmer["upper"])
        for lines in (self.weak, self.strong, self.balmer):
            lines["nodes"] = self._coarse_weights(lines["wave"].numpy())
        # windows of model pixels around the lines computed in full: ±(a fixed span in Å) around each centre
        self.strong_window = self._windows(self.strong["wave"].numpy(), 120.0, grid)
        self.balmer_window = self._windows(self.balmer["wave"].numpy(), 200.0, grid)
        self.strong_dx = self.grid[self.strong_window] - self.strong["wave"][:, None]  # (J, K) Å from the centre
        self.balmer_dx = self.grid[self.balmer_window] - self.balmer["wave"][:, None]
        # each weak line's equivalent width goes to the two pixels around its centre, per pixel width (1/Å)
        pos = np.interp(np.log(self.weak["wave"].numpy()), np.log(grid), np.arange(len(grid)))
        lo = np.clip(np.floor(pos).astype(np.int64), 0, len(grid) - 2)
        frac, pix = pos - lo, grid[lo] * self.dln
        self.weak_deposit = (torch.as_tensor(lo), torch.as_tensor((1.0 - frac) / pix), torch.as_tensor(frac / pix))

    def _windows(self, centres: np.ndarray, half_width: float, grid: np.ndarray) -> torch.Tensor:
        if centres.size == 0:
            return torch.zeros((0, 1), dtype=torch.long)
        half = int(math.ceil(half_width / (centres.min() * self.dln)))
        centre_px = np.searchsorted(grid, centres)
        idx = centre_px[:, None] + np.arange(-half, half + 1)[None, :]
        return torch.as_tensor(np.clip(idx, 0, len(grid) - 1))

    def _setup_bands(self, grid: np.ndarray) -> None:
        shapes = []
        for _, head, direction, length, _ in BANDS:
            d = (grid - head) * (-1.0 if direction < 0 else 1.0)
            if direction == 0:
                s = np.exp(-0.5 * (d / length) ** 2)
            else:
                s = np.where(d >= 0, np.exp(-d / length), np.exp(-0.5 * (d / 1.0) ** 2))
            area = np.trapezoid(s, grid)
            shapes.append(s / area if area > 0 else s)
        shapes = np.array(shapes)
        shapes[shapes < BAND_CUT * shapes.max(axis=1, keepdims=True)] = 0.0
        self.band_shapes = torch.as_tensor(shapes)  # (n_bands, N) in 1/Å
        nonzero = [np.nonzero(row)[0] for row in shapes]  # the pixels [start, stop) each band reaches
        self.band_range = np.array([(i[0], i[-1] + 1) if i.size else (0, 0) for i in nonzero], dtype=np.int64)
        self.band_f = torch.tensor([b[4] for b in BANDS], dtype=torch.float64)
        self.band_head = torch.tensor([b[1] for b in BANDS], dtype=torch.float64)
        self.band_nodes = self._coarse_weights(self.band_head.numpy())

    # ---------------------------------------------------------------------------------------------- physics
    def _abundance(self, element: str, lab: dict[str, torch.Tensor]) -> torch.Tensor:
        """N_X / N_H for each star."""
        scale = lab["feh"].clone()
        if element in ALPHA_ELEMENTS:
            scale = scale + lab["alpha"]
        if element == "C":
            scale = scale + lab["c_fe"]
        if element == "N":
            scale = scale + lab["n_fe"]
        return self.eps[element] * 10.0**scale

    def _molecules(self, lab: dict[str, torch.Tensor], phot: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """N_mol / N_H for CN, CH, TiO from dissociation equilibrium, with C and O shared through CO."""
        t = lab["teff"]
        n_h = phot["n_h"] * phot["x_neutral"]

        def k_diss(name: str) -> torch.Tensor:  # n_A n_B / n_AB, cm⁻³
            _, _, d0, mu, b_e, omega = MOLECULES[name]
            q_rot = atm.K_CGS * t / (atm.H_CGS * atm.C_CGS * b_e)
            q_vib = 1.0 / (-torch.expm1(-atm.H_CGS * atm.C_CGS * omega / (atm.K_CGS * t)))
            trans = atm.SAHA * (mu * 1822.888) ** 1.5 * t**1.5
            return trans / (q_rot * q_vib) * torch.exp(-d0 / (atm.K_EV * t))

        eps_c, eps_o = self._abundance("C", lab), self._abundance("O", lab)
        k_co = k_diss("CO") / phot["n_h"]
        c_free, o_free = eps_c.clone(), eps_o.clone()
        for _ in range(30):  # ε_C = C (1 + O/K), ε_O = O (1 + C/K), in units of N_H
            c_free = eps_c / (1.0 + o_free / k_co)
            o_free = eps_o / (1.0 + c_free / k_co)
        n_free = self._abundance("N", lab)
        ti_neutral = 1.0 / (1.0 + atm.saha_ratio(ELEMENT_DATA["Ti"][2], ELEMENT_DATA["Ti"][4],
                                                  ELEMENT_DATA["Ti"][5], t) / phot["ne"])
        ti_free = self._abundance("Ti", lab) * ti_neutral
        h_frac = n_h / phot["n_h"]
        return {"CN": c_free * n_free * phot["n_h"] / k_diss("CN"),
                "CH": c_free * h_frac * n_h / k_diss("CH"),
                "TiO": ti_free * o_free * phot["n_h"] / k_diss("TiO")}

    def _level_population(self, lines: dict[str, torch.Tensor], lab: dict[str, torch.Tensor],
                          phot: dict[str, torch.Tensor]) -> torch.Tensor:
        """g_low f N_low / N_H for each star and line (B, L): Saha for the ionisation stage, Boltzmann within."""
        t = lab["teff"][:, None]
        if len(lines["wave"]) == 0:
            return torch.zeros((len(t), 0), dtype=torch.float64)
        rows = []
        for el in self.elements:
            z, mass, chi1, chi2, u1, u2, u3 = ELEMENT_DATA[el]
            phi1 = atm.saha_ratio(chi1, u1, u2, lab["teff"]) / phot["ne"]
            phi2 = atm.saha_ratio(chi2, u2, u3, lab["teff"]) / phot["ne"]
            frac0 = 1.0 / (1.0 + phi1 + phi1 * phi2)
            rows.append(torch.stack([self._abundance(el, lab) * frac0 / u1,
                                     self._abundance(el, lab) * frac0 * phi1 / u2], dim=-1))
        per_element = torch.stack(rows, dim=1)  # (B, n_el, 2): N_stage / (U N_H)
        n_stage = per_element[:, lines["element"], lines["ion"]]
        return n_stage * 10.0 ** lines["loggf"] * torch.exp(-lines["e_low"] / (atm.K_EV * t))

    def _doppler_and_damping(self, lines: dict[str, torch.Tensor], lab: dict[str, torch.Tensor],
                             phot: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Doppler width Δλ_D (Å) and Lorentz HWHM (Å) of each line (B, L)."""
        mass = torch.tensor([ELEMENT_DATA[e][1] for e in self.elements], dtype=torch.float64)[lines["element"]]
        t = lab["teff"][:, None]
        v2 = 2.0 * atm.K_CGS * t / (mass * 1.6605e-24) / 1e10 + lab["vmic"][:, None] ** 2  # (km/s)²
        doppler = lines["wave"] * torch.sqrt(v2) / C_KMS
        n_hi = (phot["n_h"] * phot["x_neutral"])[:, None]
        gamma = 2.223e15 / lines["wave"] ** 2 + GAMMA_VDW * n_hi * (t / 1e4) ** 0.3
        return doppler, gamma * lines["wave"] ** 2 / (4.0 * math.pi * C_AA)

    def _cross_section(self, wave: torch.Tensor, temp: torch.Tensor) -> torch.Tensor:
        """π e²/(m c²) λ² (cm² Å per unit gf), with stimulated emission, (B, L)."""
        return 8.853e-21 * wave**2 * -torch.expm1(-atm.HC_OVER_K / (wave * temp[:, None]))

    def _terms(self, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """The per-star physics, before anything touches every model pixel: for the Balmer lines (B, 3, J) their
        strength (line over continuum opacity × Å), K F₀ and core half-width (Å); for the strong lines (B, 3, J)
        their strength, Gaussian σ and Lorentzian HWHM (Å); band amplitudes (B, n_b); the haze's η, the continuum
        F_c and the ME gradient b on the coarse nodes (B, C); weak-line equivalent widths (B, L) in Å."""
        lab = {name: labels[:, j].to(torch.float64) for j, name in enumerate(LABELS)}
        t = lab["teff"]
        phot = atm.photosphere(t, lab["logg"], 10.0 ** lab["feh"])
        kappa_c = atm.continuum_opacity(self.coarse, t, phot["ne"], phot["n_h"])
        kappa_ref = atm.continuum_opacity(torch.tensor([5000.0], dtype=torch.float64), t, phot["ne"],
                                          phot["n_h"])[:, 0]
        terms = {}
        terms["fc"], terms["b"] = atm.milne_eddington(self.coarse, t, kappa_c, kappa_ref)
        # Balmer lines: Doppler ⊕ Holtsmark, n = 2 population from Boltzmann–Saha
        bw = self.balmer["wave"]
        x_n2 = atm.hydrogen_level_fraction(2, t) * phot["x_neutral"]
        strength = (x_n2[:, None] * self._cross_section(bw, t) * self.balmer["f"]
                    / _from_nodes(kappa_c, self.balmer["nodes"]))
        f0 = 1.25e-9 * phot["ne"] ** (2.0 / 3.0)
        v2 = 2.0 * atm.K_CGS * t[:, None] / atm.M_H / 1e10 + lab["vmic"][:, None] ** 2  # (km/s)²
        core = 2.0 * torch.sqrt((bw * torch.sqrt(v2) / C_KMS) ** 2 + (bw * self.dln) ** 2)
        terms["balmer"] = torch.stack([strength, self.balmer["knm"] * f0[:, None], core], dim=1)
        # strong metal lines with damping wings
        sw = self.strong["wave"]
        strength = (self._level_population(self.strong, lab, phot) * self._cross_section(sw, t)
                    / _from_nodes(kappa_c, self.strong["nodes"]))
        doppler, gamma = self._doppler_and_damping(self.strong, lab, phot)
        terms["strong"] = torch.stack([strength, torch.sqrt(doppler**2 / 2.0 + (sw * self.dln) ** 2), gamma], dim=1)
        # molecular bands
        mol = self._molecules(lab, phot)
        amp = torch.stack([mol[b[0]] for b in BANDS], dim=1) * self._cross_section(self.band_head, t) * self.band_f
        terms["bands"] = amp / _from_nodes(kappa_c, self.band_nodes)
        fe = ELEMENT_DATA["Fe"]
        fe_neutral = 1.0 / (1.0 + atm.saha_ratio(fe[2], fe[4], fe[5], t) / phot["ne"])
        forest = self.eps["Fe"] * 10.0 ** (HAZE_POWER * lab["feh"])  # N_Fe,☉ (N_Fe/N_Fe,☉)^HAZE_POWER
        pop = forest * fe_neutral / fe[4] * torch.exp(-HAZE_CHI / (atm.K_EV * t))
        terms["haze"] = (pop[:, None] * HAZE_GF * (4000.0 / self.coarse) ** 4
                         * self._cross_section(self.coarse, t) / kappa_c)
        # weak lines: Milne–Eddington curve-of-growth equivalent widths, deposited at their centres
        ww = self.weak["wave"]
        strength = (self._level_population(self.weak, lab, phot) * self._cross_section(ww, t)
                    / _from_nodes(kappa_c, self.weak["nodes"]))
        doppler, gamma = self._doppler_and_damping(self.weak, lab, phot)
        cog = curve_of_growth(torch.log10(strength / doppler), torch.log10(gamma / doppler))
        b_line = _from_nodes(terms["b"], self.weak["nodes"])
        terms["weak"] = b_line / (1.0 + b_line) * doppler * cog  # Å
        return terms

    def residual_and_continuum(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Intrinsic (before the instrument) on the model grid, in torch: smooth residual R_s (B, N), weak-line
        equivalent-width density D (B, N, per pixel) and continuum F_c (B, N)."""
        terms = self._terms(labels)
        big, n = labels.shape[0], len(self.grid)

        def everywhere(values: torch.Tensor) -> torch.Tensor:  # a coarse quantity on every model pixel
            return _from_nodes(values.to(self.dtype), self._to_grid).to(torch.float64)

        strength, stark, core = terms["balmer"].unbind(1)
        balmer = stark_profile(self.balmer_dx[None], stark[..., None], core[..., None]) * strength[..., None]
        strength, sigma, gamma = terms["strong"].unbind(1)
        strong = pseudo_voigt(self.strong_dx[None], sigma[..., None], gamma[..., None]) * strength[..., None]
        eta = torch.zeros((big, n), dtype=torch.float64)
        for prof, window in ((balmer, self.balmer_window), (strong, self.strong_window)):
            eta.scatter_add_(1, window.reshape(1, -1).expand(big, -1), prof.reshape(big, -1))
        eta = eta + terms["bands"] @ self.band_shapes + everywhere(terms["haze"])
        b = everywhere(terms["b"])
        residual = (1.0 + b / (1.0 + eta)) / (1.0 + b)
        lo, to_lo, to_hi = self.weak_deposit
        dens = torch.zeros((big, n), dtype=torch.float64)
        dens.scatter_add_(1, lo.expand(big, -1), terms["weak"] * to_lo)
        dens.scatter_add_(1, (lo + 1).expand(big, -1), terms["weak"] * to_hi)
        return residual, dens, everywhere(terms["fc"])

    def __call__(self, labels: torch.Tensor) -> Spectra:
        """Noise-free spectra for labels (B, 8) in the order of :data:`LABELS`: by :meth:`differentiable` if the
        labels require gradients, else by the fused kernel of :mod:`~lawful.spectra.synth_kernel` (the same
        spectra to a few 1e-6, 8–16× faster: ``benchmarks/spectra_synth.py``)."""
        labels = torch.as_tensor(labels, dtype=torch.float64)
        if torch.is_grad_enabled() and labels.requires_grad:
            return self.differentiable(labels)
        check_labels(labels)
        with torch.no_grad():
            return self._render(self._terms(labels), labels[:, 7])

    def differentiable(self, labels: torch.Tensor) -> Spectra:
        """The spectra for labels (B, 8) in torch alone, differentiable in the labels."""
        labels = torch.as_tensor(labels, dtype=torch.float64)
        check_labels(labels)
        rv = labels[:, 7]
        residual, dens, fc = self.residual_and_continuum(labels)
        smooth, weak = self.lsf.apply([residual.to(self.dtype), dens.to(self.dtype)], rv)
        normalized = smooth * torch.exp(-weak)
        # the continuum is smooth on the LSF's scale: its convolution would change nothing
        continuum = doppler_resample(fc.to(self.dtype), math.log(float(self.grid[0])), self.dln,
                                     torch.log(self.wave), rv)
        return Spectra(flux=normalized * continuum, continuum=continuum, normalized=normalized)

    def _render(self, terms: dict[str, torch.Tensor], rv: torch.Tensor) -> Spectra:
        """The spectra from the per-star terms by the numba kernel."""
        from lawful.spectra.synth_kernel import render

        normalized = torch.empty((len(rv), len(self.wave)), dtype=self.dtype)
        continuum, flux = torch.empty_like(normalized), torch.empty_like(normalized)
        arr = {k: np.ascontiguousarray(v.numpy()) for k, v in terms.items()}
        lo, to_lo, to_hi = (t.numpy() for t in self.weak_deposit)
        shift = (torch.log1p(rv.to(torch.float64) / C_KMS) / self.dln).numpy()
        render(self.balmer_dx.numpy(), self.balmer_window.numpy(), arr["balmer"], self.strong_dx.numpy(),
               self.strong_window.numpy(), arr["strong"], arr["bands"], self.band_shapes.numpy(), self.band_range,
               arr["haze"], arr["fc"], arr["b"], self._to_grid[0].numpy(), self._to_grid[1].numpy(), arr["weak"],
               lo, to_lo, to_hi, shift, self.lsf.base, self.lsf.offsets, self.lsf.pad, self._lsf_table,
               normalized.numpy(), continuum.numpy(), flux.numpy())
        return Spectra(flux=flux, continuum=continuum, normalized=normalized)


def _stark_knm(upper: torch.Tensor) -> torch.Tensor:
    """Griem's linear-Stark constant K(2, m) in Å per unit field (esu) for Balmer lines 2 → m.

    Hα, Hβ, Hγ from Griem's table (as in Kurucz's and Barklem's HLINOP), higher m from the asymptotic formula
    5.5e-5 (n²m²)²/(m² − n²) / (1 + 0.13/(m − n))."""
    n = 2.0
    formula = 5.5e-5 * (n**2 * upper**2) ** 2 / (upper**2 - n**2) / (1.0 + 0.13 / (upper - n))
    table = {3.0: 0.009019, 4.0: 0.01772, 5.0: 0.02507}
    return torch.tensor([table.get(float(m), float(f)) for m, f in zip(upper, formula)], dtype=upper.dtype)


def _from_nodes(values: torch.Tensor, nodes: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """values (B, K) on the coarse nodes at the wavelengths of ``nodes`` = (lower index (M,), weight (M,)) →
    (B, M)."""
    lo, w = nodes
    w = w.to(values.dtype)
    return values.index_select(1, lo) * (1 - w) + values.index_select(1, lo + 1) * w
