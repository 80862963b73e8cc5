"""set_seed makes every generator the course uses repeat itself."""
import random

import numpy as np
import pytest
import torch

from vae_support import set_seed


def draws():
    return random.random(), float(np.random.rand()), torch.randn(3)


def test_same_seed_same_draws_different_seed_different_draws():
    set_seed(3)
    first = draws()
    set_seed(3)
    again = draws()
    set_seed(4)
    other = draws()
    assert first[:2] == again[:2] and torch.equal(first[2], again[2])
    assert first[:2] != other[:2] and not torch.equal(first[2], other[2])


def test_returned_generator_is_seeded():
    a = torch.randn(2, generator=set_seed(5))
    b = torch.randn(2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed_raises(bad):
    with pytest.raises(ValueError, match="seed"):
        set_seed(bad)
