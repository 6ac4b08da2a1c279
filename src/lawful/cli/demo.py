"""``lawful demo``: the tour a new user sees first, one short stage per domain, each ending in a table against
its reference. ``--list`` names the stages, ``--only NAME`` (repeatable) runs some of them.

A new domain adds a :class:`Stage` to :data:`STAGES`: a function ``run(out_dir) -> None`` that prints one table.
Every stage writes into ``OUT/<stage>`` and reuses what a previous tour finished there (its runs resume).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from lawful.cli.common import console, fmt


@dataclass(frozen=True)
class Stage:
    """One stop of the tour: its name, a line saying what it shows, and the function that runs it."""

    name: str
    what: str
    run: Callable[[Path], None]


#: the lecture's L = 6 critical point in D = 3 (reference values from the lattice foundation issue)
PHI4_REFERENCE = {"chi": (32.8, 0.2), "binder": (1.60, 0.01)}


def lattice_stage(out: Path) -> None:
    """Short HMC of 3D φ⁴ at L = 6 on the critical line, Γ-method errors, against the lecture's reference."""
    from lawful.cli.lattice import analysis_table
    from lawful.lattice.analysis import analyze
    from lawful.lattice.config import Phi4RunConfig
    from lawful.lattice.run import run

    cfg = Phi4RunConfig(dim=3, size=6, kappa=0.185825, lam=1.1689, sampler="hmc", integrator="omelyan",
                        n_steps=10, traj_length=1.0, n_traj=20000, n_therm=1000, n_chains=4, seed=1, out=out)
    s = run(cfg, show_progress=False)
    console.print(f"HMC (Omelyan, τ = 1, 10 steps), 3D φ⁴, L = 6, κ = {cfg.kappa}, λ = {cfg.lam}: "
                  f"{cfg.n_chains} chains × {cfg.n_therm + cfg.n_traj} trajectories, {s.seconds:.1f} s",
                  highlight=False)
    console.print(analysis_table(analyze(out), PHI4_REFERENCE))


#: the flow stage: a free field (λ = 0), where the exact answer is known, on a small lattice
FLOW_CASE = {"dim": 2, "size": 6, "kappa": 0.2, "lam": 0.0}


def flow_stage(out: Path) -> None:
    """A normalizing flow trained by reverse KL for 150 steps (~20 s; a step budget, so the tour's numbers repeat),
    then made exact by an independence MH chain, against the free field's exact χ, ⟨|m|⟩/V and ⟨S⟩/V."""
    from lawful.cli.lattice import analysis_table
    from lawful.lattice.analysis import analyze
    from lawful.lattice.sample import sample
    from lawful.lattice.train import train
    from lawful.lattice.train_config import SampleConfig, TrainConfig
    from lawful.testing.samplers import gaussian_free_field

    tcfg = TrainConfig(sampler="flow", **FLOW_CASE, train_steps=150, train_seconds=120.0, warm_start_steps=100,
                       n_data=2000, seed=1, out=out)
    t = train(tcfg, show_progress=False)
    scfg = SampleConfig(model=out, n=10000, out=out / "chain", seed=1)
    s = sample(scfg, show_progress=False)
    _, exact = gaussian_free_field(FLOW_CASE["dim"], FLOW_CASE["size"], FLOW_CASE["kappa"])
    console.print(f"flow (spline couplings after a learned Gaussian layer) for the free field D = 2, L = 6, "
                  f"κ = 0.2: {t.step} training steps in {t.total_seconds:.0f} s, then {scfg.n} MH steps in "
                  f"{s.seconds:.1f} s, acceptance {s.acceptance:.3f}", highlight=False)
    reference = {"chi": (exact["chi"], 0.0), "abs_m_density": (exact["abs_m"], 0.0),
                 "action_density": (exact["action"], 0.0)}
    console.print(analysis_table(analyze(out / "chain"), reference))


