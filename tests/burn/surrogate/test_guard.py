"""The guard: where the net runs, what goes to the implicit integrator, the Newton residual, the error
detector's refusals, and the shipped models' rollouts."""

import numpy as np
import pytest
import torch

from lawful.burn.burner import ImplicitBurner
from lawful.burn.integrate import burn
from lawful.burn.surrogate import store
from lawful.burn.surrogate.guard import CHECKS, SurrogateBurner, propose, residual_ratio
from lawful.burn.surrogate.predictor import Prediction
from lawful.testing.surrogates import random_zones
from tests.burn.surrogate.helpers import EOS, constant_detector, record_step, tiny_model


def test_guard_runs_the_net_only_where_the_predictor_is_not_trusted(aprox13, tmp_path):
    """propose() runs the net on the untrusted zones only; its proposals equal the module's forward, which
    selects with torch.where over all zones (the form TorchScript exports)."""
    rng = np.random.default_rng(6)
    loaded = store.load(tiny_model(aprox13, tmp_path / "m", rng), aprox13)
    rho, T, X, _ = random_zones(aprox13, 200, rng, T=(2e9, 3e9), zeros=False)
    dt = np.full(200, 1e-6)
    pred = Prediction(aprox13, EOS.options(), rho, T, X, dt)
    with torch.no_grad():
        args = [torch.as_tensor(a) for a in (rho, T, X, dt, pred.dX, pred.eX)]
        trusted = loaded.step.trusted(args[4], args[5]).numpy()
        X_fwd = loaded.step(*args)[0].numpy()
    assert 0 < trusted.sum() < 200
    p = propose(loaded, aprox13, EOS.options(), rho, T, X, dt)
    reached = ~np.isin(p.failed, [CHECKS.index(c) for c in ("input", "domain", "predictor")])
    assert reached.sum() > 150
    np.testing.assert_allclose(p.X[reached], X_fwd[reached], rtol=1e-6, atol=1e-14)


def test_guard_sends_bad_zones_to_the_implicit_integrator(aprox13, tmp_path):
    rng = np.random.default_rng(3)
    loaded = store.load(tiny_model(aprox13, tmp_path / "m", rng), aprox13)
    rho, T, X, _ = random_zones(aprox13, 6, rng, T=(2e9, 3e9), zeros=False)
    dt = np.full(6, 1e-6)
    rho[0] = np.nan  # non-finite input
    T[1] = 9e9  # outside the training box
    dt[2] = 1.0  # outside the training box
    p = propose(loaded, aprox13, EOS.options(), rho, T, X, dt)
    assert p.failed[0] == CHECKS.index("input") and p.failed[1] == CHECKS.index("domain")
    assert p.failed[2] == CHECKS.index("domain") and np.isfinite(p.X).all()
    implicit = ImplicitBurner(aprox13, EOS)
    burner = SurrogateBurner(loaded, aprox13, EOS, implicit)
    rho[0] = 1e7
    out = burner(rho[:2], T[:2], X[:2], 1e-6)
    ref = implicit(rho[:2], T[:2], X[:2], 1e-6)
    assert out.ok.all() and np.array_equal(out.X, ref.X) and np.array_equal(out.enuc, ref.enuc)
    X[3, 0] = np.nan
    out = burner(rho[3:], T[3:], X[3:], 1e-6)
    assert not out.ok[0] and out.message[0] == "NON_FINITE_INPUT" and out.ok[1:].all()
    assert np.isfinite(out.X[1:]).all() and burner.zone_steps == 5


