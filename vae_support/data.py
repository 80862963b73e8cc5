r"""Data sets of the course: Digits (offline default), MNIST and Fashion-MNIST (online, cached).

* :func:`load_digits` — scikit-learn's embedded 8×8 Digits (1797 images, pixel values 0..16,
  i.e. 17 levels), split in file order into train 1000 / validation 350 / test 447. Ships with
  scikit-learn, so it needs no network: every notebook of the book uses it.
* :func:`load_mnist` / :func:`load_fashion_mnist` — 28×28 images (values 0..255), downloaded
  once into a cache folder with SHA-256 checks. Offline, with an empty cache, they fail with a
  message that says so and names the cache folder.
* :func:`binarize` — threshold (or Bernoulli-sample) images into {0, 1} for Bernoulli
  likelihoods.

Every split is a :class:`Split` ``(x, y)``: ``x`` float32 ``[n, pixels]``, ``y`` int64 ``[n]``.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ._checks import as_tensor, check_finite, check_integer

DIGITS_SPLIT = (1000, 350, 447)
"""Sizes of the fixed Digits split (train, validation, test), taken in file order."""

DIGITS_LEVELS = 17
"""Digits pixels take the integer values 0..16."""


class Split(NamedTuple):
    """One split of a data set: images ``x`` float32 [n, pixels] and labels ``y`` int64 [n]."""

    x: torch.Tensor
    y: torch.Tensor


class Digits(NamedTuple):
    """The three splits of a data set (the name is historical: MNIST loaders return it too)."""

    train: Split
    val: Split
    test: Split


def binarize(x, threshold: float = 0.5, levels: int | None = None, generator: torch.Generator | None = None,
             stochastic: bool = False) -> torch.Tensor:
    r"""Binarize images into {0., 1.}.

    With ``levels`` given, pixel values are first scaled to [0, 1] by :math:`x/(\text{levels}-1)`.
    Deterministic: :math:`b = \mathbb 1[x > \text{threshold}]`. Stochastic (dynamic
    binarization, Salakhutdinov & Murray 2008): :math:`b \sim \mathrm{Bernoulli}(x)`.

    Parameters
    ----------
    x : Tensor [n, pixels]
        Intensities in [0, 1] (or in 0..levels−1 when ``levels`` is given).
    threshold : float
        Cut in (0, 1) for the deterministic rule.
    levels : int, optional
        Number of integer levels of ``x`` (17 for Digits, 256 for MNIST).
    generator : torch.Generator, optional
        Random stream for ``stochastic=True``.
    stochastic : bool
        Sample instead of thresholding.

    Returns
    -------
    Tensor [n, pixels], float32 with values 0 and 1.
    """
    x = check_finite("x", as_tensor("x", x)).float()
    if levels is not None:
        levels = check_integer("levels", levels, minimum=2)
        x = x / (levels - 1)
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"x: expected intensities in [0, 1] (pass levels= for integer pixels), got range "
                         f"[{float(x.min()):.4g}, {float(x.max()):.4g}]")
    if not 0 < float(threshold) < 1:
        raise ValueError(f"threshold: expected a number in (0, 1), got {threshold!r}")
    if stochastic:
        return torch.bernoulli(x, generator=generator)
    return (x > threshold).float()


_binarize = binarize  # load_digits has an argument of the same name


def split_in_order(x: torch.Tensor, y: torch.Tensor, sizes: tuple[int, int, int]) -> Digits:
    """Split ``(x, y)`` in file order into train / validation / test of the given ``sizes``."""
    if len(sizes) != 3 or sum(sizes) > len(x):
        raise ValueError(f"sizes: expected three sizes summing to at most {len(x)}, got {sizes!r}")
    a, b, c = sizes
    cuts = ((0, a), (a, a + b), (a + b, a + b + c))
    return Digits(*(Split(x[i:j], y[i:j]) for i, j in cuts))


def load_digits(binarize: bool = False) -> Digits:
    r"""scikit-learn's 8×8 Digits with the course's fixed split (train 1000 / val 350 / test 447).

    The 1797 images are taken in file order (no shuffling, so every reader gets the same split).
    Pixels are integers 0..16 (17 levels, modelled by a categorical likelihood); with
    ``binarize=True`` they become :math:`\mathbb 1[x/16 > 1/2]`, for a Bernoulli likelihood.

    Parameters
    ----------
    binarize : bool
        Return 0/1 pixels instead of 0..16.

    Returns
    -------
    Digits
        ``train``, ``val``, ``test``: each a :class:`Split` with ``x`` float32 [n, 64] and
        ``y`` int64 [n] (the digit 0..9).
    """
    from sklearn.datasets import load_digits as _sk_load_digits

    if not isinstance(binarize, bool):
        raise ValueError(f"binarize: expected True or False, got {binarize!r}")
    bunch = _sk_load_digits()
    x = torch.as_tensor(bunch.data, dtype=torch.float32)
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    if binarize:
        x = _binarize(x, levels=DIGITS_LEVELS)
    return split_in_order(x, y, DIGITS_SPLIT)
