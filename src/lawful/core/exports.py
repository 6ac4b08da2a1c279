"""Public names of a package, imported when first used (PEP 562), so ``import lawful.lattice`` stays light.

A domain's ``__init__`` lists its public names and the modules that hold them; ``from lawful.lattice import
HMC`` then imports only what ``HMC`` needs (numba, torch and the rest load with the modules that use them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> tuple[list[str], Callable[[str], Any]]:
    """``(__all__, __getattr__)`` for ``package``: each public name maps to the module that defines it, relative
    to ``package`` or, when it starts with ``lawful.``, absolute (a name a domain shares from ``lawful.core``)."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = names[name] if names[name].startswith("lawful.") else f"{package}.{names[name]}"
        return getattr(importlib.import_module(module), name)

    return sorted(names), __getattr__
