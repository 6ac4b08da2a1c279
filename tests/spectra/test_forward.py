"""The forward model against independent references: astropy's Planck law, scipy's Voigt function, Vega's
CALSPEC spectrum, the Ramírez & Meléndez (2005) giant colours, and exact properties (area, shifts, limits)."""

import math

import numpy as np
import pytest
import torch

from lawful.spectra import anchors, atmosphere, profiles
from lawful.spectra.atomic import balmer_lines, line_list
from lawful.spectra.synth import LABELS, Synthesizer

GIANT = [4500.0, 2.5, 0.0, 0.0, 0.0, 0.0, 1.5, 0.0]


@pytest.fixture(scope="module")
def lamost():
    return Synthesizer()


def test_line_list_holds_the_strong_lines_from_linetools():
    ll = line_list()
    names = " ".join(ll.names)
    for line in ("CaII 3934", "CaII 3969", "NaI 5891", "MgI 5174", "CaII 8544"):
        assert line in names
    upper, wave, f = balmer_lines()
    assert wave[list(upper).index(4)] == pytest.approx(4862.683)  # Hβ, vacuum
    assert f[list(upper).index(3)] == pytest.approx(0.6407)


def test_planck_matches_astropy():
    from astropy import units as u
    from astropy.modeling.physical_models import BlackBody

    wave = torch.tensor([3000.0, 5000.0, 9000.0], dtype=torch.float64)
    ours = atmosphere.planck(wave, torch.tensor(5800.0, dtype=torch.float64)).numpy()
    bb = BlackBody(temperature=5800 * u.K, scale=1.0 * u.erg / (u.s * u.cm**2 * u.AA * u.sr))
    ref = bb(wave.numpy() * u.AA).to_value(u.erg / (u.s * u.cm**2 * u.AA * u.sr))
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_pseudo_voigt_is_normalised_and_close_to_scipy():
    from scipy.special import voigt_profile

    dx = torch.linspace(-60, 60, 240001, dtype=torch.float64)
    for sigma, gamma in ((0.3, 0.01), (0.2, 0.2), (0.05, 0.5)):
        prof = profiles.pseudo_voigt(dx, torch.tensor(sigma), torch.tensor(gamma))
        assert float(torch.trapezoid(prof, dx)) == pytest.approx(1.0, abs=0.02)
        ref = voigt_profile(dx.numpy(), sigma, gamma)
        assert np.max(np.abs(prof.numpy() - ref)) < 0.02 * ref.max()


def test_stark_profile_has_unit_area_and_the_holtsmark_wings():
    dx = torch.linspace(-2000, 2000, 2_000_001, dtype=torch.float64)
    stark, core = torch.tensor(0.05), torch.tensor(0.4)
    prof = profiles.stark_profile(dx, stark, core)
    assert float(torch.trapezoid(prof, dx)) == pytest.approx(1.0, abs=0.01)
    far = torch.tensor([200.0], dtype=torch.float64)
    wing = float(profiles.stark_profile(far, stark, core)[0])
    assert wing == pytest.approx(2 * 1.5 * 0.05**1.5 * 200.0**-2.5, rel=0.05)  # ions + quasi-static electrons


def test_curve_of_growth_limits_and_a_direct_integral():
    from scipy.special import voigt_profile

    weak = profiles.curve_of_growth(torch.tensor([-4.0]), torch.tensor([-2.0]))
    assert float(weak[0]) == pytest.approx(1e-4, rel=1e-6)
    u = np.linspace(-3000, 3000, 2_000_001)
    x, a = 300.0, 0.03
    phi = voigt_profile(u, 1 / math.sqrt(2), a)
    direct = np.trapezoid(x * phi / (1 + x * phi), u)
    ours = float(profiles.curve_of_growth(torch.tensor([math.log10(x)]), torch.tensor([math.log10(a)]))[0])
    assert ours == pytest.approx(direct, rel=0.03)


def test_saha_ionisation_of_hydrogen_by_hand():
    t = torch.tensor([10000.0], dtype=torch.float64)
    phi = float(atmosphere.saha_ratio(13.598, 2.0, 1.0, t)[0])
    by_hand = 2.4147e15 * 1e4**1.5 * 2 * 1 / 2 * math.exp(-13.598 / (8.617333e-5 * 1e4))
    assert phi == pytest.approx(by_hand, rel=1e-6)


