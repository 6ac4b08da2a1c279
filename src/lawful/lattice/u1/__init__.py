"""2D U(1) lattice gauge theory with the Wilson action: exact finite-volume references by character expansion,
heat bath with over-relaxation, Metropolis, HMC (:class:`lawful.lattice.mcmc.HMC`), instanton moves, an exact
independent sampler, and a gauge-equivariant normalizing flow made exact by independence Metropolis–Hastings.

Public names, imported on first use: ``from lawful.lattice.u1 import U1, ExactSampler``; exact results in
:mod:`lawful.lattice.u1.exact`.
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "U1": "action", "random_gauge": "action",
    "HeatBath": "samplers", "Metropolis": "samplers", "WithInstantons": "samplers", "ExactSampler": "samplers",
    "make_sampler": "samplers", "U1RunConfig": "config", "U1TrainConfig": "config", "analyze_u1": "analysis",
    "GaugeFlow": "flow",
})
