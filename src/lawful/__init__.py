"""lawful: AI-accelerated physical simulation in which a learned model never gets the last word.

``import lawful`` stays light: heavy dependencies (numba, torch, matplotlib, dask) are imported
inside the functions that need them.
"""

import hashlib
import os
import sys
from pathlib import Path

from lawful.core.io import cache_dir, lawful_version

__version__ = lawful_version()

__all__ = ["__version__"]


def _numba_cache_dir() -> Path:
    """A numba cache directory keyed by the hash of every lawful source file.

    numba's ``cache=True`` invalidates a function's cache only when its own file changes, not when a jitted
    function it calls (in another module) changes; a stale caller then calls the new callee with the old
    arguments (we saw a heap corruption). One directory per source state makes every cache consistent.
    """
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return cache_dir() / "numba" / digest.hexdigest()[:16]


if "NUMBA_CACHE_DIR" not in os.environ:  # the user's own setting wins
    os.environ["NUMBA_CACHE_DIR"] = str(_numba_cache_dir())
    if "numba" in sys.modules:  # numba read its settings when it was imported before us: tell it too
        sys.modules["numba"].config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
