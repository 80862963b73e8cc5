"""vae_support.plot.latent_space: computations against known answers, figures draw the values given."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from scipy.stats import norm
from sklearn.metrics import roc_auc_score
from torch.distributions import MultivariateNormal

from vae_support.kl import full_gaussian_kl
from vae_support.plot import latent_space as ls
from vae_support import latent


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- computations -----------------------------------------------------------------------------
def test_lerp_is_affine_with_the_end_points():
    z0, z1 = torch.tensor([1.0, -2.0]), torch.tensor([3.0, 4.0])
    path = latent.lerp(z0, z1, torch.tensor([0.0, 0.25, 1.0]))
    assert path.shape == (3, 2)
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[1], torch.tensor([1.5, -0.5]))
    torch.testing.assert_close(path[2], z1)


def test_slerp_of_orthogonal_unit_vectors_is_the_quarter_circle():
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    t = torch.tensor([0.0, 1 / 3, 0.5, 1.0])
    path = latent.slerp(z0, z1, t)
    angle = t * math.pi / 2
    torch.testing.assert_close(path, torch.stack([angle.cos(), angle.sin()], -1))


def test_slerp_keeps_the_norm_of_equal_norm_end_points_in_a_batch():
    g = torch.Generator().manual_seed(0)
    unit = torch.nn.functional.normalize(torch.randn(2, 7, 32, generator=g, dtype=torch.float64), dim=-1)
    path = latent.slerp(2.5 * unit[0], 2.5 * unit[1], torch.linspace(0, 1, 11, dtype=torch.float64))
    assert path.shape == (11, 7, 32)
    torch.testing.assert_close(path.norm(dim=-1), torch.full((11, 7), 2.5, dtype=torch.float64))
    # whereas the straight line dips inside the sphere
    assert (latent.lerp(2.5 * unit[0], 2.5 * unit[1], torch.tensor([0.5], dtype=torch.float64)).norm(dim=-1) < 2.5).all()


def test_slerp_falls_back_to_the_line_for_parallel_end_points():
    z0 = torch.tensor([1.0, 1.0])
    t = torch.tensor([0.0, 0.5, 1.0])
    torch.testing.assert_close(latent.slerp(z0, 3 * z0, t), latent.lerp(z0, 3 * z0, t))


def test_interpolation_bad_input():
    with pytest.raises(ValueError, match="z0, z1"):
        latent.lerp(torch.zeros(2), torch.zeros(3), torch.tensor([0.5]))
    with pytest.raises(ValueError, match="t:"):
        latent.slerp(torch.ones(2), torch.ones(2), torch.tensor(0.5))
    with pytest.raises(ValueError, match="non-zero"):
        latent.slerp(torch.zeros(2), torch.ones(2), torch.tensor([0.5]))


def test_gaussian_quantile_grid_matches_scipy():
    coords = latent.gaussian_quantile_grid(7, eps=0.1)
    expected = norm.ppf(np.linspace(0.1, 0.9, 7))
    np.testing.assert_allclose(coords.numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="eps"):
        latent.gaussian_quantile_grid(5, eps=0.5)
    with pytest.raises(ValueError, match="n"):
        latent.gaussian_quantile_grid(1)


def test_class_means_and_transfer_by_hand():
    z = torch.tensor([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [12.0, 14.0]])
    labels = torch.tensor([3, 3, 5, 5])
    classes, means = latent.class_means(z, labels)
    assert classes.tolist() == [3, 5]
    torch.testing.assert_close(means, torch.tensor([[1.0, 0.0], [11.0, 12.0]]))
    moved = latent.transfer_codes(z, labels, classes, means, target=5)
    # the offsets from the own class mean are kept, around the target's mean
    torch.testing.assert_close(moved, torch.tensor([[10.0, 12.0], [12.0, 12.0], [10.0, 10.0], [12.0, 14.0]]))
    torch.testing.assert_close(moved[labels == 3].mean(0), means[1])
    with pytest.raises(ValueError, match="target"):
        latent.transfer_codes(z, labels, classes, means, target=7)
    with pytest.raises(ValueError, match="labels"):
        latent.transfer_codes(z, torch.tensor([3, 3, 5, 9]), classes, means, target=5)
    with pytest.raises(ValueError, match="z, labels"):
        latent.class_means(z, labels[:3])


def test_total_correlation_is_the_kl_to_the_product_of_marginals():
    rho = 0.8
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(latent.gaussian_total_correlation(cov), torch.tensor(-0.5 * math.log(1 - rho**2), dtype=torch.float64))
    g = torch.Generator().manual_seed(1)
    a = torch.randn(4, 5, 5, generator=g, dtype=torch.float64)
    covs = a @ a.transpose(-1, -2) + 0.5 * torch.eye(5, dtype=torch.float64)
    mean = torch.zeros(4, 5, dtype=torch.float64)
    expected = full_gaussian_kl(mean, covs, mean, torch.diag_embed(torch.diagonal(covs, dim1=-2, dim2=-1)))
    torch.testing.assert_close(latent.gaussian_total_correlation(covs), expected)
    torch.testing.assert_close(latent.gaussian_total_correlation(torch.diag(torch.tensor([2.0, 3.0]))), torch.tensor(0.0))
    with pytest.raises(ValueError, match="positive definite"):
        latent.gaussian_total_correlation(torch.tensor([[1.0, 2.0], [2.0, 1.0]]))


# -- figures ----------------------------------------------------------------------------------
def test_decoded_grid_puts_row_zero_at_the_bottom():
    n = 3
    images = np.zeros((n, n, 64))
    images[0, 0] = 16.0  # z = (coords[0], coords[0]): lower-left
    coords = np.array([-1.0, 0.0, 1.0])
    ax = ls.plot_decoded_grid(images, coords, lang="en")
    shown = ax.images[0].get_array()
    assert shown.shape == (24, 24)
    assert np.all(shown[16:, :8] == 16.0) and shown[:16].sum() == 0 and shown[16:, 8:].sum() == 0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-1", "0", "1"]
    assert "grid" in ax.get_title()
    assert "grade" in ls.plot_decoded_grid(images, coords, lang="pt").get_title()
    with pytest.raises(ValueError, match="images"):
        ls.plot_decoded_grid(np.zeros((2, 2, 64)), coords)


def test_digit_rows_draw_the_images_and_translate_names():
    rows = {"linear": np.full((4, 64), 1.0), "slerp": np.full((4, 64), 2.0), "→ 7": np.full((4, 64), 3.0)}
    ax = ls.plot_digit_rows(rows, lang="pt")
    shown = ax.images[0].get_array()
    assert shown.shape == (24, 32)
    assert np.all(shown[:8] == 1.0) and np.all(shown[8:16] == 2.0) and np.all(shown[16:] == 3.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["linear", "esférica (slerp)", "→ 7"]
    en = ls.plot_digit_rows(rows, lang="en")
    assert en.get_yticklabels()[1].get_text() == "spherical (slerp)"
    with pytest.raises(ValueError, match="rows"):
        ls.plot_digit_rows({"a": np.zeros((2, 64)), "b": np.zeros((3, 64))})


def test_path_norms_draw_the_mean_and_the_typical_norm():
    t = np.linspace(0, 1, 5)
    lin = np.outer(1 - 0.5 * np.sin(np.pi * t), [1.0, 3.0])
    ax = ls.plot_path_norms(t, {"linear": lin, "slerp": np.full((5, 2), 2.0)}, typical=2.0, lang="en")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), lin.mean(1))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 2.0)
    assert ax.lines[2].get_ydata()[0] == 2.0
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["linear", "spherical (slerp)", "typical norm under the prior"]
    pt = ls.plot_path_norms(t, {"linear": lin}, typical=2.0, lang="pt")
    assert pt.get_legend().get_texts()[-1].get_text() == "norma típica sob a prior"


def test_anomaly_histograms_and_roc_use_the_scores():
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.4, 0.8])
    flags = np.array([0, 0, 0, 1, 0, 1], dtype=bool)
    ax = ls.plot_anomaly_scores(scores, flags, bins=4, lang="en")
    heights_normal = [p.get_height() for p in ax.patches[:4]]
    expected, _ = np.histogram(scores[~flags], bins=np.histogram_bin_edges(scores, 4), density=True)
    np.testing.assert_allclose(heights_normal, expected)
    assert "held-out class" in [t.get_text() for t in ax.get_legend().get_texts()]
    noisy = np.array([0.5, 0.2, 0.3, 0.1, 0.4, 0.8])
    roc = ls.plot_roc({"a": (scores, flags), "b": (noisy, flags)}, lang="pt")
    texts = [t.get_text() for t in roc.get_legend().get_texts()]
    assert texts == [f"a (AUC = {roc_auc_score(flags, scores):.3f})", f"b (AUC = {roc_auc_score(flags, noisy):.3f})"]
    assert texts[0].endswith("(AUC = 1.000)")
    assert roc.lines[0].get_ydata()[-1] == 1.0 and roc.get_xlabel() == "taxa de falsos positivos"
    with pytest.raises(ValueError, match="is_anomaly"):
        ls.plot_anomaly_scores(scores, np.zeros(6, dtype=bool))


def test_prior_density_contours_evaluate_the_prior():
    prior = MultivariateNormal(torch.tensor([1.0, -1.0]), torch.eye(2) * 0.25)
    ax = ls.plot_prior_density(prior, extent=3.0, n=61, lang="en")
    levels = ax.collections[0].levels
    peak = prior.log_prob(prior.mean).exp().item()
    assert max(levels) >= peak * 0.9 and max(levels) <= peak * 1.2
    assert "prior density" in ax.get_title()
    with pytest.raises(ValueError, match="prior"):
        ls.plot_prior_density(MultivariateNormal(torch.zeros(3), torch.eye(3)))


def test_norm_concentration_scales_by_sqrt_d():
    ax = ls.plot_norm_concentration({4: np.full(10, 2.0), 16: np.full(10, 4.0)}, bins=25, lang="en")
    # both samples sit at ||z|| / sqrt(d) = 1: the tallest bar of each histogram covers 1
    for patch in ax.patches:
        path = patch.get_path().vertices
        xs = path[:, 0][path[:, 1] > 0]
        assert xs.min() <= 1.0 <= xs.max() + 1e-9
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d = 4", "d = 16"]
    assert ls.plot_norm_concentration({4: np.ones(3)}, lang="pt").get_ylabel() == "densidade"


def test_kl_vs_dimension_draws_exact_and_error_bars():
    dims = np.array([1, 2, 4])
    exact = np.array([0.5, 1.0, 2.0])
    ax = ls.plot_kl_vs_dimension(dims, exact, estimate=exact + 0.01, stderr=np.full(3, 0.1), lang="en")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), exact)
    segments = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segments], 0.4)
    assert ax.get_legend().get_texts()[1].get_text() == "Monte Carlo (±2 SE)"
    assert ls.plot_kl_vs_dimension(dims, exact, lang="pt").get_xlabel() == "dimensão d"


def test_posterior_ellipses_have_the_covariance_axes():
    means = np.array([[1.0, 0.0], [-1.0, 0.5]])
    covs = np.array([np.diag([0.04, 1.0]), np.diag([0.25, 0.81])])
    ax = ls.plot_posterior_ellipses_2d(means, covs, labels=[1, 2], names=("z₁", "z₇"), lang="en")
    first, second, circle = ax.patches[:3]
    assert first.center == (1.0, 0.0)
    assert sorted([first.width, first.height]) == pytest.approx([0.4, 2.0])
    assert sorted([second.width, second.height]) == pytest.approx([1.0, 1.8])
    assert circle.width == pytest.approx(2.0) and circle.height == pytest.approx(2.0)
    assert ax.get_ylabel() == "z₇"
    assert "1 desvio" in ls.plot_posterior_ellipses_2d(means, covs, lang="pt").get_legend().get_texts()[0].get_text()


def test_diagonal_gap_curve():
    rho = np.linspace(0, 0.9, 4)
    kl = -0.5 * np.log(1 - rho**2)
    ax = ls.plot_diagonal_gap(rho, kl, measured=([0.5], [0.1438]), lang="en")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), kl)
    np.testing.assert_allclose(ax.lines[1].get_xydata(), [[0.5, 0.1438]])
    assert ax.get_ylabel() == "least KL (nats)"
    assert ls.plot_diagonal_gap(rho, kl, lang="pt").get_ylabel() == "KL mínima (nats)"


def test_bad_lang_is_rejected():
    with pytest.raises(ValueError, match="lang"):
        ls.plot_kl_vs_dimension([1], [0.0], lang="de")


def test_diagonal_fit_draws_both_covariances():
    post = np.array([[1.0, 0.6], [0.6, 1.0]])
    q = np.diag([0.64, 0.64])
    ax = ls.plot_diagonal_fit([0.5, -0.5], post, q, lang="en")
    p1, p2, q1, q2 = ax.patches
    assert sorted([p1.width, p1.height]) == pytest.approx([2 * math.sqrt(0.4), 2 * math.sqrt(1.6)])
    assert p2.width == pytest.approx(2 * p1.width)
    assert q1.width == pytest.approx(1.6) and q1.height == pytest.approx(1.6)
    assert p1.angle % 180 == pytest.approx(45.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exact posterior", "diagonal q"]
    assert ls.plot_diagonal_fit([0, 0], post, q, lang="pt").get_legend().get_texts()[1].get_text() == "q diagonal"
