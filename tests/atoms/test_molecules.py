"""Molecules: xTB MD data, energy-only training, the direct-force head, GDML, MD and evaluation of a molecule."""

import json

import numpy as np
import pytest

from tests.atoms.conftest import TINY
from tests.helpers import invoke


@pytest.fixture(scope="module")
def eth_data(tmp_path_factory):
    from lawful.atoms.data import DataConfig, generate

    cfg = DataConfig(molecule="ethanol", calculator="xtb", n_configs=24, n_test=8, n_shift=4, stride=10,
                     equilibrate=20.0, T_shift=1000.0, out=tmp_path_factory.mktemp("eth"))
    generate(cfg)
    return cfg.out


def test_molecules_build_and_refuse(tmp_path):
    from lawful.atoms.data import DataConfig
    from lawful.atoms.molecules import build_molecule

    assert build_molecule("ethanol").get_chemical_formula() == "C2H6O"
    with pytest.raises(ValueError, match="neither a name"):
        build_molecule("unobtainium")
    with pytest.raises(ValueError, match="--calculator xtb"):
        DataConfig(molecule="ethanol")


def test_molecular_data_sets_carry_xtb_labels(eth_data):
    from ase.io import read

    from lawful.atoms.molecules import xtb_calculator

    sets = {n: read(eth_data / f, ":") for n, f in (("train", "train.extxyz"), ("test", "test.extxyz"),
                                                     ("hot", "shift_hot.extxyz"), ("unseen", "shift_unseen.extxyz"))}
    assert [len(v) for v in sets.values()] == [24, 8, 4, 4]
    assert sets["unseen"][0].get_chemical_formula() == "C2H6O"  # dimethyl ether: same atoms, other bonds
    frame = sets["test"][3]
    again = frame.copy()
    again.calc = xtb_calculator()
    assert abs(again.get_potential_energy() - frame.get_potential_energy()) < 1e-6
    assert np.allclose(again.get_forces(), frame.get_forces(), atol=1e-6)


def _train(data, out, **kw):
    from lawful.atoms.train import TrainConfig, train

    return train(TrainConfig(data=data, out=out, dtype="float64", limit_pref_v=0.0, **{**TINY, **kw}),
                 show_progress=False)


def test_energy_only_training_learns_energies(eth_data, tmp_path):
    import torch

    path = _train(eth_data, tmp_path / "e", steps=3000, eval_every=1000, batch_size=8, lr=5e-3, lr_stop=1e-3,
                  start_pref_e=1.0, limit_pref_e=1.0, start_pref_f=0.0, limit_pref_f=0.0)
    from lawful.atoms.evaluate import evaluate
    from lawful.atoms.potential import load

    record = torch.load(path, weights_only=True)["record"]
    fitted = evaluate(path, eth_data / "train.extxyz", reference="none", plots=False)["model"]
    # the training frames' per-atom energies, fitted below their spread (what the mean would leave): energy-only
    # fits learn slowly (a plateau near the mean for hundreds of steps), so this asks for progress, not precision
    assert fitted["energy_rmse_mev_atom"] < 0.7 * 1e3 * record["sigma"]["energy"]

    # the output unit of an energy-only fit is the per-atom energy spread, not σ_F·1 Å
    assert float(load(path).members[0].e_scale) == pytest.approx(record["sigma"]["energy"])


def _loop_work(calc, atoms, atom: int = 0, radius: float = 0.05, n: int = 64) -> float:
    """∮ F·dr around a small circle of one atom in the xy plane (trapezoid rule)."""
    base = atoms.positions.copy()
    work = 0.0
    phis = np.linspace(0.0, 2 * np.pi, n + 1)
    forces = []
    for phi in phis:
        pos = base.copy()
        pos[atom, :2] += radius * np.array([np.cos(phi), np.sin(phi)])
        atoms.positions = pos
        atoms.calc = calc
        forces.append(atoms.get_forces()[atom, :2].copy())
    for k in range(n):
        dr = radius * (np.array([np.cos(phis[k + 1]), np.sin(phis[k + 1])]) - np.array([np.cos(phis[k]),
                                                                                       np.sin(phis[k])]))
        work += 0.5 * (forces[k] + forces[k + 1]) @ dr
    atoms.positions = base
    return work


