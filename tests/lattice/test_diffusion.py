"""Diffusion model: the cheap divergence is the exact Jacobian trace, and the ODE log-density is the density of
the generated fields up to the (small, measured) discretization error of the trapezoid rule."""

import numpy as np
import pytest
import torch

from lawful.lattice.diffusion import ScoreModel, dsm_loss


def _model(seed=0, size=4, spectral_skip=False):
    torch.manual_seed(seed)
    m = ScoreModel(2, size, hidden=(8, 8), context=4, head=8, spectral_skip=spectral_skip, sigma_max=5.0).double()
    if spectral_skip:  # a non-white spectrum, so the skip is not c_skip x
        m.set_power(torch.randn(50, size, size, generator=torch.Generator().manual_seed(seed)).cumsum(1))
    return m


@pytest.mark.parametrize("spectral_skip", [False, True])
@pytest.mark.parametrize("sigma", [0.01, 0.7, 4.0])
def test_exact_diagonal_equals_autograd_jacobian_diagonal(sigma, spectral_skip):
    """Also with the spectral skip, whose diagonal is the mean of its gain over momenta."""
    m = _model(spectral_skip=spectral_skip)
    x = torch.randn(3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    _, diag = m.denoise(x, sigma, with_diag=True)
    with torch.no_grad():  # sampling runs without autograd: forward mode must still give the diagonal
        _, diag_no_grad = m.denoise(x, sigma, with_diag=True)
    np.testing.assert_allclose(diag.detach().numpy(), diag_no_grad.numpy(), rtol=1e-14)
    for b in range(3):
        jac = torch.autograd.functional.jacobian(lambda xx: m.denoise(xx.reshape(1, 4, 4), sigma)[0].reshape(-1),
                                                 x[b].reshape(-1))
        np.testing.assert_allclose(torch.diagonal(jac).detach().numpy(), diag[b].reshape(-1).detach().numpy(), atol=1e-12)


def test_ode_log_density_converges_to_the_discrete_map_density_at_second_order():
    """log q from the trapezoid rule vs the exact log-density of the Heun map (autograd Jacobian): the gap is
    the discretization error, measured here at 0.31 (16 steps) and 0.070 (32 steps) for this random model."""
    m = _model()
    x_top = torch.randn(1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * m.sigma_max
    prior = torch.distributions.Normal(0.0, m.sigma_max)
    gaps = []
    for n_steps in (16, 32):
        _, logq = m.integrate_ode(x_top, n_steps)
        jac = torch.autograd.functional.jacobian(
            lambda xx, n_steps=n_steps: m.integrate_ode(xx.reshape(1, 4, 4), n_steps)[0].reshape(-1), x_top[0].reshape(-1))
        exact = prior.log_prob(x_top[0]).sum().item() - torch.linalg.slogdet(jac)[1].item()
        gaps.append(abs(logq[0].item() - exact))
    assert gaps[1] < 0.1
    assert gaps[1] < gaps[0] / 3  # second order: halving the step divides the gap by ~4


def _free_field_covariance(size, mass2):
    """Dense covariance (V, V) of the 2D Gaussian free field with action ½ φ·(−Δ + m²)φ (numpy, independent
    of the FFT code under test)."""
    v = size * size
    lap = np.zeros((v, v))
    for i in range(v):
        x, y = divmod(i, size)
        lap[i, i] = 4.0 + mass2
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            lap[i, ((x + dx) % size) * size + (y + dy) % size] -= 1.0
    return np.linalg.inv(lap)


def test_spectral_skip_is_the_posterior_mean_of_a_gaussian_field():
    """With the head's output zeroed, D(x, σ) = C (C + σ²)⁻¹ x for a Gaussian field of covariance C, given its
    exact spectrum (the eigenvalues of C, one per momentum); and set_power estimates that spectrum from samples
    within its statistical error (|φ̃(p)|² is exponential, averaged over ≥ N samples)."""
    size, n = 4, 20000
    cov = _free_field_covariance(size, 0.3)
    rng = np.random.default_rng(7)
    fields = rng.standard_normal((n, size * size)) @ np.linalg.cholesky(cov).T
    p = 2 * np.pi * np.arange(size) / size
    exact = 1.0 / (0.3 + 4 * np.sin(p[:, None] / 2) ** 2 + 4 * np.sin(p[None, :] / 2) ** 2)
    m = _model(spectral_skip=True)
    m.set_power(torch.as_tensor(fields.reshape(n, size, size)))
    power = m.power.numpy()
    np.testing.assert_allclose(power, exact, rtol=5 / np.sqrt(n))
    np.testing.assert_allclose(power, power.T, rtol=1e-12)  # averaged over the lattice symmetries
    np.testing.assert_allclose(power, np.roll(power[::-1], 1, axis=0), rtol=1e-12)
    m.power.copy_(torch.as_tensor(exact))
    with torch.no_grad():
        m.head[-1].weight.zero_()
        m.head[-1].bias.zero_()
    x = torch.as_tensor(rng.standard_normal((3, size, size)))
    for sigma in (0.1, 1.0, 5.0):
        d, _ = m.denoise(x, sigma)
        want = x.reshape(3, -1).numpy() @ (cov @ np.linalg.inv(cov + sigma**2 * np.eye(size * size))).T
        np.testing.assert_allclose(d.detach().reshape(3, -1).numpy(), want, atol=1e-12)


def test_hutchinson_trace_is_unbiased_but_noisy():
    m = _model()
    x = torch.randn(1, 4, 4, dtype=torch.float64).expand(4000, 4, 4).clone()
    with torch.no_grad():
        _, exact = m._velocity(x[:1], 0.5, "exact", None)
        _, est = m._velocity(x, 0.5, "hutchinson", torch.Generator().manual_seed(3))
    err = float(est.std()) / np.sqrt(len(est))
    assert abs(float(est.mean()) - float(exact[0])) < 5 * err
    assert float(est.std()) > 0


def test_score_matching_learns_the_optimal_denoiser_of_gaussian_fields():
    """For i.i.d. N(0, s²) fields the optimal denoiser is E[φ | x] = s²/(s² + σ²) x; DSM must find it."""
    torch.manual_seed(0)
    s = 0.8
    m = ScoreModel(2, 4, hidden=(8,), context=4, head=16, sigma_max=5.0, sigma_data=s)
    gen = torch.Generator().manual_seed(4)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    for _ in range(400):
        loss = dsm_loss(m, torch.randn(128, 4, 4, generator=gen) * s, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    phi = torch.randn(2000, 4, 4, generator=gen) * s
    with torch.no_grad():
        for sigma in (0.3, 1.0, 3.0):
            x = phi + sigma * torch.randn(phi.shape, generator=gen)
            d, _ = m.denoise(x, sigma)
            best = s**2 / (s**2 + sigma**2) * x
            rel = float(((d - best) ** 2).mean() / (best**2).mean())
            assert rel < 0.05, (sigma, rel)


def test_log_q_error_spread_is_second_order():
    """The Richardson estimate of the spread of log q's discretization error falls ~4× per doubling of the steps."""
    m = _model()
    a = m.log_q_error_spread(16, 16, torch.Generator().manual_seed(3))
    b = m.log_q_error_spread(16, 32, torch.Generator().manual_seed(3))
    assert a > 0 and 2.5 < a / b < 6
