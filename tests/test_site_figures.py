"""The course's figures on the site (issue 14), checked without a browser.

``vae_support.plot._style`` decides what every figure shares: a transparent background and
colours legible on the site's light and dark pages (WCAG 3:1 for graphics on both), and tick
labels with a decimal comma in Portuguese. A figure is rendered here exactly as a notebook's
inline backend stores it (``print_figure`` with the figure's own facecolor, tight bounding box).
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_support.plot import _style, foundations  # noqa: E402

MIN_CONTRAST = 3.0  # WCAG 2.1, 1.4.11 non-text contrast (graphics, figure text read as large)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def inline_png(fig) -> np.ndarray:
    """The PNG an inline Jupyter backend stores for ``fig`` (matplotlib-inline's call), as RGBA."""
    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", facecolor=fig.get_facecolor(),
                            edgecolor=fig.get_edgecolor(), dpi=72, bbox_inches="tight")
    buffer.seek(0)
    return plt.imread(buffer, format="png")


@pytest.mark.parametrize("name, color", sorted({**_style.COLORS, "foreground": _style.FOREGROUND}.items()))
@pytest.mark.parametrize("background", sorted(_style.BACKGROUNDS))
def test_palette_is_legible_on_light_and_dark_pages(name, color, background):
    ratio = _style.contrast_ratio(color, _style.BACKGROUNDS[background])
    assert ratio >= MIN_CONTRAST, f"{name} {color} on the {background} page: {ratio:.2f}:1 < {MIN_CONTRAST}:1"


def test_contrast_ratio_matches_wcag():
    assert _style.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert _style.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_a_course_figure_has_a_transparent_background_and_legible_text(lang):
    ax = foundations.plot_jensen([0.5, 1.0, 4.0], lang=lang)
    fig = ax.figure
    fig.canvas.draw()
    rgba = inline_png(fig)
    assert rgba.shape[2] == 4, "the stored PNG has no alpha channel"
    corners = [rgba[0, 0], rgba[0, -1], rgba[-1, 0], rgba[-1, -1]]
    assert all(c[3] == 0 for c in corners), f"opaque background corners: {corners}"
    opaque_white = ((rgba[..., :3] > 0.97).all(axis=-1) & (rgba[..., 3] > 0.9)).mean()
    assert opaque_white < 0.02, f"{opaque_white:.0%} of the figure is opaque white (glare in dark mode)"
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]
    assert texts
    for text in texts:
        for background, page in _style.BACKGROUNDS.items():
            ratio = _style.contrast_ratio(text.get_color(), page)
            assert ratio >= MIN_CONTRAST, f"text {text.get_text()!r} on the {background} page: {ratio:.2f}:1"


@pytest.mark.parametrize("lang, decimal, wrong", [("pt", ",", "."), ("en", ".", ",")])
def test_tick_labels_use_the_languages_decimal_separator(lang, decimal, wrong):
    ax = foundations.plot_jensen([0.5, 1.0, 1.5], lang=lang)
    ax.set_xlim(0.25, 1.75)
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    decimals = [label for label in labels if any(ch in label for ch in ".,")]
    assert decimals, f"expected decimal tick labels, got {labels}"
    assert all(decimal in label and wrong not in label for label in decimals), labels


def test_localize_leaves_other_formatters_alone_and_switches_back():
    _, ax = plt.subplots()
    ax.set_xscale("log")
    _style.localize(ax, "pt")
    assert not isinstance(ax.xaxis.get_major_formatter(), _style.DecimalCommaFormatter)
    assert isinstance(ax.yaxis.get_major_formatter(), _style.DecimalCommaFormatter)
    _style.localize(ax, "en")
    assert not isinstance(ax.yaxis.get_major_formatter(), _style.DecimalCommaFormatter)
    with pytest.raises(ValueError, match="lang"):
        _style.localize(ax, "fr")


def test_decimal_comma_formatter_swaps_separators():
    formatter = _style.DecimalCommaFormatter()
    assert "1.5".translate(formatter._SWAP) == "1,5"
    assert "1,000.5".translate(formatter._SWAP) == "1.000,5"