def test_residual_accepts_the_reference_and_refuses_a_state_off_the_manifold(aprox13):
    """In hot ash the network is stiff: the Newton correction of the reference end state is a small part of the
    step, while moving 1e-3 of mass from si28 to s32 needs a correction of the size of the step: above the
    shipped model's threshold (which came from the reference steps of its training set)."""
    rho, T, dt = np.array([1.2e7]), np.array([4.3e9]), np.array([2e-5])
    X0 = aprox13.composition({"c12": 0.5, "o16": 0.5})
    ash = burn(aprox13, rho, T, X0, [3e-3], rtol=1e-8, atol=1e-12, eos=EOS)
    Xa, Ta = ash.X[:, -1], ash.T[:, -1]
    end = burn(aprox13, rho, Ta, Xa, [dt[0]], rtol=1e-8, atol=1e-12, eos=EOS)
    pred = Prediction(aprox13, EOS.options(), rho, Ta, Xa, dt)
    good = residual_ratio(pred, end.T[:, -1], end.X[:, -1])
    off = end.X[:, -1].copy()
    off[0, aprox13.names.index("si28")] += 1e-3
    off[0, aprox13.names.index("s32")] -= 1e-3
    bad = residual_ratio(pred, end.T[:, -1], off)
    threshold = store.load(None, aprox13).guard["residual"]
    assert good[0] < 0.1 * threshold and bad[0] > 2.0 * threshold


def test_surrogate_refuses_networks_without_uniform_charge_to_mass(aprox13, tmp_path):
    rng = np.random.default_rng(4)
    loaded = store.load(tiny_model(aprox13, tmp_path / "m", rng), aprox13)

    class Odd:
        name, A, Z = "aprox13", np.array([1.0, 4.0]), np.array([1.0, 2.0])

    with pytest.raises(ValueError, match="Z/A"):
        SurrogateBurner(loaded, Odd(), EOS, None)


@pytest.mark.parametrize("value, refused", [(-3.0, False), (3.0, True)])
def test_error_detector_can_only_refuse(aprox13, tmp_path, value, refused):
    """A detector that predicts a tiny error changes nothing the physics checks decided; one that predicts a large
    error refuses every zone they accepted, and the burner then returns the implicit integrator's results. Saved
    and loaded with the model, it gives the same decisions; a file with a detector but no threshold is refused."""
    rng = np.random.default_rng(8)
    path = tiny_model(aprox13, tmp_path / "m", rng)
    rho, T, X, _ = random_zones(aprox13, 150, rng, T=(2e9, 3e9), zeros=False)
    dt = np.full(150, 1e-6)
    plain = propose(store.load(path, aprox13), aprox13, EOS.options(), rho, T, X, dt, features=True)
    assert plain.accept.sum() >= 10 and np.isfinite(plain.features[plain.accept]).all()
    record = torch.load(path / "model.pt", weights_only=True)
    det = constant_detector(plain.features.shape[1], value)
    store.save(tmp_path / "d", record_step(record, aprox13), aprox13, domain=record["domain"],
               guard={**record["guard"], "error": 0.0}, train={}, config_toml="", detector=det)
    loaded = store.load(tmp_path / "d", aprox13)
    assert loaded.detector is not None
    p = propose(loaded, aprox13, EOS.options(), rho, T, X, dt)
    physics = plain.failed >= 0
    assert np.array_equal(p.failed[physics], plain.failed[physics])  # the physics checks decide first
    if refused:
        assert not p.accept.any() and (p.failed[plain.accept] == CHECKS.index("error")).all()
        implicit = ImplicitBurner(aprox13, EOS)
        out = SurrogateBurner(loaded, aprox13, EOS, implicit)(rho, T, X, 1e-6)
        assert np.array_equal(out.X, implicit(rho, T, X, 1e-6).X)
        # a run-time limit above the predicted score (10^3) lets them pass: 1e4 x 1e-2
        relaxed = propose(store.with_error_limit(loaded, 1e4), aprox13, EOS.options(), rho, T, X, dt)
        assert np.array_equal(relaxed.accept, plain.accept)
        with pytest.raises(ValueError, match="no error detector"):
            store.with_error_limit(store.load(path, aprox13), 2.0)
        with pytest.raises(ValueError, match="positive finite"):
            store.with_error_limit(loaded, -1.0)
    else:
        assert np.array_equal(p.accept, plain.accept) and np.array_equal(p.X, plain.X)
    record = torch.load(tmp_path / "d" / "model.pt", weights_only=True)
    del record["guard"]["error"]
    torch.save(record, tmp_path / "nothreshold.pt")
    with pytest.raises(ValueError, match="threshold"):
        store.load(tmp_path / "nothreshold.pt", aprox13)


