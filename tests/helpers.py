"""Helpers the test modules share (fixtures live in conftest.py)."""

import math

import numpy as np
from typer.testing import CliRunner

from lawful.cli.app import app

_runner = CliRunner()


def pull(value: float, error: float, ref: float, ref_error: float = 0.0) -> float:
    """(value − ref) in units of the combined standard error."""
    return (value - ref) / math.hypot(error, ref_error)


def stop_at(n: int):
    """A progress hook that raises KeyboardInterrupt when called with ``n`` (interrupts a run at that point)."""
    def hook(i):
        if i == n:
            raise KeyboardInterrupt
    return hook


def invoke(*args):
    """Run ``lawful ARGS`` in-process (arguments turned into strings, a wide terminal)."""
    return _runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def ar1(a: float, n: int, chains: int, seed: int) -> np.ndarray:
    """x_t = a x_{t−1} + √(1−a²) ε_t, stationary with unit variance; τ_int = (1 + a) / (2 (1 − a)) exactly."""
    rng = np.random.default_rng(seed)
    x = np.empty((chains, n))
    x[:, 0] = rng.standard_normal(chains)
    eps = rng.standard_normal((chains, n)) * math.sqrt(1 - a * a)
    for t in range(1, n):
        x[:, t] = a * x[:, t - 1] + eps[:, t]
    return x