def test_spectra_are_positive_finite_and_shaped(lamost):
    labels = torch.tensor([GIANT, [3600, 0.8, -0.5, 0.2, 0, 0, 2, 10], [5200, 3.3, 0.3, 0, 0, 0, 1, -40]],
                          dtype=torch.float64)
    sp = lamost(labels)
    assert sp.normalized.shape == (3, 3462)
    assert torch.isfinite(sp.flux).all() and (sp.normalized > 0).all() and (sp.normalized <= 1.0 + 1e-5).all()


def test_radial_velocity_shifts_the_spectrum_by_v_over_c():
    wave = np.arange(5000.0, 5400.0, 0.05)
    synth = Synthesizer(wave, 20000.0)
    still = synth(torch.tensor([GIANT], dtype=torch.float64)).normalized[0].double().numpy()
    moving = synth(torch.tensor([GIANT[:7] + [60.0]], dtype=torch.float64)).normalized[0].double().numpy()
    lags = np.arange(-200, 201)
    corr = [np.dot(1 - still[200:-200], 1 - np.roll(moving, -k)[200:-200]) for k in lags]
    shift = lags[int(np.argmax(corr))] * 0.05
    assert shift == pytest.approx(5200.0 * 60.0 / 299792.458, abs=0.1)


def test_equivalent_widths_do_not_depend_on_the_resolution():
    """The weak-line forest (curve-of-growth widths) away from the lines computed in full; around Mg b the
    sampling of the strong-line cores makes a 7 % difference between R = 1800 and 6000 (docs/spectra.md)."""
    wave = np.arange(5250.0, 5500.0, 0.1)
    ews = []
    for r in (1800.0, 6000.0):
        norm = Synthesizer(wave, r)(torch.tensor([GIANT], dtype=torch.float64)).normalized[0].double().numpy()
        ews.append(np.trapezoid(1 - norm[200:-200], wave[200:-200]))
    assert ews[0] == pytest.approx(ews[1], rel=0.03)


def test_metal_lines_deepen_with_metallicity_and_cn_with_nitrogen(lamost):
    labels = torch.tensor([GIANT, GIANT[:2] + [-1.0] + GIANT[3:], GIANT[:5] + [0.5] + GIANT[6:]], dtype=torch.float64)
    norm = lamost(labels).normalized.double().numpy()
    wave = lamost.wave.numpy()
    metals = (wave > 5100) & (wave < 5300)
    cn = (wave > 4150) & (wave < 4215)
    assert (1 - norm[1, metals]).sum() < 0.8 * (1 - norm[0, metals]).sum()
    assert (1 - norm[2, cn]).sum() > (1 - norm[0, cn]).sum()


def test_labels_outside_the_range_are_refused(lamost):
    bad = torch.tensor([[4500.0, 2.5, 0.0, 0.0, 0.0, 0.0, 1.5, float("nan")]], dtype=torch.float64)
    with pytest.raises(ValueError, match="rv = nan is outside"):
        lamost(bad)
    with pytest.raises(ValueError, match=r"teff = 40000 is outside .* K"):
        lamost(torch.tensor([[40000.0] + GIANT[1:]], dtype=torch.float64))
    with pytest.raises(ValueError, match="shape"):
        lamost(torch.zeros(2, len(LABELS) - 1))


def test_vega_balmer_equivalent_widths_within_15_percent_of_calspec():
    wave, flux = anchors.vega_calspec()
    keep = (wave > 3400) & (wave < 5200)
    observed = anchors.balmer_equivalent_widths(wave[keep], flux[keep])
    grid = np.arange(3450.0, 5200.0, 1.0)
    vega = Synthesizer(grid, 800.0)(torch.tensor([anchors.VEGA_LABELS]))
    ours = anchors.balmer_equivalent_widths(grid, vega.flux[0].double().numpy())
    for line in ("Hbeta", "Hgamma", "Hdelta"):
        assert ours[line] == pytest.approx(observed[line], rel=0.15), line


@pytest.mark.parametrize("teff, feh", [(4200.0, 0.0), (4600.0, 0.0), (5000.0, 0.0), (4000.0, -1.0), (4400.0, -1.0),
                                       (5200.0, -1.0), (4600.0, -0.5)])
