"""Compressible hydrodynamics: a conservative finite-volume Euler solver (1D/2D, passive species, γ-law or
stellar EOS) coupled to nuclear burning by Strang splitting. CGS units.

Public names, imported on first use: ``from lawful.hydro import Mesh, Euler, GammaLaw``; a run is
``lawful.hydro.run.run(cfg, problem)``.
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "Mesh": "mesh", "Euler": "solver", "HydroState": "solver", "HydroFailure": "solver", "GammaLaw": "eos",
    "StellarGas": "eos", "Strang": "coupling", "BurnStep": "coupling", "HydroRunConfig": "config",
})
