"""Running a hydro problem: the time loop, snapshots, checkpoints and resume, failure handling.

Files in the output directory: ``config.toml`` (resolved config), ``snap_NNNN.h5`` (snapshots at equally spaced
times, t = 0 included), ``checkpoint.h5`` (the newest complete state, written atomically every
``checkpoint_seconds``, at every snapshot, on Ctrl-C and at the end; a rerun with the same config resumes from
it) and, when a run fails, ``last_good.h5`` (the state before the failing step).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lawful.core.io import atomic_h5, provenance, write_provenance
from lawful.core.lifecycle import check_run_directory, checkpointing, claim_run_directory
from lawful.core.progress import progress
from lawful.hydro import kernels as K
from lawful.hydro.config import HydroRunConfig
from lawful.hydro.coupling import BurnStep, Strang
from lawful.hydro.solver import Euler, HydroFailure, HydroState

CHECKPOINT = "checkpoint.h5"
LAST_GOOD = "last_good.h5"


@dataclasses.dataclass
class Setup:
    """What a problem's ``setup`` returns: the solver, the initial state, the step (the solver itself or a
    :class:`Strang` of it with a burn step), the burn step if any, and the network's species names."""

    solver: Euler
    state: HydroState
    step: Callable[[HydroState, float], HydroState]
    burn: BurnStep | None = None
    species: tuple[str, ...] = ()
    record: Callable[[HydroState], dict[str, float]] | None = None


@dataclasses.dataclass
class RunResult:
    setup: Setup
    history: dict[str, list[float]]
    seconds: float
    complete: bool
    out: Path

    @property
    def zone_updates_per_second(self) -> float:
        """Over the whole run (all its steps and its wall time, summed over resumes)."""
        m = self.setup.solver.mesh
        return self.setup.state.step * m.nx * m.ny / self.seconds if self.seconds > 0 else float("nan")


def hydro_only(cfg: HydroRunConfig, problem: str) -> None:
    """Reject a burner for a problem without nuclear species."""
    if cfg.burner != "none":
        raise ValueError(f"problem {problem!r} is pure hydrodynamics (gamma-law gas); burner = {cfg.burner!r} "
                         "needs a problem with a network (detonation, kh)")


def with_burning(cfg: HydroRunConfig, solver: Euler, network, eos) -> tuple[Callable, BurnStep | None]:
    """The step a config asks for: the bare solver (burner none) or ``Strang(solver, BurnStep(...))``."""
    if cfg.burner == "none":
        return solver, None
    from lawful.burn.registry import make_burner

    options = ({"model": cfg.burn_model, "error_limit": cfg.burn_error_limit, "max_substeps": cfg.burn_max_substeps,
                "untrained": cfg.burn_untrained} if cfg.burner == "surrogate" else {})
    burner = make_burner(cfg.burner, network, eos, rtol=cfg.burn_rtol, atol=cfg.burn_atol, **options)
    burn = BurnStep(solver, burner, T_min=cfg.burn_T_min, burn_in_shocks=cfg.burn_in_shocks)
    return Strang(solver, burn), burn


# -- files ------------------------------------------------------------------------------------------------
def write_snapshot(path: Path, setup: Setup, prov: dict, problem: str, extra: Callable | None = None) -> None:
    """Atomically write the state (primitive fields on active cells, the padded U and T for restarts) with the
    run's provenance attributes ``prov``; ``extra(h5file)`` may add more inside the same atomic write."""
    solver, state = setup.solver, setup.state
    m = solver.mesh
    q = solver.primitives(state)
    act = m.active
    with atomic_h5(path) as f:
        write_provenance(f, prov)
        f.attrs.update({"problem": problem, "t": state.t, "step": state.step, "ndim": m.ndim,
                        "species": list(setup.species), "units": "CGS"})
        f["x"], f["y"] = m.x, m.y
        for name, k in (("rho", K.QR), ("u", K.QU), ("v", K.QV), ("p", K.QP)):
            f[name] = q[k][act]
        f["e"] = q[K.QRE][act] / q[K.QR][act]
        f["T"] = state.T[act]
        if setup.species:
            f["X"] = q[K.QX:][(slice(None), *act)]
        f["U_padded"], f["T_padded"] = state.U, state.T
        if extra is not None:
            extra(f)


