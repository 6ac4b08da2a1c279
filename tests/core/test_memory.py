"""The malloc settings take effect on Linux/glibc (mallopt returns 0 for a setting glibc refuses); the speed they
buy is measured by benchmarks/malloc_settings.py, not here."""

import platform
import sys

import pytest

from lawful.core.memory import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_keep_freed_memory_takes_effect_on_glibc():
    assert keep_freed_memory()
