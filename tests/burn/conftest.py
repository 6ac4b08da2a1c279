import importlib.util
import sys
import warnings

import pytest

from lawful.burn.network import Network, pynucastro_network


@pytest.fixture(scope="session")
def aprox13():
    return Network("aprox13")


@pytest.fixture(scope="session")
def c12net():
    return Network("c12")


@pytest.fixture(scope="session")
def pynucastro_module(tmp_path_factory):
    """pynucastro's own generated Python module for a network (the independent reference)."""
    cache = {}

    def get(name):
        if name not in cache:
            path = tmp_path_factory.mktemp("pyna") / f"ref_{name}.py"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pynucastro_network(name).write_network(str(path))
            spec = importlib.util.spec_from_file_location(f"ref_{name}", path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = mod
            spec.loader.exec_module(mod)
            cache[name] = mod
        return cache[name]

    return get
