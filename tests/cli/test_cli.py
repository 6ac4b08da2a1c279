"""The command line as a user meets it: help, the issue's exact commands, JSON output, bad input."""

import json
from pathlib import Path

import pytest

import lawful
from tests.helpers import invoke


def test_help_pages():
    for args in ([], ["lattice"], ["lattice", "hmc"], ["lattice", "analyze"], ["demo"]):
        res = invoke(*args, "--help")
        assert res.exit_code == 0, res.output
    hmc_help = invoke("lattice", "hmc", "--help").output
    for flag in ("--dim", "--size", "--kappa", "--lam", "--n-traj", "--n-therm", "--n-steps", "--traj-length",
                 "--integrator", "--seed", "--n-chains", "--out", "--config", "--set"):
        assert flag in hmc_help


def test_plots_only_when_asked(tmp_path):
    """A run writes no PNG unless asked (the plots cost more than a short run); it names the command that does."""
    out = tmp_path / "quiet"
    res = invoke("lattice", "hmc", "--dim", 2, "--size", 4, "--kappa", 0.2, "--lam", 1.0, "--n-traj", 200,
                 "--n-therm", 20, "--out", out)
    assert res.exit_code == 0, res.output
    assert not list(out.glob("*.png")) and f"lawful lattice analyze {out}" in res.output
    assert invoke("lattice", "analyze", out).exit_code == 0
    assert (out / "history.png").is_file() and (out / "autocorr.png").is_file()


def test_hmc_then_analyze_json(tmp_path):
    out = tmp_path / "phi4"
    res = invoke("lattice", "hmc", "--dim", 3, "--size", 4, "--kappa", 0.18169, "--lam", 1.3282, "--n-traj", 3000,
                 "--n-therm", 300, "--n-steps", 10, "--traj-length", 1.0, "--integrator", "omelyan", "--seed", 1,
                 "--n-chains", 2, "--out", out, "--plots")
    assert res.exit_code == 0, res.output
    assert "χ = ⟨m²⟩/V" in res.output and "history.png" in res.output
    assert (out / "history.png").is_file() and (out / "autocorr.png").is_file()
    res = invoke("lattice", "analyze", out, "--json", "--no-plots")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    for key in ("chi", "abs_m", "binder", "exp_minus_dH"):
        assert len(data[key]) == 2 and data[key][1] > 0
    assert 0 < data["acceptance"] <= 1
    assert set(data["tau_int"]) >= {"m2", "abs_m"}
    assert data["n_used"] == 2 * 3000
    assert abs(data["chi"][0] - 14.38) < 4 * data["chi"][1]


