"""The atoms verbs end to end through the CLI: --json keys, bad input as a clear message with exit code 2."""

import json

import torch

from tests.helpers import invoke


def last_json(output: str):
    return json.loads(output.strip().splitlines()[-1])


def test_train_json_and_a_refused_flag(cu_data, tmp_path):
    res = invoke("atoms", "train", "--data", cu_data, "--out", tmp_path / "m", "--steps", 5, "--embed", "8,16",
                 "--fit", "16,16", "--axis", 4, "--rcut", 5.0, "--json")
    assert res.exit_code == 0, res.output
    s = last_json(res.output)
    assert s["steps"] == [5] and s["force_rmse_mev_a"] > 0
    res = invoke("atoms", "train", "--data", cu_data, "--out", tmp_path / "x", "--dtype", "float16")
    assert res.exit_code == 2 and "dtype" in res.output


def test_md_json_keys(committee, tmp_path):
    res = invoke("atoms", "md", "--model", committee, "--supercell", 2, "--a0", 3.59, "--time", 0.04,
                 "--equilibrate", 0.01, "--check-time", 0.02, "--reference", "emt", "--out", tmp_path, "--json")
    assert res.exit_code == 0, res.output
    s = last_json(res.output)
    assert {"drift_mev_atom_ps", "drift_err", "sigma_e_mev_atom", "guarded_share"} <= set(s)


def test_export_writes_a_torchscript_file(committee, tmp_path):
    res = invoke("atoms", "export", "--model", committee, "--out", tmp_path / "m.ts")
    assert res.exit_code == 0, res.output
    assert torch.jit.load(tmp_path / "m.ts").species == [29]
    res = invoke("atoms", "export", "--model", tmp_path / "missing", "--out", tmp_path / "n.ts")
    assert res.exit_code == 2 and "no such model file" in res.output