def u1_stage(out: Path) -> None:
    """Heat bath with over-relaxation and instanton moves for 2D U(1) at L = 8, β = 2 (seconds), against the exact
    finite-volume values of the character expansion (⟨Q²⟩ = 1.2393 there)."""
    from lawful.cli.lattice import analysis_table
    from lawful.lattice.analysis import analyze
    from lawful.lattice.run import run
    from lawful.lattice.u1.config import U1RunConfig

    cfg = U1RunConfig(size=8, beta=2.0, sampler="heatbath", n_overrelax=1, instanton_moves=1, n_traj=10000,
                      n_therm=200, n_chains=4, seed=1, out=out)
    s = run(cfg, show_progress=False)
    console.print(f"heat bath + over-relaxation + instanton moves, 2D U(1), L = 8, β = 2: {cfg.n_chains} chains × "
                  f"{cfg.n_total} sweeps, {s.seconds:.1f} s", highlight=False)
    console.print(analysis_table(analyze(out)))


#: one-zone burns of the burn stage: C/O at densities and temperatures inside the shipped model's range
BURN_ZONES = 64
BURN_STEPS = 250
BURN_DT = 4e-6


def burn_stage(out: Path) -> None:
    """One-zone aprox13 burns of C/O stepped 250 × 4e-6 s by the shipped surrogate behind its guard and by the
    implicit integrator, T from energy conservation after every step in both (as hydro takes it)."""
    from lawful.burn.eos import StellarEOS, temperature_from_energy
    from lawful.burn.network import Network
    from lawful.burn.registry import make_burner

    net, eos = Network("aprox13"), StellarEOS(table=True)
    rho = np.geomspace(3e6, 5e7, BURN_ZONES)
    T0 = np.linspace(2.0e9, 2.6e9, BURN_ZONES)
    X0 = np.tile(net.composition({"c12": 0.5, "o16": 0.5}), (BURN_ZONES, 1))
    e0 = eos(rho, T0, *net.abar_zbar(X0))["e"]
    rows = {}
    for name in ("surrogate", "implicit"):
        burner = make_burner(name, net, eos)
        X, T, e = X0.copy(), T0.copy(), e0.copy()
        burner(rho, T, X, BURN_DT)  # load the model, compile the kernels
        start = time.perf_counter()
        for _ in range(BURN_STEPS):
            o = burner(rho, T, X, BURN_DT)
            e = e + o.enuc
            T, _ = temperature_from_energy(rho, e, *net.abar_zbar(o.X), o.T, eos.options(), 1e-12)
            X = o.X
        rows[name] = (X, T, e - e0, (time.perf_counter() - start) / (BURN_STEPS * BURN_ZONES),
                      burner.summary().get("surrogate_fraction", float("nan")))
    (X, T, q, sec, share), (X_ref, T_ref, q_ref, sec_ref, _) = rows["surrogate"], rows["implicit"]
    major = X_ref > 1e-2
    table = Table(title=f"{BURN_ZONES} one-zone aprox13 burns of C/O, ρ = 3e6–5e7 g/cm³, T₀ = 2.0–2.6e9 K, "
                        f"{BURN_STEPS} steps of {BURN_DT:g} s", title_justify="left")
    for col in ("quantity", "surrogate + guard", "implicit (reference)", "max rel. difference"):
        table.add_column(col, justify="right")
    table.add_row("energy released (erg/g)", f"{q.mean():.5e}", f"{q_ref.mean():.5e}",
                  f"{np.max(np.abs(q - q_ref) / np.abs(q_ref)):.1e}")
    table.add_row("final T (K)", f"{T.mean():.5e}", f"{T_ref.mean():.5e}", f"{np.max(np.abs(T - T_ref) / T_ref):.1e}")
    for k in np.flatnonzero(major.any(axis=0)):
        m = major[:, k]
        table.add_row(f"X({net.names[k]})", f"{X[:, k].mean():.5f}", f"{X_ref[:, k].mean():.5f}",
                      f"{np.max(np.abs(X[m, k] - X_ref[m, k]) / X_ref[m, k]):.1e}")
    table.add_row("max |ΣX − 1|", f"{np.abs(X.sum(axis=1) - 1).max():.1e}",
                  f"{np.abs(X_ref.sum(axis=1) - 1).max():.1e}", "")
    table.add_row("zone-steps the surrogate took", f"{share:.1%}", "", "")
    table.add_row("µs per zone-step", f"{1e6 * sec:.1f}", f"{1e6 * sec_ref:.1f}", f"speed-up {sec_ref / sec:.2f}×")
    console.print(table)


