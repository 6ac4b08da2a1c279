"""The Deep Potential keeps the rules of any potential by construction, trained or not: the conformance checks
(symmetries, forces and stress as derivatives, locality, a smooth cutoff) pass for random weights in float64,
for one species and for a mixture; float32 agrees with float64; TorchScript gives the same numbers; bad input is
refused by name."""

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import PropertyNotImplementedError

from lawful.atoms.calculator import Calculator
from lawful.atoms.deepmd import DeepPotential, switch
from lawful.atoms.potential import Potential
from lawful.testing import check_potential


def random_potential(species, seed=0, rcut=5.0, dtype=torch.float64):
    """An untrained potential, its statistics set by ``set_statistics`` from anisotropic pairs, e_ref = -3 eV."""
    torch.manual_seed(seed)
    model = DeepPotential(len(species), rcut=rcut, rcut_smth=1.5, embed=(8, 16), axis=4, fit=(16, 16)).to(dtype)
    # statistics as training sets them, from pairs whose x, y and z spreads differ (a strained cell)
    gen = torch.Generator().manual_seed(seed)
    d = torch.randn(500, 3, generator=gen, dtype=dtype) * torch.tensor([1.0, 1.3, 0.8], dtype=dtype) + 1.0
    s, _ = model.environment(d)
    r = torch.linalg.vector_norm(d, dim=1)
    env = torch.cat([s.unsqueeze(1), (s / r).unsqueeze(1) * d], dim=1)
    model.set_statistics(s, env, 40.0, torch.full((len(species),), -3.0, dtype=dtype), 1.0)
    return Potential(list(species), [model])


def cu(n=2, a=3.6):
    return bulk("Cu", "fcc", a=a, cubic=True) * (n, n, n)


def test_switch_is_one_inside_zero_outside_and_smooth():
    r = torch.linspace(0.5, 7.0, 2001, dtype=torch.float64, requires_grad=True)
    s = switch(r, 2.0, 5.0)
    (ds,) = torch.autograd.grad(s.sum(), r, create_graph=True)
    (d2s,) = torch.autograd.grad(ds.sum(), r)
    assert torch.all(s[r < 2.0] == 1) and torch.all(s[r >= 5.0] == 0)
    for f in (ds, d2s):  # C²: first and second derivatives vanish at both ends
        assert f[(r - 2.0).abs() < 2e-3].abs().max() < 0.02 and f[(r - 5.0).abs() < 2e-3].abs().max() < 0.02


@pytest.mark.parametrize("species", [(29,), (29, 79)])
def test_random_weights_pass_every_conformance_check(species):
    atoms = cu()
    if len(species) == 2:
        atoms.numbers[::3] = 79
    result = check_potential(Calculator(random_potential(species)), atoms, cutoff=5.0)
    assert result.failures == [], [(c.name, c.error, c.tolerance) for c in result.checks]


def test_float32_agrees_with_float64():
    p64 = random_potential((29,))
    atoms = cu()
    atoms.rattle(0.1, seed=2)
    outs = []
    for dtype in ("float64", "float32"):
        a = atoms.copy()
        a.calc = Calculator(p64, dtype=dtype)
        outs.append((a.get_potential_energy(), a.get_forces(), a.get_stress()))
    (e64, f64, s64), (e32, f32, s32) = outs
    assert e32 == pytest.approx(e64, rel=1e-6)
    assert np.abs(f32 - f64).max() < 1e-5 * np.abs(f64).max() + 1e-6
    assert np.abs(s32 - s64).max() < 1e-5 * np.abs(s64).max() + 1e-7


def test_torchscript_export_gives_the_same_numbers(tmp_path):
    """Also checks the embedding once per unordered pair (the calculator) against once per ordered pair (export)."""
    from lawful.atoms.export import export
    from lawful.atoms.frames import frame_arrays

    p = random_potential((29,))
    path = export(p.save(tmp_path / "model.pt"), tmp_path / "scripted.pt")
    scripted = torch.jit.load(path)
    atoms = cu()
    atoms.rattle(0.1, seed=3)
    fa = frame_arrays(atoms, [29], scripted.rcut)
    e, f, s = scripted(*(torch.as_tensor(x) for x in (fa.pos, fa.cell, fa.types, fa.i, fa.j, fa.shift)))
    ref = p.evaluate([fa])[0]
    assert scripted.species == [29]
    assert e.item() == pytest.approx(ref["energy"][0], rel=1e-12)
    assert np.abs(f.detach().numpy() - ref["forces"]).max() < 1e-12
    assert np.abs(s.detach().numpy() - ref["stress"][0]).max() < 1e-14


def test_stress_of_an_open_system_is_refused():
    atoms = Atoms("Cu3", positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5, 0]], pbc=False)
    atoms.calc = Calculator(random_potential((29,)))
    assert np.isfinite(atoms.get_forces()).all()
    with pytest.raises(PropertyNotImplementedError, match="stress needs a periodic cell"):
        atoms.get_stress()


@pytest.mark.parametrize("spoil, match", [
    (lambda a: a.positions.__setitem__((1, 0), np.nan), "atom 1 has non-finite position"),
    (lambda a: a.positions.__setitem__(1, a.positions[0] + [0.3, 0, 0]), "0.300 Å apart, closer than 0.5"),
    (lambda a: a.numbers.__setitem__(2, 47), r"species \['Ag'\] unknown to the model"),
    (lambda a: a.set_cell(np.diag([3.6, 3.6, 0.0])), "degenerate cell"),
])
def test_bad_atoms_are_refused_by_name(spoil, match):
    atoms = cu(1)
    spoil(atoms)
    atoms.calc = Calculator(random_potential((29,)))
    with pytest.raises(ValueError, match=match):
        atoms.get_potential_energy()


def test_the_shipped_model_relaxes_a_strained_cell_to_its_own_lattice_constant():
    """ASE's FrechetCellFilter with FIRE (stress and forces together) ends where E(a) has its minimum."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE

    from lawful.atoms.potential import shipped
    from lawful.atoms.properties import lattice_constant

    calc = Calculator(shipped("cu"), dtype="float64")
    a0 = lattice_constant(calc, "Cu")
    atoms = cu(2, a=3.59 * 1.03)
    atoms.rattle(0.02, seed=4)
    atoms.calc = calc
    FIRE(FrechetCellFilter(atoms), logfile=None).run(fmax=1e-4, steps=500)
    assert np.abs(atoms.cell.lengths() / 2 - a0).max() < 2e-4 and np.abs(atoms.get_stress()).max() < 1e-5
