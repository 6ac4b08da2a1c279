"""Threads are one setting: numba's and torch's pools both follow it, set once per process.

``lawful --threads N`` (or the ``threads`` key of any command's config; ``LAWFUL_THREADS`` in the environment)
sets it; 0 means the cores this process may run on (``os.sched_getaffinity``). Hot paths are written to be fast
with one thread, as hydro codes run one rank per core; with more, numba's parallel loops split zones and
torch's intra-op pool splits its kernels. Both pools are GNU OpenMP, whose idle threads spin 300 000 times
before they sleep; on a core that another process also uses, a spinning thread takes the time the thread with
work needs, and a burner with two threads beside one busy process ran 2–4× slower than alone. Sleeping at once
(``OMP_WAIT_POLICY=PASSIVE`` or a spin count of 0) cures that but makes torch's many small parallel regions
1.5–1.8× slower when the machine is idle. :func:`set_threads` therefore shortens the spin to
:data:`SPIN_COUNT` (``GOMP_SPINCOUNT``) unless the user set it or a wait policy: idle speed is kept and the
contended slowdown drops to 1.2–1.9× (``benchmarks/threads.py``). It must run before numba or torch is imported
(the CLI does it first thing; library users call it themselves), since OpenMP reads the variable when it loads.
"""

from __future__ import annotations

import os
import sys

ENV = "LAWFUL_THREADS"
#: GNU OpenMP spin iterations before an idle thread sleeps (its default is 300 000)
SPIN_COUNT = 1000


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # platforms without affinity (macOS)
        return max(1, os.cpu_count() or 1)


def resolve_threads(n: int | None = None) -> int:
    """The thread count to use: ``n`` when positive, else ``$LAWFUL_THREADS`` when set, else the free cores."""
    if n is not None and n < 0:
        raise ValueError(f"threads = {n}; expected 0 (the cores free to this process) or a positive count")
    if n:
        return int(n)
    env = os.environ.get(ENV, "").strip()
    if env:
        if not env.isdigit():
            raise ValueError(f"{ENV} = {env!r}; expected a non-negative integer")
        if int(env) > 0:
            return int(env)
    return available_cores()


def set_threads(n: int | None = None) -> int:
    """Set numba's and torch's thread pools to :func:`resolve_threads` ``(n)``; returns the count.

    Before numba or torch is imported this sets the environment they read at start-up (and then never more
    threads than this can run); after, it calls their setters as well.
    """
    count = resolve_threads(n)
    os.environ[ENV] = str(count)
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", str(SPIN_COUNT))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(count)
    numba = sys.modules.get("numba")
    if numba is None:
        os.environ["NUMBA_NUM_THREADS"] = str(count)
    else:
        numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(count)
    return count
