"""Lattice field theory: φ⁴ in D = 1…4 dimensions sampled with Metropolis, heat-bath (Ising limit) and HMC, and
learned samplers (normalizing flows, diffusion models) made exact by Metropolis–Hastings; 2D U(1) gauge theory
with exact references and a gauge-equivariant flow in :mod:`lawful.lattice.u1`.

Public names, imported on first use: ``from lawful.lattice import Phi4, Lattice, HMC``. The long jobs keep their
modules' names (``lawful.lattice.run.run``, ``.train.train``, ``.sample.sample``).
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "Lattice": "geometry", "Phi4": "actions",
    "HMC": "mcmc", "Metropolis": "mcmc", "HeatBath": "mcmc", "initial_configuration": "mcmc", "make_sampler": "mcmc",
    "Phi4RunConfig": "config", "TrainConfig": "train_config", "SampleConfig": "train_config",
    "analyze": "analysis", "load_model": "models",
    "Observable": "lawful.core.gamma", "gamma_method": "lawful.core.gamma",
})
