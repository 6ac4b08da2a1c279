"""The error detector's target: the error score."""

import numpy as np


def test_error_score_is_the_worse_of_energy_and_major_species_over_the_goal():
    """Checked by hand: zone 0 is 2 % off in energy and 0.5 % in its major species (score 2); zone 1 releases less
    than the floor, so only its species count, and its minor species (X_ref ≤ 1e-3) is ignored however far off."""
    from lawful.burn.surrogate.detector import error_score

    X_ref = np.array([[0.6, 0.4, 0.0], [0.9, 0.0995, 5e-4]])
    X = np.array([[0.6 * 1.005, 0.4, 0.0], [0.9 * 1.03, 0.0995, 1e-3]])
    s = error_score(X, np.array([1.02e15, 1.0]), X_ref, np.array([1e15, 1e5]), major=1e-3, energy_floor=1e10)
    np.testing.assert_allclose(s, [2.0, 3.0], rtol=1e-12)
