"""``lawful burn cell|batch`` as a user meets them: the issue's commands, JSON keys, HDF5 batch, bad input."""

import json

import h5py
import numpy as np
import pytest

from lawful.burn.batch import write_states
from lawful.burn.integrate import burn
from lawful.burn.network import Network
from tests.helpers import invoke


def test_cell_issue_command_json():
    res = invoke("burn", "cell", "--network", "aprox13", "--rho", 1e6, "--T", 3e9, "--X", "he4=1", "--tmax", 1e-2,
                 "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"T", "X", "enuc", "steps", "status"} <= set(data)
    assert data["status"] == "SUCCESS" and data["steps"] > 0
    assert abs(sum(data["X"].values()) - 1) < 1e-12
    assert 3.1e9 < data["T"] < 3.25e9 and data["enuc"] > 0


def test_cell_fixed_T_table_and_plot(tmp_path):
    res = invoke("burn", "cell", "--network", "c12", "--rho", 1e8, "--T", 1.5e9, "--X", "c12=0.5,o16=0.5",
                 "--tmax", 1.0, "--fixed-T", "--plot", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    assert "mg24" in res.output and "fixed T" in res.output and "status SUCCESS" in res.output
    assert (tmp_path / "burn_cell.png").is_file()


@pytest.mark.parametrize("args,message", [
    (["--X", "he4=0.5,c12=0.4"], "sum to 0.9"),
    (["--X", "he4=1.2,c12=-0.2"], "-0.2"),
    (["--X", "fe56=1"], "fe56"),
    (["--X", "he4"], "name=value"),
    (["--rho", "-1e6"], "rho"),
    (["--T", "0"], "T"),
    (["--T", "1e12"], "T = 1e\\+12"),
    (["--network", "aprox19"], "network"),
])
def test_cell_bad_input(args, message):
    res = invoke("burn", "cell", *args)
    assert res.exit_code == 2, res.output
    assert "error:" in res.output
    import re
    assert re.search(message, res.output), res.output


def test_batch_matches_direct_burns(tmp_path):
    net = Network("aprox13")
    rng = np.random.default_rng(2)
    N = 12
    rho = 10 ** rng.uniform(6, 8, N)
    T = rng.uniform(3e9, 5e9, N)
    Xco = np.zeros((N, 2)) + 0.5  # input columns may be any subset of the network, in any order
    write_states(tmp_path / "states.h5", rho, T, Xco, ["o16", "c12"])
    res = invoke("burn", "batch", "--input", tmp_path / "states.h5", "--dt", 1e-6, "--out", tmp_path / "out.h5",
                 "--chunk", 5, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["zones"] == N and summary["status"] == {"SUCCESS": N}
    X0 = np.zeros((N, 13))
    X0[:, net.names.index("c12")] = X0[:, net.names.index("o16")] = 0.5
    direct = burn(net, rho, T, X0, [1e-6])
    with h5py.File(tmp_path / "out.h5") as f:
        np.testing.assert_array_equal(f["X"][()], direct.X[:, -1])
        np.testing.assert_array_equal(f["T"][()], direct.T[:, -1])
        assert list(f.attrs["names"]) == list(net.names)
        assert "git_hash" in f.attrs and "config" in " ".join(f.attrs)


def test_batch_bad_input(tmp_path):
    write_states(tmp_path / "bad.h5", [1e7], [3e9], [[0.5, 0.5]], ["c12", "xx99"])
    res = invoke("burn", "batch", "--input", tmp_path / "bad.h5", "--out", tmp_path / "o.h5")
    assert res.exit_code == 2 and "xx99" in res.output
    res = invoke("burn", "batch", "--input", tmp_path / "missing.h5", "--out", tmp_path / "o.h5")
    assert res.exit_code == 2 and "does not exist" in res.output
    assert not (tmp_path / "o.h5").exists()


def test_burn_help_lists_the_issue_flags():
    text = invoke("burn", "cell", "--help").output
    for flag in ("--network", "--rho", "--T", "--X", "--tmax", "--fixed-T", "--json", "--plot", "--screen"):
        assert flag in text
    text = invoke("burn", "batch", "--help").output
    for flag in ("--input", "--dt", "--out", "--scheduler"):
        assert flag in text


def test_cell_with_eos_table_agrees_with_direct_eos():
    base = ["burn", "cell", "--rho", 1e6, "--T", 3e9, "--X", "he4=1", "--tmax", 1e-3, "--rtol", 1e-8, "--json"]
    direct = json.loads(invoke(*base).output)
    tabled = json.loads(invoke(*base, "--eos-table").output)
    # c_v agrees to ~1e-6, so the self-heated temperature does too
    assert tabled["T"] == pytest.approx(direct["T"], rel=1e-6)
    assert tabled["X"]["ni56"] == pytest.approx(direct["X"]["ni56"], rel=1e-4)
