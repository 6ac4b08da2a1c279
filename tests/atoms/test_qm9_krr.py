"""QM9 from the wheel, the representations, KRR and Δ-learning on xTB (small N; the full curves are a benchmark)."""

import json

import numpy as np
import pytest

from tests.helpers import invoke


@pytest.fixture(scope="module")
def qm9():
    from lawful.atoms import qm9 as q

    return q.load()


def test_qm9_loads_every_molecule_with_atomization_energies(qm9):
    assert len(qm9) == 130_831 and qm9.offsets[-1] == len(qm9.charges)
    z, r = qm9.molecule(0)  # methane
    assert sorted(z.tolist()) == [1, 1, 1, 1, 6]
    assert np.all(np.abs(np.linalg.norm(r[z == 1] - r[z == 6], axis=1) - 1.09) < 0.01)  # C–H bond, Å
    # D0(CH4) = 392.5 kcal/mol (NIST CCCBDB, experiment at 0 K); B3LYP's U0 lies within a few kcal/mol
    assert abs(-qm9.energy[0] - 392.5) < 5.0
    atoms = qm9.atoms(0)
    assert atoms.get_chemical_formula() == "CH4"


def test_split_is_disjoint_seeded_and_refuses_too_many(qm9):
    from lawful.atoms.qm9 import split

    tr, te = split(len(qm9), 500, 200, seed=3)
    assert len(set(tr) & set(te)) == 0 and len(tr) == 500
    tr2, te2 = split(len(qm9), 800, 200, seed=3)
    assert np.array_equal(te, te2) and np.array_equal(tr, tr2[:500])  # one test set, nested training sets
    with pytest.raises(ValueError, match="exceeds the 130831"):
        split(len(qm9), 130_000, 2000)


def test_coulomb_matrix_and_bob_are_invariant_to_order_and_rotation(qm9):
    from scipy.spatial.transform import Rotation

    from lawful.atoms.qm9 import Molecules
    from lawful.atoms.representations import represent

    m = qm9.subset(np.array([40]))
    z, r = m.molecule(0)
    perm = np.random.default_rng(0).permutation(len(z))
    rot = Rotation.random(random_state=1).as_matrix()
    other = Molecules(z[perm], r[perm] @ rot.T + 3.0, m.offsets, m.energy, m.index)
    for kind in ("cm", "cm_eigen", "bob"):
        assert np.allclose(represent(m, kind), represent(other, kind), atol=1e-9), kind


def test_an_element_outside_qm9_is_refused_before_work(qm9):
    from lawful.atoms.qm9 import Molecules
    from lawful.atoms.representations import represent

    m = qm9.subset(np.array([0]))
    bad = Molecules(np.array([14, 1, 1, 1, 1]), m.positions, m.offsets, m.energy, m.index)
    with pytest.raises(ValueError, match="Z = 14"):
        represent(bad, "bob")


def test_local_kernel_matches_qmllib_pair_by_pair(qm9):
    from qmllib.kernels import get_local_kernel

    from lawful.atoms.krr import local_kernels
    from lawful.atoms.representations import represent

    a, b = qm9.subset(np.arange(100, 130)), qm9.subset(np.arange(500, 520))
    xa, xb = represent(a, "local"), represent(b, "local")
    ours_sym = local_kernels(xa, None, [3.0])[0]
    ours = local_kernels(xb, xa, [3.0])[0]

    def padded(x, mols):
        return np.array([np.pad(x.x[x.molecule == m], ((0, 29 - mols.sizes[m]), (0, 0))) for m in range(len(mols))])

    qa = [a.molecule(m)[0] for m in range(len(a))]
    qb = [b.molecule(m)[0] for m in range(len(b))]
    ref = get_local_kernel(padded(xa, a), padded(xb, b), qa, qb, 3.0)  # qmllib's (n_b, n_a) orientation
    assert np.allclose(ours, ref, rtol=1e-10)
    ref_sym = get_local_kernel(padded(xa, a), padded(xa, a), qa, qa, 3.0)
    assert np.allclose(ours_sym, ref_sym, rtol=1e-10)


