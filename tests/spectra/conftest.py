"""Fixtures shared by the spectra tests."""

import pytest

from lawful.spectra.data import DataConfig, generate


@pytest.fixture(scope="session")
def small_data(tmp_path_factory):
    """A 300-giant data set (seed 5: 240 training, 30 validation, 30 test stars), read only by the tests."""
    return generate(DataConfig(n=300, seed=5), tmp_path_factory.mktemp("spectra"))
