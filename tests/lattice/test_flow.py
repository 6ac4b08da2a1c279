"""Real-NVP flow: exact log-density (against autograd), invertibility, φ → −φ symmetry, translation equivariance,
and the torch action against the numba one."""

import numpy as np
import pytest
import torch

from lawful.lattice.actions import Phi4
from lawful.lattice.flow import RealNVPFlow
from lawful.lattice.geometry import Lattice


def _flow(dim, size, seed=0, coupling="affine"):
    """``coupling`` "spline+spectral" adds the spectral Gaussian layer."""
    torch.manual_seed(seed)
    f = RealNVPFlow(dim, size, n_layers=4, hidden=(6,), kernel=3, coupling=coupling.split("+")[0], bins=5,
                    spectral=coupling.endswith("+spectral")).double()
    with torch.no_grad():  # random weights large enough that every layer does something
        for p in f.parameters():
            p.mul_(3.0)
        if f.hparams["spectral"]:
            f.layers[0].log_coeffs.copy_(torch.tensor([-1.0, -0.5, -2.0]))
    return f


@pytest.mark.parametrize("coupling", ["affine", "spline", "spline+spectral"])
@pytest.mark.parametrize("dim,size", [(1, 6), (2, 4), (3, 2)])
def test_log_density_matches_autograd_jacobian(dim, size, coupling):
    f = _flow(dim, size, coupling=coupling)
    z = torch.randn((3, *(size,) * dim), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    _, logq = f(z)
    vol = size**dim
    for b in range(3):
        jac = torch.autograd.functional.jacobian(lambda zz: f(zz.reshape(1, *z.shape[1:]))[0].reshape(-1),
                                                 z[b].reshape(-1))
        _, logdet = torch.linalg.slogdet(jac)
        expected = -0.5 * float((z[b] ** 2).sum()) - 0.5 * vol * np.log(2 * np.pi) - float(logdet)
        assert logq[b].item() == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("coupling", ["affine", "spline", "spline+spectral"])
def test_inverse_gives_the_same_log_density_and_symmetry_is_exact(coupling):
    f = _flow(2, 6, coupling=coupling)
    z = 2.0 * torch.randn((64, 6, 6), dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        phi, logq = f(z)
        np.testing.assert_allclose(f.log_prob(phi).numpy(), logq.numpy(), atol=1e-10)
        z_back = phi
        for layer in reversed(f.layers):
            z_back, _ = layer.inverse(z_back)
        np.testing.assert_allclose(z_back.numpy(), z.numpy(), atol=1e-10)
        np.testing.assert_allclose(f.log_prob(-phi).numpy(), logq.detach().numpy(), atol=1e-10)


@pytest.mark.parametrize("coupling", ["affine", "spline", "spline+spectral"])
def test_flow_commutes_with_even_translations(coupling):
    f = _flow(2, 6, coupling=coupling)
    z = torch.randn((2, 6, 6), dtype=torch.float64)
    with torch.no_grad():
        a, la = f(torch.roll(z, (2, 4), dims=(1, 2)))
        b, lb = f(z)
    np.testing.assert_allclose(a.numpy(), torch.roll(b, (2, 4), dims=(1, 2)).numpy(), atol=1e-12)
    np.testing.assert_allclose(la.numpy(), lb.numpy(), atol=1e-10)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_torch_action_matches_numba_action(dim):
    action = Phi4(Lattice(dim, 4), 0.21, 0.7)
    phi = np.random.default_rng(3).normal(size=(5, action.lattice.volume))
    s_torch = action.action_torch(torch.as_tensor(phi).reshape(5, *action.lattice.shape)).numpy()
    np.testing.assert_allclose(s_torch, action.action(phi), rtol=1e-12)


def test_bad_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="even lattice size"):
        RealNVPFlow(2, 5)
    with pytest.raises(ValueError, match="n_layers"):
        RealNVPFlow(2, 4, n_layers=3)
    with pytest.raises(ValueError, match="odd"):
        RealNVPFlow(2, 4, kernel=2)
    with pytest.raises(ValueError, match="coupling must be one of"):
        RealNVPFlow(2, 4, coupling="cubic")
    with pytest.raises(ValueError, match="at least 2 bins"):
        RealNVPFlow(2, 4, coupling="spline", bins=1)


@pytest.mark.parametrize("coupling", ["affine", "spline+spectral"])
def test_float32_log_weights_are_within_1e_4_of_float64(coupling):
    """Proposals run in float32 by default (lawful.lattice.sample.Proposer): the log-weight error that costs."""
    f = _flow(2, 6, coupling=coupling)
    action = Phi4(Lattice(2, 6), 0.25, 0.5)
    z = torch.randn(256, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    out = {}
    with torch.no_grad():
        for dtype in (torch.float32, torch.float64):
            phi, logq = f.to(dtype)(z.to(dtype))
            out[dtype] = -action.action(phi.reshape(256, -1).double().numpy()) - logq.double().numpy()
    assert np.max(np.abs(out[torch.float32] - out[torch.float64])) < 1e-4 * max(1.0, np.std(out[torch.float64]))


def test_spectral_layer_at_the_free_field_coefficients_is_the_free_field_density():
    """With identity couplings and g(p)⁻² = 2(1 − 2Dκ) + 2κ p̂², log q(φ) + S(φ) is the same constant (−log Z)
    for every field: the layer is exactly e^{−S}/Z of the λ = 0 action (S from the numba kernel)."""
    kappa, size = 0.2, 6
    action = Phi4(Lattice(2, size), kappa, 0.0)
    f = RealNVPFlow(2, size, n_layers=2, hidden=(4,), coupling="spline", spectral=True).double()
    with torch.no_grad():
        for p in f.parameters():
            p.zero_()  # couplings: s = t = 0 and a flat spline, the identity
        a, b = 2 * (1 - 4 * kappa), 2 * kappa
        f.layers[0].log_coeffs.copy_(torch.tensor([np.log(a), np.log(b), -np.inf]))
        phi, logq = f.sample(50, torch.Generator().manual_seed(5))
    total = logq.numpy() + action.action(phi.reshape(50, -1).numpy())
    assert np.std(total) < 1e-10 * np.abs(total).max()
    assert np.std(phi.numpy()) > 0.5  # not a degenerate map
    # the Gaussian normalisation: log Z = ½ Σ_p log(2π / g(p)⁻²)
    p2 = f.layers[0].p2.double().numpy()
    log_z = 0.5 * np.sum(np.log(2 * np.pi / (a + b * p2)))
    assert total.mean() == pytest.approx(-log_z, rel=1e-12)
