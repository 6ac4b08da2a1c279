"""Model files: round trip and refusals, TorchScript export of the step and of the error detector."""

import numpy as np
import pytest
import torch

from lawful.burn.surrogate import store
from lawful.burn.surrogate.guard import propose
from lawful.burn.surrogate.predictor import Prediction
from lawful.testing.surrogates import random_zones
from tests.burn.surrogate.helpers import EOS, tiny_model


def test_store_roundtrip_and_refusals(aprox13, c12net, tmp_path):
    rng = np.random.default_rng(1)
    path = tiny_model(aprox13, tmp_path / "m", rng)
    loaded = store.load(path, aprox13)
    assert loaded.network == "aprox13" and loaded.step.mean.dtype == torch.float64
    with pytest.raises(ValueError, match="trained for network aprox13"):
        store.load(path, c12net)
    record = torch.load(path / "model.pt", weights_only=True)
    del record["state_dict"]["mean"]
    torch.save(record, tmp_path / "nonorm.pt")
    with pytest.raises(ValueError, match="normalization"):
        store.load(tmp_path / "nonorm.pt", aprox13)
    record = torch.load(path / "model.pt", weights_only=True)
    del record["predictor_substeps"]  # a file from before the setting: one step
    torch.save(record, tmp_path / "old.pt")
    assert loaded.substeps == 1 and store.load(tmp_path / "old.pt", aprox13).substeps == 1
    record["predictor_substeps"] = 3
    torch.save(record, tmp_path / "k3.pt")
    assert store.load(tmp_path / "k3.pt", aprox13).substeps == 3
    record["predictor_substeps"] = 0
    torch.save(record, tmp_path / "k0.pt")
    with pytest.raises(ValueError, match="predictor_substeps"):
        store.load(tmp_path / "k0.pt", aprox13)
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a lawful burn surrogate"):
        store.load(tmp_path / "junk.pt", aprox13)
    with pytest.raises(FileNotFoundError, match="no surrogate model"):
        store.load(tmp_path / "absent", aprox13)


def test_torchscript_export_gives_the_same_outputs(aprox13, tmp_path):
    rng = np.random.default_rng(2)
    loaded = store.load(tiny_model(aprox13, tmp_path / "m", rng), aprox13)
    path = store.export_torchscript(loaded)
    ts = torch.jit.load(str(path))
    rho, T, X, dt = random_zones(aprox13, 300, rng, zeros=False)  # another batch size than the trace example
    pred = Prediction(aprox13, EOS.options(), rho, T, X, dt)
    args = [torch.as_tensor(a) for a in (rho, T, X, dt, pred.dX, pred.eX)]
    with torch.no_grad():
        assert 0 < loaded.step.trusted(args[4], args[5]).sum() < 300  # both branches of the selection are taken
        for a, b in zip(loaded.step(*args), ts(*args)):
            assert torch.equal(a, b)


def test_detector_export_gives_the_same_outputs(aprox13, tmp_path):
    """A detector with random weights, traced to TorchScript, gives its module's outputs bitwise, at another batch
    size than the trace's; a model without a detector has none to export."""
    import dataclasses

    from lawful.burn.surrogate.detector import build_detector

    rng = np.random.default_rng(9)
    path = tiny_model(aprox13, tmp_path / "m", rng)
    plain = store.load(path, aprox13)
    rho, T, X, _ = random_zones(aprox13, 150, rng, T=(2e9, 3e9), zeros=False)
    f = propose(plain, aprox13, EOS.options(), rho, T, X, np.full(150, 1e-6), features=True).features
    f = torch.as_tensor(f[np.isfinite(f).all(axis=1)], dtype=torch.float32)
    torch.manual_seed(0)
    det = build_detector(f.shape[1]).eval()
    with torch.no_grad():
        det.mean.copy_(f.mean(0))
        det.scale.copy_(f.std(0) + 1e-6)
    ts = torch.jit.load(str(store.export_detector(dataclasses.replace(plain, detector=det))))
    with torch.no_grad():
        assert f.shape[0] >= 10 and torch.equal(ts(f), det(f)) and det(f).std() > 0
    with pytest.raises(ValueError, match="no error detector to export"):
        store.export_detector(plain)


@pytest.mark.parametrize("name", ["aprox13", "c12"])
def test_the_configs_that_rebuild_a_shipped_model_are_the_ones_it_was_trained_with(name):
    """``make surrogates`` rebuilds each shipped model from the generate.toml and train.toml beside it: both
    validate, and every train key matches the config stored in the model (a key the model predates: its
    default)."""
    import tomllib

    from lawful.burn.network import Network
    from lawful.burn.surrogate.config import GenerateConfig, SurrogateTrainConfig

    folder = store.shipped_dir(name)
    gen = GenerateConfig(**tomllib.loads((folder / "generate.toml").read_text()))
    train = tomllib.loads((folder / "train.toml").read_text())
    SurrogateTrainConfig(**train)
    stored = SurrogateTrainConfig(**{k: v for k, v in tomllib.loads(store.load(None, Network(name)).record["config"])
                                     .items() if k not in ("data", "out")})
    assert gen.network == name
    assert {k: getattr(stored, k) for k in train} == train
