"""``lawful burn surrogate generate|train|evaluate|export`` and ``lawful hydro run detonation --burner surrogate``
end to end on tiny settings (c12 network)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lawful.burn.surrogate.data import from_hydro
from lawful.cli.app import app

runner = CliRunner()
TINY = ["--network", "c12", "--n-trajectories", "4", "--trajectories-per-task", "2", "--pairs-per-trajectory", "8",
        "--set", "hydro_runs=['16:1e7']", "--held-out", "0.3"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("surrogate")
    r = runner.invoke(app, ["burn", "surrogate", "generate", *TINY, "--out", str(root / "data")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["burn", "surrogate", "train", "--data", str(root / "data"), "--steps", "40",
                            "--set", "hidden=[16]", "--detector-steps", "30", "--out", str(root / "model")])
    assert r.exit_code == 0, r.output
    return root


def test_generate_writes_both_sources_and_resumes(tiny):
    import h5py

    with h5py.File(tiny / "data" / "data.h5") as f:
        group, held = f["group"][()], f["held_out"][()]
        assert f.attrs["network"] == "c12" and f["X"].shape[1] == 3
        assert abs(f["X_new"][()].sum(axis=1) - 1).max() < 1e-10
    assert (~from_hydro(group)).any() and from_hydro(group).any() and held.any() and (~held).any()
    parts = sorted((tiny / "data" / "parts").iterdir())
    stamps = [p.stat().st_mtime_ns for p in parts]
    r = runner.invoke(app, ["burn", "surrogate", "generate", *TINY, "--out", str(tiny / "data")])
    assert r.exit_code == 0, r.output
    assert [p.stat().st_mtime_ns for p in parts] == stamps  # every part was reused, none recomputed
    r = runner.invoke(app, ["burn", "surrogate", "generate", *TINY, "--rho-max", "9e7", "--out", str(tiny / "data")])
    assert r.exit_code == 2 and "rho_max" in r.output


def test_hydro_samples_are_burned_at_the_data_tolerance(tiny):
    """The recorded detonation zone-steps are references at the configured rtol *and* atol (1e-8, 1e-12): a
    one-zone burn at that tolerance reproduces them. (The recorder once ran at the hydro default atol 1e-8; its
    end states then differed from this burn by up to 1e-7.)"""
    from lawful.burn.eos import StellarEOS
    from lawful.burn.integrate import burn
    from lawful.burn.network import Network
    from lawful.burn.surrogate import data as sdata

    d = sdata.load(tiny / "data")
    net = Network("c12")
    rows = np.flatnonzero(from_hydro(d["group"]))[:24]
    worst = 0.0
    for i in rows:
        r = burn(net, d["rho"][i], d["T"][i], d["X"][i], [d["dt"][i]], rtol=1e-8, atol=1e-12,
                 eos=StellarEOS(table=True))
        worst = max(worst, float(np.abs(r.X[0, -1] - d["X_new"][i]).max()))
    assert rows.size == 24 and worst < 1e-12


def test_evaluate_json_and_export(tiny):
    r = runner.invoke(app, ["burn", "surrogate", "evaluate", "--model", str(tiny / "model"),
                            "--data", str(tiny / "data"), "--speed-run", "64:1.5e7", "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert {"median_rel_err", "p99_rel_err", "max_sum_residual", "surrogate_fraction", "speedup"} <= set(s)
    assert s["speed_calls"] > 0 and s["speed_zones_per_call"] > 1  # the calls of a 64-zone detonation
    r = runner.invoke(app, ["burn", "surrogate", "evaluate", "--model", str(tiny / "model"),
                            "--data", str(tiny / "data"), "--speed-run", "64"])
    assert r.exit_code == 2 and "expected ZONES:RHO" in r.output
    assert s["max_sum_residual"] <= 1e-12 and s["min_X"] >= 0.0 and 0.0 <= s["surrogate_fraction"] <= 1.0
    r = runner.invoke(app, ["burn", "surrogate", "evaluate", "--model", str(tiny / "model"),
                            "--data", str(tiny / "data"), "--error-limit", "1e6", "--speed-run", "held-out", "--json"])
    assert r.exit_code == 0, r.output
    loose = json.loads(r.output)  # a limit no prediction of the detector reaches: it refuses nothing
    assert loose["failed"]["error"] == 0 and loose["surrogate_fraction"] >= s["surrogate_fraction"]
    decades = s["by_density_decade"]
    assert sum(row["zones"] for row in decades.values()) == s["held_out"]
    r = runner.invoke(app, ["burn", "surrogate", "evaluate", "--model", str(tiny / "model"),
                            "--data", str(tiny / "data"), "--speed-run", "held-out"])
    assert r.exit_code == 0, r.output
    assert "per density decade" in r.output and all(f"│ {k} │" in r.output for k in decades)
    r = runner.invoke(app, ["burn", "surrogate", "evaluate", "--model", str(tiny / "model"),
                            "--data", str(tiny / "data"), "--error-limit", "-1"])
    assert r.exit_code == 2 and "positive finite" in r.output
    r = runner.invoke(app, ["burn", "surrogate", "export", "--model", str(tiny / "model")])
    assert r.exit_code == 0 and (tiny / "model" / "surrogate.ts").exists()


def test_train_resumes_from_its_checkpoint(tiny):
    import torch

    r = runner.invoke(app, ["burn", "surrogate", "train", "--data", str(tiny / "data"), "--steps", "60",
                            "--set", "hidden=[16]", "--detector-steps", "30", "--out", str(tiny / "model")])
    assert r.exit_code == 0, r.output
    record = torch.load(tiny / "model" / "model.pt", weights_only=True)
    assert record["train"]["steps"] == 60 and len(record["train"]["history"]) == 0  # 40 + 20, logged every 100
    assert record["guard"]["T_skip"] > 0  # measured on the finished guard (inf: nothing to skip)
    # a finished run, rerun with another error limit: the same net, a refitted detector with the new limit
    r = runner.invoke(app, ["burn", "surrogate", "train", "--data", str(tiny / "data"), "--steps", "60",
                            "--set", "hidden=[16]", "--detector-steps", "30", "--error-limit", "3",
                            "--out", str(tiny / "model")])
    assert r.exit_code == 0, r.output
    again = torch.load(tiny / "model" / "model.pt", weights_only=True)
    assert again["guard"]["error"] == pytest.approx(np.log10(3.0)) and record["guard"]["error"] == 0.0
    assert all(torch.equal(again["state_dict"][k], v) for k, v in record["state_dict"].items())
    r = runner.invoke(app, ["burn", "surrogate", "train", "--data", str(tiny / "data"), "--steps", "60",
                            "--set", "hidden=[32]", "--out", str(tiny / "model")])
    assert r.exit_code == 2 and "hidden" in r.output


def test_a_substepped_predictor_is_trained_stored_and_used(tiny, tmp_path):
    import torch

    r = runner.invoke(app, ["burn", "surrogate", "train", "--data", str(tiny / "data"), "--steps", "20",
                            "--set", "hidden=[16]", "--detector-steps", "20", "--predictor-substeps", "2",
                            "--out", str(tmp_path / "k2")])
    assert r.exit_code == 0, r.output
    assert torch.load(tmp_path / "k2" / "model.pt", weights_only=True)["predictor_substeps"] == 2
    r = runner.invoke(app, ["burn", "surrogate", "evaluate", "--model", str(tmp_path / "k2"),
                            "--data", str(tiny / "data"), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["max_sum_residual"] <= 1e-12
    r = runner.invoke(app, ["burn", "surrogate", "train", "--data", str(tiny / "data"), "--steps", "20",
                            "--set", "hidden=[16]", "--predictor-substeps", "3", "--out", str(tmp_path / "k2")])
    assert r.exit_code == 2 and "predictor_substeps" in r.output  # the net was fitted to another predictor


def test_hydro_detonation_with_the_surrogate_burner(tiny, tmp_path):
    args = ["hydro", "run", "detonation", "--burner", "surrogate", "--model", str(tiny / "model"), "--n", "32",
            "--set", "network=c12", "--set", "tmax=2e-3", "--json"]
    r = runner.invoke(app, args + ["--out", str(tmp_path / "det")])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert 0.0 <= s["surrogate_fraction"] <= 1.0 and s["burn_zone_steps"] > 0
    assert np.isfinite(s["nuclear_energy_released"]) and s["nuclear_energy_released"] > 0
    again = runner.invoke(app, args + ["--out", str(tmp_path / "det")])  # the run is complete: nothing to redo
    assert again.exit_code == 0, again.output
    s2 = json.loads(again.output)
    for key in ("steps", "seconds", "zone_updates_per_second", "burn_fraction_of_time", "burn_zone_steps",
                "nuclear_energy_released", "surrogate_fraction", "surrogate_failed"):
        assert s2[key] == s[key], key  # what the stored run measured, not zeros from the rerun
    r = runner.invoke(app, args[:-1] + ["--set", "network=aprox13", "--out", str(tmp_path / "wrong")])
    assert r.exit_code == 2 and "trained for network c12" in r.output
    # an error limit no zone meets: the detector sends every zone the physics checks accept to the implicit path
    r = runner.invoke(app, args + ["--set", "burn_error_limit=1e-12", "--out", str(tmp_path / "strict")])
    assert r.exit_code == 0, r.output
    strict = json.loads(r.output)
    assert strict["surrogate_fraction"] == 0.0 and strict["surrogate_failed"]["error"] > 0
    # the surrogate's keys with another burner: refused, not ignored
    r = runner.invoke(app, ["hydro", "run", "detonation", "--burner", "implicit", "--set", "network=c12",
                            "--set", "burn_error_limit=2", "--out", str(tmp_path / "mixed")])
    assert r.exit_code == 2 and "burn_error_limit" in r.output and "'implicit'" in r.output