def hydro_stage(out: Path) -> None:
    """A C/O detonation (aprox13, 256 zones) coupled by Strang splitting to the shipped surrogate and to the
    implicit burner: front speed, nuclear energy, the surrogate's share and the burn cost."""
    from lawful.hydro.problems import detonation
    from lawful.hydro.run import run, summary

    res = {}
    for burner in ("surrogate", "implicit"):
        cfg = detonation.Config(n=256, tmax=6e-3, burner=burner, n_snapshots=2, out=out / burner)
        res[burner] = summary(cfg, "detonation", run(cfg, "detonation", show_progress=False))
    s, r = res["surrogate"], res["implicit"]
    table = Table(title=f"C/O detonation, aprox13, ρ = 1e7 g/cm³, 256 zones to t = {s['t']:.3g} s "
                        f"({s['steps']} steps)", title_justify="left")
    for col in ("quantity", "surrogate + guard", "implicit (reference)", "rel. difference"):
        table.add_column(col, justify="right")

    def rel(a: float, b: float) -> str:
        return f"{(a - b) / b:+.1e}"

    table.add_row("front speed (cm/s)", fmt(s["front_speed"], s["front_speed_err"]),
                  fmt(r["front_speed"], r["front_speed_err"]), rel(s["front_speed"], r["front_speed"]))
    table.add_row("nuclear energy (erg/cm²)", f"{s['nuclear_energy_released']:.6e}",
                  f"{r['nuclear_energy_released']:.6e}",
                  rel(s["nuclear_energy_released"], r["nuclear_energy_released"]))
    table.add_row("burning zone-steps, surrogate's share", f"{s['burn_zone_steps']}, {s['surrogate_fraction']:.1%}",
                  f"{r['burn_zone_steps']}", "")
    bs, br = (x["seconds"] * x["burn_fraction_of_time"] / x["burn_zone_steps"] for x in (s, r))
    table.add_row("burn µs per zone-step", f"{1e6 * bs:.1f}", f"{1e6 * br:.1f}", f"speed-up {br / bs:.2f}×")
    console.print(table)


