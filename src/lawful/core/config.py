"""Configuration: pydantic schemas, TOML files, ``--set key=value`` overrides.

Precedence, lowest first: the schema's defaults < a TOML file < explicit command-line flags < ``--set``.
Unknown keys are rejected with the list of valid ones; the resolved config is written beside the outputs.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pydantic
import tomli_w

from lawful.core.io import atomic_write_bytes

M = TypeVar("M", bound=pydantic.BaseModel)


class Config(pydantic.BaseModel):
    """Base class of every lawful config: unknown keys are an error, assignments are validated.

    ``threads`` is in every config (:mod:`lawful.core.threads`); it never makes a run a different run.
    """

    model_config = pydantic.ConfigDict(extra="forbid", validate_assignment=True)

    threads: int = pydantic.Field(0, ge=0, description="threads for numba and torch (0: the cores free to this "
                                                       "process, or $LAWFUL_THREADS)")


def _check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    return value


#: a float config field that refuses nan and ±inf ("must be a finite number, got inf")
FiniteFloat = Annotated[float, pydantic.AfterValidator(_check_finite)]


def _widths_from_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"must be comma-separated integers like 32,32, got {value!r}") from None
    return value


def _check_widths(value: list[int]) -> list[int]:
    if not value or any(w < 1 for w in value):
        raise ValueError(f"must be a non-empty list of positive layer widths, got {value}")
    return value


#: hidden layer widths of a network: a non-empty list of positive integers, also given as "32,32" on the
#: command line
LayerWidths = Annotated[list[int], pydantic.BeforeValidator(_widths_from_text), pydantic.AfterValidator(_check_widths)]


def _check_counts(value: list[int]) -> list[int]:
    if any(n < 1 for n in value):
        raise ValueError(f"must be positive counts, got {value}")
    return value


#: a possibly empty list of positive counts (sample sizes), also given as "100,200,400" on the command line
CountList = Annotated[list[int], pydantic.BeforeValidator(_widths_from_text), pydantic.AfterValidator(_check_counts)]


def _floats_from_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return [float(v) for v in value.strip("[]").split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"must be comma-separated numbers like 300,900, got {value!r}") from None
    return value


#: a list of finite numbers, also given as "300,900,1500" on the command line
FloatList = Annotated[list[FiniteFloat], pydantic.BeforeValidator(_floats_from_text)]


class ConfigError(ValueError):
    """A config key or value is wrong; the message names it and what was expected."""


def parse_value(text: str) -> Any:
    """Parse the right-hand side of ``key=value`` as a TOML value, falling back to a plain string.

    ``1`` -> int, ``0.18`` -> float, ``inf`` -> float, ``true`` -> bool, ``[1, 2]`` -> list, ``omelyan`` -> str.
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """Turn ``["kappa=0.18", "n_traj=100"]`` into a dict; dashes in keys become underscores."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key] = parse_value(value.strip())
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file into a dict; a missing or malformed file is a :class:`ConfigError`."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        return tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from exc


def field_names(model: type[pydantic.BaseModel]) -> list[str]:
    """The keys of ``model``: its own first, then those every :class:`Config` has (``threads``)."""
    common = [k for k in Config.model_fields if k in model.model_fields]
    return [k for k in model.model_fields if k not in common] + common


def format_errors(exc: pydantic.ValidationError, model: type[pydantic.BaseModel] | None = None) -> str:
    """One line per error of ``exc``: ``key = value: what is wrong``; an unknown key lists ``model``'s keys."""
    valid = ", ".join(field_names(model)) if model is not None else "those of the config"
    lines = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if not key:  # a check across several keys
            lines.append(msg)
        elif err["type"] == "extra_forbidden":
            lines.append(f"unknown config key {key!r}; valid keys are: {valid}")
        else:
            lines.append(f"{key} = {err.get('input')!r}: {msg}")
    return "; ".join(lines)


def resolve(model: type[M], *layers: dict[str, Any] | None) -> M:
    """Merge ``layers`` (later wins; ``None`` values are skipped) and validate them against ``model``."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is not None:
                merged[key.replace("-", "_")] = value
    try:
        return model.model_validate(merged)
    except pydantic.ValidationError as exc:
        raise ConfigError(format_errors(exc, model)) from None


def to_toml_dict(cfg: pydantic.BaseModel) -> dict[str, Any]:
    """The config as a TOML-writable dict (paths as strings, ``None`` dropped)."""
    out = {}
    dumped = cfg.model_dump()  # python mode keeps inf (json mode would turn it into null)
    for key in field_names(type(cfg)):  # the command's own keys first, then those every config has
        value = dumped[key]
        if value is None:
            continue
        out[key] = str(value) if isinstance(value, Path) else value
    return out


def to_toml_text(cfg: pydantic.BaseModel) -> str:
    """The config as TOML text (what :func:`write_toml` writes and provenance attributes store)."""
    return tomli_w.dumps(to_toml_dict(cfg))


def write_toml(cfg: pydantic.BaseModel, path: str | Path) -> None:
    """Write the resolved config atomically as TOML."""
    atomic_write_bytes(Path(path), to_toml_text(cfg).encode())


def check_same_run(cfg: pydantic.BaseModel, stored_toml: str, where: str | Path) -> None:
    """Raise ``ValueError`` if the run stored in ``where`` (its config ``stored_toml``) differs from ``cfg`` in a
    key outside ``type(cfg).RESUMABLE_CHANGES`` (the keys a resumed run may change, e.g. its length). A key the
    stored config lacks (added to the schema since) counts as the value runs had before it existed: its entry in
    ``type(cfg).LEGACY_DEFAULTS`` if the default changed since, else its default; so older runs still resume."""
    stored, now = tomllib.loads(stored_toml), to_toml_dict(cfg)
    defaults = {**to_toml_dict(type(cfg).model_construct()), **getattr(type(cfg), "LEGACY_DEFAULTS", {})}
    stored = {**{k: v for k, v in defaults.items() if k not in stored}, **stored}
    allowed = getattr(type(cfg), "RESUMABLE_CHANGES", frozenset()) | {"threads"}
    diffs = [f"{k}: {stored.get(k)!r} there, {now.get(k)!r} here" for k in sorted(set(stored) | set(now))
             if k not in allowed and stored.get(k) != now.get(k)]
    if diffs:
        raise ValueError(f"output directory {str(where)!r} holds a different run ({'; '.join(diffs)}); "
                         "choose another --out, or remove that directory to start afresh")
