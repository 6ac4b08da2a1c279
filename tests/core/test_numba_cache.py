"""The numba cache directory lawful picks (keyed by its sources) must be used even when numba came first."""

import os
import subprocess
import sys


def test_numba_imported_before_lawful_gets_the_keyed_cache_dir():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    code = ("import numba, lawful, os; "
            "print(numba.config.CACHE_DIR); print(os.environ['NUMBA_CACHE_DIR']); print(lawful._numba_cache_dir())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    used, exported, keyed = out.stdout.split("\n")[:3]
    assert used == exported == keyed