def atoms_stage(out: Path) -> None:
    """The shipped Deep Potential for Cu (a 3-member committee trained on EMT): the conformance checks it passes
    by construction, against a control with noisy forces; then guarded NVE with the energy ledger."""
    from ase.build import bulk

    from lawful.atoms.calculator import Calculator
    from lawful.atoms.md import MDConfig, run
    from lawful.atoms.potential import shipped
    from lawful.testing import check_potential, noisy_forces

    model = shipped("cu")
    calc = Calculator(model, dtype="float64")  # the checks' tolerances are float64 round-off
    atoms = bulk("Cu", "fcc", a=3.59, cubic=True) * (2, 2, 2)
    reports = {"model": check_potential(calc, atoms, cutoff=calc.potential.rcut),
               "noisy": check_potential(noisy_forces(calc, sigma=0.005), atoms, cutoff=calc.potential.rcut)}
    table = Table(title=f"shipped Deep Potential (Cu, {len(calc.potential.members)} members): a potential's checks "
                        f"on {len(atoms)} atoms", title_justify="left")
    for col in ("check", "tolerance", "model: error", "model + force noise 0.005 eV/Å: error"):
        table.add_column(col, justify="right")
    for check in reports["model"].checks:
        noisy = reports["noisy"][check.name]
        table.add_row(check.name, f"{check.tolerance:.0e}", f"{check.error:.1e} " + ("✓" if check.passed else "✗"),
                      f"{noisy.error:.1e} " + ("✓" if noisy.passed else "✗"))
    console.print(table)
    cfg = MDConfig(model=model, supercell=3, time=2.0, equilibrate=0.3, check_time=0.4, reference="emt",
                   out=out / "md")
    s = run(cfg, show_progress=False)
    table = Table(title=f"NVE, Cu{s['atoms']}, {cfg.temperature:g} K, dt = {cfg.dt:g} fs, {s['time_ps']:g} ps, "
                        f"float64, EMT behind the committee", title_justify="left")
    for col in ("quantity", "value", "for a conservative force"):
        table.add_column(col, justify="right")
    table.add_row("energy drift (meV/atom/ps)", fmt(s["drift_mev_atom_ps"], s["drift_err"]), "0 within its error")
    table.add_row("|drift·t| / std(KE)", f"{s['drift_over_ke_std']:.1e}", "≪ 1")
    table.add_row("σ(E_tot) (meV/atom)", f"{s['sigma_e_mev_atom']:.2e}", "")
    table.add_row("σ(E)(Δt) / σ(E)(Δt/2)", f"{s['sigma_ratio']:.2f}", "4 (Δt²)")
    table.add_row("steps the model took (guard)", f"{s['guarded_share']:.1%}", "")
    table.add_row("mean T (K)", f"{s['temperature_mean']:.0f}", "")
    console.print(table)


#: the molecules stage: QM9 training sizes and test molecules (the same test set for every curve)
MOLECULE_SIZES = (100, 200, 400, 800)
MOLECULE_TEST = 1000


def molecules_stage(out: Path) -> None:
    """QM9 U0 by kernel ridge regression on the bag of bonds: learning from zero against Δ-learning on GFN2-xTB
    (the baseline computed once and cached in HDF5)."""
    from lawful.atoms import qm9
    from lawful.atoms.chemspace import QM9Config, run

    mols = qm9.load()
    rows, slopes = {}, {}
    for delta in ("none", "xtb"):
        cfg = QM9Config(representation="bob", delta=delta, n_train=max(MOLECULE_SIZES), curve=list(MOLECULE_SIZES),
                        n_test=MOLECULE_TEST, cache=out / "xtb_qm9.h5")
        s = run(cfg, mols)
        rows[delta] = {p["n_train"]: p["mae"] for p in s["curve"]}
        slopes[delta] = s["slope"]
    table = Table(title=f"QM9 U0, KRR on the bag of bonds, test MAE (kcal/mol) on {MOLECULE_TEST} molecules "
                        f"of {len(mols)}", title_justify="left")
    for col in ("N train", "B3LYP from zero", "Δ on GFN2-xTB", "ratio"):
        table.add_column(col, justify="right")
    for n in MOLECULE_SIZES:
        gain = rows["none"][n] / rows["xtb"][n]
        table.add_row(str(n), f"{rows['none'][n]:.2f}", f"{rows['xtb'][n]:.2f}", f"{gain:.1f}×")
    table.add_row("log-log slope", f"{slopes['none']:.2f}", f"{slopes['xtb']:.2f}", "")
    console.print(table)
    console.print("chemical accuracy is 1 kcal/mol; the full curves (N to 16000, CM, BoB, FCHL19): "
                  "benchmarks/atoms_qm9.py", highlight=False)


