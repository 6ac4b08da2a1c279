"""The burners hydrodynamics can ask for by name (``burner = "implicit" | "surrogate"`` in a hydro config).

:data:`BURNERS` maps a name to a factory ``factory(network, eos, *, rtol, atol, **options)``; a new burner is one
more entry. Every burner keeps the contract of :mod:`lawful.burn.burner`.
"""

from __future__ import annotations

from collections.abc import Callable

from lawful.burn.burner import ImplicitBurner


def _implicit(network, eos, *, rtol: float, atol: float, **_: object) -> ImplicitBurner:
    return ImplicitBurner(network, eos, rtol=rtol, atol=atol)


def _surrogate(network, eos, *, rtol: float, atol: float, model: str | None = None,
               error_limit: float | None = None, max_substeps: int = 4, untrained: str = "error") -> object:
    """The shipped (``model`` None) or a trained surrogate behind its guard, the implicit burner as fallback
    (``max_substeps``, ``untrained``: :class:`~lawful.burn.surrogate.guard.SurrogateBurner`)."""
    from lawful.burn.surrogate import store
    from lawful.burn.surrogate.guard import SurrogateBurner

    loaded = store.with_error_limit(store.load(model or None, network), error_limit or None)
    return SurrogateBurner(loaded, network, eos, fallback=ImplicitBurner(network, eos, rtol=rtol, atol=atol),
                           max_substeps=max_substeps, untrained=untrained)


#: burner name -> factory(network, eos, *, rtol, atol, **options)
BURNERS: dict[str, Callable[..., object]] = {"implicit": _implicit, "surrogate": _surrogate}


def make_burner(name: str, network, eos, *, rtol: float = 1e-6, atol: float = 1e-8, **options) -> object:
    """The burner called ``name`` (a key of :data:`BURNERS`) for ``network`` and ``eos`` (a StellarEOS);
    ``options`` go to its factory (the surrogate takes ``model``, ``error_limit``, ``max_substeps`` and
    ``untrained``)."""
    if name not in BURNERS:
        raise ValueError(f"burner = {name!r}; expected one of {sorted(BURNERS)}")
    return BURNERS[name](network, eos, rtol=rtol, atol=atol, **options)
