"""Pieces every command shares: flags generated from a config schema, error handling, value(error) format."""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pydantic
import typer
from rich.console import Console

from lawful.core.config import ConfigError, field_names, format_errors, load_toml, parse_sets, resolve

# pipes and files get wide, unwrapped tables (rich would fall back to 80 columns and truncate them)
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)

#: the --config and --set options every config-driven command takes
CONFIG_OPT = typer.Option(None, "--config", help="TOML file with config keys (flags override it)")
SET_OPT = typer.Option(None, "--set", help="override any config key: --set key=value (repeatable)")

#: the --json option of every command that ends in a table: one JSON object (or list) on stdout instead
JSON_OPT = typer.Option(False, "--json", help="print one JSON object instead of the table")

#: the --workers option of commands that fan out through the executor
WORKERS_OPT = typer.Option(None, "--workers", help="LocalCluster worker processes [default: cores]")


def scheduler_option(default: str) -> Any:
    """The --scheduler option of commands that fan out through the executor."""
    return typer.Option(default, "--scheduler", help="'serial', 'local' (Dask LocalCluster) or a scheduler address")


def print_summary(title: str, summary: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    """Print a command's measured quantities as a two-column table (dict values on one line, floats to 6 digits)."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key in skip:
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.6g}"
        table.add_row(key, str(value))
    console.print(table)


def print_rows(title: str, rows: dict[str, dict[str, Any]], columns: dict[str, str]) -> None:
    """Print ``rows`` (row name -> {key: value}) as a table with one column per key of ``columns`` (key ->
    header; floats to 3 digits)."""
    from rich.table import Table

    table = Table(title=title)
    for header in ("", *columns.values()):
        table.add_column(header, justify="right")
    for name, row in rows.items():
        table.add_row(name, *(f"{row[c]:.3g}" if isinstance(row[c], float) else str(row[c]) for c in columns))
    console.print(table)


#: python types a schema field may have, mapped to what the command line parses before pydantic validates
_FLAG_TYPES = {int: int, float: float, Path: str}


def _flag_type(annotation: Any) -> type:
    return _FLAG_TYPES.get(annotation, str)


def _default_text(name: str, model: type[pydantic.BaseModel], also: dict[str, type[pydantic.BaseModel]]) -> str:
    """``(default: D)``; with ``also`` the defaults of every schema that has the key, by schema name where
    they differ: ``(default: 6; u1: 8)``."""
    mine = model.model_fields[name].default if name in model.model_fields else None
    others = {k: m.model_fields[name].default for k, m in also.items() if name in m.model_fields}
    if name not in model.model_fields:
        return "(" + "; ".join(f"{k} default: {v}" for k, v in others.items()) + ")"
    extra = "".join(f"; {k}: {v}" for k, v in others.items() if v != mine)
    return f"(default: {mine}{extra})"


def config_options(model: type[pydantic.BaseModel], fixed: dict[str, Any] | None = None,
                   show_defaults: bool = True,
                   also: dict[str, type[pydantic.BaseModel]] | None = None) -> list[inspect.Parameter]:
    """One ``--flag-name`` option per field of ``model`` (defaults ``None`` = not given), except ``fixed``;
    ``show_defaults=False`` when the schema is a base whose subclasses set their own defaults. ``also`` (name →
    schema) adds the keys of other schemas the command may resolve instead (e.g. another lattice theory)."""
    params = []
    also = also or {}
    models = [model, *also.values()]
    names = list(dict.fromkeys(n for m in models for n in field_names(m)))
    for name in names:
        info = next(m.model_fields[name] for m in models if name in m.model_fields)
        if fixed and name in fixed:
            continue
        help_text = f"{info.description or name}" + (f" {_default_text(name, model, also)}" if show_defaults else "")
        flag = f"--{name.replace('_', '-')}"
        if info.annotation is bool:  # a switch: --flag / --no-flag
            decls, annotation = [f"{flag}/--no-{flag[2:]}"], bool
        else:
            decls, annotation = [flag], _flag_type(info.annotation)
        params.append(inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, *decls, help=help_text, show_default=False),
            annotation=Optional[annotation],  # noqa: UP045 - typer needs Optional here
        ))
    return params


def resolve_config(model: type[pydantic.BaseModel], config_file: Path | None, flags: dict[str, Any],
                   sets: list[str] | None, fixed: dict[str, Any] | None = None) -> Any:
    """defaults < TOML file < flags < --set < ``fixed`` (what the verb itself implies); sets the thread pools
    from the result's ``threads`` (:func:`lawful.core.threads.set_threads`)."""
    from lawful.core.threads import set_threads

    file_layer = load_toml(config_file) if config_file else {}
    cfg = resolve(model, file_layer, flags, parse_sets(sets), fixed)
    if getattr(cfg, "threads", 0):
        set_threads(cfg.threads)
    return cfg


def with_config_flags(model: type[pydantic.BaseModel], fixed: dict[str, Any] | None = None,
                      show_defaults: bool = True, also: dict[str, type[pydantic.BaseModel]] | None = None):
    """Decorator: give a command one option per config key (of ``model`` and the schemas in ``also``), passed to
    it as a dict ``flags``.

    The decorated function takes its own parameters plus ``flags: dict``; the generated signature keeps them
    first and appends the schema's options, so typer shows everything in ``--help``.
    """
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(fn).parameters.values() if p.name != "flags"]
        gen = config_options(model, fixed, show_defaults, also)
        names = {p.name for p in gen}

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            flags = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
            return fn(flags=flags, **kwargs)

        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        command.__signature__ = inspect.Signature(own + gen)  # type: ignore[attr-defined]
        del command.__wrapped__
        return command

    return wrap


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` to stderr and exit with ``code`` (the message verbatim: brackets in it are not
    read as rich markup)."""
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn bad input (ValueError, ConfigError, FileNotFoundError) into a clear message and exit code 2; a config
    validated inside the command names each bad key and value as :func:`~lawful.core.config.resolve` does."""
    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except pydantic.ValidationError as exc:
            fail(format_errors(exc))
        except (ConfigError, ValueError, FileNotFoundError) as exc:
            fail(str(exc))
    return inner


def resumable(fn: Callable[..., Any], out: Path | str, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` for a long job that checkpoints into ``out``; Ctrl-C (or SIGTERM) stops it at its
    next safe point with the checkpoint kept, says so and exits with code 130."""
    try:
        return fn(*args, **kwargs)
    except KeyboardInterrupt:
        err_console.print(f"\ninterrupted: checkpoint kept in {out}; rerun the same command to resume",
                          highlight=False)
        raise typer.Exit(130) from None


def fmt(value: float, error: float) -> str:
    """Physicist's notation with a two-digit error: 32.81(23), 1.6046(41), 2696(177)."""
    if not (math.isfinite(value) and math.isfinite(error)) or error <= 0:
        return f"{value:.6g}"
    digits = 1 - int(math.floor(math.log10(error)))  # decimals that keep two significant digits of error
    if digits <= 0:
        return f"{value:.0f}({error:.0f})"
    return f"{value:.{digits}f}({round(error * 10**digits):d})"
