"""Public names of a package, imported when first used (PEP 562), so ``import lawful.lattice`` stays light.

A domain's ``__init__`` lists its public names and the modules that hold them; ``from lawful.lattice import
HMC`` then imports only what ``HMC`` needs (numba, torch and the rest load with the modules that use them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> tuple[list[str], Callable[[str], Any]]:
    """``(__all__, __getattr__)`` for ``package``: each public name maps to the module (relative to
    ``package``) that defines it."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{names[name]}"), name)

    return sorted(names), __getattr__