def spectra_stage(out: Path) -> None:
    """Vega's Balmer lines against CALSPEC, then a few synthetic LAMOST giants through the shipped SPT with its
    MC-dropout σ beside the true mass and age."""
    import numpy as np
    import torch

    from lawful.spectra import anchors
    from lawful.spectra.data import noise_sigma
    from lawful.spectra.evaluate import predict
    from lawful.spectra.labels import TARGETS, draw_labels, synth_matrix
    from lawful.spectra.models import shipped
    from lawful.spectra.synth import Synthesizer

    wave, flux = anchors.vega_calspec()
    keep = (wave > 3400) & (wave < 5200)
    observed = anchors.balmer_equivalent_widths(wave[keep], flux[keep])
    grid = np.arange(3450.0, 5200.0, 1.0)
    with torch.no_grad():
        vega = Synthesizer(grid, 800.0)(torch.tensor([anchors.VEGA_LABELS]))
    model_ew = anchors.balmer_equivalent_widths(grid, vega.flux[0].double().numpy())
    table = Table(title="Vega: Balmer equivalent widths (Å), forward model against HST/STIS CALSPEC at R ≈ 800",
                  title_justify="left")
    for col in ("line", "CALSPEC", "forward model", "difference", "goal"):
        table.add_column(col, justify="right")
    for line in observed:
        table.add_row(line, f"{observed[line]:.2f}", f"{model_ew[line]:.2f}",
                      f"{model_ew[line] / observed[line] - 1:+.1%}", "±15 %")
    console.print(table)
    rng = np.random.default_rng(7)
    labels = draw_labels(6, rng)
    with torch.no_grad():
        spectra = Synthesizer()(torch.as_tensor(synth_matrix(labels)))
    norm = spectra.normalized.double().numpy()
    sigma = noise_sigma(norm, labels["snr"])
    noisy = norm + sigma * rng.standard_normal(norm.shape)
    state = shipped()
    pred = predict(state, noisy, 1.0 / sigma**2)
    im, ia, it = TARGETS.index("mass"), TARGETS.index("age"), TARGETS.index("teff")
    table = Table(title="synthetic LAMOST giants through the shipped SPT (own σ + MC dropout)",
                  title_justify="left")
    for col in ("SNR", "T_eff true / SPT", "mass true (M☉)", "SPT", "age true (Gyr)", "SPT"):
        table.add_column(col, justify="right")
    for k in range(len(noisy)):
        table.add_row(f"{labels['snr'][k]:.0f}", f"{labels['teff'][k]:.0f} / {pred['mean'][k, it]:.0f}",
                      f"{labels['mass'][k]:.2f}", f"{pred['mean'][k, im]:.2f} ± {pred['sigma'][k, im]:.2f}",
                      f"{labels['age'][k]:.1f}", f"{pred['mean'][k, ia]:.1f} ± {pred['sigma'][k, ia]:.1f}")
    console.print(table)
    console.print("the comparison with the baselines and ablations: benchmarks/spectra_labels.py", highlight=False)
    physformer_demo(noisy, 1.0 / sigma**2, labels)


def physformer_demo(flux, ivar, labels: dict) -> None:
    """The shipped PhysFormer generator: its guarantees over 1000 latents from the prior, then the same giants
    inverted by χ², labels and σ from the posterior linearised at the optimum."""
    import numpy as np
    import torch

    from lawful.spectra.models import shipped_generator
    from lawful.spectra.physformer.inversion import invert
    from lawful.spectra.physformer.radiative import SIGMA_SB, bolometric_flux

    gen = shipped_generator()
    z = torch.as_tensor(gen.prior_draws(1000, np.random.default_rng(0)), dtype=torch.float32)
    with torch.no_grad():
        spectra = gen.decoder(z).numpy()
        temperature = gen.decoder.atmosphere(z)["temperature"].double().numpy()
    teff = gen.physical(z.double().numpy())["teff"]
    flux_error = np.abs(bolometric_flux(temperature) / (SIGMA_SB * teff**4) - 1.0).max()
    console.print(f"PhysFormer (radiative transfer inside the generator), 1000 latents from the prior: normalised "
                  f"flux {spectra.min():.3f}…{spectra.max():.6f} (no emission: ≤ 1 by construction), "
                  f"max |∫F dλ / σT_eff⁴ − 1| = {flux_error:.1e}", highlight=False)
    out = invert(gen, flux, ivar)
    table = Table(title="the same giants inverted by χ² against the shipped PhysFormer (linearised posterior)",
                  title_justify="left")
    for col in ("T_eff true", "PhysFormer", "log g true", "PhysFormer", "[Fe/H] true", "PhysFormer", "flag"):
        table.add_column(col, justify="right")
    lab, sig = out["labels"], out["sigma"]
    for k in range(len(flux)):
        table.add_row(f"{labels['teff'][k]:.0f}", f"{lab['teff'][k]:.0f} ± {sig['teff'][k]:.0f}",
                      f"{labels['logg'][k]:.2f}", f"{lab['logg'][k]:.2f} ± {sig['logg'][k]:.2f}",
                      f"{labels['feh'][k]:+.2f}", f"{lab['feh'][k]:+.2f} ± {sig['feh'][k]:.2f}",
                      out["reason"][k] or "—")
    console.print(table)
    console.print("against a plain autoencoder, a Payne and a SPECULATOR across SNR: benchmarks/spectra_physformer.py",
                  highlight=False)


