"""The finite-volume solver: conservation, convergence against exact solutions, symmetry, bad input."""

import numpy as np
import pytest

from lawful.hydro.eos import GammaLaw
from lawful.hydro.mesh import Mesh
from lawful.hydro.problems import advect, sod
from lawful.hydro.run import run, summary
from lawful.hydro.solver import Euler


def _evolve(solver, state, tmax):
    while state.t < tmax * (1 - 1e-12):
        dt = min(solver.timestep(state), tmax - state.t)
        solver(state, dt)
    return state


def _l1(problem, mod, n, tmp_path, **kw):
    cfg = mod.Config(n=n, out=tmp_path / f"{problem}{n}", n_snapshots=1, **kw)
    return summary(cfg, problem, run(cfg, problem, show_progress=False))["l1_rho"]


def test_periodic_2d_conserves_to_roundoff():
    rng = np.random.default_rng(3)
    m = Mesh(nx=32, ny=24, bc=("periodic",) * 4)
    s = Euler(m, GammaLaw(5 / 3))
    shape = (24, 32)
    st = s.init(1 + rng.random(shape), rng.normal(size=shape), rng.normal(size=shape), p=1 + rng.random(shape))
    before = s.totals(st)
    _evolve(s, st, 0.3)
    assert st.t == pytest.approx(0.3)
    scale = np.abs(st.U[:4]).sum(axis=(1, 2)) * m.cell_volume  # round-off scale of each sum
    assert np.all(np.abs(s.totals(st) - before) < 1e-13 * scale)


def test_sod_l1_first_order_and_small(tmp_path):
    errs = [_l1("sod", sod, n, tmp_path) for n in (100, 200, 400)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert errs[-1] < 2e-3
    assert np.all((orders > 0.7) & (orders < 1.3)), orders


def test_smooth_advection_second_order(tmp_path):
    errs = [_l1("advect", advect, n, tmp_path) for n in (32, 64, 128)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(orders > 1.8), orders


def test_exact_riemann_solver_agrees_with_hllc(tmp_path):
    hllc = _l1("sod", sod, 200, tmp_path)
    exact = _l1("sod", sod, 200, tmp_path / "x", riemann="exact")
    assert exact < 3e-3 and hllc < 3e-3
    assert 0.5 < exact / hllc < 1.5  # two Godunov fluxes on the same scheme: errors of one size


def test_x_and_y_sweeps_are_symmetric():
    """A shock tube along x and the same one along y give transposed fields to round-off."""
    n, k = 64, 8
    sx = Euler(Mesh(nx=n, ny=k, ymax=k / n, bc=("outflow", "outflow", "periodic", "periodic")), GammaLaw(1.4))
    sy = Euler(Mesh(nx=k, ny=n, xmax=k / n, bc=("periodic", "periodic", "outflow", "outflow")), GammaLaw(1.4))
    left_x = np.broadcast_to(sx.mesh.x < 0.5, (k, n))
    left_y = left_x.T
    a = sx.init(np.where(left_x, 1.0, 0.125), 0.0, 0.0, p=np.where(left_x, 1.0, 0.1))
    b = sy.init(np.where(left_y, 1.0, 0.125), 0.0, 0.0, p=np.where(left_y, 1.0, 0.1))
    for _ in range(30):
        dt = sx.timestep(a)
        assert sy.timestep(b) == pytest.approx(dt, rel=1e-14)
        sx(a, dt)
        sy(b, dt)
    ra, rb = a.U[0][sx.mesh.active], b.U[0][sy.mesh.active]
    assert np.allclose(ra, rb.T, rtol=1e-13, atol=0)
    assert np.allclose(a.U[1][sx.mesh.active], b.U[2][sy.mesh.active].T, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    (dict(nx=32, bc=("outflow", "wall", "outflow", "outflow")), "boundary xhi"),
    (dict(nx=32, bc=("periodic", "outflow", "outflow", "outflow")), "periodic boundaries come in pairs"),
    (dict(nx=2), "too small"),
])
def test_mesh_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Mesh(**kwargs)


def test_solver_bad_input():
    m = Mesh(nx=16)
    with pytest.raises(ValueError, match="cfl = 1.0"):
        Euler(m, GammaLaw(1.4), cfl=1.0)
    with pytest.raises(ValueError, match="limiter"):
        Euler(m, GammaLaw(1.4), limiter="superbee2")
    s = Euler(m, GammaLaw(1.4))
    with pytest.raises(ValueError, match=r"initial density = -1 at zone i=3"):
        s.init(np.where(np.arange(16) == 3, -1.0, 1.0), 0.0, p=1.0)
    with pytest.raises(ValueError, match="initial pressure = nan"):
        s.init(1.0, 0.0, p=np.where(np.arange(16) == 5, np.nan, 1.0))