@pytest.mark.parametrize("name, rho, T0, fuel", [
    ("aprox13", [1e7, 3e7], [3e9, 2.5e9], {"c12": 0.5, "o16": 0.5}),
    ("c12", [1e7, 5e7], [2e9, 1.8e9], {"c12": 0.5, "o16": 0.5}),
])
def test_shipped_surrogate_rollout_does_not_drift(name, rho, T0, fuel):
    """10⁴ guarded steps of 1e-6 s on one-zone burns against the implicit integrator (rtol 1e-8, atol 1e-12)
    stepped the same way. In both rollouts each step's T comes from energy conservation through the EOS, as
    hydro takes it (and as the surrogate does itself; its fallback steps return the integrator's T).

    Measured: aprox13 surrogate on 98.2 % of the steps, energy within 1.7e-7, T within 3.2e-8, major species
    within 2.6e-6; c12: 99.975 %, 3.8e-8, 9.7e-9, 2.3e-9. (Against one implicit burn over the whole 1e-2 s the
    surrogate looked 0.35–0.97 % off in T and 7 % off in ⁵²Fe and ⁵⁶Ni: that burn's dT/dt = ε̇/c_v leaves out
    how e depends on composition, and the T-sensitive Si → Fe-group flow amplifies it. The implicit integrator
    stepped as here differs from that burn by as much: 0.68 % in T and 15 % in ⁵⁶Ni in the hotter aprox13 zone.)"""
    from lawful.burn.eos import temperature_from_energy
    from lawful.burn.network import Network

    net = Network(name)
    burners = {"surrogate": SurrogateBurner(store.load(None, net), net, EOS, ImplicitBurner(net, EOS)),
               "implicit": ImplicitBurner(net, EOS, rtol=1e-8, atol=1e-12)}
    rho = np.array(rho)
    X0 = np.tile(net.composition(fuel), (2, 1))
    e0 = EOS(rho, np.array(T0), *net.abar_zbar(X0))["e"]
    state = {k: (X0.copy(), np.array(T0), e0.copy()) for k in burners}
    worst_sum = 0.0
    for _ in range(10_000):
        for k, burner in burners.items():
            X, T, e = state[k]
            out = burner(rho, T, X, 1e-6)
            T, conv = temperature_from_energy(rho, e + out.enuc, *net.abar_zbar(out.X), out.T, EOS.options(), 1e-12)
            assert out.ok.all() and conv.all() and out.X.min() >= 0.0
            state[k] = (out.X, T, e + out.enuc)
        worst_sum = max(worst_sum, float(np.abs(state["surrogate"][0].sum(axis=1) - 1).max()))
    (X, T, e), (X_ref, T_ref, e_ref) = state["surrogate"], state["implicit"]
    assert worst_sum <= 1e-12
    assert burners["surrogate"].surrogate_fraction > 0.9  # the rollout tests the surrogate, not its fallback
    # tolerances about 300 times the measured differences: room for another CPU's float32 rounding in the net
    np.testing.assert_allclose(e - e0, e_ref - e0, rtol=1e-4)
    np.testing.assert_allclose(T, T_ref, rtol=1e-5)
    major = X_ref > 1e-2
    np.testing.assert_allclose(X[major], X_ref[major], rtol=1e-3)


