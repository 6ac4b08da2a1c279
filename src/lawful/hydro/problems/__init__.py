"""Hydro test problems: each module defines ``Config`` (defaults = its TOML file beside it), ``setup(cfg)`` and
``measure(cfg, run)``; :data:`NAMES` lists the command-line names and :func:`get` returns the module."""

from __future__ import annotations

import importlib
from pathlib import Path

NAMES = ("sod", "advect", "detonation", "kh")


def get(name: str):
    """The problem module ``name``; ValueError naming the choices otherwise."""
    if name not in NAMES:
        raise ValueError(f"unknown problem {name!r}; expected one of {', '.join(NAMES)}")
    return importlib.import_module(f"lawful.hydro.problems.{name}")


def default_toml(name: str) -> Path:
    """Path of the TOML file that ships with problem ``name`` (its defaults, ready to copy and edit)."""
    get(name)
    return Path(__file__).with_name(f"{name}.toml")
