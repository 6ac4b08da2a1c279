"""Masked pixels: the fill a model reads there, and the random masks networks train on (lawful.spectra.masking)."""

import numpy as np
import pytest
import torch

from lawful.spectra.data import load_split


def test_random_masks_cover_the_asked_fraction_and_both_ends_like_the_middle():
    """20 000 draws at mask_prob 0.5: the fraction of masked spectra is 0.5 and the first, middle and last
    pixels are masked equally often (binomial, 4.5σ); a masked spectrum loses between 4 pixels and three
    400-pixel bands plus 5 % of the rest; mask_prob 0 masks nothing."""
    from lawful.spectra.masking import BAND_WIDTHS, MAX_BANDS, MAX_SCATTERED, random_masks

    n, width = 20000, 3462
    masks = random_masks(n, width, 0.5, torch.Generator().manual_seed(0))
    rows = masks.any(dim=1)
    assert abs(rows.double().mean().item() - 0.5) < 4.5 * np.sqrt(0.25 / n)
    ends = masks[:, [0, width // 2, width - 1]].double().mean(dim=0).numpy()
    assert np.ptp(ends) < 2 * 4.5 * np.sqrt(ends.mean() / n)
    lost = masks[rows].sum(dim=1)
    assert lost.min() >= 1 and lost.max() <= MAX_BANDS * BAND_WIDTHS[1] + 1.3 * MAX_SCATTERED * width
    assert not random_masks(100, width, 0.0, torch.Generator().manual_seed(0)).any()


def test_a_network_reads_a_masked_pixel_as_the_training_mean(small_data, tmp_path):
    """Masking pixels (ivar = 0) whose flux is set to the network's training mean gives exactly the labels and σ
    of the same spectrum unmasked: a masked pixel is read as 'no signal' (standardised 0), not as continuum; a
    forest still reads the continuum, 1."""
    from lawful.spectra.evaluate import load_model, predict
    from lawful.spectra.masking import fill_values
    from lawful.spectra.train import TrainConfig, train

    train(TrainConfig(model="spt", loss="gaussian", epochs=1, mc_samples=5), small_data, tmp_path / "spt",
          log=lambda *a: None)
    state = load_model(tmp_path / "spt")
    fill = fill_values(state)
    assert fill.shape == (3462,) and np.ptp(fill) > 0.1  # the mean spectrum has lines
    test = load_split(small_data, "test")
    flux, ivar = test["flux"].copy(), test["ivar"].copy()
    flux[:, 100:300] = fill[100:300]
    masked_ivar = ivar.copy()
    masked_ivar[:, 100:300] = 0.0
    plain, masked = predict(state, flux, ivar), predict(state, flux, masked_ivar)
    assert (masked["masked"] == 200).all() and (plain["masked"] == 0).all()
    np.testing.assert_array_equal(masked["mean"], plain["mean"])
    np.testing.assert_array_equal(masked["sigma_std"], plain["sigma_std"])
    assert fill_values({"kind": "rf", "classical": None}) == 1.0


def test_masked_training_inputs_hold_the_training_mean(small_data, tmp_path, monkeypatch):
    """With mask_prob = 0.5 about half of the training inputs (binomial, 4.5σ) have pixels equal to the training
    mean flux — the fill a masked pixel gets at inference — and the others none; mask_prob must lie in [0, 1], and
    the classical models take none."""
    import lawful.spectra.train as train_module

    seen, nets = [], []
    build = train_module.build_network

    def recording(*args):
        net = build(*args)
        nets.append(net)
        net.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0].clone()) if mod.training else None)
        return net

    monkeypatch.setattr(train_module, "build_network", recording)
    train_module.train(train_module.TrainConfig(model="mlp", epochs=2, batch=64, mask_prob=0.5), small_data,
                       tmp_path / "m", log=lambda *a: None)
    inputs = torch.cat(seen)
    filled = inputs == nets[0][0].mean
    share = filled.any(dim=1).double().mean().item()
    assert abs(share - 0.5) < 4.5 * np.sqrt(0.25 / len(inputs))
    with pytest.raises(ValueError, match="mask_prob"):
        train_module.TrainConfig(mask_prob=1.5)
    assert train_module.TrainConfig(model="rf").mask_prob == 0.0
    with pytest.raises(ValueError, match="mask_prob = 0.2 .*'gbm'"):
        train_module.TrainConfig(model="gbm", mask_prob=0.2)
