"""How a surrogate's burn is judged against a reference burn: which species and energies count, and the goal.

* species: |X − X_ref| / X_ref over every (zone, nucleus) with X_ref > :data:`MAJOR` (the major species);
* energy: |ε − ε_ref| / |ε_ref| over zones with |ε_ref| ≥ :data:`ENERGY_FLOOR` erg/g (smaller releases are
  judged absolutely by the species error).

Training (its loss and the error detector's targets) and evaluation share these definitions.
"""

from __future__ import annotations

import numpy as np

#: mass fraction above which a species counts as major
MAJOR = 1e-3
#: specific energy release (erg/g) below which an energy error is not judged relatively
ENERGY_FLOOR = 1e10
#: the 99th-percentile goal of the relative error (issue 6)
P99_GOAL = 1e-2


def errors(X, enuc, X_ref, enuc_ref) -> dict[str, np.ndarray]:
    """Relative errors of the major species (flat array) and of the energy release (per qualifying zone)."""
    major = X_ref > MAJOR
    big = np.abs(enuc_ref) >= ENERGY_FLOOR
    return {"species": np.abs(X - X_ref)[major] / X_ref[major],
            "energy": np.abs(enuc - enuc_ref)[big] / np.abs(enuc_ref[big])}
