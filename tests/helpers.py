"""Helpers the test modules share (fixtures live in conftest.py)."""

import math

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
