"""The figures of chapters 5–7 draw the values they are given, with text in the reader's language."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vae_support.plot import training as T  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _heights(container):
    return np.array([p.get_height() for p in container.patches])


def test_inference_gaps_stack_the_two_gaps_sorted_by_total():
    log_px = np.array([-10.0, -20.0, -30.0])
    opt = np.array([-11.0, -20.5, -34.0])      # approximation gaps 1, 0.5, 4
    amo = np.array([-13.0, -21.0, -35.0])      # amortization gaps 2, 0.5, 1 → totals 3, 1, 5
    ax = T.plot_inference_gaps(log_px, opt, amo)
    approx, amort = ax.containers
    np.testing.assert_allclose(_heights(approx), [0.5, 1.0, 4.0])
    np.testing.assert_allclose(_heights(amort), [0.5, 2.0, 1.0])
    np.testing.assert_allclose([p.get_y() for p in amort.patches], [0.5, 1.0, 4.0])  # stacked
    assert "gap de amortização" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_inference_gaps_accept_tensors_and_follow_lang():
    ax = T.plot_inference_gaps(torch.tensor([-1.0]), torch.tensor([-2.0]), torch.tensor([-4.0]), lang="en")
    assert _heights(ax.containers[1]).tolist() == [2.0]
    assert ax.get_ylabel() == "gap (nats)" and "test image" in ax.get_xlabel()


def test_inference_gaps_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="equal shapes"):
        T.plot_inference_gaps([1.0, 2.0], [1.0], [1.0, 2.0])


def test_kl_per_dimension_draws_one_group_per_run():
    runs = {"a": [0.0, 1.5, 3.0], "b": [2.0, 2.0, 0.25]}
    ax = T.plot_kl_per_dimension(runs, lang="en")
    assert len(ax.containers) == 2
    np.testing.assert_allclose(_heights(ax.containers[0]), runs["a"])
    np.testing.assert_allclose(_heights(ax.containers[1]), runs["b"])
    assert ax.get_xlabel() == "latent dimension j"
    assert T.plot_kl_per_dimension(runs, lang="pt").get_xlabel() == "dimensão latente j"


def test_kl_per_dimension_rejects_runs_of_different_sizes():
    with pytest.raises(ValueError, match="same number of dimensions"):
        T.plot_kl_per_dimension({"a": [1.0, 2.0], "b": [1.0]})
    with pytest.raises(ValueError, match="kl_per_dim"):
        T.plot_kl_per_dimension({})


def test_curves_plot_epochs_from_one():
    ax = T.plot_curves({"x": [3.0, 2.0, 1.0]}, "active_units", lang="pt")
    x, y = ax.lines[0].get_data()
    assert x.tolist() == [1, 2, 3] and y.tolist() == [3.0, 2.0, 1.0]
    assert ax.get_ylabel() == "unidades ativas" and ax.get_xlabel() == "época"
    assert T.plot_curves({"x": [1.0]}, "kl", lang="en").get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="quantity"):
        T.plot_curves({"x": [1.0]}, "loss")


def test_a_run_has_the_same_colour_in_the_bars_and_the_curves():
    # the two panels of one figure (e.g. fig-prac-collapse) name the same runs: run i, same colour in both
    names = ["b1", "b6", "warm", "free", "extra", "sixth"]
    bars = T.plot_kl_per_dimension({n: [1.0, 2.0] for n in names})
    lines = T.plot_curves({n: [1.0, 2.0] for n in names}, "kl")
    bar_colors = [to_hex(c.patches[0].get_facecolor()) for c in bars.containers]
    line_colors = [to_hex(line.get_color()) for line in lines.lines]
    assert bar_colors == line_colors
    assert len(set(bar_colors[:5])) == 5 and bar_colors[5] == bar_colors[0]  # five distinct, then the cycle restarts


def test_rate_distortion_points_and_iso_elbo_lines():
    rate, dist, betas = np.array([1.0, 4.0, 9.0]), np.array([30.0, 20.0, 18.0]), np.array([4.0, 1.0, 0.25])
    ax = T.plot_rate_distortion(rate, dist, betas, lang="en")
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(x, rate)
    np.testing.assert_allclose(y, dist)
    # the dashed lines have D + R constant: the best (24) and the worst (31) −ELBO
    for line, total in zip(ax.lines[1:3], (24.0, 31.0)):
        lx, ly = line.get_data()
        np.testing.assert_allclose(lx + ly, total)
    assert [t.get_text() for t in ax.texts] == ["β=4", "β=1", "β=0.25"]
    assert ax.get_xlabel().startswith("rate")
    assert T.plot_rate_distortion(rate, dist, betas, lang="pt").get_xlabel().startswith("taxa")


def test_bound_vs_k_lines_and_references():
    ks = [1, 10, 100]
    ax = T.plot_bound_vs_k(ks, {"ELBO": [-30.0, -28.0, -27.5]}, reference={"ELBO": -27.0}, lang="pt")
    x, y = ax.lines[0].get_data()
    assert list(x) == ks and list(y) == [-30.0, -28.0, -27.5]
    assert ax.lines[1].get_ydata()[0] == -27.0
    assert ax.get_xscale() == "log" and "amostras" in ax.get_xlabel()
    with pytest.raises(ValueError, match="match ks"):
        T.plot_bound_vs_k(ks, {"a": [1.0]})
    with pytest.raises(ValueError, match="ks"):
        T.plot_bound_vs_k([0, 1], {"a": [1.0, 2.0]})


def test_gradient_variance_loglog():
    ax = T.plot_gradient_variance([1, 10], {"VIMCO": [1.0, 0.1], "SF": [5.0, 2.0]}, lang="en")
    assert [line.get_ydata().tolist() for line in ax.lines] == [[1.0, 0.1], [5.0, 2.0]]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "gradient variance"
    with pytest.raises(ValueError, match="positive"):
        T.plot_gradient_variance([1, 10], {"a": [0.0, 1.0]})


def test_latent_scatter_points_and_centres():
    z = np.array([[0.0, 1.0], [2.0, 3.0]])
    ax = T.plot_latent_scatter(z, [3, 7], centers=[[5.0, 5.0]], lang="en")
    np.testing.assert_allclose(ax.collections[0].get_offsets(), z)
    np.testing.assert_allclose(ax.collections[0].get_array(), [3, 7])
    np.testing.assert_allclose(ax.collections[1].get_offsets(), [[5.0, 5.0]])
    assert "components" in ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="z, labels"):
        T.plot_latent_scatter(np.zeros((3, 3)), [1, 2, 3])


def test_objective_curves_mark_each_maximizer():
    a = np.linspace(0, 2, 5)
    curves = {"exact": -(a - 1.0) ** 2, "ELBO": -(a - 0.5) ** 2 - 1}
    ax = T.plot_objective_curves(a, curves, ("parâmetro a", "parameter a"), lang="en")
    assert ax.get_xlabel() == "parameter a"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), curves["exact"])
    assert ax.lines[1].get_xdata()[0] == 1.0 and ax.lines[3].get_xdata()[0] == 0.5
    assert T.plot_objective_curves(a, curves, ("parâmetro a", "parameter a")).get_ylabel() == "nats por ponto"


@pytest.mark.parametrize("lang", ["de", "PT"])
def test_unknown_language_is_rejected(lang):
    with pytest.raises(ValueError, match="lang"):
        T.plot_curves({"x": [1.0]}, "kl", lang=lang)


def test_non_finite_values_are_rejected():
    with pytest.raises(ValueError, match="finite"):
        T.plot_kl_per_dimension({"a": [np.nan, 1.0]})
