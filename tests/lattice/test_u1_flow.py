"""The gauge-equivariant U(1) flow: exact log-density (against autograd), invertibility, gauge invariance of q and
equivariance of the map; trained through `lawful lattice train --theory u1` and made exact by independence MH."""

import math

import numpy as np
import pytest
import torch

from lawful.lattice.analysis import analyze
from lawful.lattice.models import load_model
from lawful.lattice.sample import sample
from lawful.lattice.train import path_gradient_surrogate, train
from lawful.lattice.train_config import SampleConfig
from lawful.lattice.u1 import exact
from lawful.lattice.u1.action import U1, random_gauge
from lawful.lattice.u1.config import U1TrainConfig
from lawful.lattice.u1.flow import GaugeFlow, plaquettes, wrap


def _flow(size, n_layers=8, seed=0):
    torch.manual_seed(seed)
    f = GaugeFlow(size, n_layers=n_layers, hidden=(6,), kernel=3, bins=5).double()
    with torch.no_grad():  # the last layers start at zero (identity): random weights so that every layer acts
        for layer in f.layers:
            torch.nn.init.normal_(layer.net[-1].weight, std=0.5)
            torch.nn.init.normal_(layer.net[-1].bias, std=0.5)
    return f


def _uniform(n, size, seed):
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.rand((n, 2, size, size), generator=g, dtype=torch.float64) - 1) * math.pi


def test_log_density_matches_autograd_jacobian():
    f = _flow(4)
    z = _uniform(2, 4, 1)
    _, logq = f(z)
    for b in range(2):
        jac = torch.autograd.functional.jacobian(lambda zz: f(zz.reshape(1, 2, 4, 4))[0].reshape(-1), z[b].reshape(-1))
        expected = -32 * math.log(2 * math.pi) - torch.linalg.slogdet(jac)[1].item()
        assert logq[b].item() == pytest.approx(expected, abs=1e-9)


def test_inverse_recovers_the_prior_sample_and_its_density():
    f = _flow(8)
    z = _uniform(4, 8, 2)
    with torch.no_grad():
        theta, logq = f(z)
        # eight random (strong) layers inverted in turn amplify rounding to ~1e-6 of |log q| ~ 100
        torch.testing.assert_close(f.log_prob(theta), logq, atol=1e-5, rtol=0)
        back = theta
        for layer in reversed(f.layers):
            back, _ = layer.inverse(back)
    torch.testing.assert_close(torch.cos(back - z), torch.ones_like(z), atol=1e-8, rtol=0)


def test_density_is_gauge_invariant_and_the_map_gauge_equivariant():
    f = _flow(8)
    action = U1(8, 2.0)
    rng = np.random.default_rng(5)
    z = _uniform(3, 8, 3)
    gz = torch.as_tensor(random_gauge(z.reshape(3, -1).numpy(), action.lattice, rng)).reshape(z.shape)
    with torch.no_grad():
        theta, logq = f(z)
        g_theta, g_logq = f(gz)
        torch.testing.assert_close(g_logq, logq, atol=1e-9, rtol=0)
        # the images differ by a gauge transformation: same plaquettes, and log q of a transformed image agrees
        torch.testing.assert_close(torch.cos(plaquettes(g_theta) - plaquettes(theta)),
                                   torch.ones(3, 8, 8, dtype=torch.float64), atol=1e-9, rtol=0)
        moved = torch.as_tensor(random_gauge(theta.reshape(3, -1).numpy(), action.lattice, rng)).reshape(z.shape)
        torch.testing.assert_close(f.log_prob(wrap(moved)), logq, atol=1e-5, rtol=0)


def test_torch_action_matches_numba():
    action = U1(8, 1.7)
    theta = _uniform(3, 8, 4)
    np.testing.assert_allclose(action.action_torch(theta).numpy(), action.action(theta.reshape(3, -1).numpy()),
                               rtol=1e-12)


