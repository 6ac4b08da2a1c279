"""The run driver and the coupled problems: checkpoints and resume, failures, burning with exact bookkeeping,
the detonation front, the CLI."""

import json

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from lawful.cli.app import app
from lawful.core.config import load_toml, resolve
from lawful.hydro import problems
from lawful.hydro.problems import detonation, kh, sod
from lawful.hydro.run import LAST_GOOD, run, summary
from lawful.hydro.solver import HydroFailure

runner = CliRunner()


@pytest.mark.parametrize("name", problems.NAMES)
def test_shipped_toml_equals_defaults(name):
    mod = problems.get(name)
    assert resolve(mod.Config, load_toml(problems.default_toml(name))) == mod.Config()


def test_interrupted_run_resumes_bitwise(tmp_path):
    full = run(sod.Config(n=64, out=tmp_path / "full"), "sod", show_progress=False)

    def interrupt(state):
        if state.step == 17:
            raise KeyboardInterrupt

    cfg = sod.Config(n=64, out=tmp_path / "cut")
    with pytest.raises(KeyboardInterrupt):
        run(cfg, "sod", show_progress=False, on_step=interrupt)
    with h5py.File(tmp_path / "cut" / "checkpoint.h5") as f:
        assert f.attrs["step"] == 17
    resumed = run(cfg, "sod", show_progress=False)
    assert resumed.setup.state.step == full.setup.state.step
    assert np.array_equal(resumed.setup.state.U, full.setup.state.U)


