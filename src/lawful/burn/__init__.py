"""Nuclear burning: reaction networks from pynucastro, a stellar EOS and a batched implicit integrator (CGS), and
a neural surrogate of one burn step behind a guard (:mod:`lawful.burn.surrogate`).

Public names, imported on first use: ``from lawful.burn import Network, StellarEOS, burn``.
"""

from lawful.core.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "Network": "network", "StellarEOS": "eos", "EOS_FIELDS": "eos", "burn": "integrate", "BurnResult": "integrate",
    "Status": "zone", "BurnOutcome": "burner", "ImplicitBurner": "burner", "make_burner": "registry",
    "BURNERS": "registry",
})