#: the issue's anchor: a random forest on r and four colours, 5-fold CV on the kcorrect table
PHOTOZ_ANCHOR = {"sigma_nmad": 0.0135, "eta_005": 0.018}


def galaxies_stage(out: Path) -> None:
    """Photo-z on one fold of the real SDSS table (random forest, the p(z) network, each alone and with the prior
    from its neighbours on the sky) and from a forest trained, saved and loaded as photoz-train and photoz-predict
    do, with the galaxies it flags; the shipped morphology CNN's confusion matrix on fresh simulated cutouts, and
    two real HST ellipticals through the shipped r-band CNN."""
    from lawful.galaxies import photoz_model
    from lawful.galaxies.catalog import sdss_galaxies
    from lawful.galaxies.morphology import real
    from lawful.galaxies.morphology.simulate import CLASSES, simulate
    from lawful.galaxies.morphology.train import load_model, shipped_model
    from lawful.galaxies.photoz import PhotozConfig, cross_validate

    cat = sdss_galaxies()
    table = Table(title=f"photo-z of real SDSS galaxies (kcorrect table), fold 1 of 5: "
                        f"{len(cat) // 5} galaxies out-of-fold", title_justify="left")
    for col in ("method", "σ_NMAD", "η(0.05)", "bias", "cov68", "cov95", "s"):
        table.add_column(col, justify="right")
    base = ({"method": "rf", "trees": 100, "max_fold": 1}, {"method": "mdn", "members": 1, "epochs": 40, "max_fold": 1})
    for cfg in (*(PhotozConfig(**b) for b in base), *(PhotozConfig(**b, sky_prior=True) for b in base)):
        m = cross_validate(cat, cfg, checkpoints=out / "photoz")["metrics"]  # the +sky rows reuse the fold's p(z)
        table.add_row(cfg.method + (" + sky prior" if cfg.sky_prior else ""), f"{m['sigma_nmad']:.4f}",
                      f"{100 * m['eta_005']:.2f} %", f"{m['bias']:+.5f}",
                      f"{m['coverage68']:.3f}", f"{m['coverage95']:.3f}", f"{m['seconds']:.0f}")
    start = time.perf_counter()  # the deploy path of photoz-train and photoz-predict: trained, saved, loaded
    model = photoz_model.load(photoz_model.save(photoz_model.train(cat.subset(np.arange(8000)), PhotozConfig(
        method="rf", trees=100)), out / "photoz_model"))
    held = photoz_model.predict(model, cat.subset(np.arange(8000, len(cat))))
    m = held["metrics"]
    table.add_row("rf saved → rows 8000–9999", f"{m['sigma_nmad']:.4f}", f"{100 * m['eta_005']:.2f} %",
                  f"{m['bias']:+.5f}", f"{m['coverage68']:.3f}", f"{m['coverage95']:.3f}",
                  f"{time.perf_counter() - start:.0f}")
    table.add_row("anchor: rf, 5 folds", f"{PHOTOZ_ANCHOR['sigma_nmad']:.4f}",
                  f"{100 * PHOTOZ_ANCHOR['eta_005']:.1f} %", "", "0.68", "0.95", "")
    console.print(table)
    flagged = [f"row {8000 + i} ({held['outside'][i]})" for i in np.flatnonzero(held["outside"] != "")]
    console.print(f"saved model: {len(flagged)} of {m['n']} galaxies flagged beyond its training range: "
                  + "; ".join(flagged), highlight=False)
    d = simulate(300, seed=11)
    predict, cfg = load_model(shipped_model("gri"))
    pred = np.argmax(predict(d["images"]), axis=1)
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (d["labels"], pred), 1)
    table = Table(title=f"shipped {cfg.model} CNN on 300 new simulated SDSS-like cutouts: "
                        f"{100 * np.mean(pred == d['labels']):.1f} % right", title_justify="left")
    table.add_column("true \\ predicted")
    for c in CLASSES:
        table.add_column(c, justify="right")
    for c, row in zip(CLASSES, confusion):
        table.add_row(c, *map(str, row))
    console.print(table)
    predict, _ = load_model(shipped_model("r"))
    names = ("ngc4342", "m32")
    probs = predict(np.stack([real.sdss_like(real.mgefit_image(n), sky=0.0) for n in names]))
    table = Table(title="real ellipticals (mgefit: HST F814W NGC 4342, INT I-band M32) made SDSS-like, shipped "
                        "r-band CNN",
                  title_justify="left")
    for col in ("galaxy", *(f"P({c})" for c in CLASSES), "class", "known"):
        table.add_column(col, justify="right")
    for name, p in zip(names, probs):
        table.add_row(name.upper(), *(f"{v:.2f}" for v in p), CLASSES[int(np.argmax(p))], "E")
    console.print(table)