class CallLog:
    """A fallback that records the (zones, Δt) of every call and passes it on to the implicit burner."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __call__(self, rho, T, X, dt):
        self.calls.append((len(rho), dt))
        return self.inner(rho, T, X, dt)


def test_a_step_longer_than_the_training_data_is_taken_as_guarded_substeps(aprox13):
    """Δt = 3.5 × the longest trained step: four sub-steps, each exactly what a call with Δt/4 from the state the
    previous one left gives (so each one is guarded), energies summed; the fallback only ever sees Δt/4."""
    loaded = store.load(None, aprox13)
    dt_max = 10.0 ** loaded.domain["log_dt"][1]
    rho = np.array([1e7, 2e7, 3e7])
    T = np.array([3e9, 2.5e9, 4e9])
    X = np.tile(aprox13.composition({"c12": 0.5, "o16": 0.5}), (3, 1))
    dt = 3.5 * dt_max
    burner = SurrogateBurner(loaded, aprox13, EOS, CallLog(ImplicitBurner(aprox13, EOS)))
    out = burner(rho, T, X, dt)
    one = SurrogateBurner(loaded, aprox13, EOS, ImplicitBurner(aprox13, EOS))
    T_ref, X_ref, e_ref = T, X, np.zeros(3)
    for _ in range(4):
        step = one(rho, T_ref, X_ref, dt / 4)
        T_ref, X_ref, e_ref = step.T, step.X, e_ref + step.enuc
    assert out.ok.all() and np.array_equal(out.X, X_ref) and np.array_equal(out.T, T_ref)
    np.testing.assert_allclose(out.enuc, e_ref, rtol=1e-15)
    assert burner.zone_steps == 3 and burner.sub_steps == 12
    assert burner.summary()["surrogate_substeps_per_zone_step"] == 4
    assert burner.surrogate_steps + sum(burner.failed.values()) == 12
    assert burner.failed["domain"] == 0 and all(h == dt / 4 for _, h in burner.fallback.calls)
    assert burner.surrogate_steps > 0


def test_a_step_beyond_max_substeps_goes_to_the_fallback_whole(aprox13):
    loaded = store.load(None, aprox13)
    dt = 5.5 * 10.0 ** loaded.domain["log_dt"][1]
    burner = SurrogateBurner(loaded, aprox13, EOS, CallLog(ImplicitBurner(aprox13, EOS)), max_substeps=5)
    X = aprox13.composition({"c12": 0.5, "o16": 0.5})[None, :]
    out = burner(np.array([1e7]), np.array([3e9]), X, dt)
    assert out.ok.all() and burner.fallback.calls == [(1, dt)] and burner.failed["domain"] == 1
    assert burner.sub_steps == 1 and burner.surrogate_steps == 0
    with pytest.raises(ValueError, match="max_substeps = 0"):
        SurrogateBurner(loaded, aprox13, EOS, None, max_substeps=0)


def test_a_fuel_the_model_never_saw_is_an_error_or_burns_implicitly_by_choice(aprox13):
    """Pure ⁴He against a model whose training inputs held at most 10 % of it: before a run,
    ``untrained="error"`` names the species and ``"implicit"`` warns; in a run such a zone gets exactly the
    implicit burner's result, counted as ``composition``, and C/O beside it passes that check."""
    import dataclasses

    loaded = store.load(None, aprox13)
    x_max = [0.1 if n == "he4" else 1.0 for n in aprox13.names]
    loaded = dataclasses.replace(loaded, domain={**loaded.domain, "X_max": x_max})
    rho, T = np.array([1e7, 1e7]), np.array([3e9, 3e9])
    X = np.stack([aprox13.composition({"he4": 1.0}), aprox13.composition({"c12": 0.5, "o16": 0.5})])
    implicit = ImplicitBurner(aprox13, EOS)
    with pytest.raises(ValueError, match=r"X\(he4\) = 1 > 0\.1.*untrained = 'implicit'"):
        SurrogateBurner(loaded, aprox13, EOS, implicit).check_inputs(X)
    SurrogateBurner(loaded, aprox13, EOS, implicit).check_inputs(X[1:])  # C/O: no error
    burner = SurrogateBurner(loaded, aprox13, EOS, implicit, untrained="implicit")
    with pytest.warns(UserWarning, match=r"X\(he4\) = 1 > 0\.1.*implicit integrator"):
        burner.check_inputs(X)
    out = burner(rho, T, X, 1e-6)
    ref = implicit(rho[:1], T[:1], X[:1], 1e-6)
    assert np.array_equal(out.X[:1], ref.X) and np.array_equal(out.enuc[:1], ref.enuc)
    assert burner.summary()["surrogate_failed"]["composition"] == 1  # the C/O zone passed that check
    with pytest.raises(ValueError, match="untrained = 'maybe'"):
        SurrogateBurner(loaded, aprox13, EOS, implicit, untrained="maybe")