def test_sigint_in_the_middle_of_a_detonation_resumes_bitwise(tmp_path):
    """A real SIGINT to ``lawful hydro run detonation`` while it runs (stellar EOS, implicit burner): the command
    says where its checkpoint is and exits 130; the same command again finishes bitwise where an uninterrupted
    run ends (the T that the EOS's Newton iteration found and the burner counters included)."""
    import signal
    import subprocess
    import sys
    import time

    def cmd(out):
        return [sys.executable, "-m", "lawful", "hydro", "run", "detonation", "--n", "96", "--set", "tmax=4e-3",
                "--set", "n_snapshots=40", "--set", "threads=1", "--json", "--out", str(out)]

    full = json.loads(subprocess.run(cmd(tmp_path / "full"), check=True, capture_output=True, text=True).stdout)
    proc = subprocess.Popen(cmd(tmp_path / "cut"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (tmp_path / "cut" / "snap_0005.h5").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and "checkpoint kept in" in err, err
    with h5py.File(tmp_path / "cut" / "checkpoint.h5") as f:
        stopped_at = float(f.attrs["t"])
    assert 0 < stopped_at < 4e-3  # it stopped in the middle
    resumed = json.loads(subprocess.run(cmd(tmp_path / "cut"), check=True, capture_output=True, text=True).stdout)
    for key in ("front_speed", "nuclear_energy_released", "burn_zone_steps", "steps", "t"):
        assert resumed[key] == full[key], key
    with h5py.File(tmp_path / "full" / "checkpoint.h5") as a, h5py.File(tmp_path / "cut" / "checkpoint.h5") as b:
        for name in ("U_padded", "T_padded"):
            assert np.array_equal(a[name][...], b[name][...]), name


def test_resume_refuses_another_run(tmp_path):
    run(sod.Config(n=32, out=tmp_path, tmax=0.05), "sod", show_progress=False)
    with pytest.raises(ValueError, match="holds a different run.*rho_l"):
        run(sod.Config(n=32, out=tmp_path, rho_l=2.0), "sod", show_progress=False)


def test_failure_stops_with_zone_time_and_last_good_state(tmp_path, monkeypatch):
    """A step that leaves a negative density stops the run naming the zone; the previous state is kept."""
    plain = sod.setup

    def corrupting_setup(cfg):
        s = plain(cfg)
        solver = s.solver

        def step(state, dt):
            solver(state, dt)  # advances the step count: 10 after the tenth step
            if state.step == 10:
                state.U[0, 0, 20] = -1.0
            return state

        s.step = step
        return s

    monkeypatch.setattr(sod, "setup", corrupting_setup)
    with pytest.raises(HydroFailure, match=r"negative density or NaN at zone i=18 \(x = 0.289062 cm\), "
                                           r"t = .* s, step 10: rho = -1") as exc:
        run(sod.Config(n=64, out=tmp_path), "sod", show_progress=False)
    assert "last good state (t = " in str(exc.value)
    with h5py.File(tmp_path / LAST_GOOD) as f:
        assert f.attrs["step"] == 9 and np.all(f["rho"][...] > 0)


def test_burning_bookkeeping_is_exact(tmp_path):
    """Periodic KH box with carbon burning: total energy grows by exactly the nuclear energy released,
    mass and momentum are conserved, and every zone keeps ΣX = 1."""
    cfg = kh.Config(n=16, tmax=2e-3, T_fuel=2.2e9, out=tmp_path, n_snapshots=1)
    mod = problems.get("kh")
    setup0 = mod.setup(cfg)
    before = setup0.solver.totals(setup0.state)
    res = run(cfg, "kh", show_progress=False)
    s = res.setup
    after = s.solver.totals(s.state)
    assert s.burn.energy > 1e-4 * abs(before[3])  # carbon did burn
    assert after[3] - before[3] == pytest.approx(s.burn.energy, rel=1e-10)
    assert after[0] == pytest.approx(before[0], rel=1e-14)
    assert abs(after[1] - before[1]) < 1e-13 * np.abs(s.state.U[1]).sum() * s.solver.mesh.cell_volume
    X = s.state.U[4:][(slice(None), *s.solver.mesh.active)] / s.state.U[0][s.solver.mesh.active]
    assert np.abs(X.sum(axis=0) - 1).max() < 1e-13
    assert X.min() >= 0


def test_detonation_front_moves_near_chapman_jouguet(tmp_path):
    """Coarse, short run: the front must propagate at a detonation speed (CJ 1.195e9–1.234e9 cm/s at 1e7 g/cm³;
    this resolution and duration give incomplete Si burning, so a few per cent below)."""
    cfg = detonation.Config(n=64, tmax=4e-3, length=1e7, out=tmp_path, n_snapshots=1)
    s = summary(cfg, "detonation", run(cfg, "detonation", show_progress=False))
    assert 1.0e9 < s["front_speed"] < 1.25e9
    assert s["ash"]["T"] > 3e9 and s["ash"]["X"].get("c12", 0.0) < 1e-3


@pytest.mark.parametrize("rho", [1e7, 1e9])
def test_the_front_is_found_in_degenerate_fuel_too(rho):
    """At t = 0 the front is the igniting region's edge (hot_width × length). At 1e9 g/cm³ the hot region's
    pressure is less than twice the degenerate fuel's, so a fixed factor-2 threshold finds no front."""
    cfg = detonation.Config(n=64, rho=rho)
    s = detonation.setup(cfg)
    p = s.solver.primitives(s.state)[3][s.solver.mesh.active][0]
    assert (rho < 1e8) == (p.max() > 2 * p[-1])
    assert s.record(s.state)["front"] == pytest.approx(cfg.hot_width * cfg.length, abs=s.solver.mesh.dx)


def test_a_2d_detonation_keeps_the_1d_front_speed_and_a_rippled_start(tmp_path):
    """ny > 1: square cells, periodic in y; the igniting edge ripples in y. With no ripple every row of the 2D run
    is a 1D run (the y fluxes vanish; only the time steps are shorter, the CFL condition counting both
    directions): the rows agree to round-off and the front lands within a zone of the 1D run's."""
    one = detonation.Config(n=32, tmax=2e-3, length=1e7, out=tmp_path / "1d", n_snapshots=1)
    flat = detonation.Config(n=32, ny=8, ripple=0.0, tmax=2e-3, length=1e7, out=tmp_path / "2d", n_snapshots=1)
    a, b = (run(c, "detonation", show_progress=False) for c in (one, flat))
    rho = b.setup.solver.primitives(b.setup.state)[0][b.setup.solver.mesh.active]
    assert np.abs(rho - rho[0]).max() <= 1e-12 * rho.max()
    assert abs(b.history["front"][-1] - a.history["front"][-1]) < one.length / one.n
    assert b.history["front"][-1] > 1.5e6  # it moved: 2e-3 s at ~1.1e9 cm/s from the 5e5 cm edge
    rippled = detonation.setup(detonation.Config(n=32, ny=8, length=1e7))
    T = rippled.state.T[rippled.solver.mesh.active]
    hot = (T > 1e9).sum(axis=1)  # hot cells per row
    assert rippled.solver.mesh.dy == rippled.solver.mesh.dx and hot.max() > hot.min()


def test_cli_run_json_and_plot(tmp_path):
    r = runner.invoke(app, ["hydro", "run", "sod", "--n", "64", "--out", str(tmp_path), "--json", "--plot"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert {"l1_rho", "seconds", "zone_updates_per_second"} <= set(s)
    assert len(s["plots"]) == 5 and all(p.endswith(".png") for p in s["plots"])
    r = runner.invoke(app, ["hydro", "plot", str(tmp_path)])
    assert r.exit_code == 0 and "5 plots" in r.output


@pytest.mark.parametrize("args, match", [
    (["hydro", "run", "sod", "--set", "cfl=1.0"], "cfl"),
    (["hydro", "run", "blast"], "unknown problem 'blast'"),
    (["hydro", "run", "sod", "--burner", "implicit"], "pure hydrodynamics"),
    (["hydro", "run", "detonation", "--burner", "surrogate", "--model", "/nonexistent"], "no surrogate model"),
    (["hydro", "run", "sod", "--set", "p_r=-0.1"], "p_r"),
    (["hydro", "run", "kh", "--set", "fuel=c12=0.7"], "sum"),
])
def test_cli_bad_input(args, match, tmp_path):
    r = runner.invoke(app, args + ["--out", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert match in r.output


def test_step_to_snapshot_lands_exactly_and_leaves_no_sliver():
    from lawful.hydro.run import step_to_snapshot

    assert step_to_snapshot(1.0, 0.3) == 0.3       # lands on the snapshot
    assert step_to_snapshot(1.0, 1.2) == 0.6       # two equal steps instead of 1.0 + 0.2
    assert step_to_snapshot(1.0, 1.6) == 1.0       # the remainder (0.6) is over half a step
    assert step_to_snapshot(1.0, 1.0) == 1.0


def _step_sizes(tmp_path, n_snapshots):
    times = []
    run(sod.Config(n=64, n_snapshots=n_snapshots, out=tmp_path / str(n_snapshots)), "sod", show_progress=False,
        on_step=lambda state: times.append(state.t))
    return np.diff([0.0, *times])


def test_snapshots_cost_at_most_one_step_each_and_no_tiny_steps(tmp_path):
    """A step cut short to land on a snapshot must not become the base of the next step's growth limit."""
    free, snapped = _step_sizes(tmp_path, 1), _step_sizes(tmp_path, 9)  # 9: the old driver took 147 steps, not 35
    assert snapped.size <= free.size + 9
    assert snapped.min() >= 0.4 * free[:-1].min()


def test_compare_draws_two_2d_runs_and_measures_their_difference(tmp_path):
    """Two KH runs that differ only in the perturbation: a PNG, zero difference of a run with itself, the
    largest relative difference of the other; 1D runs and runs at other times are refused by name."""
    from lawful.hydro.plots import compare_runs

    base = {"n": 16, "tmax": 2e-3, "burner": "none", "n_snapshots": 1}
    a, b = tmp_path / "a", tmp_path / "b"
    for out, amp in ((a, 0.05), (b, 0.1)):
        run(kh.Config(**base, perturbation=amp, out=out), "kh", show_progress=False)
    same = compare_runs(a, a, tmp_path / "same.png")
    assert set(same) == {f"max_rel_diff_{k}" for k in ("T", "rho", "c12", "o16")} and max(same.values()) == 0.0
    other = compare_runs(a, b, tmp_path / "ab.png")
    with h5py.File(a / "snap_0001.h5") as fa, h5py.File(b / "snap_0001.h5") as fb:
        expected = np.abs(fa["rho"][...] - fb["rho"][...]).max() / np.abs(fa["rho"][...]).max()
    assert other["max_rel_diff_rho"] == pytest.approx(expected) and expected > 0
    assert (tmp_path / "ab.png").stat().st_size > 10_000
    run(sod.Config(n=16, tmax=1e-3, out=tmp_path / "sod", n_snapshots=1), "sod", show_progress=False)
    with pytest.raises(ValueError, match="not the same problem"):
        compare_runs(a, tmp_path / "sod", tmp_path / "x.png")
    r = runner.invoke(app, ["hydro", "compare", str(a), str(b), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["max_rel_diff_rho"] == pytest.approx(expected)