def test_config_file_and_set_overrides(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('dim = 2\nsize = 4\nkappa = 0.2\nlam = 1.0\nn_traj = 200\nn_therm = 20\nsampler = "metropolis"\n')
    out = tmp_path / "m"
    res = invoke("lattice", "run", "--config", cfg, "--size", 6, "--set", "kappa=0.21", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    written = (out / "config.toml").read_text()
    assert "size = 6" in written and "kappa = 0.21" in written and 'sampler = "metropolis"' in written


@pytest.mark.parametrize("args,message", [
    (["--size", "0"], "size = 0"),
    (["--size", "-4"], "size = -4"),
    (["--dim", "5"], "dim = 5"),
    (["--lam", "-0.1"], "lam = -0.1"),
    (["--n-steps", "0"], "n_steps = 0"),
    (["--integrator", "verlet"], "integrator = 'verlet'"),
    (["--set", "kapa=0.1"], "unknown config key 'kapa'; valid keys are: theory, dim, size, kappa"),
    (["--lam", "inf"], "needs sampler 'heatbath'"),
])
def test_bad_input_is_refused_before_work(tmp_path, args, message):
    out = tmp_path / "never"
    res = invoke("lattice", "hmc", "--out", out, *args)
    assert res.exit_code == 2
    assert message in res.output
    assert not out.exists()


def test_error_messages_are_printed_verbatim_and_name_the_bad_key():
    """Brackets in a message are text, not rich markup; a config validated inside a command (not from its flags)
    names the key and the value like the flags' own checks."""
    import pydantic
    import typer

    from lawful.cli.common import guarded
    from lawful.core.config import Config

    class Toy(Config):
        mode: str = pydantic.Field("a", pattern="^[ab]$")

    app = typer.Typer()

    @app.command()
    @guarded
    def cmd(mode: str = "a", bracket: bool = False) -> None:
        if bracket:
            raise ValueError("expected [bold]one[/bold] of [a-z] in [lo, hi]")
        Toy(mode=mode)

    from typer.testing import CliRunner

    runner = CliRunner()
    res = runner.invoke(app, ["--bracket"])
    assert res.exit_code == 2 and "expected [bold]one[/bold] of [a-z] in [lo, hi]" in res.output
    res = runner.invoke(app, ["--mode", "zz"])
    assert res.exit_code == 2 and "mode = 'zz': String should match pattern '^[ab]$'" in res.output


def test_heatbath_needs_ising_limit(tmp_path):
    res = invoke("lattice", "run", "--sampler", "heatbath", "--out", tmp_path / "h")
    assert res.exit_code == 2 and "Ising limit lam=inf" in res.output
    res = invoke("lattice", "run", "--sampler", "heatbath", "--lam", "inf", "--dim", 2, "--size", 4, "--kappa", 0.2,
                 "--n-traj", 200, "--n-therm", 20, "--out", tmp_path / "h", "--json", "--no-plots")
    assert res.exit_code == 0, res.output


def test_different_run_in_output_directory(tmp_path):
    base = ["lattice", "hmc", "--dim", 2, "--size", 4, "--n-traj", 50, "--n-therm", 5, "--out", tmp_path / "r"]
    assert invoke(*base, "--no-plots").exit_code == 0
    res = invoke(*base, "--kappa", 0.3)
    assert res.exit_code == 2 and "holds a different run" in res.output


def test_scan_fans_out(tmp_path):
    res = invoke("lattice", "scan", "--kappas", "0.1,0.15", "--scheduler", "serial", "--dim", 2, "--size", 4,
                 "--lam", 1.0, "--n-traj", 300, "--n-therm", 30, "--out", tmp_path / "scan", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["kappa"] for r in rows] == [0.1, 0.15]
    assert rows[0]["chi"][0] < rows[1]["chi"][0]  # susceptibility grows towards the critical point
    assert (tmp_path / "scan" / "kappa_0.15" / "ensemble.h5").is_file()
    res = invoke("lattice", "scan", "--kappas", "0.1,x", "--out", tmp_path / "s2")
    assert res.exit_code == 2 and "--kappas must be" in res.output


def test_demo_lists_runs_one_stage_and_refuses_an_unknown_one(tmp_path):
    res = invoke("demo", "--list")
    assert res.exit_code == 0 and all(name in res.output for name in ("lattice", "flow", "burn", "hydro", "atoms"))
    res = invoke("demo", "--only", "lattice", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    assert "reference" in res.output and "32.8" in res.output and "1/1 lattice" in res.output
    res = invoke("demo", "--only", "quasars", "--out", tmp_path / "demo")
    assert res.exit_code == 2 and "unknown demo stage(s) ['quasars']" in res.output
    res = invoke("demo", "--only", "atoms", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    assert "force_fd" in res.output and res.output.count("✗") >= 5  # the noisy control fails, the model does not
    assert "σ(E)(Δt) / σ(E)(Δt/2)" in res.output and "steps the model took (guard)" in res.output


@pytest.mark.slow
def test_the_whole_tour(tmp_path):
    """Every stage ends in its table against its reference (make demo, in a temporary directory)."""
    res = invoke("demo", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    for text in ("32.8", "free field", "implicit (reference)", "front speed", "force_fd", "tour: 9 stage(s)", "Hbeta",
                 "1.2393", "NGC4342"):
        assert text in res.output


def test_spectra_demo_stage_and_commands(tmp_path):
    res = invoke("demo", "--only", "spectra", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    assert "Hbeta" in res.output and "±15 %" in res.output and "SPT" in res.output and "±" in res.output
    res = invoke("spectra", "synth", "--teff", "4600", "--logg", "2.5", "--feh", "-0.5", "--snr", "30",
                 "--out", tmp_path / "s.fits", "--json")
    assert res.exit_code == 0, res.output
    from astropy.table import Table

    table = Table.read(tmp_path / "s.fits")
    assert len(table) == 3462 and table["wave"].unit == "Angstrom" and table.meta["FEH"] == -0.5
    res = invoke("spectra", "synth", "--teff", "4600", "--logg", "2.5", "--snr", "-1", "--out", tmp_path / "x.fits")
    assert res.exit_code == 2 and "--snr = -1 must be positive" in res.output
    res = invoke("spectra", "data", "--n", "40", "--out", tmp_path / "d", "--json")
    assert res.exit_code == 0 and '"test": {"spectra": 4' in res.output
    res = invoke("spectra", "train", "--data", tmp_path / "d", "--model", "rf", "--out", tmp_path / "rf", "--json")
    assert res.exit_code == 0, res.output
    res = invoke("spectra", "evaluate", "--data", tmp_path / "d", "--model", tmp_path / "rf", "--json")
    assert res.exit_code == 0 and '"coverage68"' in res.output
    res = invoke("spectra", "recalibrate", "--data", tmp_path / "d", "--model", tmp_path / "rf", "--json")
    assert res.exit_code == 0, res.output
    factors = json.loads(res.output)
    assert set(factors) == {"teff", "logg", "feh", "alpha", "mass", "age"}
    assert all(0.0 < row["factor68"] < row["factor95"] for row in factors.values())
    res = invoke("spectra", "evaluate", "--data", tmp_path / "nowhere", "--model", tmp_path / "rf")
    assert res.exit_code == 2 and "no spectra file" in res.output


def test_galaxies_demo_stage_and_morph_commands(tmp_path):
    res = invoke("demo", "--only", "galaxies", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    assert "0.0135" in res.output and "mdn" in res.output and "NGC4342" in res.output and "M32" in res.output
    res = invoke("galaxies", "morph", "simulate", "--n-train", "60", "--n-test", "30", "--out", tmp_path / "d",
                 "--json")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "d" / "examples.png").is_file()
    res = invoke("galaxies", "morph", "train", "--data", tmp_path / "d", "--model", "lecture", "--epochs", "1",
                 "--out", tmp_path / "m", "--json")
    assert res.exit_code == 0, res.output
    res = invoke("galaxies", "morph", "evaluate", "--data", tmp_path / "d", "--model", tmp_path / "m",
                 "--plots", tmp_path / "p", "--json")
    assert res.exit_code == 0 and '"confusion"' in res.output
    assert (tmp_path / "p" / "confusion_lecture_gri.png").is_file()
    res = invoke("galaxies", "morph", "evaluate", "--data", tmp_path / "d", "--model", tmp_path / "m")
    assert res.exit_code == 0 and "accuracy by SNR" in res.output and "accuracy by r_e" in res.output, res.output
    res = invoke("galaxies", "morph", "classify", "--model", tmp_path / "m", "--shipped", "hdf", "--json")
    assert res.exit_code == 0 and '"hdf0"' in res.output, res.output
    res = invoke("galaxies", "morph", "classify", "--model", tmp_path / "m", "--shipped", "m32")
    assert res.exit_code == 2 and "needs 3" in res.output and "--bands r" in res.output
    shipped_r = Path(lawful.__file__).parent / "galaxies" / "models" / "morph_r"
    res = invoke("galaxies", "morph", "classify", "--model", shipped_r, "--shipped", "ngc4342", "--r50", "4")
    assert res.exit_code == 0 and "field ends 21.7 px from the centre" in res.output and "--r50 ≥ 4.8" in res.output
    res = invoke("galaxies", "morph", "simulate", "--difficulty", "2", "--out", tmp_path / "x")
    assert res.exit_code == 2 and "difficulty" in res.output