def _restore(cfg: HydroRunConfig, setup: Setup, out: Path) -> tuple[dict, dict, str | None]:
    """Resume from ``out/checkpoint.h5`` when it holds this run (another run is refused before its arrays are
    read); returns (history, driver scalars, the stored config or None)."""
    import h5py

    path = out / CHECKPOINT
    if not path.exists():
        return {}, {}, None
    with h5py.File(path, "r") as f:
        stored = f.attrs["config"]
        check_run_directory(cfg, out, stored)
        setup.state.U[...] = f["U_padded"][...]
        setup.state.T[...] = f["T_padded"][...]
        setup.state.t, setup.state.step = float(f.attrs["t"]), int(f.attrs["step"])
        history = {k: list(f["history"][k][...]) for k in f["history"]}
        driver = {k: float(v) for k, v in f["driver"].attrs.items()}
        q = f["q_padded"][...]
    setup.state.touch()
    setup.solver.adopt_primitives(setup.state, q)
    if setup.burn is not None:
        setup.burn.zone_steps = int(driver.get("burn_zone_steps", 0))
        setup.burn.integrator_steps = int(driver.get("burn_integrator_steps", 0))
        setup.burn.energy = driver.get("burn_energy", 0.0)
        setup.burn.burner.load_state_dict({k[len("burner_"):]: v for k, v in driver.items()
                                           if k.startswith("burner_")})
    if isinstance(setup.step, Strang):
        for part in setup.step.seconds:
            setup.step.seconds[part] = driver.get(f"strang_seconds_{part}", 0.0)
    return history, driver, stored


def _write_checkpoint(out: Path, setup: Setup, prov: dict, problem: str, history: dict, driver: dict) -> None:
    path = out / CHECKPOINT

    def extra_groups(f):
        g = f.create_group("history")
        for k, v in history.items():
            g[k] = np.asarray(v, dtype=np.float64)
        d = f.create_group("driver")
        d.attrs.update(driver)
        f["q_padded"] = setup.solver.primitives(setup.state)  # cached: write_snapshot computed them

    write_snapshot(path, setup, prov, problem, extra_groups)


# -- the time loop -----------------------------------------------------------------------------------------
def step_to_snapshot(dt: float, remaining: float) -> float:
    """The step to take when the next snapshot is ``remaining`` s away and the solver allows ``dt`` s.

    Lands exactly on the snapshot, and splits the approach into two equal steps rather than leaving a sliver
    (a remainder under half a step). The caller keeps ``dt``, not the shortened step, as the base of the next
    step's growth limit, so a snapshot never makes the run crawl back from a tiny step.
    """
    if remaining <= dt:
        return remaining
    if remaining < 1.5 * dt:
        return 0.5 * remaining
    return dt


