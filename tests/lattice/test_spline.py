"""The rational-quadratic spline: monotone, identity at zero parameters and outside [−B, B], mirrored parameters
give x ↦ −h(−x), inverse and log-derivative consistent with the forward map (finite differences as the
independent check)."""

import numpy as np
import torch

from lawful.lattice.spline import mirror, rq_spline

BOUND = 3.0


def _params(n, bins, scale, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [scale * torch.randn((n, k), dtype=torch.float64, generator=g) for k in (bins, bins, bins - 1)]


def test_zero_parameters_give_the_identity():
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    w, h, d = (torch.zeros((101, k), dtype=torch.float64) for k in (6, 6, 5))
    y, logd = rq_spline(x, w, h, d, BOUND)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(logd.numpy(), 0.0, atol=1e-12)


def test_monotone_skewed_mirror_and_identity_outside():
    n = 2001
    x = torch.linspace(-4, 4, n, dtype=torch.float64)
    params = [p[:1].expand(n, -1) for p in _params(1, 7, 2.0)]
    y, _ = rq_spline(x, *params, BOUND)
    assert np.all(np.diff(y.numpy()) > 0)
    y_neg, _ = rq_spline(-x, *params, BOUND)
    assert np.max(np.abs(y_neg.numpy() + y.numpy())) > 0.1  # not odd: a general spline can skew
    y_mirror, _ = rq_spline(-x, *mirror(*params), BOUND)
    np.testing.assert_allclose(y_mirror.numpy(), -y.numpy(), atol=1e-13)
    outside = x.abs() >= BOUND
    np.testing.assert_array_equal(y[outside].numpy(), x[outside].numpy())
    near = (x.abs() < BOUND) & (x.abs() > BOUND - 0.01)  # continuous into the identity tails
    np.testing.assert_allclose(y[near].numpy(), x[near].numpy(), atol=0.011)


def test_inverse_and_log_derivative():
    n = 500
    x = 8.0 * torch.rand(n, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) - 4.0
    params = _params(n, 8, 2.5, seed=4)
    y, logd = rq_spline(x, *params, BOUND)
    x_back, logd_back = rq_spline(y, *params, BOUND, inverse=True)
    np.testing.assert_allclose(x_back.numpy(), x.numpy(), atol=1e-10)
    np.testing.assert_allclose(logd_back.numpy(), logd.numpy(), atol=1e-8)
    eps = 1e-6
    fd = (rq_spline(x + eps, *params, BOUND)[0] - rq_spline(x - eps, *params, BOUND)[0]) / (2 * eps)
    np.testing.assert_allclose(np.exp(logd.numpy()), fd.numpy(), rtol=1e-6, atol=1e-9)
