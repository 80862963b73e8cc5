"""Shared helpers of the plotting modules: language switch, axes creation, palette."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

LANGS = ("pt", "en")

#: The course palette: the true posterior, the approximation q, the prior, the data.
COLORS = {"posterior": "#1f77b4", "q": "#ff7f0e", "q_alt": "#2ca02c", "prior": "#7f7f7f", "data": "#d62728"}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one of the book's languages, else raise ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {LANGS}, got {lang!r}")
    return lang


def tr(lang: str, pt: str, en: str) -> str:
    """The text in the reader's language: ``pt`` or ``en``."""
    return pt if check_lang(lang) == "pt" else en


def get_ax(ax=None, figsize=(6, 4)):
    """``ax`` itself, or the axes of a new figure of size ``figsize``."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def as_array(name: str, values, ndim: int | None = 1, positive: bool = False) -> np.ndarray:
    """``values`` (tensor, list or array) as a finite float NumPy array, else ``ValueError`` naming ``name``.

    ``ndim`` is the required number of dimensions (``None``: any); ``positive`` asks for strictly
    positive entries. Every plotting function validates its data through this one helper.
    """
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    arr = np.asarray(values, dtype=float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one value, got none")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values")
    if positive and not (arr > 0).all():
        raise ValueError(f"{name}: expected strictly positive values, found min {arr.min():.4g}")
    return arr