def test_giant_colours_within_100_K_of_ramirez_melendez(teff, feh):
    """B − V through Bessell filters, converted by Ramírez & Meléndez's giant relation (PyAstronomy); the haze was
    calibrated at 4500 K and solar metallicity only. Metal-poor giants carry [α/Fe] = 0.3 (0.15 at −0.5)."""
    grid = np.arange(3500.0, 7600.0, 1.0)
    logg = 2.4 + (teff - 4700.0) / 700.0
    alpha = -0.3 * feh
    sp = Synthesizer(grid, 1800.0)(torch.tensor([[teff, logg, feh, alpha, 0.0, 0.0, 1.5, 0.0]], dtype=torch.float64))
    bv = anchors.b_minus_v(grid, sp.flux[0].double().numpy())
    assert anchors.ramirez_teff(bv, feh) == pytest.approx(teff, abs=100.0)


def test_specutils_round_trip_and_resampling_onto_lamost():
    from lawful.spectra.grids import lamost_wave
    from lawful.spectra.interop import from_specutils, to_specutils

    wave = np.arange(3800.0, 9000.0, 0.5)
    flux = 1.0 - 0.5 * np.exp(-0.5 * ((wave - 5000.0) / 3.0) ** 2)
    ivar = np.full_like(wave, 400.0)
    ivar[2800:2810] = 0.0  # 5200–5205 Å
    spec = to_specutils(wave, flux, ivar, unit="")
    out_flux, out_ivar, masked = from_specutils(spec, lamost_wave())
    grid = lamost_wave()
    good = out_ivar > 0
    # flux conserving: the line's equivalent width survives the resampling
    sel = (grid > 4950) & (grid < 5050) & good
    ew_in = np.trapezoid(1 - flux[(wave > 4950) & (wave < 5050)], wave[(wave > 4950) & (wave < 5050)])
    assert np.trapezoid(1 - out_flux[sel], grid[sel]) == pytest.approx(ew_in, rel=0.05)
    assert masked >= 1 and np.all(out_ivar[good] > 400.0)  # coarser pixels, more signal per pixel
    with pytest.raises(ValueError, match="covers 10000–10099 Å"):
        from_specutils(to_specutils(np.arange(10000.0, 10100.0), np.ones(100), np.ones(100), unit=""), grid)


@pytest.mark.parametrize("rv", [0.0, 13.7, -41.2])
def test_lsf_gives_the_analytic_convolution_at_the_doppler_shifted_position(rv):
    """A Gaussian line of σ_i pixels through the one-step LSF filter is the Gaussian of variance σ_i² + σ_LSF²
    centred at λ₀(1 + v/c), whatever the output pixels' sub-pixel phases (the old convolve-then-interpolate
    lost up to 4 % of the depth)."""
    from lawful.spectra.grids import model_grid
    from lawful.spectra.instrument import C_KMS, LSF

    grid = model_grid(5000.0, 5100.0, 1800.0)
    dln = math.log(grid[1] / grid[0])
    wave = np.linspace(5030.0, 5070.0, 400)  # finer than the grid: every phase
    lsf = LSF(1800.0, dln, math.log(grid[0]), wave)
    centre, sigma_i, depth = 5050.0, 1.0, 0.6
    x = np.arange(len(grid))
    x0 = (math.log(centre) - math.log(grid[0])) / dln
    line = 1.0 - depth * np.exp(-0.5 * ((x - x0) / sigma_i) ** 2)
    out = lsf(torch.tensor(line[None]), torch.tensor([rv], dtype=torch.float64))[0].numpy()
    sigma = math.hypot(sigma_i, lsf.sigma_px)
    shifted = x0 + math.log1p(rv / C_KMS) / dln
    pos = (np.log(wave) - math.log(grid[0])) / dln
    expected = 1.0 - depth * sigma_i / sigma * np.exp(-0.5 * ((pos - shifted) / sigma) ** 2)
    np.testing.assert_allclose(out, expected, atol=2e-4)


def test_the_fused_kernel_agrees_with_the_differentiable_torch_path():
    """Inference (numba, no gradients) and the torch path (gradients) over the whole label range; the kernel's
    LSF weights come from the 1024-phase table."""
    rng = np.random.default_rng(3)
    n = 48
    lo = np.array([3200, 0.0, -2.8, -0.3, -1.0, -0.8, 0.2, -800])
    hi = np.array([11000, 5.0, 0.8, 0.8, 1.0, 2.0, 8, 800])
    labels = torch.tensor(rng.uniform(lo, hi, (n, 8)), dtype=torch.float64)
    synth = Synthesizer()
    with torch.no_grad():
        fast = synth(labels)
    slow = synth(labels.clone().requires_grad_(True))
    for name in ("normalized", "continuum"):
        a, b = getattr(fast, name).double(), getattr(slow, name).detach().double()
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-5, atol=0)
    # gradients flow through the torch path
    labels = torch.tensor([GIANT], dtype=torch.float64, requires_grad=True)
    synth(labels).normalized.sum().backward()
    assert torch.isfinite(labels.grad).all() and labels.grad[0, 0] != 0


