"""U(1) runs through the lattice run lifecycle and the command line: resume is bitwise exact, analyze prints the
exact values and pulls, keys of the other theory are refused before any work."""

import json

import numpy as np
import pytest

from lawful.lattice import ensemble
from lawful.lattice.analysis import analyze
from lawful.lattice.run import run
from lawful.lattice.u1.config import U1RunConfig
from tests.helpers import invoke, stop_at


@pytest.mark.parametrize("sampler,moves", [("heatbath", 1), ("hmc", 0), ("exact", 0)])
def test_interrupted_u1_run_resumes_bitwise(tmp_path, sampler, moves):
    base = dict(size=4, beta=1.5, sampler=sampler, instanton_moves=moves, n_traj=120, n_therm=10, n_chains=2,
                seed=3, save_every=40)
    run(U1RunConfig(out=tmp_path / "a", **base), show_progress=False)
    broken = U1RunConfig(out=tmp_path / "b", **base)
    with pytest.raises(KeyboardInterrupt):
        run(broken, show_progress=False, on_update=stop_at(57))
    assert run(broken, show_progress=False).resumed_from == 57
    a = ensemble.read(tmp_path / "a" / ensemble.ENSEMBLE_FILE)
    b = ensemble.read(tmp_path / "b" / ensemble.ENSEMBLE_FILE)
    assert set(a.series) == {"S", "plaquette", "Q", "W11", "W12", "W22", "W23", "W33", "poly2", "acceptance", "dH"}
    for name, values in a.series.items():
        np.testing.assert_array_equal(values, b.series[name])
    np.testing.assert_array_equal(ensemble.load_configs(tmp_path / "a")[1], ensemble.load_configs(tmp_path / "b")[1])


def test_analysis_reports_exact_values_and_pulls(tmp_path):
    cfg = U1RunConfig(out=tmp_path / "r", size=8, beta=2.0, sampler="heatbath", n_traj=1500, n_chains=2)
    run(cfg, show_progress=False)
    j = analyze(cfg.out).to_json()
    assert j["exact"]["Q2"] == pytest.approx(1.2393, abs=1e-4)
    for key in ("plaquette", "Q2", "chi_top"):
        value, error = j[key]
        assert j["pull"][key] == pytest.approx((value - j["exact"][key]) / error)
        assert abs(j["pull"][key]) < 4
    assert set(j["tau_int"]) == {"Q", "Q2", "plaquette"}


def test_cli_u1_run_and_json(tmp_path):
    out = tmp_path / "u1"
    res = invoke("lattice", "run", "--theory", "u1", "--sampler", "heatbath", "--size", 4, "--beta", 1.0,
                 "--n-traj", 300, "--n-therm", 20, "--out", out, "--json")
    assert res.exit_code == 0, res.output
    j = json.loads(res.output)
    assert j["theory"] == "u1" and set(j["exact"]) >= {"plaquette", "Q2", "chi_top"}
    res = invoke("lattice", "analyze", out)
    assert res.exit_code == 0 and "exact" in res.output and "⟨Q²⟩" in res.output
    assert (out / "charge.png").is_file()
    # the theory is read back from the TOML with --config
    (tmp_path / "u1.toml").write_text('theory = "u1"\nbeta = 1.5\nsize = 4\nn_traj = 50\nn_therm = 5\n')
    res = invoke("lattice", "hmc", "--config", tmp_path / "u1.toml", "--out", tmp_path / "c", "--json")
    assert res.exit_code == 0 and json.loads(res.output)["beta"] == 1.5


@pytest.mark.parametrize("args,message", [
    (["run", "--theory", "u1", "--kappa", 0.2], "kappa: not a key of --theory u1"),
    (["hmc", "--beta", 2.0], "beta: not a key of --theory phi4"),
    (["run", "--theory", "u1", "--set", "lam=0.5"], "lam: not a key of --theory u1"),
    (["run", "--theory", "u1", "--beta", 0], "beta = 0.0: Input should be greater than 0"),
    (["run", "--theory", "u1", "--size", 2], "size = 2: Input should be greater than or equal to 4"),
    (["run", "--theory", "su2"], "--theory must be one of phi4|u1, got 'su2'"),
    (["run", "--theory", "u1", "--sampler", "exact", "--instanton-moves", 1], "instanton_moves must be 0"),
    (["scan", "--theory", "u1", "--kappas", "0.1"], "--theory u1 scans --betas, not --kappas"),
])
def test_bad_u1_input_is_refused_before_work(tmp_path, args, message):
    res = invoke("lattice", *args, "--out", tmp_path / "never")
    assert res.exit_code == 2 and message in res.output, res.output
    assert not (tmp_path / "never").exists()


def test_beta_scan(tmp_path):
    res = invoke("lattice", "scan", "--theory", "u1", "--betas", "1,3", "--scheduler", "serial", "--size", 4,
                 "--sampler", "exact", "--n-traj", 200, "--n-therm", 0, "--out", tmp_path / "s", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["beta"] for r in rows] == [1.0, 3.0] and all(abs(r["pull"]["Q2"]) < 4 for r in rows)


def test_demo_stage_against_the_exact_values(tmp_path):
    res = invoke("demo", "--only", "u1", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    assert "1.2393" in res.output and "⟨Q²⟩" in res.output and "1/1 u1" in res.output
    j = analyze(tmp_path / "demo" / "u1").to_json()
    assert all(abs(p) < 4 for p in j["pull"].values()), j["pull"]
