"""Reproducibility: one call seeds every random number generator the course uses."""
from __future__ import annotations

import random

import numpy as np
import torch


def set_seed(seed: int = 0) -> torch.Generator:
    """Seed Python's ``random``, NumPy and torch (CPU and CUDA) with ``seed``.

    Returns a ``torch.Generator`` seeded the same way, for code that wants its own stream.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