@pytest.mark.parametrize("wave", [(8000.0, 8700.0), (9300.0, 9500.0)])
def test_ranges_without_balmer_or_any_listed_line_still_give_spectra(wave):
    synth = Synthesizer(np.linspace(*wave, 400))
    sp = synth(torch.tensor([GIANT, [5800, 4.4, 0, 0, 0, 0, 1, 0]], dtype=torch.float64))
    assert torch.isfinite(sp.flux).all() and (sp.normalized <= 1.0 + 1e-6).all()


def test_photosphere_secant_solver_converges_over_the_label_range():
    """Hydrostatic equilibrium P = (2/3) g/κ̄(P): the secant solution against many damped fixed-point steps."""
    rng = np.random.default_rng(0)
    t = torch.tensor(rng.uniform(3000, 12000, 4000))
    g = torch.tensor(rng.uniform(-0.5, 5.5, 4000))
    m = 10 ** torch.tensor(rng.uniform(-3, 1, 4000))
    phot = atmosphere.photosphere(t, g, m, iterations=8)
    mass_per_h = (1.0 + 4.0 * atmosphere.Y_HE) * atmosphere.M_H
    kappa = atmosphere.continuum_opacity(torch.tensor([5000.0], dtype=torch.float64), t, phot["ne"],
                                         phot["n_h"])[:, 0] / mass_per_h
    np.testing.assert_allclose(phot["p_gas"].numpy(), ((2.0 / 3.0) * 10.0**g / kappa).numpy(), rtol=1e-11)
    coarse = atmosphere.photosphere(t, g, m)  # the default number of steps
    np.testing.assert_allclose(coarse["p_gas"].numpy(), phot["p_gas"].numpy(), rtol=1e-8)


def test_electron_density_solves_charge_balance_and_its_gradient_matches_finite_differences():
    """The bisection runs without gradients; the final Newton step carries the implicit-function derivatives."""
    t = torch.tensor([3500.0, 4500.0, 6000.0, 9000.0], dtype=torch.float64, requires_grad=True)
    p = torch.tensor([1e3, 3e4, 1e5, 1e4], dtype=torch.float64)
    m = torch.tensor([0.01, 1.0, 0.3, 1.0], dtype=torch.float64)
    ne, n_h = atmosphere.electron_density(p, t, m)
    phi_h = atmosphere.saha_ratio(atmosphere.CHI_H, 2.0, 1.0, t)
    phi_d = atmosphere.saha_ratio(atmosphere.CHI_DONOR, 1.0, 1.0, t)
    supply = n_h * (phi_h / (ne + phi_h) + atmosphere.EPS_DONOR * m * phi_d / (ne + phi_d))
    np.testing.assert_allclose(ne.detach().numpy(), supply.detach().numpy(), rtol=1e-12)
    grad, = torch.autograd.grad(torch.log(ne).sum(), t)
    h = 1e-3
    with torch.no_grad():
        up = torch.log(atmosphere.electron_density(p, t + h, m)[0])
        down = torch.log(atmosphere.electron_density(p, t - h, m)[0])
    np.testing.assert_allclose(grad.numpy(), ((up - down) / (2 * h)).numpy(), rtol=1e-5)


def test_continuum_nodes_are_converged():
    """Spectra with the default continuum node spacing against nodes 16× denser, the Paschen edge (8204 Å, in
    the LAMOST range) included: without nodes on both sides of it the difference there was 2e-4."""
    from lawful.spectra.synth import COARSE_STEP

    rng = np.random.default_rng(5)
    labels = torch.tensor(np.c_[rng.uniform(3600, 9000, 12), rng.uniform(0.5, 4.5, 12), rng.uniform(-2, 0.4, 12),
                                np.zeros((12, 3)), np.full(12, 1.5), rng.uniform(-100, 100, 12)], dtype=torch.float64)
    coarse = Synthesizer()(labels)
    fine = Synthesizer(coarse_step=COARSE_STEP // 16)(labels)
    assert np.abs(coarse.normalized - fine.normalized).max() < 2e-5
    assert (coarse.flux / fine.flux - 1).abs().max() < 1e-4