def test_krr_learns_more_from_more_molecules_and_beats_the_linear_term(qm9):
    from lawful.atoms.krr import learning_curve, linear_fit
    from lawful.atoms.qm9 import split
    from lawful.atoms.representations import element_counts, represent

    tr, te = split(len(qm9), 400, 300, seed=1)
    a, b = qm9.subset(tr), qm9.subset(te)
    ca, cb = element_counts(a), element_counts(b)
    pts = learning_curve(represent(a, "bob"), a.energy, ca, represent(b, "bob"), b.energy, cb, [50, 400])
    linear = np.mean(np.abs(cb @ linear_fit(ca, a.energy) - b.energy))
    assert pts[1].mae < pts[0].mae < linear
    assert pts[1].mae < 0.5 * linear
    with pytest.raises(ValueError, match="exceeds the 400"):
        learning_curve(represent(a, "cm"), a.energy, ca, represent(b, "cm"), b.energy, cb, [500])


def test_xtb_baseline_is_cached_and_failures_are_listed(qm9, tmp_path, monkeypatch):
    from lawful.atoms import xtb

    mols = qm9.subset(np.arange(6))
    cache = tmp_path / "x.h5"
    base, ok, computed = xtb.qm9_baseline(mols, cache)
    assert computed == 6 and ok.all() and np.all(np.isfinite(base))
    # units and free-atom bookkeeping against tblite's own interface (Bohr in, Hartree out)
    from tblite.interface import Calculator

    from lawful.atoms.qm9 import KCAL_EV

    z, r = mols.molecule(0)
    calc = Calculator("GFN2-xTB", z, r / 0.529177210903)
    calc.set("verbosity", 0)
    total_ev = calc.singlepoint().get("energy") * 27.211386245988
    free = xtb.free_atoms()
    assert abs(base[0] * KCAL_EV + 4 * free["H"] + free["C"] - total_ev) < 1e-6
    # GFN2's free atoms are not what it was fitted for: E_at(xTB) overbinds, by a per-element amount that the
    # linear term of Δ-learning absorbs (methane: ~110 kcal/mol)
    assert np.all(base < mols.energy)

    def fail(*args, **kwargs):
        raise AssertionError("cached molecules must not be recomputed")

    monkeypatch.setattr(xtb, "_chunk", fail)
    again, _, computed = xtb.qm9_baseline(mols, cache)
    assert computed == 0 and np.array_equal(again, base)
    monkeypatch.undo()

    real = xtb.singlepoint

    def flaky(numbers, positions, *args, **kwargs):
        if len(numbers) == len(mols.molecule(1)[0]) and np.allclose(positions, mols.molecule(1)[1]):
            raise RuntimeError("SCF not converged")
        return real(numbers, positions, *args, **kwargs)

    monkeypatch.setattr(xtb, "singlepoint", flaky)
    base2, ok2, _ = xtb.qm9_baseline(mols, tmp_path / "y.h5")
    assert not ok2[1] and ok2.sum() == 5 and np.isnan(base2[1])


def test_qm9_cli_json_direct_and_delta(tmp_path):
    res = invoke("atoms", "qm9", "--representation", "cm", "--n-train", 100, "--n-test", 200, "--delta", "xtb",
                 "--curve", "50,100", "--cache", tmp_path / "x.h5", "--out", tmp_path / "c", "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.output.strip().splitlines()[-1])
    assert {"mae_kcal_mol", "rmse_kcal_mol", "n_train", "n_test", "representation", "delta"} <= set(s)
    assert s["n_train"] == 100 and s["n_test"] == 200 and s["delta"] == "xtb" and s["baseline_failed"] == 0
    assert (tmp_path / "c" / "curve.png").is_file() and len(s["curve"]) == 2
    res = invoke("atoms", "qm9", "--n-train", 130_000, "--n-test", 2000)
    assert res.exit_code == 2 and "exceed" in res.output
    res = invoke("atoms", "qm9", "--representation", "soap")
    assert res.exit_code == 2 and "representation" in res.output
