"""Helpers shared by the surrogate tests: the EOS, steps with wild weights, a tiny stored model, a constant
error detector, a step from a model file."""

import torch

from lawful.burn.eos import StellarEOS
from lawful.burn.surrogate import store
from lawful.burn.surrogate.model import build_step, domain_of, feature_stats
from lawful.burn.surrogate.predictor import predict
from lawful.testing.surrogates import random_zones

EOS = StellarEOS(table=True)


def wild_step(net, seed):
    """A step with random, deliberately large weights: bookkeeping must hold whatever the weights are."""
    torch.manual_seed(seed)
    step = build_step(len(net.names), [32, 32])
    with torch.no_grad():
        for p in step.parameters():
            p.normal_(0.0, 1.0)
        step.A.copy_(torch.as_tensor(net.A))
        step.binding.copy_(torch.as_tensor(net.binding))
    return step.double().eval()


def tiny_model(net, tmp_path, rng):
    step = wild_step(net, 0).float()
    rho, T, X, dt = random_zones(net, 200, rng, zeros=False)
    feature_stats(step, rho, T, X, dt, predict(net, EOS.options(), rho, T, X, dt)[0])
    step.trust.fill_(1e-3)  # the predictor alone where its error estimate is below 1e-3 of its step
    store.save(tmp_path, step, net, domain=domain_of(rho, T, dt), guard={"residual": 0.5, "clip": 1e-6,
                                                                         "T_ash_max": 6.5e9},
               train={}, config_toml="")
    return tmp_path


def constant_detector(n_features, value):
    from lawful.burn.surrogate.detector import build_detector

    det = build_detector(n_features)
    with torch.no_grad():
        for p in det.mlp.parameters():
            p.zero_()
        det.mlp[-1].bias.fill_(value)
    return det


def record_step(record, net):
    """The step stored in a model file's ``record`` (as ``torch.load`` reads it) for ``net``."""
    step = build_step(len(net.names), list(record["hidden"]))
    step.load_state_dict(record["state_dict"])
    return step