def test_path_gradient_is_the_total_gradient_less_the_score_term():
    # d/dθ [log q_θ(f_θ(z)) + S(f_θ(z))] = ∂_θ log q_θ(x)|_x + [∇_x (log q + S)] ∂_θ f_θ(z): the path gradient is
    # the second term, so it must equal the plain reparametrization gradient less the first
    f = _flow(4, n_layers=4)
    action = U1(4, 1.3)
    z = _uniform(16, 4, 7)

    def grads(loss):
        f.zero_grad()
        loss.backward()
        return torch.cat([p.grad.flatten() for p in f.parameters()])

    x, logq = f(z)
    total = grads((logq + action.action_torch(x)).mean())
    path = grads(path_gradient_surrogate(f, action, f(z)[0]))
    score = grads(f.log_prob(f(z)[0].detach()).mean())
    assert path.abs().max() > 1e-3  # the check is not empty
    torch.testing.assert_close(path, total - score, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("size", [6, 10])
def test_sizes_off_the_mask_period_are_refused(size):
    with pytest.raises(ValueError, match=f"L must be a multiple of 4, got {size}"):
        GaugeFlow(size)
    with pytest.raises(ValueError, match=f"multiple of 4, got {size}"):
        U1TrainConfig(size=size)


@pytest.fixture(scope="module")
def u1_flow_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("u1flow")
    train(U1TrainConfig(size=4, beta=1.0, n_layers=8, hidden=[8], train_steps=80, batch_size=32, out=out),
          show_progress=False)
    return out


def test_trained_flow_is_exact_behind_the_guard(u1_flow_dir, tmp_path):
    summary = sample(SampleConfig(model=u1_flow_dir, n=4000, n_chains=2, out=tmp_path / "c"), show_progress=False)
    assert summary.acceptance > 0.3 and summary.n_invalid == 0
    an = analyze(tmp_path / "c")
    assert an.beta == 1.0 and an.size == 4
    for key, want in (("plaquette", exact.mean_plaquette(1.0, 4)), ("Q2", exact.topological_susceptibility(1.0, 4)[0])):
        e = an.estimates[key]
        assert abs(e.value - want) < 4 * e.error, (key, e, want)


def test_mixed_with_hmc_is_exact(u1_flow_dir, tmp_path):
    sample(SampleConfig(model=u1_flow_dir, n=2000, n_chains=2, hmc_every=8, out=tmp_path / "m"), show_progress=False)
    e = analyze(tmp_path / "m").estimates["plaquette"]
    assert abs(e.value - exact.mean_plaquette(1.0, 4)) < 4 * e.error


def test_a_model_for_another_coupling_or_theory_is_refused(u1_flow_dir, tmp_path):
    with pytest.raises(ValueError, match="trained for beta=1.0, but beta=2.0 was asked for"):
        sample(SampleConfig(model=u1_flow_dir, beta=2.0, out=tmp_path / "x"), show_progress=False)
    with pytest.raises(ValueError, match="trained for the u1 theory, which has no kappa"):
        sample(SampleConfig(model=u1_flow_dir, kappa=0.2, out=tmp_path / "y"), show_progress=False)
    model, action, record = load_model(u1_flow_dir)
    assert isinstance(model, GaugeFlow) and action == U1(4, 1.0) and record["action"]["name"] == "u1"


def test_transfer_to_larger_beta_starts_from_the_trained_weights(u1_flow_dir, tmp_path):
    cfg = U1TrainConfig(size=4, beta=1.5, n_layers=8, hidden=[8], train_steps=0, init_from=u1_flow_dir,
                        out=tmp_path / "t")
    train(cfg, show_progress=False)
    a, _, _ = load_model(u1_flow_dir)
    b, _, _ = load_model(tmp_path / "t")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        torch.testing.assert_close(x, y, msg=name)
    with pytest.raises(ValueError, match="holds a flow with"):
        train(cfg.model_copy(update={"hidden": [4], "out": tmp_path / "u"}), show_progress=False)


def test_a_device_that_is_not_there_or_not_a_device_is_refused_before_work(tmp_path):
    with pytest.raises(ValueError, match="device"):
        U1TrainConfig(device="gpu")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    cfg = U1TrainConfig(size=4, beta=1.0, n_layers=8, hidden=[8], train_steps=5, device="cuda", out=tmp_path / "d")
    with pytest.raises(ValueError, match="device 'cuda' was asked for, but torch sees 0 CUDA device"):
        train(cfg, show_progress=False)
    assert not (tmp_path / "d" / "checkpoint.pt").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda_follows_the_cpu_training_and_saves_a_cpu_model(tmp_path):
    """Same seed, same prior draws (they stay on the CPU): after a few steps the weights agree to float32 rounding
    and the model file loads on the CPU."""
    kw = dict(size=8, beta=2.0, n_layers=8, hidden=[8], train_steps=5, batch_size=64)
    train(U1TrainConfig(**kw, out=tmp_path / "cpu"), show_progress=False)
    train(U1TrainConfig(**kw, device="cuda", out=tmp_path / "gpu"), show_progress=False)
    a, _, _ = load_model(tmp_path / "cpu")
    b, _, _ = load_model(tmp_path / "gpu")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert y.device.type == "cpu"
        torch.testing.assert_close(x, y, atol=1e-4, rtol=1e-3, msg=name)


def test_warm_start_fields_are_in_equilibrium_at_large_beta():
    """The warm start's fields (heat bath + over-relaxation + instanton moves from a hot start) at L = 8, β = 6:
    ⟨cos θ_P⟩ and ⟨Q²⟩ against the exact finite-volume values, Γ-method errors over the 64 chains."""
    from lawful.lattice.chain_analysis import gamma_estimate
    from lawful.lattice.train import equilibrium_fields
    from lawful.lattice.u1 import kernels

    action = U1(8, 6.0)
    fields = equilibrium_fields(action, 64 * 60, seed=3)
    m = action.measure(np.ascontiguousarray(fields))
    by_chain = m.reshape(60, 64, -1).transpose(1, 0, 2)  # record k of chain c is row 64 k + c
    for obs, want in ((by_chain[..., kernels.OBS_PLAQ], exact.mean_plaquette(6.0, 8)),
                      (by_chain[..., kernels.OBS_Q] ** 2, exact.topological_susceptibility(6.0, 8)[0])):
        e = gamma_estimate(obs)
        assert abs(e.value - want) < 4 * e.error, (e, want)


def test_link_augmentation_keeps_the_action_and_the_directions():
    """θ → ±θ and a lattice translation of links (B, 2, L, L): the action is unchanged, and the directions are not
    exchanged (rolling the direction axis too would change S of a field with Q ≠ 0 or anisotropic plaquettes)."""
    from lawful.lattice.train import _augment

    action = U1(8, 2.0)
    theta = torch.as_tensor(np.random.default_rng(0).uniform(-math.pi, math.pi, (16, 2, 8, 8)))
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        moved = _augment(theta, gen, first_axis=2)
        torch.testing.assert_close(action.action_torch(moved), action.action_torch(theta))
        mean_by_direction = lambda x: x.abs().mean(dim=(2, 3))  # noqa: E731
        torch.testing.assert_close(mean_by_direction(moved), mean_by_direction(theta))


def test_warm_start_by_forward_kl_raises_the_likelihood_of_equilibrium_fields(tmp_path):
    """A few forward-KL steps on the warm-start fields (kept in train_data.h5 with how they were made) raise the
    mean log q of fresh exact configurations above the untrained flow's."""
    import h5py

    from lawful.lattice.u1.samplers import ExactSampler

    cfg = U1TrainConfig(size=4, beta=3.0, n_layers=8, hidden=[8], train_steps=60, warm_start_steps=60, n_data=2048,
                        batch_size=64, out=tmp_path / "w")
    untrained = GaugeFlow(4, 8, (8,), 3, 8)
    train(cfg, show_progress=False)
    model, _, _ = load_model(cfg.out)
    fresh = torch.as_tensor(ExactSampler(U1(4, 3.0)).sample(512, np.random.default_rng(9))[0].reshape(512, 2, 4, 4),
                            dtype=torch.float32)
    with torch.no_grad():
        gain = (model.log_prob(fresh) - untrained.log_prob(fresh)).mean().item()
    assert gain > 5.0  # nats per configuration; the untrained flow is the uniform prior (last layers start at zero)
    with h5py.File(cfg.out / "train_data.h5", "r") as fh:
        assert fh["phi"].shape == (2048, 32) and "instanton" in fh.attrs["what"]
