"""Shared helpers of the plotting modules: language switch, axes creation, palette, the
course's figure style (light and dark pages alike) and numbers in the reader's language.

**One style for every figure.** Importing any ``vae_support.plot`` module applies
:data:`STYLE` to matplotlib: transparent figure and axes backgrounds (no white card glaring on
the site's dark mode) and text, axes and palette colours with at least 3:1 contrast on both
the light page (#ffffff) and the dark one (#14181e) — WCAG's level for graphics. The figures of
the site are the notebooks' stored outputs: they take this style when a notebook is re-run.

**Decimal comma.** :func:`get_ax` (and :func:`localize` for axes made otherwise) gives the axes
of a Portuguese figure a tick formatter that writes ``0,5`` where English reads ``0.5``.
"""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cycler  # matplotlib re-exports cycler (its own dependency; not declared by us)
from matplotlib.ticker import ScalarFormatter

LANGS = ("pt", "en")

#: The backgrounds the figures are shown on: the site's light and dark pages.
BACKGROUNDS = {"light": "#ffffff", "dark": "#14181e"}

#: Text, axes, ticks and grid: a grey with 4.2:1 contrast on both backgrounds.
FOREGROUND = "#7b7b7b"

#: The course palette: the true posterior, the approximation q, the prior, the data. Each
#: colour has at least 3:1 contrast on both BACKGROUNDS (tests/test_plot_style.py).
COLORS = {"posterior": "#1f77b4", "q": "#d55e00", "q_alt": "#2ca02c", "prior": "#7b7b7b", "data": "#d62728"}

#: One colour per digit 0–9 (latent scatters, static and live): Paul Tol's colour-blind-safe
#: "muted" hues, their lightness moved so that each has at least 3:1 contrast on both BACKGROUNDS.
DIGIT_COLORS = ("#c7576a", "#6d58d5", "#9f8b28", "#138439", "#1e97d3",
                "#bc2f75", "#3b9586", "#85852c", "#af469e", "#7e7e7e")


def digit_colors(labels) -> list[str]:
    """The :data:`DIGIT_COLORS` entry of each digit label (labels taken modulo 10)."""
    return [DIGIT_COLORS[int(label) % 10] for label in np.asarray(labels).reshape(-1)]


#: matplotlib settings of every course figure (applied on import, see the module docstring).
STYLE = {
    "figure.facecolor": "none", "axes.facecolor": "none",
    "savefig.facecolor": "none", "savefig.transparent": True,
    "text.color": FOREGROUND, "axes.labelcolor": FOREGROUND, "axes.titlecolor": FOREGROUND,
    "axes.edgecolor": FOREGROUND, "xtick.color": FOREGROUND, "ytick.color": FOREGROUND,
    "xtick.labelcolor": FOREGROUND, "ytick.labelcolor": FOREGROUND,
    "grid.color": FOREGROUND, "grid.alpha": 0.35,
    "legend.facecolor": "none", "legend.edgecolor": FOREGROUND, "legend.labelcolor": FOREGROUND,
    "legend.framealpha": None,
    "axes.prop_cycle": cycler(color=[COLORS["posterior"], COLORS["q"], COLORS["q_alt"], COLORS["data"],
                                     "#9467bd", COLORS["prior"]]),
}


def apply_style() -> None:
    """Apply :data:`STYLE` to matplotlib's rcParams (done once when the package is imported)."""
    matplotlib.rcParams.update(STYLE)


apply_style()


def relative_luminance(color) -> float:
    """WCAG 2 relative luminance of a matplotlib colour."""
    rgb = np.asarray(matplotlib.colors.to_rgb(color))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a, b) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)))
    return (lb + 0.05) / (la + 0.05)


class DecimalCommaFormatter(ScalarFormatter):
    """matplotlib's default tick labels, written the Brazilian way: ``0,5`` and ``1.000``."""

    _SWAP = str.maketrans({".": ",", ",": "."})

    def __call__(self, x, pos=None):
        return super().__call__(x, pos).translate(self._SWAP)

    def format_data_short(self, value):
        return super().format_data_short(value).translate(self._SWAP)

    def get_offset(self):
        return super().get_offset().translate(self._SWAP)


def localize(ax, lang: str):
    """Give ``ax`` (one axes or an array of them) tick labels in ``lang``'s number format.

    Portuguese axes with matplotlib's default (scalar) formatter get
    :class:`DecimalCommaFormatter`; other formatters (log, categories, dates) are left alone.
    Returns ``ax``.
    """
    check_lang(lang)
    for one in np.ravel(ax):
        for axis in (one.xaxis, one.yaxis):
            formatter = axis.get_major_formatter()
            if lang == "pt" and type(formatter) is ScalarFormatter:
                axis.set_major_formatter(DecimalCommaFormatter())
            elif lang == "en" and isinstance(formatter, DecimalCommaFormatter):
                axis.set_major_formatter(ScalarFormatter())
    return ax


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one of the book's languages, else raise ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {LANGS}, got {lang!r}")
    return lang


def tr(lang: str, pt: str, en: str) -> str:
    """The text in the reader's language: ``pt`` or ``en``."""
    return pt if check_lang(lang) == "pt" else en


def get_ax(ax=None, figsize=(6, 4), lang: str | None = None):
    """``ax`` itself, or the axes of a new figure of size ``figsize``; with ``lang``, its tick
    labels in that language's number format (:func:`localize`)."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    if lang is not None:
        localize(ax, lang)
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
