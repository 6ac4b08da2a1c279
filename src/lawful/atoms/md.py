"""Molecular dynamics through ASE with an energy ledger: the test a conservative potential must pass.

``lawful atoms md`` builds an fcc supercell of the model's element at the model's own lattice constant, draws
Maxwell–Boltzmann velocities at ``temperature``, equilibrates with Langevin for ``equilibrate`` ps, then runs NVE
(velocity Verlet; or Langevin NVT) for ``time`` ps at ``dt`` fs, recording E_pot, KE, E_tot and T every step.

The ledger (:func:`ledger`) fits E_tot/N = a + b·t: the drift b (meV/atom/ps) with an error that accounts for the
autocorrelation of the residuals (Γ-method τ_int), the ratio |b·t|/std(KE/N), and σ(E_tot/N) after the linear
trend. For a symplectic integrator of a conservative force σ(E) ∝ Δt², so a companion NVE run at Δt/2 over the
first ``check_time`` ps gives the ratio σ(Δt)/σ(Δt/2) ≈ 4. A non-conservative force (white noise σ_F per
component) heats instead: d⟨E⟩/dt = 3σ_F²Δt/(2m) per atom (:func:`noise_heating_rate`).

A run stops early, with the last good frame written to ``last_good.extxyz``, when T exceeds
:data:`BLOWUP_FACTOR` × the target or two atoms come closer than 0.5 Å. Checkpoints (positions, momenta, the
ledger and the thermostat's generator) are written atomically on a timer and on Ctrl-C; the same command resumes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pydantic

from lawful.core.config import Config, FiniteFloat

#: T above this multiple of the target stops a run
BLOWUP_FACTOR = 10.0
LEDGER_FILE = "ledger.npz"
CHECKPOINT = "checkpoint.npz"


class MDConfig(Config):
    """What ``lawful atoms md`` runs (K, fs, ps)."""

    model: Path = pydantic.Field(Path("runs/atoms/model"), description="model.pt or its directory")
    supercell: int = pydantic.Field(3, ge=1, le=30, description="cubic fcc cells per side (4 atoms each)")
    a0: FiniteFloat = pydantic.Field(0.0, ge=0.0, description="fcc lattice constant (A; 0: the model's own minimum)")
    element: str = pydantic.Field("", description="fcc element (default: the model's first species)")
    molecule: str = pydantic.Field("", description="a molecule instead of a crystal: a name (ethanol, ...) or FILE")
    temperature: FiniteFloat = pydantic.Field(300.0, gt=0.0, description="target temperature (K)")
    dt: FiniteFloat = pydantic.Field(2.0, gt=0.0, le=20.0, description="time step (fs)")
    time: FiniteFloat = pydantic.Field(10.0, gt=0.0, description="production time (ps)")
    equilibrate: FiniteFloat = pydantic.Field(1.0, ge=0.0, description="Langevin equilibration before (ps)")
    check_time: FiniteFloat = pydantic.Field(1.0, ge=0.0, description="length of the dt/2 companion run (ps)")
    ensemble: Literal["nve", "langevin"] = pydantic.Field("nve", description="production ensemble")
    friction: FiniteFloat = pydantic.Field(0.01, gt=0.0, description="Langevin friction (1/fs)")
    reference: Literal["none", "emt", "xtb"] = pydantic.Field("none", description="guard: the reference when flagged")
    dtype: Literal["float32", "float64"] = pydantic.Field("float64", description="model dtype in MD")
    seed: int = pydantic.Field(0, ge=0, description="velocities and thermostat seed")
    out: Path = pydantic.Field(Path("runs/atoms/md"), description="output directory")
    checkpoint_seconds: FiniteFloat = pydantic.Field(60.0, gt=0.0, description="seconds between checkpoints")

    RESUMABLE_CHANGES: ClassVar[frozenset[str]] = frozenset({"out", "checkpoint_seconds"})


@dataclasses.dataclass
class Ledger:
    """Per-step records: time (ps), E_pot, KE, E_tot (eV, whole system) and T (K), for ``n_atoms`` atoms."""

    n_atoms: int
    t: list = dataclasses.field(default_factory=list)
    epot: list = dataclasses.field(default_factory=list)
    ekin: list = dataclasses.field(default_factory=list)

    def record(self, t_ps: float, atoms) -> None:
        self.t.append(t_ps)
        self.epot.append(float(atoms.get_potential_energy()))
        self.ekin.append(float(atoms.get_kinetic_energy()))

    def arrays(self) -> dict[str, np.ndarray]:
        from ase.units import kB

        epot, ekin = np.array(self.epot), np.array(self.ekin)
        return {"t_ps": np.array(self.t), "epot": epot, "ekin": ekin, "etot": epot + ekin,
                "temperature": 2 * ekin / (3 * self.n_atoms * kB)}


def drift(t: np.ndarray, e: np.ndarray) -> tuple[float, float, float]:
    """(slope, its error, σ of the residuals) of a straight-line fit e = a + b·t; the slope's error is the OLS
    error inflated by √(2τ_int) of the residuals (Γ-method), so correlated fluctuations do not shrink it."""
    from lawful.core.gamma import Observable, gamma_method

    b, a = np.polyfit(t, e, 1)
    resid = e - (a + b * t)
    sxx = np.sum((t - t.mean()) ** 2)
    sigma = float(resid.std())
    if sigma == 0.0:
        return float(b), 0.0, 0.0
    tau = gamma_method([Observable.from_series(resid[None, :])])[0].tau_int
    return float(b), float(sigma * np.sqrt(max(2 * tau, 1.0) / sxx)), sigma


def ledger(arrays: dict, n_atoms: int) -> dict:
    """The energy ledger of a run's records: drift (meV/atom/ps) ± error, σ(E_tot) (meV/atom), |drift·t|/std(KE)
    and the mean temperature (K)."""
    t, e = arrays["t_ps"], arrays["etot"] / n_atoms * 1e3
    b, err, sigma = drift(t, e)
    ke_std = float(np.std(arrays["ekin"] / n_atoms * 1e3))
    return {"drift_mev_atom_ps": b, "drift_err": err, "sigma_e_mev_atom": sigma,
            "drift_over_ke_std": abs(b * (t[-1] - t[0])) / max(ke_std, 1e-300),
            "temperature_mean": float(np.mean(arrays["temperature"]))}


def noise_heating_rate(sigma_f: float, dt_fs: float, mass_amu: float) -> float:
    """d⟨E⟩/dt per atom (meV/ps) that white force noise σ_F (eV/Å per component) causes in velocity Verlet at
    Δt: each step adds (Δt σ_F)²/(2m) per component to the kinetic energy, 3σ_F²Δt/(2m) per unit time."""
    from ase import units

    dt = dt_fs * units.fs
    per_step = 3 * (sigma_f * dt) ** 2 / (2 * mass_amu)  # eV (ASE units: eV, Å, amu, ASE time)
    return per_step / (dt_fs * 1e-3) * 1e3


class Stopped(Exception):
    """A run that blew up; the message says why."""


def _dynamics(atoms, cfg: MDConfig, dt_fs: float, ensemble: str, rng):
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.verlet import VelocityVerlet

    if ensemble == "nve":
        return VelocityVerlet(atoms, dt_fs * units.fs)
    return Langevin(atoms, dt_fs * units.fs, temperature_K=cfg.temperature, friction=cfg.friction / units.fs,
                    rng=rng, fixcm=False)


def advance(atoms, dyn, steps: int, dt_fs: float, target: float, book: Ledger | None, t0_ps: float,
            tick=None) -> None:
    """Take ``steps`` steps of ``dyn``, recording into ``book``; raises :class:`Stopped` (atoms left at the last
    good frame) when T exceeds the blow-up limit or atoms come too close (the calculator refuses them)."""
    for k in range(steps):
        good = atoms.positions.copy(), atoms.get_momenta()  # the last good frame, cheaper than a copy of atoms
        try:
            dyn.run(1)
            temperature = atoms.get_temperature()
        except ValueError as exc:  # too-close atoms, from the calculator's distance check
            _restore(atoms, good)
            raise Stopped(str(exc)) from None
        if temperature > BLOWUP_FACTOR * target or not np.isfinite(temperature):
            _restore(atoms, good)
            raise Stopped(f"T = {temperature:.3g} K exceeds {BLOWUP_FACTOR:g} × the target {target:g} K")
        if book is not None:
            book.record(t0_ps + (k + 1) * dt_fs * 1e-3, atoms)
        if tick is not None:
            tick()


def _restore(atoms, frame: tuple[np.ndarray, np.ndarray]) -> None:
    atoms.set_positions(frame[0])
    atoms.set_momenta(frame[1])


def build(cfg: MDConfig, calc):
    """The fcc supercell of ``cfg.element`` (default the model's first species) at ``cfg.a0`` or else the lattice
    constant of ``calc``, with its calculator; or ``cfg.molecule`` (xTB-relaxed, :mod:`lawful.atoms.molecules`)."""
    from ase.build import bulk
    from ase.data import chemical_symbols

    from lawful.atoms.properties import lattice_constant

    if cfg.molecule:
        from lawful.atoms.molecules import build_molecule

        atoms = build_molecule(cfg.molecule, cfg.seed)
        atoms.calc = calc
        return atoms
    symbol = cfg.element or chemical_symbols[calc.potential.species[0]]
    a0 = cfg.a0 or lattice_constant(calc, symbol)
    atoms = bulk(symbol, "fcc", a=a0, cubic=True) * ((cfg.supercell,) * 3)
    atoms.calc = calc
    return atoms


def run(cfg: MDConfig, *, show_progress: bool | None = None, calc=None) -> dict:
    """Run (or resume) ``cfg`` and return the summary (the ``--json`` keys); writes ``ledger.npz``,
    ``final.extxyz`` (or ``last_good.extxyz``) and ``summary.json`` into ``cfg.out``. ``calc``: any ASE
    calculator instead of ``cfg.model`` (an anchor or a control; set ``cfg.element``)."""
    import json

    from ase.io import write
    from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta

    from lawful.core.io import atomic_write_bytes
    from lawful.core.lifecycle import check_run_directory, checkpointing, claim_run_directory
    from lawful.core.progress import progress
    from lawful.core.rng import generator_state, restore_generator

    out = Path(cfg.out)
    check_run_directory(cfg, out)
    calc = calc or _calculator(cfg)
    out.mkdir(parents=True, exist_ok=True)
    claim_run_directory(cfg, out)
    atoms = build(cfg, calc)
    n = len(atoms)
    rng = np.random.default_rng(cfg.seed)
    n_prod = int(round(cfg.time * 1e3 / cfg.dt))
    book, done = Ledger(n), 0
    ckpt = out / CHECKPOINT
    if ckpt.exists():
        z = np.load(ckpt, allow_pickle=False)
        atoms.set_positions(z["positions"])
        atoms.set_momenta(z["momenta"])
        rng = restore_generator(str(z["rng"]))
        done = int(z["done"])
        book.t, book.epot, book.ekin = list(z["t"]), list(z["epot"]), list(z["ekin"])
    else:
        thermalize_momenta(atoms, temperature_K=cfg.temperature, rng=rng)
        Stationary(atoms)
        if cfg.molecule:
            ZeroRotation(atoms)
        n_eq = int(round(cfg.equilibrate * 1e3 / cfg.dt))
        advance(atoms, _dynamics(atoms, cfg, cfg.dt, "langevin", rng), n_eq, cfg.dt, cfg.temperature, None, 0.0)
        atomic_write_bytes(out / "start.npz", _npz({"numbers": atoms.numbers, "cell": atoms.cell.array,
                                                     "pbc": atoms.pbc, "positions": atoms.positions,
                                                     "momenta": atoms.get_momenta()}))

    def save() -> None:
        import io

        buf = io.BytesIO()
        np.savez(buf, positions=atoms.positions, momenta=atoms.get_momenta(), rng=generator_state(rng),
                 done=len(book.t), t=book.t, epot=book.epot, ekin=book.ekin)
        atomic_write_bytes(ckpt, buf.getvalue())

    if hasattr(calc, "calls"):  # the guard's share counts production steps only
        calc.calls = calc.flagged = 0
    stopped = None
    dyn = _dynamics(atoms, cfg, cfg.dt, cfg.ensemble, rng)
    with checkpointing(save, cfg.checkpoint_seconds) as checkpoints, progress(show_progress) as prog:
        task = prog.add_task("md", total=n_prod, completed=done, info="")

        def tick() -> None:
            prog.update(task, advance=1)
            checkpoints.tick()

        try:
            advance(atoms, dyn, n_prod - done, cfg.dt, cfg.temperature, book, len(book.t) * cfg.dt * 1e-3, tick)
        except Stopped as exc:
            stopped = str(exc)
    save()
    arrays = book.arrays()
    share = {"guarded_share": getattr(calc, "model_share", 1.0), "flagged_steps": getattr(calc, "flagged", 0)}
    summary = {"atoms": n, "steps": len(book.t), "dt_fs": cfg.dt, "time_ps": float(arrays["t_ps"][-1])
               if len(book.t) else 0.0, "stopped": stopped, **(ledger(arrays, n) if len(book.t) > 2 else {})}
    if cfg.ensemble == "nve" and cfg.check_time > 0 and stopped is None:
        summary.update(timestep_check(cfg, calc, out, arrays))
    summary.update(share)
    write(out / ("last_good.extxyz" if stopped else "final.extxyz"), atoms)
    atomic_write_bytes(out / LEDGER_FILE, _npz(arrays))
    atomic_write_bytes(out / "summary.json", json.dumps(summary, indent=1).encode())
    return summary


def timestep_check(cfg: MDConfig, calc, out: Path, arrays: dict) -> dict:
    """σ(E_tot) over the first ``check_time`` ps at Δt (from the main run) and at Δt/2 (a companion run from the
    same start): their ratio, ≈ 4 for a conservative force and a symplectic integrator."""
    z = np.load(out / "start.npz")
    atoms = calc_atoms(calc, z)
    n = len(atoms)
    steps = int(round(cfg.check_time * 1e3 / cfg.dt))
    half = Ledger(n)
    advance(atoms, _dynamics(atoms, cfg, cfg.dt / 2, "nve", None), 2 * steps, cfg.dt / 2, cfg.temperature, half, 0.0)
    h = half.arrays()
    sig_half = drift(h["t_ps"], h["etot"] / n * 1e3)[2]
    sig_full = drift(arrays["t_ps"][:steps], arrays["etot"][:steps] / n * 1e3)[2]
    return {"sigma_e_half_dt_mev_atom": sig_half, "sigma_ratio": sig_full / max(sig_half, 1e-300),
            "check_time_ps": cfg.check_time}


def calc_atoms(calc, start):
    """The frame ``start`` (numbers, cell, pbc, positions, momenta) with the calculator ``calc``."""
    from ase import Atoms

    pbc = start["pbc"] if "pbc" in start else True
    atoms = Atoms(start["numbers"], start["positions"], cell=start["cell"], pbc=pbc, momenta=start["momenta"])
    atoms.calc = calc
    return atoms


def _calculator(cfg: MDConfig):
    from lawful.atoms.calculator import Calculator

    if cfg.reference == "none":
        return Calculator(cfg.model, dtype=cfg.dtype)
    from lawful.atoms.guard import GuardedCalculator

    if cfg.reference == "xtb":
        from lawful.atoms.xtb import calculator

        return GuardedCalculator(cfg.model, reference=calculator(), dtype=cfg.dtype)
    from ase.calculators.emt import EMT

    return GuardedCalculator(cfg.model, reference=EMT(), dtype=cfg.dtype)


def _npz(arrays: dict) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()
