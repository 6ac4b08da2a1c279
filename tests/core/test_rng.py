import numpy as np
import pytest

from lawful.core.rng import generator_state, generators, restore_generator, spawn_seeds, torch_generators


def test_streams_are_reproducible_and_distinct():
    a = [g.random(4) for g in generators(42, 3)]
    b = [g.random(4) for g in generators(42, 3)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a[0], a[1])
    # stream i does not depend on how many streams were spawned
    np.testing.assert_array_equal(generators(42, 5)[1].random(4), a[1])


def test_streams_are_uncorrelated():
    x, y = (g.standard_normal(200_000) for g in generators(1, 2))
    assert abs(np.corrcoef(x, y)[0, 1]) < 5 / np.sqrt(x.size)


def test_checkpointed_state_continues_the_stream_exactly():
    g = generators(7, 1)[0]
    g.random(10)
    state = generator_state(g)
    expect = g.standard_normal(5)
    np.testing.assert_array_equal(restore_generator(state).standard_normal(5), expect)


def test_torch_generators_reproducible_and_distinct():
    import torch

    a = [torch.randn(3, generator=g) for g in torch_generators(3, 2)]
    b = [torch.randn(3, generator=g) for g in torch_generators(3, 2)]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], a[1])


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed"):
        spawn_seeds(seed, 2)
