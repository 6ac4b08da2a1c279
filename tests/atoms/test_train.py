"""Training: an interrupted run resumes bitwise; a time budget runs the whole learning-rate schedule; two
data-parallel processes reproduce one process's loss history; labels under other keys train; missing labels are
refused by file, frame and key; the committee's guard and ``evaluate`` report what the issue asks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.io import read, write

from lawful.atoms.potential import load
from lawful.atoms.train import TrainConfig, train
from tests.atoms.conftest import TINY
from tests.helpers import invoke, stop_at


def weights(path):
    return torch.load(path, weights_only=True)["members"]


def test_interrupted_training_resumes_bitwise(cu_data, tmp_path):
    cfg = {**TINY, "steps": 30, "committee": 2}
    a = train(TrainConfig(data=cu_data, out=tmp_path / "a", **cfg), show_progress=False)
    with pytest.raises(KeyboardInterrupt):  # inside member 1: member 0 is finished, member 1 half-way
        train(TrainConfig(data=cu_data, out=tmp_path / "b", **cfg), show_progress=False,
              on_step=lambda s, calls=iter(range(100)): stop_at(45)(next(calls)))
    b = train(TrainConfig(data=cu_data, out=tmp_path / "b", **cfg), show_progress=False)
    for ma, mb in zip(weights(a), weights(b)):
        for k in ma:
            assert torch.equal(ma[k], mb[k]), k


def test_a_time_budget_runs_the_whole_schedule(cu_data, tmp_path):
    cfg = TrainConfig(data=cu_data, out=tmp_path, **{**TINY, "steps": 10**7, "train_seconds": 4.0, "eval_every": 5})
    path = train(cfg, show_progress=False)
    hist = torch.load(path, weights_only=True)["record"]["histories"][0]
    assert hist[-1]["step"] < 10**7
    # the last recorded rate is near lr_stop (within a few % of the log range), not half-way down
    assert np.log(hist[-1]["lr"] / cfg.lr_stop) < 0.1 * np.log(cfg.lr / cfg.lr_stop)


def test_two_processes_reproduce_one(cu_data, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, torch\nfrom lawful.atoms.train import TrainConfig, train\n"
        f"cfg = TrainConfig(data={str(cu_data)!r}, out=sys.argv[1], steps=6, eval_every=1, batch_size=4, "
        "embed=[8, 16], axis=4, fit=[16, 16], rcut=5.0)\ntrain(cfg, show_progress=False)\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, str(script), str(tmp_path / "one")], check=True, env=env)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                    str(script), str(tmp_path / "two")], check=True, env=env, capture_output=True)
    h1 = torch.load(tmp_path / "one" / "model.pt", weights_only=True)["record"]["histories"][0]
    h2 = torch.load(tmp_path / "two" / "model.pt", weights_only=True)["record"]["histories"][0]
    assert len(h1) == len(h2) == 6
    for r1, r2 in zip(h1, h2):
        np.testing.assert_allclose(r2["train"], r1["train"], rtol=1e-4)
        assert r2["force_rmse_mev_a"] == pytest.approx(r1["force_rmse_mev_a"], rel=1e-4)


def test_labels_under_other_keys_train_and_missing_ones_are_named(cu_data, tmp_path):
    frames = read(Path(cu_data) / "train.extxyz", ":")
    for f in frames:
        f.info["REF_energy"] = f.get_potential_energy()
        f.arrays["REF_forces"] = f.get_forces()
        f.info["REF_stress"] = f.get_stress(voigt=False)
        f.calc = None
    write(tmp_path / "mine.extxyz", frames)
    keys = {"energy_key": "REF_energy", "forces_key": "REF_forces", "stress_key": "REF_stress"}
    path = train(TrainConfig(data=tmp_path / "mine.extxyz", out=tmp_path / "m", **{**TINY, "steps": 3}, **keys),
                 show_progress=False)
    assert load(path).species == [29]
    del frames[4].arrays["REF_forces"]
    write(tmp_path / "broken.extxyz", frames)
    with pytest.raises(ValueError, match=r"broken.extxyz, frame 4: no forces under key 'REF_forces'"):
        train(TrainConfig(data=tmp_path / "broken.extxyz", out=tmp_path / "b", **TINY, **keys), show_progress=False)
    assert not (tmp_path / "b" / "checkpoint.pt").exists()


def test_committee_guard_is_calibrated_and_flags_the_shift_sets(committee, cu_data):
    from lawful.atoms.guard import GuardedCalculator, OutOfDomain

    p = load(committee)
    g = p.guard
    assert len(p.members) == 2 and g["threshold"] > 0 and g["scale"] > 0
    melt = read(Path(cu_data) / "shift_melt.extxyz", ":")
    calc = GuardedCalculator(p, on_flag="raise")
    scores = []
    for atoms in melt:
        atoms.calc = calc
        try:
            atoms.get_forces()
        except OutOfDomain:
            pass
        scores.append(calc.last_score)
    assert calc.calls == len(melt) and calc.flagged == sum(s > g["threshold"] for s in scores)
    assert np.median(scores) > np.median(g["validation_scores"])  # the melt is further out than validation


def test_evaluate_reports_errors_properties_and_the_guard(committee, cu_data):
    result = invoke("atoms", "evaluate", "--model", committee, "--data", cu_data, "--json")
    assert result.exit_code == 0, result.output
    s = json.loads(result.output.strip().splitlines()[-1])
    for key in ("energy_rmse_mev_atom", "force_rmse_mev_a", "force_rmse_rel", "stress_rmse_gpa"):
        assert np.isfinite(s["model"][key]), key
    for key in ("a0", "B_gpa", "C11_gpa", "C12_gpa", "C44_gpa", "vacancy_ev"):  # a 60-step model may have no minimum
        assert np.isfinite(s["model"][key]) or any(w in s["model"]["failed"] for w in ("no minimum", "no Birch"))
        assert np.isfinite(s["reference"][key])
    assert s["reference"]["a0"] == pytest.approx(3.5898, abs=1e-3)
    assert set(s["guard"]["sets"]) == {"in_domain", "hot", "strain", "vacancy", "surface", "melt"}
    assert 0.0 <= s["guard"]["auc"] <= 1.0
