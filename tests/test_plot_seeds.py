"""vae_support.plot.seeds: the figures draw the per-seed values and the noise verdict they are given."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from vae_support.plot import seeds as figs
from vae_support.plot._style import DecimalCommaFormatter
from vae_support.train import over_seeds, paired_difference

SEEDS = (0, 1, 2)
A = {0: -98.0, 1: -97.5, 2: -98.4}
B = {0: -98.3, 1: -97.4, 2: -98.2}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def summaries():
    return {"diagonal": over_seeds(lambda s: {"elbo": A[s], "kl": 5.0 + s}, SEEDS),
            "full": over_seeds(lambda s: {"elbo": B[s], "kl": 4.0 + s}, SEEDS)}


def test_seed_values_joins_each_seed_across_configurations(summaries):
    ax = figs.plot_seed_values(summaries, "elbo", ylabel="ELBO", lang="en")
    seed_lines = ax.lines[:len(SEEDS)]
    for line, seed in zip(seed_lines, SEEDS):
        np.testing.assert_allclose(line.get_xdata(), [0, 1])
        np.testing.assert_allclose(line.get_ydata(), [A[seed], B[seed]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["diagonal q", "full q"]
    assert ax.get_ylabel() == "ELBO"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["seed 0", "seed 1", "seed 2"]


def test_seed_values_error_bars_are_mean_and_sample_sd(summaries):
    ax = figs.plot_seed_values(summaries, "kl", lang="pt")
    bars = ax.containers[0]
    np.testing.assert_allclose(bars.lines[0].get_ydata(), [summaries["diagonal"].mean["kl"], summaries["full"].mean["kl"]])
    low, high = bars.lines[2][0].get_segments()[0][:, 1]
    assert high - low == pytest.approx(2 * summaries["diagonal"].sd["kl"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["q diagonal", "q completa"]
    assert isinstance(ax.yaxis.get_major_formatter(), DecimalCommaFormatter)


def test_seed_values_rejects_other_seeds_unknown_metric_and_non_summaries(summaries):
    other = over_seeds(lambda s: {"elbo": float(s)}, (3, 4, 5))
    with pytest.raises(ValueError, match="same seeds"):
        figs.plot_seed_values({"a": summaries["diagonal"], "b": other}, "elbo", lang="en")
    with pytest.raises(ValueError, match="metric"):
        figs.plot_seed_values(summaries, "log_px", lang="en")
    with pytest.raises(TypeError, match="SeedSummary"):
        figs.plot_seed_values({"a": [1.0, 2.0]}, "elbo", lang="en")
    with pytest.raises(ValueError, match="non-empty"):
        figs.plot_seed_values({}, "elbo", lang="en")
    with pytest.raises(ValueError, match="lang"):
        figs.plot_seed_values(summaries, "elbo", lang="fr")


def test_paired_differences_draws_each_difference_and_the_verdict(summaries):
    d = paired_difference(summaries["full"], summaries["diagonal"], "elbo")
    assert d.within_noise
    ax = figs.plot_paired_differences(d, lang="en")
    points = [line.get_ydata()[0] for line in ax.lines[2:]]
    np.testing.assert_allclose(points, [B[s] - A[s] for s in SEEDS])
    assert ax.lines[0].get_ydata()[0] == pytest.approx(d.mean)
    band = ax.patches[0]
    assert band.get_y() == pytest.approx(d.mean - d.sd)
    assert band.get_y() + band.get_height() == pytest.approx(d.mean + d.sd)
    assert ax.get_title() == "within noise"


def test_paired_differences_says_beyond_noise_in_portuguese():
    a = over_seeds(lambda s: {"elbo": 1.0 + 0.1 * s}, SEEDS)
    b = over_seeds(lambda s: {"elbo": 0.0 + 0.12 * s}, SEEDS)
    d = paired_difference(a, b, "elbo")
    assert not d.within_noise
    ax = figs.plot_paired_differences(d, ylabel="diferença", lang="pt")
    assert ax.get_title() == "além do ruído entre sementes"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["semente 0", "semente 1", "semente 2"]
    with pytest.raises(TypeError, match="PairedDifference"):
        figs.plot_paired_differences(a, lang="pt")
