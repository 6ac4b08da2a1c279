"""glibc malloc settings for long torch jobs on the CPU.

torch's CPU tensors come from glibc ``malloc``. With its default (dynamic) thresholds, a freed block of a few MB
is handed back to the kernel (``munmap``, or the heap top trimmed), and the next step's tensor of the same size
faults in fresh zeroed pages. For the diffusion sampler at L = 12 (batch 256: 2–5 MB activations, freed and
reallocated every ODE step) that made 45 % of a fresh ``lawful lattice sample`` system time, and the proposals
3.0× slower (``benchmarks/malloc_settings.py``: 9.72 against 3.23 ms per proposal at 10 ODE steps).
:func:`keep_freed_memory` stops it: blocks up to 32 MiB come from the heap (glibc's dynamic threshold starts at
128 KiB), and the heap is not trimmed below ``trim_bytes``. The cost is that
the process keeps its peak heap. The ``lawful`` command calls it at start-up; the library does not change a
process-wide setting behind its user's back, so Python code that trains or samples should call it once itself.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters, <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # bytes: larger blocks still get their own mmap


def keep_freed_memory(trim_bytes: int = 1 << 30) -> bool:
    """Ask glibc to keep freed memory for reuse (see the module docstring). Returns whether both settings took
    effect; ``False`` off Linux/glibc, where it does nothing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, trim_bytes))
