"""Figures and helpers of chapters 3-4 (vae_support.plot.elbo): values drawn, language, errors."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from vae_support.plot.elbo import (  # noqa: E402
    digit_montage,
    plot_digits,
    plot_elbo_gap_bars,
    plot_elbo_gap_path,
    plot_gradient_variance,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _all_text(ax):
    texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    texts += [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
    return " ".join(texts)


# -- figures -----------------------------------------------------------------------------------
def test_gap_bars_draw_elbo_and_gap_heights():
    elbo, log_px = np.array([-9.0, -4.5, -3.2]), -3.0
    ax = plot_elbo_gap_bars(["a", "b", "c"], elbo, log_px, lang="en")
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    tops = sorted(round(p.get_y() + p.get_height(), 9) for p in bars)
    # three ELBO bars end at the ELBOs, three gap bars end at log p(x)
    assert tops == sorted([round(v, 9) for v in elbo] + [log_px] * 3)
    gaps = sorted(round(p.get_height(), 9) for p in bars if p.get_y() in elbo)
    assert gaps == sorted(round(log_px - v, 9) for v in elbo)
    assert "KL=6" in " ".join(t.get_text() for t in ax.texts)
    assert "for each q" in ax.get_title()
    ax_pt = plot_elbo_gap_bars(["a", "b", "c"], elbo, log_px, lang="pt")
    assert "para cada q" in ax_pt.get_title()


def test_gap_bars_reject_a_violated_bound_and_bad_labels():
    with pytest.raises(ValueError, match="elbo"):
        plot_elbo_gap_bars(["a"], [1.0], 0.0)
    with pytest.raises(ValueError, match="names"):
        plot_elbo_gap_bars(["a", "b"], [-1.0], 0.0)
    with pytest.raises(ValueError, match="lang"):
        plot_elbo_gap_bars(["a"], [-1.0], 0.0, lang="fr")


def test_gap_path_draws_each_family_and_the_floor():
    full, diag = np.array([-8.0, -4.0, -3.0]), np.array([-8.0, -5.0, -4.0])
    ax = plot_elbo_gap_path({"full": full, "diagonal": diag}, -3.0, lang="pt", floor_gap=1.0)
    lines = {tuple(np.round(line.get_ydata(), 9)) for line in ax.lines}
    assert tuple(full) in lines and tuple(diag) in lines
    assert (-4.0, -4.0) in lines and (-3.0, -3.0) in lines
    assert "covariância diagonal" in _all_text(ax)
    ax_en = plot_elbo_gap_path({"full": full}, -3.0, lang="en")
    assert "full covariance" in _all_text(ax_en) and "diagonal" not in _all_text(ax_en)
    with pytest.raises(ValueError, match="paths"):
        plot_elbo_gap_path({"spherical": full}, -3.0)


def test_gradient_variance_plot_draws_the_values():
    n = [1, 10, 100]
    v = {"reparam": [1.0, 0.1, 0.01], "score": [50.0, 5.0, 0.5], "score_baseline": [5.0, 0.5, 0.05]}
    ax = plot_gradient_variance(n, v, lang="en")
    drawn = sorted(tuple(line.get_ydata()) for line in ax.lines)
    assert drawn == sorted(tuple(map(float, y)) for y in v.values())
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "score function + baseline" in _all_text(ax)
    assert "função escore" in _all_text(plot_gradient_variance(n, v, lang="pt"))
    with pytest.raises(ValueError, match="variances"):
        plot_gradient_variance(n, {"reparam": [1.0, 2.0]})


def test_digit_montage_leaves_blank_gaps_between_tiles():
    """gap=1: tile (r, c) starts at 9r, 9c; the gap rows/columns and the empty cells are NaN."""
    images = torch.arange(3 * 64, dtype=torch.float64).reshape(3, 64)
    montage = digit_montage(images, ncols=2, gap=1)
    assert montage.shape == (2 * 9 - 1, 2 * 9 - 1)
    np.testing.assert_array_equal(montage[0:8, 9:17], images[1].reshape(8, 8).numpy())
    np.testing.assert_array_equal(montage[9:17, 0:8], images[2].reshape(8, 8).numpy())
    assert np.isnan(montage[8, :]).all() and np.isnan(montage[:, 8]).all() and np.isnan(montage[9:, 9:]).all()
    with pytest.raises(ValueError, match="gap"):
        digit_montage(images, gap=-1)


def test_digit_montage_places_each_image_in_its_cell():
    images = torch.arange(3 * 64, dtype=torch.float64).reshape(3, 64)
    montage = digit_montage(images, ncols=2)
    assert montage.shape == (16, 16)
    np.testing.assert_array_equal(montage[:8, 8:], images[1].reshape(8, 8).numpy())
    np.testing.assert_array_equal(montage[8:, :8], images[2].reshape(8, 8).numpy())
    assert np.isnan(montage[8:, 8:]).all()
    with pytest.raises(ValueError, match="images"):
        digit_montage(torch.zeros(3, 10))


def test_plot_digits_shows_the_montage_and_translates_the_title():
    images = torch.rand(4, 64, generator=torch.Generator().manual_seed(0)) * 16
    ax = plot_digits(images, "sample", lang="en", ncols=4)
    np.testing.assert_allclose(ax.images[0].get_array(), digit_montage(images, ncols=4))
    assert ax.get_title() == "samples from the model"
    assert plot_digits(images, "reconstruction", lang="pt").get_title() == "reconstruções"
    with pytest.raises(ValueError, match="kind"):
        plot_digits(images, "noise")