def run(cfg: HydroRunConfig, problem: str, *, show_progress: bool | None = None,
        on_step: Callable[[HydroState], None] | None = None,
        on_setup: Callable[[Setup], None] | None = None) -> RunResult:
    """Run (or resume) ``problem`` with ``cfg`` to ``cfg.tmax``; see the module docstring for the files.

    Raises :class:`HydroFailure` (message: zone, time, state; ``last_good.h5`` written) when the state turns
    unphysical. ``on_step`` is called after every step (tests use it to interrupt a run); ``on_setup`` once
    with the :class:`Setup` before the loop (e.g. to wrap the burner and record its zone-steps).
    """
    from lawful.hydro import problems

    mod = problems.get(problem)
    setup = mod.setup(cfg)
    if on_setup is not None:
        on_setup(setup)
    if setup.burn is not None:
        setup.burn.check_inputs(setup.state)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    history, driver, stored = _restore(cfg, setup, out)
    cfg_toml = claim_run_directory(cfg, out, stored)
    prov = provenance(cfg_toml, None)  # once per run: it asks git for the source state
    solver, state, step = setup.solver, setup.state, setup.step
    snap_times = cfg.tmax * np.arange(cfg.n_snapshots + 1) / cfg.n_snapshots
    next_snap = int(np.searchsorted(snap_times, state.t * (1 + 1e-12), side="right"))
    if state.step == 0:
        write_snapshot(out / "snap_0000.h5", setup, prov, problem)
    dt_prev = driver.get("dt_prev", 0.0)
    seconds = driver.get("seconds", 0.0)
    steps_here = 0

    def save_checkpoint(total: float | None = None):
        """``total``: the run's wall time so far (default: up to now)."""
        total = seconds + time.perf_counter() - start if total is None else total
        nonlocal_driver = {"dt_prev": dt_prev, "seconds": total}
        if setup.burn is not None:
            nonlocal_driver.update(burn_zone_steps=setup.burn.zone_steps, burn_energy=setup.burn.energy,
                                   burn_integrator_steps=setup.burn.integrator_steps)
            nonlocal_driver.update({f"burner_{k}": v for k, v in setup.burn.burner.state_dict().items()})
        if isinstance(setup.step, Strang):
            nonlocal_driver.update({f"strang_seconds_{k}": v for k, v in setup.step.seconds.items()})
        _write_checkpoint(out, setup, prov, problem, history, nonlocal_driver)

    start = time.perf_counter()
    with checkpointing(save_checkpoint, cfg.checkpoint_seconds) as checkpoints:
        with progress(show_progress) as prog:
            task = prog.add_task(f"{problem} n={cfg.n}", total=cfg.tmax, completed=state.t)
            while state.t < cfg.tmax * (1 - 1e-12) and steps_here < cfg.max_steps:
                good = state.copy()
                try:
                    dt = solver.timestep(state)
                    dt_free = min(dt, cfg.dt_growth * dt_prev) if dt_prev > 0 else cfg.init_shrink * dt
                    dt = step_to_snapshot(dt_free, snap_times[next_snap] - state.t)
                    step(state, dt)
                    solver.check(state)
                except HydroFailure as exc:
                    setup.state = good
                    write_snapshot(out / LAST_GOOD, setup, prov, problem)
                    raise HydroFailure(f"{exc}\nlast good state (t = {good.t:.6g} s) written to "
                                       f"{out / LAST_GOOD}") from None
                dt_prev, steps_here = dt_free, steps_here + 1
                if setup.record is not None:
                    for key, value in {"t": state.t, **setup.record(state)}.items():
                        history.setdefault(key, []).append(value)
                if on_step is not None:
                    on_step(state)
                if state.t >= snap_times[next_snap] * (1 - 1e-12):
                    write_snapshot(out / f"snap_{next_snap:04d}.h5", setup, prov, problem)
                    next_snap = min(next_snap + 1, cfg.n_snapshots)
                    checkpoints.save_now()
                prog.update(task, completed=state.t)
                checkpoints.tick()
    if steps_here:  # a rerun of a finished run adds no time
        seconds += time.perf_counter() - start
    save_checkpoint(seconds)
    complete = bool(state.t >= cfg.tmax * (1 - 1e-12))
    return RunResult(setup, history, seconds, complete, out)


def summary(cfg: HydroRunConfig, problem: str, result: RunResult) -> dict:
    """Measured figures of the problem plus wall time, zone updates per second and the burn/hydro split."""
    from lawful.hydro import problems

    setup = result.setup
    out = problems.get(problem).measure(cfg, result)
    m = setup.solver.mesh
    out.update({"problem": problem, "n": [m.nx, m.ny] if m.ndim == 2 else m.nx, "t": setup.state.t,
                "steps": setup.state.step, "complete": result.complete, "seconds": result.seconds,
                "zone_updates_per_second": result.zone_updates_per_second, "out": str(result.out)})
    if isinstance(setup.step, Strang):
        s = setup.step.seconds
        total = s["full"] + s["half"]
        out.update({"burn_fraction_of_time": s["half"] / total if total else 0.0,
                    "burn_zone_steps": setup.burn.zone_steps,
                    "burn_integrator_steps_per_zone": setup.burn.integrator_steps / max(setup.burn.zone_steps, 1),
                    "nuclear_energy_released": setup.burn.energy})
        out.update(setup.burn.burner.summary())
    return out
