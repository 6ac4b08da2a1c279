"""Each domain's public names resolve from the domain itself, and importing a domain stays light."""

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["lawful.lattice", "lawful.lattice.u1", "lawful.burn", "lawful.hydro", "lawful.atoms", "lawful.spectra",
                                     "lawful.galaxies"])
def test_every_public_name_resolves(package):
    pkg = importlib.import_module(package)
    assert pkg.__all__
    for name in pkg.__all__:
        obj = getattr(pkg, name)
        assert not isinstance(obj, type(sys)), f"{package}.{name} is a module, not the public object"
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        pkg.nonexistent  # noqa: B018


def test_importing_the_domains_imports_neither_numba_nor_torch():
    code = ("import sys, lawful.lattice, lawful.lattice.u1, lawful.burn, lawful.hydro, lawful.atoms, lawful.spectra, lawful.galaxies, "
            "lawful.cli.app; "
            "print(sorted(m for m in ('numba', 'torch', 'matplotlib', 'dask', 'ase') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
