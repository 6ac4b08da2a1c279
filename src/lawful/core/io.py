"""On-disk format: HDF5 with provenance, written atomically.

Every file lawful writes that a user may keep goes through :func:`atomic_write_bytes` or :func:`atomic_h5`: the
content goes to a temporary file in the same directory, is flushed and fsync'ed, then renamed over the target,
so a crash or Ctrl-C never leaves a half-written file. HDF5 files carry provenance attributes (lawful version,
git hash, resolved config as TOML, root seed, creation time).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def lawful_version() -> str:
    """The installed lawful version (``0+unknown`` in a source tree that was never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lawful")
    except PackageNotFoundError:
        return "0+unknown"


def cache_dir() -> Path:
    """Root of lawful's caches (compiled networks, EOS table, numba): ``$LAWFUL_CACHE_DIR`` or ``~/.cache/lawful``."""
    return Path(os.environ.get("LAWFUL_CACHE_DIR", Path.home() / ".cache" / "lawful"))


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def _atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; once the block has written and closed it, fsync it and rename it
    over ``path``. On any exception (Ctrl-C included) the temporary is removed and ``path`` is untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same directory, fsync, rename)."""
    with _atomic_target(Path(path)) as tmp:
        tmp.write_bytes(data)


def atomic_torch_save(path: Path, obj: Any) -> None:
    """``torch.save(obj)`` to ``path`` atomically (serialized in memory, then :func:`atomic_write_bytes`)."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(Path(path), buf.getvalue())


@contextlib.contextmanager
def atomic_h5(path: Path) -> Iterator[Any]:
    """Open a new HDF5 file for writing that appears at ``path`` only once it is complete.

    Usage: ``with atomic_h5(p) as f: f["x"] = ...``. If the block raises (or is interrupted), ``path`` keeps
    its previous content.
    """
    import h5py

    with _atomic_target(Path(path)) as tmp, h5py.File(tmp, "w") as fh:
        yield fh


def git_hash() -> str:
    """The git commit of the lawful source tree, with ``-dirty`` if it has changes; ``unknown`` outside git."""
    src = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=src, capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def provenance(config_toml: str, seed: int | None) -> dict[str, Any]:
    """Provenance attributes for an output file: version, git hash, resolved config (TOML), seed, time."""
    attrs: dict[str, Any] = {
        "lawful_version": lawful_version(),
        "git_hash": git_hash(),
        "config": config_toml,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if seed is not None:
        attrs["seed"] = int(seed)
    return attrs


def write_provenance(h5obj: Any, attrs: dict[str, Any]) -> None:
    """Store provenance ``attrs`` on an h5py File or Group."""
    for key, value in attrs.items():
        h5obj.attrs[key] = value