STAGES = {s.name: s for s in (
    Stage("lattice", "HMC of 3D φ⁴ at the critical point, Γ-method errors, against the lecture's reference",
          lattice_stage),
    Stage("flow", "a normalizing flow made exact by Metropolis–Hastings, against the free field's exact values",
          flow_stage),
    Stage("u1", "2D U(1) gauge theory by heat bath with instanton moves, against the exact character expansion",
          u1_stage),
    Stage("burn", "one-zone aprox13 burns: the shipped surrogate behind its guard against the implicit integrator",
          burn_stage),
    Stage("hydro", "a C/O detonation coupled to the shipped surrogate against the implicit burner", hydro_stage),
    Stage("atoms", "the shipped Deep Potential for Cu: its conformance checks, and guarded NVE with the energy ledger",
          atoms_stage),
    Stage("molecules", "QM9 energies by kernel ridge regression: from zero against Δ-learning on GFN2-xTB",
          molecules_stage),
    Stage("spectra", "a physical forward model of stellar spectra against Vega, the shipped SPT with its σ, and the "
                     "PhysFormer generator inverting the same giants",
          spectra_stage),
    Stage("galaxies", "photo-z with p(z) on real SDSS galaxies, and the morphology CNN on simulated and real images",
          galaxies_stage),
)}


def tour(out: Path, only: list[str] | None = None) -> None:
    """Run the stages named in ``only`` (all by default), in tour order, into ``out/<stage>``."""
    names = list(STAGES) if not only else only
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise ValueError(f"unknown demo stage(s) {unknown}; the stages are {list(STAGES)}")
    total = time.perf_counter()
    for k, name in enumerate(names, 1):
        stage = STAGES[name]
        console.rule(f"[bold]{k}/{len(names)} {name}[/]: {stage.what}", align="left")
        start = time.perf_counter()
        stage.run(out / name)
        console.print(f"[dim]{name}: {time.perf_counter() - start:.0f} s, files in {out / name}[/]", highlight=False)
    console.print(f"tour: {len(names)} stage(s) in {time.perf_counter() - total:.0f} s", highlight=False)


def stage_list() -> str:
    width = max(map(len, STAGES))
    return "\n".join(f"{name:<{width}}  {s.what}" for name, s in STAGES.items())
