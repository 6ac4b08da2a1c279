"""One root seed -> independent random streams.

Every stochastic function in lawful takes an explicit generator. A run has one root seed; it is spawned
(numpy ``SeedSequence.spawn``) into independent streams, one per chain or worker, so results do not depend on
how work is scheduled. Generator states are plain JSON-able dicts so they can go into checkpoints.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def spawn_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Return ``n`` independent child seed sequences of the root ``seed``.

    Child ``i`` is the same whatever ``n`` is, so adding chains never changes the existing ones.
    """
    _check_seed(seed)
    if n < 1:
        raise ValueError(f"number of streams must be >= 1, got {n}")
    return np.random.SeedSequence(int(seed)).spawn(n)


def generators(seed: int, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent numpy generators (PCG64) spawned from the root ``seed``."""
    return [np.random.Generator(np.random.PCG64(s)) for s in spawn_seeds(seed, n)]


def torch_generators(seed: int, n: int) -> list[Any]:
    """Return ``n`` independent ``torch.Generator`` objects seeded from spawned streams of ``seed``.

    Each torch seed is a 63-bit integer drawn from the corresponding child seed sequence, so the numpy and torch
    streams of one root seed are reproducible and distinct.
    """
    import torch

    out = []
    for s in spawn_seeds(seed, n):
        g = torch.Generator()
        g.manual_seed(int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
        out.append(g)
    return out


def generator_state(gen: np.random.Generator) -> str:
    """Serialize a numpy generator's complete state to a JSON string (for checkpoints)."""
    return json.dumps(gen.bit_generator.state)


def restore_generator(state: str) -> np.random.Generator:
    """Rebuild a numpy generator from :func:`generator_state` output; continues the stream exactly."""
    st = json.loads(state)
    name = st.get("bit_generator")
    if name != "PCG64":
        raise ValueError(f"unsupported bit generator in checkpoint: {name!r} (expected 'PCG64')")
    bg = np.random.PCG64()
    bg.state = st
    return np.random.Generator(bg)
