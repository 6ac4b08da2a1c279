"""Run independent tasks serially or fanned out through Dask.

``run_tasks(fn, items)`` returns ``[fn(x) for x in items]`` in order. With ``scheduler="local"`` it starts a
``dask.distributed.LocalCluster`` (one single-threaded worker process per core by default); with an address
(``tcp://host:8786``) it uses an existing scheduler, e.g. one started by dask-jobqueue on a cluster. Tasks must be
picklable top-level functions; each task should take its own seed stream (see :mod:`lawful.core.rng`) so results
do not depend on where they ran.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _check_scheduler(scheduler: str | None) -> None:
    if scheduler in (None, "serial", "local"):
        return
    if "://" not in str(scheduler):
        raise ValueError(
            f"scheduler must be 'serial', 'local' or a Dask scheduler address like 'tcp://host:8786', "
            f"got {scheduler!r}"
        )


def run_tasks(
    fn: Callable[[T], R],
    items: Sequence[T],
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> list[R]:
    """Apply ``fn`` to each of ``items``; serially (``None``/``"serial"``) or on Dask (``"local"``/address)."""
    _check_scheduler(scheduler)
    if n_workers is not None and n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    if scheduler in (None, "serial"):
        return [fn(x) for x in items]
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise ImportError("the Dask executor needs dask[distributed]: pip install 'dask[distributed]'") from exc

    def _gather(client: Any) -> list[R]:
        futures = client.map(fn, list(items), pure=False)
        return client.gather(futures)

    if scheduler == "local":
        workers = n_workers or min(len(items), os.cpu_count() or 1) or 1
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            return _gather(client)
    with Client(scheduler) as client:
        return _gather(client)