def test_a_run_resumed_with_another_model_file_is_refused(aprox13, tmp_path):
    """The checkpoint keeps the model file's fingerprint: replacing the file under a run's feet (retrained, or the
    shipped one updated) stops the resume with a message, before any step."""
    import shutil

    from lawful.hydro.problems import detonation
    from lawful.hydro.run import run

    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(store.shipped_dir("aprox13") / "model.pt", model / "model.pt")
    cfg = detonation.Config(n=32, length=1e7, burner="surrogate", burn_model=str(model), max_steps=3,
                            out=tmp_path / "run", n_snapshots=1)
    first = run(cfg, "detonation", show_progress=False)
    assert not first.complete and first.setup.burn.burner.zone_steps > 0
    tiny_model(aprox13, tmp_path / "other", np.random.default_rng(0))
    shutil.copy(tmp_path / "other" / "model.pt", model / "model.pt")
    with pytest.raises(ValueError, match="another surrogate model"):
        run(cfg, "detonation", show_progress=False)


def test_the_skip_temperature_is_where_the_guard_stops_accepting(monkeypatch):
    """Rows with T uniform in 1e9–1e10 K, a guard that accepts exactly the zones below 5e9 K: the share accepted
    above T_s first reaches 10 % where the accepted rows between T_s and 5e9 are 1/9 of the 5e9–1e10 rows,
    T_s = 5e9 − 5e9/9 ≈ 4.44e9 K. A guard that accepts everything: no skip (inf)."""
    from types import SimpleNamespace

    import lawful.burn.surrogate.guard as guard
    from lawful.burn.surrogate.train import skip_temperature

    T = np.linspace(1e9, 1e10, 40000)
    def zones(pick):
        return [np.ones(pick.size), T[pick], np.ones((pick.size, 1)), np.ones(pick.size)]

    prep = SimpleNamespace(rows=np.arange(T.size), network=None, zones=zones)
    monkeypatch.setattr(guard, "propose", lambda loaded, net, opts, rho, T, X, dt: SimpleNamespace(accept=T < 5e9))
    assert skip_temperature(None, prep) == pytest.approx(5e9 - 5e9 / 9, rel=1e-3)
    monkeypatch.setattr(guard, "propose", lambda *a: SimpleNamespace(accept=np.ones(a[4].size, dtype=bool)))
    assert skip_temperature(None, prep) == np.inf


def test_zones_hotter_than_the_skip_temperature_go_straight_to_the_fallback(aprox13):
    import dataclasses

    loaded = store.load(None, aprox13)
    loaded = dataclasses.replace(loaded, guard={**loaded.guard, "T_skip": 3e9})
    rho, T = np.array([1e7, 1e7]), np.array([2.5e9, 3.5e9])
    X = np.tile(aprox13.composition({"c12": 0.5, "o16": 0.5}), (2, 1))
    p = propose(loaded, aprox13, EOS.options(), rho, T, X, np.full(2, 1e-6))
    assert p.failed[1] == CHECKS.index("hot") and p.failed[0] != CHECKS.index("hot")
    implicit = ImplicitBurner(aprox13, EOS)
    out = SurrogateBurner(loaded, aprox13, EOS, implicit)(rho[1:], T[1:], X[1:], 1e-6)
    ref = implicit(rho[1:], T[1:], X[1:], 1e-6)
    assert np.array_equal(out.X, ref.X) and np.array_equal(out.T, ref.T)
