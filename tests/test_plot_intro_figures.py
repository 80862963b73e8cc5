"""Figures added for the rigour pass of chapters 1 and 2 (issue 16): the drawn data are the values given."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from vae_support.plot import foundations


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# -- ancestral samples --------------------------------------------------------------------
def test_ancestral_samples_draws_the_points_and_the_mean_curve():
    z = np.array([-1.0, 0.0, 2.0])
    x = np.array([0.5, 0.1, -0.3])
    ax = foundations.plot_ancestral_samples(z, x, [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0], lang="en")
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[z, x])
    np.testing.assert_allclose(ax.get_lines()[0].get_xydata(), [[-2, -1], [0, 0], [2, 1]])
    assert "decoder mean" in " ".join(_legend(ax))


def test_ancestral_samples_speaks_portuguese_and_rejects_mismatched_lengths():
    ax = foundations.plot_ancestral_samples([0.0, 1.0], [0.0, 1.0], [0.0], [0.0], lang="pt")
    assert "latente" in ax.get_xlabel() and ax.get_title() == "Amostragem ancestral"
    with pytest.raises(ValueError, match="equal length"):
        foundations.plot_ancestral_samples([0.0, 1.0], [0.0], [0.0], [0.0])


# -- the marginal as a mixture ------------------------------------------------------------
def test_marginal_mixture_draws_each_component_and_their_sum():
    x = np.linspace(-1, 1, 5)
    components = np.array([[0.1, 0.2, 0.3, 0.2, 0.1], [0.0, 0.1, 0.1, 0.1, 0.0]])
    ax = foundations.plot_marginal_mixture(x, components, components.sum(0), samples=[0.0, 0.5], lang="en")
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_ydata(), components[0])
    np.testing.assert_allclose(lines[-1].get_ydata(), components.sum(0))
    assert len(ax.patches) == 60  # the histogram's bars
    assert _legend(ax)[0].startswith("histogram")


def test_marginal_mixture_rejects_bad_shapes_and_negative_densities():
    x = np.linspace(-1, 1, 5)
    with pytest.raises(ValueError, match="components"):
        foundations.plot_marginal_mixture(x, np.ones((2, 4)), np.ones(5))
    with pytest.raises(ValueError, match="non-negative"):
        foundations.plot_marginal_mixture(x, -np.ones((2, 5)), np.ones(5))


# -- grid integrand -----------------------------------------------------------------------
def test_grid_log_joint_marks_the_fewest_points_holding_the_mass():
    axis = np.array([-1.0, 0.0, 1.0])
    log_joint = np.full((3, 3), -100.0)
    log_joint[1, 1], log_joint[2, 1] = 0.0, np.log(0.5)  # two terms hold all of the sum
    ax = foundations.plot_grid_log_joint(axis, log_joint, mass=0.99, underflow=-50.0, lang="en")
    dots = ax.get_lines()[0]
    np.testing.assert_allclose(dots.get_xydata(), [[0.0, 0.0], [1.0, 0.0]])
    assert _legend(ax)[0] == "2 points: 99 % of the sum"
    pt = foundations.plot_grid_log_joint(axis, log_joint, mass=0.995, lang="pt")
    assert _legend(pt)[0] == "2 pontos: 99,5 % da soma"


def test_grid_log_joint_rejects_bad_input():
    with pytest.raises(ValueError, match="log_joint"):
        foundations.plot_grid_log_joint([0.0, 1.0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="mass"):
        foundations.plot_grid_log_joint([0.0, 1.0], np.zeros((2, 2)), mass=0.0)


# -- log-weights --------------------------------------------------------------------------
def test_log_weights_lines_are_the_elbo_and_log_px():
    log_w = np.array([-3.0, -2.0, -1.0, -1.5])
    ax = foundations.plot_log_weights(log_w, log_w.mean(), -1.2, lang="en")
    xs = [line.get_xdata()[0] for line in ax.get_lines()]
    np.testing.assert_allclose(xs, [log_w.mean(), -1.2])
    assert "ELBO" in _legend(ax)[1]
    with pytest.raises(ValueError, match="finite"):
        foundations.plot_log_weights(log_w, float("nan"), 0.0)


# -- generalization gap -------------------------------------------------------------------
def test_generalization_gap_draws_mean_and_sample_sd_over_seeds():
    betas = [0.0, 1.0, 2.0]
    gap = np.array([[10.0, 6.0, 4.0], [12.0, 8.0, 5.0], [14.0, 7.0, 3.0]])
    ax = foundations.plot_generalization_gap(betas, gap, gap - 0.5, lang="en")
    bars = [c for c in ax.containers if hasattr(c, "lines")][0]
    np.testing.assert_allclose(bars.lines[0].get_ydata(), gap.mean(0))
    segments = bars.lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segments], 2 * gap.std(0, ddof=1))
    assert "mean ± sd" in " ".join(_legend(ax))
    ax_pt = foundations.plot_generalization_gap(betas, gap, lang="pt")
    assert "semente" in " ".join(_legend(ax_pt))


def test_generalization_gap_needs_two_seeds_and_matching_shapes():
    with pytest.raises(ValueError, match="seeds"):
        foundations.plot_generalization_gap([0.0, 1.0], np.ones((1, 2)))
    with pytest.raises(ValueError, match="reconstruction_gap"):
        foundations.plot_generalization_gap([0.0, 1.0], np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="betas"):
        foundations.plot_generalization_gap([-1.0, 1.0], np.ones((3, 2)))
