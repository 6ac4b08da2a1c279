"""lawful.testing.check_potential: passes for ASE's EMT (an exactly conservative, local, smooth potential) and
fails for a calculator whose forces carry white noise (the negative control)."""

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from lawful.atoms.data import EMT_RANGE
from lawful.testing import check_potential, noisy_forces


@pytest.fixture(scope="module")
def cu():
    return bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 2)


@pytest.mark.parametrize("element, a", [("Cu", 3.61), ("Al", 4.05), ("Au", 4.08)])
def test_emt_passes_every_check(element, a):
    report = check_potential(EMT(), bulk(element, "fcc", a=a, cubic=True) * (2, 2, 2), cutoff=EMT_RANGE, seed=3)
    assert report.failures == [], [(c.name, c.error, c.tolerance) for c in report.checks]
    names = {c.name for c in report.checks}
    assert names == {"rotation", "reflection", "translation", "permutation", "wrapping", "force_sum", "force_fd",
                     "stress_fd", "locality", "cutoff"}
    assert report["force_fd"].error < 1e-6  # central differences are this good on EMT at h = 1e-4 Å


def test_noisy_forces_fail_the_derivative_and_symmetry_checks(cu):
    """Noise of 1e-3 of the force scale: invisible in the energy, caught by every check that looks at forces."""
    report = check_potential(noisy_forces(EMT(), sigma=0.005), cu, cutoff=EMT_RANGE)
    assert {"force_fd", "force_sum", "rotation", "translation", "permutation"} <= set(report.failures)
    assert report["stress_fd"].passed  # the stress is EMT's own: the checks are independent


def test_a_missing_cutoff_is_caught(cu):
    """Claiming a range shorter than the potential's: the dimer still feels its partner past the claimed cutoff,
    and two clusters that close still interact."""
    report = check_potential(EMT(), cu, cutoff=4.0)
    assert {"cutoff", "locality"} <= set(report.failures)


def test_bad_input_is_refused(cu):
    open_cluster = cu.copy()
    open_cluster.pbc = False
    with pytest.raises(ValueError, match="periodic bulk"):
        check_potential(EMT(), open_cluster, cutoff=EMT_RANGE)
