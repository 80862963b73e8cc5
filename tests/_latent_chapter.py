"""The latent-geometry chapter's β-VAEs, retrained here exactly as the notebook trains them.

The explorer tests compare the numbers a notebook stored in its explorers with a fresh
computation by the package; the models are trained once per test session (a few seconds each).
"""
from __future__ import annotations

import functools

import torch

from conftest import BOOK_DIR
from explorer_harness import explorer_data as payload, notebook_explorers  # noqa: F401 (payload: re-exported)

SLUG = "latent-geometry"
LANGS = ("pt", "en")


def stored_explorers(lang: str, kind: str) -> list[str]:
    """The stored HTML of the notebook's explorers of ``kind`` (what the site shows)."""
    return notebook_explorers(BOOK_DIR / lang / f"{SLUG}.ipynb", kind)


@functools.lru_cache(maxsize=None)
def chapter_model(beta: float):
    """The chapter's VAE trained with ``beta`` (cell 3: set_seed(0), VAE(z_dim=2, hidden=(128, 128)), CONFIG)."""
    from vae_support import set_seed
    from vae_support.data import load_digits
    from vae_support.models import VAE
    from vae_support.train import TrainConfig, fit

    torch.set_num_threads(1)
    digits = load_digits()
    set_seed(0)
    model = VAE(z_dim=2, hidden=(128, 128))
    fit(model, digits.train.x, config=TrainConfig(epochs=30, batch_size=100, lr=3e-3, seed=0, progress=False), beta=beta)
    return model


def digits_test_split():
    from vae_support.data import load_digits

    return load_digits().test
