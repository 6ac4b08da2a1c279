"""Shared atoms fixtures: a small EMT data set and a small committee trained on it (seconds each)."""

import pytest

TINY = {"steps": 60, "batch_size": 2, "embed": [8, 16], "axis": 4, "fit": [16, 16], "eval_every": 20,
        "rcut": 5.0, "rcut_smth": 2.0, "train_seconds": 600.0}


@pytest.fixture(scope="session")
def cu_data(tmp_path_factory):
    from lawful.atoms.data import DataConfig, generate

    cfg = DataConfig(n_configs=16, n_shift=3, md_steps=30, out=tmp_path_factory.mktemp("cu_data"))
    generate(cfg)
    return cfg.out


@pytest.fixture(scope="session")
def committee(cu_data, tmp_path_factory):
    """A 2-member committee (float64) trained briefly on ``cu_data``: its model.pt path."""
    from lawful.atoms.train import TrainConfig, train

    cfg = TrainConfig(data=cu_data, out=tmp_path_factory.mktemp("committee"), committee=2, dtype="float64", **TINY)
    return train(cfg, show_progress=False)
