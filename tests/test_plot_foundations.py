"""Figures of chapters 1 and 2: the drawn data are the values given, the text is in the reader's language."""
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


def _texts(ax):
    """Every piece of text on the axes: title, axis labels, legend entries, annotations."""
    texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()] + [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [t.get_text() for t in legend.get_texts()]
    return " | ".join(texts)


# -- quadrature cost ------------------------------------------------------------------------
def test_quadrature_bars_are_the_point_counts_and_annotated_with_times():
    dims, points, seconds = [1, 2, 3], [41, 41**2, 41**3], [0.001, 0.02, 0.5]
    ax = foundations.plot_quadrature_cost(dims, points, seconds)
    heights = [bar.get_height() for bar in ax.patches]
    centers = [bar.get_x() + bar.get_width() / 2 for bar in ax.patches]
    np.testing.assert_allclose(heights, points)
    np.testing.assert_allclose(centers, dims)
    assert [t.get_text() for t in ax.texts] == ["0.001 s", "0.02 s", "0.5 s"]
    assert ax.get_yscale() == "log"


@pytest.mark.parametrize("lang, word", [("pt", "dimensão latente"), ("en", "latent dimension")])
def test_quadrature_labels_in_language(lang, word):
    ax = foundations.plot_quadrature_cost([1, 2], [3, 9], [0.1, 0.2], lang=lang)
    assert word in ax.get_xlabel()


def test_quadrature_rejects_mismatched_lengths_and_non_positive_counts():
    with pytest.raises(ValueError, match="equal length"):
        foundations.plot_quadrature_cost([1, 2], [3, 9, 27], [0.1, 0.2])
    with pytest.raises(ValueError, match="n_points"):
        foundations.plot_quadrature_cost([1, 2], [3, 0], [0.1, 0.2])


# -- naive Monte Carlo --------------------------------------------------------------------
def test_naive_mc_lines_are_the_medians_of_the_runs():
    rng = np.random.default_rng(0)
    n_samples = [10, 100, 1000]
    errors = {1: rng.normal(size=(7, 3)), 4: rng.normal(-3.0, 2.0, size=(7, 3))}
    ax = foundations.plot_naive_mc_error(n_samples, errors)
    lines = [line for line in ax.get_lines() if line.get_label().startswith("$d")]
    assert [line.get_label() for line in lines] == ["$d = 1$", "$d = 4$"]
    for line, err in zip(lines, errors.values()):
        np.testing.assert_allclose(line.get_xdata(), n_samples)
        np.testing.assert_allclose(line.get_ydata(), np.median(err, axis=0))


@pytest.mark.parametrize("lang, word", [("pt", "exato"), ("en", "exact")])
def test_naive_mc_labels_in_language(lang, word):
    ax = foundations.plot_naive_mc_error([10, 100], {2: np.zeros((3, 2))}, lang=lang)
    assert word in _texts(ax)


def test_naive_mc_rejects_errors_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"errors\[2\]"):
        foundations.plot_naive_mc_error([10, 100], {2: np.zeros((3, 5))})
    with pytest.raises(ValueError, match="errors"):
        foundations.plot_naive_mc_error([10, 100], {})


# -- Jensen -------------------------------------------------------------------------------
def test_jensen_marks_are_log_of_mean_and_mean_of_log():
    w, probs = np.array([0.5, 3.0]), np.array([0.25, 0.75])
    ax = foundations.plot_jensen(w, probs)
    mean_w = 0.25 * 0.5 + 0.75 * 3.0
    by_label = {line.get_label(): line for line in ax.get_lines()}
    curve_mark = next(line for label, line in by_label.items() if "log \\mathbb{E}[w]" in label)
    chord_mark = next(line for label, line in by_label.items() if "\\mathbb{E}[\\log w]" in label)
    np.testing.assert_allclose(curve_mark.get_xydata(), [[mean_w, np.log(mean_w)]])
    np.testing.assert_allclose(chord_mark.get_xydata(), [[mean_w, 0.25 * np.log(0.5) + 0.75 * np.log(3.0)]])
    # Jensen: the mark on the chord lies below the curve
    assert chord_mark.get_ydata()[0] < curve_mark.get_ydata()[0]
    # the chord joins the two points (w_i, log w_i)
    chord = next(line for label, line in by_label.items() if "(w_i" in label)
    np.testing.assert_allclose(chord.get_xydata(), np.column_stack([w, np.log(w)]))


@pytest.mark.parametrize("lang, word", [("pt", "lacuna de Jensen"), ("en", "Jensen gap")])
def test_jensen_labels_in_language(lang, word):
    assert word in _texts(foundations.plot_jensen([1.0, 2.0], lang=lang))


def test_jensen_rejects_bad_weights_and_probabilities():
    with pytest.raises(ValueError, match="w"):
        foundations.plot_jensen([1.0, -2.0])
    with pytest.raises(ValueError, match="at least 2"):
        foundations.plot_jensen([1.0])
    with pytest.raises(ValueError, match="probs"):
        foundations.plot_jensen([1.0, 2.0], probs=[0.5, 0.6])


# -- ELBO terms ---------------------------------------------------------------------------
def test_elbo_line_is_reconstruction_minus_kl_and_log_px_is_drawn():
    scales = [0.1, 1.0, 10.0]
    reconstruction, kl = np.array([-5.0, -6.0, -15.0]), np.array([4.0, 1.5, 2.0])
    ax = foundations.plot_elbo_terms(scales, reconstruction, kl, log_px=-7.0)
    by_label = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(by_label["ELBO"].get_ydata(), reconstruction - kl)
    np.testing.assert_allclose(by_label["$-\\mathrm{KL}(q\\,\\|\\,p(z))$"].get_ydata(), -kl)
    np.testing.assert_allclose(by_label["$\\log p(x)$"].get_ydata(), [-7.0, -7.0])


@pytest.mark.parametrize("lang, word", [("pt", "reconstrução"), ("en", "reconstruction")])
def test_elbo_terms_labels_in_language(lang, word):
    ax = foundations.plot_elbo_terms([1.0, 2.0], [-1.0, -2.0], [0.5, 0.1], -1.0, lang=lang)
    assert word in ax.get_title()


def test_elbo_terms_rejects_non_finite_log_px():
    with pytest.raises(ValueError, match="log_px"):
        foundations.plot_elbo_terms([1.0, 2.0], [-1.0, -2.0], [0.5, 0.1], float("nan"))


# -- every function ---------------------------------------------------------------------------
CALLS = {
    "plot_quadrature_cost": ([1, 2], [3, 9], [0.1, 0.2]),
    "plot_naive_mc_error": ([10, 100], {1: np.zeros((2, 2))}),
    "plot_jensen": ([1.0, 2.0],),
    "plot_elbo_terms": ([1.0, 2.0], [-1.0, -2.0], [0.5, 0.1], -1.0),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_bad_lang_raises(name):
    with pytest.raises(ValueError, match="lang"):
        getattr(foundations, name)(*CALLS[name], lang="fr")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_draws_on_the_given_axes_and_returns_them(name):
    _, ax = plt.subplots()
    assert getattr(foundations, name)(*CALLS[name], ax=ax) is ax
