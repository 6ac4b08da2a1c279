"""Active learning runs its loop, labels what the committee flags with EMT, and resumes after the last iteration."""

import json

from ase.calculators.emt import EMT
from ase.io import read

from lawful.atoms.learn import LearnConfig, learn
from tests.atoms.conftest import TINY

SMALL = {"committee": 2, "train_steps": 30, "train_seconds": 600.0, "temperatures": [300.0, 2500.0],
         "strains": [0.0], "explore_steps": 40, "sample_every": 10, "max_select": 3, "target": 0.0,
         "train_set": {k: v for k, v in TINY.items() if k not in ("steps", "train_seconds")}}


def test_the_loop_labels_flagged_frames_and_resumes(cu_data, tmp_path):
    cfg = LearnConfig(data=cu_data, out=tmp_path, iterations=1, **SMALL)
    rows = learn(cfg, show_progress=False)
    assert len(rows) == 1 and rows[0]["explored"] == 8 and rows[0]["selected"] <= 3
    added = read(tmp_path / "iter_0" / "added.extxyz", ":")
    assert len(added) == rows[0]["selected"]
    for atoms in added:  # labels are EMT's
        ref = atoms.copy()
        ref.calc = EMT()
        assert abs(ref.get_potential_energy() - atoms.get_potential_energy()) < 1e-6
    more = learn(LearnConfig(data=cu_data, out=tmp_path, iterations=2, **SMALL), show_progress=False)
    assert more[0] == json.loads(json.dumps(rows[0])) and len(more) == 2
    assert more[1]["training_frames"] == rows[0]["training_frames"] + rows[0]["selected"]


def test_exploration_stages_parse_from_the_command_line():
    import pytest

    assert LearnConfig(temperatures="300,900", strains="[0, 0.06]").temperatures == [300.0, 900.0]
    with pytest.raises(ValueError, match="comma-separated numbers like 300,900, got '300,hot'"):
        LearnConfig(temperatures="300,hot")