def test_direct_force_head_is_equivariant_but_not_conservative(eth_data, tmp_path):
    from ase.io import read
    from scipy.spatial.transform import Rotation

    from lawful.atoms.calculator import Calculator

    direct = Calculator(_train(eth_data, tmp_path / "d", steps=20, force_head=True), dtype="float64")
    conservative = Calculator(_train(eth_data, tmp_path / "c", steps=20), dtype="float64")
    atoms = read(eth_data / "test.extxyz", index=0)
    atoms.calc = direct
    f = atoms.get_forces()
    rot = Rotation.random(random_state=2).as_matrix()
    turned = atoms.copy()
    turned.positions = atoms.positions @ rot.T
    turned.calc = direct
    assert np.allclose(turned.get_forces(), f @ rot.T, atol=1e-9)
    w_direct, w_cons = _loop_work(direct, atoms.copy()), _loop_work(conservative, atoms.copy())
    assert abs(w_cons) < 1e-6  # a gradient field does no work around a loop
    assert abs(w_direct) > 100 * max(abs(w_cons), 1e-9)


def test_gdml_forces_are_minus_the_gradient_of_its_energy_and_learn_lj():
    from ase import Atoms
    from ase.calculators.lj import LennardJones

    from lawful.atoms import gdml

    base = np.array([[0, 0, 0], [1.12, 0, 0], [0.56, 0.97, 0], [0.56, 0.32, 0.92], [0.56, 0.32, -0.92]])
    rng = np.random.default_rng(0)
    pos = base[None] + rng.normal(scale=0.04, size=(140, 5, 3))
    energies, forces = [], []
    for p in pos:
        a = Atoms("Ar5", p)
        a.calc = LennardJones(sigma=1.0, epsilon=1.0, rc=10.0)
        energies.append(a.get_potential_energy())
        forces.append(a.get_forces())
    energies, forces = np.array(energies), np.array(forces)
    test = slice(100, 140)
    small = gdml.fit(pos[:10], energies[:10], forces[:10])
    big = gdml.fit(pos[:100], energies[:100], forces[:100])
    err = {n: np.mean(np.abs(m.predict(pos[test])[1] - forces[test])) for n, m in ((10, small), (100, big))}
    assert err[100] < err[10] and err[100] < 0.1 * np.mean(np.abs(forces[test]))
    # −∇E = F̂ holds for any weights: checked with O(1) random ones (the fitted α ~ 1e7 drown a finite difference)
    x, jac = gdml.descriptor(pos[:30])
    model = gdml.GDML(x, jac, rng.normal(size=(30, 15)), big.sigma, big.lam)
    p = pos[test][:1].copy()
    h = 1e-5
    for atom, axis in ((2, 1), (0, 0), (4, 2)):
        up, dn = p.copy(), p.copy()
        up[0, atom, axis] += h
        dn[0, atom, axis] -= h
        fd = -(model.predict(up)[0] - model.predict(dn)[0]) / (2 * h)
        assert abs(fd[0] - model.predict(p)[1][0, atom, axis]) < 1e-6 * max(1.0, abs(fd[0]))
    e_err = np.mean(np.abs(big.predict(pos[test])[0] - energies[test]))
    assert e_err < 0.1 * np.std(energies[test])


def test_molecule_md_and_evaluate_through_the_cli(eth_data, tmp_path):
    model = _train(eth_data, tmp_path / "m", steps=30, committee=2)
    res = invoke("atoms", "md", "--model", model, "--molecule", "ethanol", "--dt", 0.25, "--time", 0.01,
                 "--equilibrate", 0.005, "--check-time", 0.005, "--out", tmp_path / "md", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.output.strip().splitlines()[-1])
    assert s["atoms"] == 9 and "drift_mev_atom_ps" in s
    res = invoke("atoms", "evaluate", "--model", model, "--data", eth_data / "test.extxyz", "--reference", "none",
                 "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.output.strip().splitlines()[-1])
    assert "reference" not in s and set(s["guard"]["sets"]) == {"in_domain", "hot", "unseen"}
    res = invoke("atoms", "evaluate", "--model", model, "--data", eth_data, "--reference", "dft")
    assert res.exit_code == 2 and "reference" in res.output
