"""``lawful lattice train`` and ``lawful lattice sample`` as a user meets them: the issue's commands, JSON,
the chain read by ``analyze``, and bad input refused before any work."""

import json

from typer.testing import CliRunner

from lawful.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_train_sample_analyze(tmp_path):
    out = tmp_path / "flow4"
    res = invoke("lattice", "train", "--sampler", "flow", "--dim", 2, "--size", 4, "--kappa", 0.25, "--lam", 0.5,
                 "--out", out, "--train-steps", 30, "--train-seconds", 600, "--seed", 1, "--hidden", "8",
                 "--n-layers", 4, "--warm-start-steps", 10, "--n-data", 256)
    assert res.exit_code == 0, res.output
    assert "optimizer steps" in res.output and (out / "model.pt").is_file()
    res = invoke("lattice", "train", "--sampler", "flow", "--dim", 2, "--size", 4, "--kappa", 0.25, "--lam", 0.5,
                 "--out", out, "--train-steps", 40, "--seed", 1, "--hidden", "8", "--n-layers", 4, "--json",
                 "--warm-start-steps", 10, "--n-data", 256)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["steps"] == 40 and summary["new_steps"] == 10  # resumed and extended
    res = invoke("lattice", "sample", "--model", out, "--n", 2000, "--out", out / "chain", "--no-plots")
    assert res.exit_code == 0, res.output
    assert "acceptance" in res.output and "ESS/N" in res.output
    res = invoke("lattice", "analyze", out / "chain", "--json", "--no-plots")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert 0 < data["ess_per_sample"] <= 1 and data["chi"][1] > 0 and data["n_used"] == 2000


def test_bad_input_is_refused(tmp_path):
    cases = [
        (("lattice", "train", "--size", 5, "--out", tmp_path / "a"), "even lattice size"),
        (("lattice", "train", "--sampler", "gan", "--out", tmp_path / "b"), "sampler"),
        (("lattice", "train", "--hidden", "8,x", "--out", tmp_path / "c"), "comma-separated integers"),
        (("lattice", "sample", "--model", tmp_path / "none"), "no trained model"),
    ]
    for args, message in cases:
        res = invoke(*args)
        assert res.exit_code == 2, res.output
        assert message in res.output, res.output
    out = tmp_path / "m"
    assert invoke("lattice", "train", "--size", 4, "--train-steps", 2, "--hidden", "4", "--n-layers", 2,
                  "--warm-start-steps", 0, "--out", out).exit_code == 0
    res = invoke("lattice", "sample", "--model", out, "--size", 8, "--n", 10)
    assert res.exit_code == 2 and "trained for size=4" in res.output, res.output
    assert not (out / "chain").exists()
