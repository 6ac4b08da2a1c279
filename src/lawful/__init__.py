"""lawful: AI-accelerated physical simulation in which a learned model never gets the last word.

``import lawful`` stays light: heavy dependencies (numba, torch, matplotlib, dask, pyerrors) are imported
inside the functions that need them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lawful")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
