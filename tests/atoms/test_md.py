"""The energy ledger knows a conservative force from a non-conservative one: with EMT, σ(E) scales as Δt² and the
drift is consistent with zero; with white noise on the forces (the negative control) the heating rate is the
predicted 3σ_F²Δt/(2m). A run that blows up stops with its last good frame; a guarded model run counts its
flagged steps. Properties computed by our routines agree with each other and with ASE's EOS fit."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from ase.md.verlet import VelocityVerlet

from lawful.atoms.md import Ledger, MDConfig, Stopped, advance, drift, ledger, noise_heating_rate, run
from lawful.testing import noisy_forces


def thermal_cu(calc, n=3, T=300.0, seed=0):
    atoms = bulk("Cu", "fcc", a=3.59, cubic=True) * (n, n, n)
    thermalize_momenta(atoms, temperature_K=2 * T, rng=np.random.default_rng(seed))
    Stationary(atoms)
    atoms.calc = calc
    return atoms


def nve(atoms, dt, steps):
    from ase import units

    book = Ledger(len(atoms))
    advance(atoms, VelocityVerlet(atoms, dt * units.fs), steps, dt, 1e4, book, 0.0)
    return book.arrays()


def test_emt_energy_fluctuation_scales_as_dt_squared_without_drift():
    start = thermal_cu(EMT())
    sig = {}
    for dt in (2.0, 1.0):
        atoms = start.copy()
        atoms.calc = EMT()
        a = nve(atoms, dt, int(400 / dt))
        led = ledger(a, len(atoms))
        sig[dt] = led["sigma_e_mev_atom"]
        assert abs(led["drift_mev_atom_ps"]) < 4 * led["drift_err"] + 1e-4
    assert 3.0 < sig[2.0] / sig[1.0] < 5.0


def test_noisy_forces_heat_at_the_predicted_rate():
    """White force noise makes E_tot a random walk with drift 3σ_F²Δt/(2m) per atom: its increments are
    independent, so the mean increment and its standard error test the rate (a straight-line fit's error would
    assume stationary fluctuations)."""
    sigma_f, dt = 0.2, 2.0
    atoms = thermal_cu(noisy_forces(EMT(), sigma_f, seed=1))
    a = nve(atoms, dt, 500)
    inc = np.diff(a["etot"] / len(atoms) * 1e3) / (dt * 1e-3)  # meV/atom/ps per step
    rate, err = inc.mean(), inc.std(ddof=1) / np.sqrt(inc.size)
    expected = noise_heating_rate(sigma_f, dt, atoms.get_masses()[0])
    assert expected == pytest.approx(18.22, rel=0.002)  # 3σ²Δt/(2m), Cu, σ = 0.2 eV/Å, Δt = 2 fs, by hand
    assert abs(rate - expected) < 4 * err and err < 0.3 * expected
    assert drift(a["t_ps"], a["etot"] / len(atoms) * 1e3)[0] > 0.3 * expected  # the ledger's fit sees it too


def test_a_blow_up_stops_at_the_last_good_frame():
    atoms = thermal_cu(EMT(), n=2, T=300.0)
    with pytest.raises(Stopped, match="exceeds 10 × the target 1"):
        advance(atoms, VelocityVerlet(atoms, 1.0), 5, 1.0, 1.0, None, 0.0)  # target 1 K: 300 K is a blow-up
    assert np.isfinite(atoms.positions).all()


def test_guarded_md_reports_the_ledger_and_the_model_share(committee, tmp_path):
    cfg = MDConfig(model=committee, supercell=2, a0=3.59, time=0.1, equilibrate=0.02, check_time=0.05, reference="emt",
                   out=tmp_path)
    s = run(cfg, show_progress=False)
    assert s["steps"] == 50 and s["stopped"] is None
    for key in ("drift_mev_atom_ps", "drift_err", "sigma_e_mev_atom", "guarded_share", "sigma_ratio"):
        assert np.isfinite(s[key]), key
    assert 0.0 <= s["guarded_share"] <= 1.0 and s["flagged_steps"] == round((1 - s["guarded_share"]) * 50)
    assert (tmp_path / "ledger.npz").exists() and (tmp_path / "final.extxyz").exists()


def test_emt_properties_agree_with_each_other():
    """B from the EOS fit equals (C11 + 2 C12)/3 from the stresses (two independent routes), and EMT's Cu values
    are the published ones (Jacobsen, Stoltze, Nørskov 1996: B = 134 GPa, C11 = 172, C12 = 115, C44 = 90 GPa
    without relaxation at 0 K)."""
    from lawful.atoms.properties import properties

    p = properties(EMT(), "Cu")
    assert p["B_gpa"] == pytest.approx((p["C11_gpa"] + 2 * p["C12_gpa"]) / 3, rel=0.005)
    assert p["B_gpa"] == pytest.approx(134, rel=0.02) and p["C44_gpa"] == pytest.approx(90, rel=0.03)
