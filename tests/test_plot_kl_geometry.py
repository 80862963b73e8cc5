"""vae_support.plot.kl_geometry: the computations against closed forms, the figures against the
values they are meant to draw, and the language switch."""
from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.distributions import Categorical, Independent, MixtureSameFamily, MultivariateNormal, Normal  # noqa: E402

from vae_support.kl import gaussian_kl  # noqa: E402
from vae_support.models import VAE  # noqa: E402
from vae_support.plot import kl_geometry as kg  # noqa: E402
from vae_support.plot.elbo import optimal_diagonal_gaussian  # noqa: E402
from vae_support.toy import Grid1D, LinearGaussian  # noqa: E402
from vae_support.widgets import q_explorer_state  # noqa: E402

F64 = torch.float64
pytestmark = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def lg():
    """The chapter's model: x = 2 z1 + 2 z2 + N(0, 1), x = 5; posterior correlation -0.8."""
    model = LinearGaussian(torch.tensor([[2.0, 2.0]], dtype=F64), torch.zeros(1, dtype=F64), noise_std=1.0)
    return model, torch.tensor([5.0], dtype=F64)


@pytest.fixture(scope="module")
def conjugate():
    """z ~ N(0, 1), x | z ~ N(z, 1), x = 1: posterior N(1/2, 1/2) exactly."""
    grid = Grid1D(Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64)),
                  lambda z: Normal(z, 1.0), x=1.0, z_min=-8.0, z_max=8.0, n=801)
    return grid, Normal(torch.tensor(0.5, dtype=F64), torch.tensor(math.sqrt(0.5), dtype=F64))


@pytest.fixture(scope="module")
def tiny_vae():
    torch.manual_seed(0)
    return VAE(x_dim=64, z_dim=2, hidden=(16,)), torch.randint(0, 17, (5, 64)).float()


# -------------------------------------------------------------------------- computations
def test_kl_mean_gradient_is_precision_times_displacement_for_any_q_covariance(lg):
    model, x = lg
    post = model.posterior(x)
    means = torch.randn(4, 3, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    expected = torch.linalg.solve(post.covariance_matrix, (means - post.mean).unsqueeze(-1)).squeeze(-1)
    for cov_q in (torch.eye(2, dtype=F64), torch.tensor([[0.3, 0.1], [0.1, 2.0]], dtype=F64)):
        got = kg.kl_mean_gradient(means, cov_q, post)
        assert got.shape == means.shape
        torch.testing.assert_close(got, expected)


def test_kl_mean_gradient_rejects_a_batched_or_non_gaussian_target(lg):
    model, x = lg
    with pytest.raises(ValueError, match="posterior"):
        kg.kl_mean_gradient(torch.zeros(2), torch.eye(2), Normal(0.0, 1.0))
    with pytest.raises(ValueError, match="mean"):
        kg.kl_mean_gradient(torch.tensor([float("nan"), 0.0]), torch.eye(2), model.posterior(x))


def test_ascend_elbo_path_keeps_the_gap_identity_and_reaches_the_mean_field_optimum(lg):
    model, x = lg
    path = kg.ascend_elbo_path(model, x, torch.tensor([-1.0, 3.0]), torch.tensor([1.0, 1.0]), steps=80, lr=0.2)
    assert path.mean.shape == (81, 2) and path.std.shape == (81, 2) and path.elbo.shape == (81,)
    torch.testing.assert_close(path.elbo + path.kl, path.log_px.expand(81), atol=1e-10, rtol=0)
    post = model.posterior(x)
    best = optimal_diagonal_gaussian(post)
    cov = post.covariance_matrix
    rho = cov[0, 1] / (cov[0, 0] * cov[1, 1]).sqrt()
    assert float(path.kl[-1]) == pytest.approx(-0.5 * math.log1p(-float(rho) ** 2), abs=1e-6)
    torch.testing.assert_close(path.mean[-1], post.mean, atol=1e-3, rtol=0)
    torch.testing.assert_close(path.std[-1], best.stddev, atol=1e-4, rtol=0)
    # the ELBO is concave in (m, log s): small steps never go down
    small = kg.ascend_elbo_path(model, x, torch.tensor([-1.0, 3.0]), torch.tensor([1.0, 1.0]), steps=30, lr=0.05)
    assert (small.elbo[1:] - small.elbo[:-1] >= -1e-12).all()


def test_ascend_elbo_path_rejects_bad_input(lg):
    model, x = lg
    good = dict(mean0=torch.zeros(2), std0=torch.ones(2))
    with pytest.raises(TypeError, match="model"):
        kg.ascend_elbo_path("model", x, **good)
    with pytest.raises(ValueError, match="steps"):
        kg.ascend_elbo_path(model, x, steps=0, **good)
    with pytest.raises(ValueError, match="lr"):
        kg.ascend_elbo_path(model, x, lr=-1.0, **good)
    with pytest.raises(ValueError, match="std0"):
        kg.ascend_elbo_path(model, x, torch.zeros(2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="mean0"):
        kg.ascend_elbo_path(model, x, torch.zeros(3), torch.ones(3))
    with pytest.raises(ValueError, match="x"):
        kg.ascend_elbo_path(model, torch.ones(2, 1, dtype=F64), **good)


def test_fit_normal_recovers_a_gaussian_posterior_with_either_divergence(conjugate):
    grid, post = conjugate
    for divergence in ("reverse", "forward"):
        fit = kg.fit_normal(grid, divergence, mean0=-1.0, std0=2.0, steps=300, lr=0.05)
        assert fit.mean == pytest.approx(0.5, abs=1e-3)
        assert fit.std == pytest.approx(math.sqrt(0.5), abs=1e-3)
        assert fit.divergence == pytest.approx(0.0, abs=1e-5)


def test_forward_kl_matches_moments_and_reverse_kl_picks_a_mode():
    grid = Grid1D.bimodal()
    post = grid.posterior_density()
    mean = float((post * grid.z).sum() * grid.dz)
    std = math.sqrt(float((post * (grid.z - mean) ** 2).sum() * grid.dz))
    forward = kg.fit_normal(grid, "forward", steps=150, lr=0.1)
    assert forward.mean == pytest.approx(mean, abs=0.01)
    assert forward.std == pytest.approx(std, rel=0.01)
    right = kg.fit_normal(grid, "reverse", mean0=1.0, steps=150, lr=0.1)
    left = kg.fit_normal(grid, "reverse", mean0=-1.0, steps=150, lr=0.1)
    assert right.mean > 1.5 and left.mean < -1.5 and right.std < 0.5 * std
    assert right.divergence == pytest.approx(float(grid.kl(Normal(torch.tensor(right.mean, dtype=F64),
                                                                  torch.tensor(right.std, dtype=F64)))))
    assert right.divergence < left.divergence  # the heavier mode (more prior mass at z > 0) wins


def test_fit_normal_rejects_bad_input(conjugate):
    grid, _ = conjugate
    with pytest.raises(ValueError, match="divergence"):
        kg.fit_normal(grid, "both")
    with pytest.raises(TypeError, match="grid"):
        kg.fit_normal(object())
    with pytest.raises(ValueError, match="std0"):
        kg.fit_normal(grid, std0=0.0)


def test_reconstruction_gradient_of_a_gaussian_likelihood_is_x_minus_mu():
    x = torch.tensor([0.7, -1.2], dtype=F64)
    log_lik = lambda z: Independent(Normal(z, 1.0), 1).log_prob(x)  # noqa: E731
    eps = torch.randn(8, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    eps = torch.cat([eps, -eps])
    mean = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5]], dtype=F64)
    std = torch.tensor([0.5, 2.0], dtype=F64)
    value, grad = kg.reconstruction_gradient(log_lik, mean, std, eps)
    torch.testing.assert_close(grad, x - mean)
    # E[log N(x; mu + s eps, I)] = log N(x; mu, I) - sum(s^2)/2 when the draws have sample variance 1
    var = (eps**2).mean(0)
    expected = Independent(Normal(mean, 1.0), 1).log_prob(x) - 0.5 * (std**2 * var).sum()
    torch.testing.assert_close(value, expected)
    with pytest.raises(ValueError, match="mean, eps"):
        kg.reconstruction_gradient(log_lik, mean[0], std, eps)
    with pytest.raises(ValueError, match="std"):
        kg.reconstruction_gradient(log_lik, mean, -std, eps)


def test_regularization_gradient_closed_form_and_monte_carlo():
    mean = torch.tensor([[0.0, 0.0], [1.0, -2.0], [3.0, 0.5]], dtype=F64)
    std = torch.tensor([0.3, 1.5], dtype=F64)
    standard = Independent(Normal(torch.zeros(2, dtype=F64), torch.ones(2, dtype=F64)), 1)
    torch.testing.assert_close(kg.regularization_gradient(mean, std, standard), -mean)
    # a one-component mixture has no closed-form KL in torch: the Monte Carlo path, exact with antithetic draws
    m, s = torch.tensor([1.0, -1.0], dtype=F64), 0.5
    one = MixtureSameFamily(Categorical(probs=torch.ones(1, dtype=F64)), Independent(Normal(m[None], s), 1))
    eps = torch.randn(16, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    got = kg.regularization_gradient(mean, std, one, eps=torch.cat([eps, -eps]))
    torch.testing.assert_close(got, -(mean - m) / s**2)
    with pytest.raises(ValueError, match="eps"):
        kg.regularization_gradient(mean, std, one)
    with pytest.raises(TypeError, match="prior"):
        kg.regularization_gradient(mean, std, "N(0, I)")


def test_reparameterize_grid_is_the_affine_map():
    mean = torch.tensor([1.0, -0.5])
    L = torch.tensor([[0.8, 0.0], [-0.6, 0.4]])
    eps, z = kg.reparameterize_grid(mean, L, lim=2.0, n_lines=5, n_points=7)
    assert eps.shape == z.shape == (2, 5, 7, 2)
    torch.testing.assert_close(z, mean + eps @ L.T)
    assert float(eps.abs().max()) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="scale_tril"):
        kg.reparameterize_grid(mean, L.T)
    with pytest.raises(ValueError, match="scale_tril"):
        kg.reparameterize_grid(mean, -L)


def test_encoder_gradient_split_adds_up_to_the_elbo_gradient(tiny_vae):
    model, x = tiny_vae
    params = list(model.encoder.parameters())
    torch.manual_seed(3)
    g_rec, g_reg = kg.encoder_gradient_split(model, x, k=2)
    torch.manual_seed(3)
    f = model.forward_pass(x, 2)
    mu, std = f.q.mean, f.q.stddev
    elbo = f.log_px_z.mean(0) - gaussian_kl(mu, 2 * std.log())  # eq-elbo-decomposition, KL by eq-kl-gaussian-diag
    total = torch.cat([g.reshape(-1) for g in torch.autograd.grad(elbo.sum(), params, retain_graph=True)])
    torch.testing.assert_close(g_rec + g_reg, total, atol=1e-5, rtol=1e-5)
    kl_only = torch.cat([g.reshape(-1) for g in torch.autograd.grad(-gaussian_kl(mu, 2 * std.log()).sum(), params)])
    torch.testing.assert_close(g_reg, kl_only, atol=1e-6, rtol=1e-5)
    assert g_rec.shape == (sum(p.numel() for p in params),)


def test_animation_html_is_reproducible_and_holds_every_frame(lg):
    model, x = lg
    path = kg.ascend_elbo_path(model, x, torch.tensor([-1.0, 3.0]), torch.tensor([1.0, 1.0]), steps=6, lr=0.2)
    post = model.posterior(x)
    htmls = [kg.animation_html(kg.animate_q_path(post, path, frames=4, dpi=20), "t") for _ in range(2)]
    assert htmls[0] == htmls[1]
    assert len(re.findall(r"frames\[\d+\]\s*=", htmls[0])) == 4
    with pytest.raises(ValueError, match="name"):
        kg.animation_html(kg.animate_q_path(post, path, frames=2, dpi=20), "bad name")
    with pytest.raises(TypeError, match="anim"):
        kg.animation_html(plt.figure(), "x")


# --------------------------------------------------------------------------------- figures
def test_plot_candidates_draws_the_posterior_and_labels_each_q_with_its_kl_and_elbo(conjugate):
    grid, post = conjugate
    ax = kg.plot_candidates(grid, [(0.5, math.sqrt(0.5)), (-2.0, 0.5)], lang="pt")
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), grid.posterior_density().numpy())
    q = Normal(torch.tensor(-2.0, dtype=F64), torch.tensor(0.5, dtype=F64))
    np.testing.assert_allclose(lines[2].get_ydata(), q.log_prob(grid.z).exp().numpy())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"KL = {float(grid.kl(q)):.3g}" in labels[2] and f"ELBO = {float(grid.elbo(q)):.3g}" in labels[2]
    assert abs(float(labels[1].split("KL = ")[1].split(",")[0])) < 1e-3  # q = the exact posterior
    assert ax.get_ylabel() == "densidade"
    assert kg.plot_candidates(grid, [(0.0, 1.0)], lang="en").get_ylabel() == "density"
    with pytest.raises(ValueError, match="lang"):
        kg.plot_candidates(grid, [(0.0, 1.0)], lang="fr")


def test_plot_kl_gradient_field_draws_minus_the_gradient(lg):
    model, x = lg
    post = model.posterior(x)
    ax = kg.plot_kl_gradient_field(post, torch.tensor([0.0, 2.0]), torch.eye(2), lim=(-1, 2, -1, 2), n_arrows=4, lang="en")
    quiver = ax.collections[-1]
    xs = torch.linspace(-1, 2, 4, dtype=F64)
    X, Y = torch.meshgrid(xs, xs, indexing="xy")
    grad = kg.kl_mean_gradient(torch.stack([X, Y], -1), torch.eye(2, dtype=F64), post)
    np.testing.assert_allclose(quiver.U, -grad[..., 0].numpy().ravel())
    np.testing.assert_allclose(quiver.V, -grad[..., 1].numpy().ravel())
    assert "mean of p(z|x)" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax_pt = kg.plot_kl_gradient_field(post, torch.zeros(2), torch.eye(2), lang="pt")
    assert "média de p(z|x)" in [t.get_text() for t in ax_pt.get_legend().get_texts()]


def test_plot_elbo_path_draws_elbo_kl_their_sum_and_log_px(lg):
    model, x = lg
    path = kg.ascend_elbo_path(model, x, torch.zeros(2), torch.ones(2), steps=5, lr=0.1)
    ax = kg.plot_elbo_path(path, lang="pt")
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), path.elbo.numpy())
    np.testing.assert_allclose(lines[1].get_ydata(), path.kl.numpy())
    np.testing.assert_allclose(lines[2].get_ydata(), (path.elbo + path.kl).numpy())
    assert lines[3].get_ydata()[0] == pytest.approx(float(path.log_px))
    assert ax.get_xlabel() == "passo de otimização"
    assert kg.plot_elbo_path(path, lang="en").get_xlabel() == "optimization step"


def test_animate_q_path_moves_the_ellipse_along_the_path(lg):
    model, x = lg
    path = kg.ascend_elbo_path(model, x, torch.tensor([-1.0, 3.0]), torch.tensor([1.0, 0.5]), steps=10, lr=0.2)
    anim = kg.animate_q_path(model.posterior(x), path, frames=3, lang="en", dpi=20)
    anim._func(2)  # the last frame shows the last step
    ax = anim._fig.axes[0]
    patch = [p for p in ax.patches if p.get_edgecolor()[:3] == matplotlib.colors.to_rgb(kg.COLORS["q"])][0]
    np.testing.assert_allclose(patch.get_center(), path.mean[-1].numpy())
    assert patch.get_width() == pytest.approx(4 * float(path.std[-1, 0]))
    assert ax.get_title().startswith("step 10")
    with pytest.raises(ValueError, match="frames"):
        kg.animate_q_path(model.posterior(x), path, frames=1)


def test_plot_forward_reverse_draws_each_fitted_normal(conjugate):
    grid, _ = conjugate
    fits = {"a": kg.NormalFit(0.3, 0.7, 0.1), "b": kg.NormalFit(-1.0, 0.2, 0.5)}
    ax = kg.plot_forward_reverse(grid, fits, lang="en")
    for line, fit in zip(ax.get_lines(), fits.values()):
        q = Normal(torch.tensor(fit.mean, dtype=F64), torch.tensor(fit.std, dtype=F64))
        np.testing.assert_allclose(line.get_ydata(), q.log_prob(grid.z).exp().numpy())
    assert any("N(0.30, 0.70²)" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_ylabel() == "density"


def test_draw_q_explorer_shows_the_state_values(conjugate):
    grid, _ = conjugate
    state = q_explorer_state(grid, 1.5, 0.4)
    ax = kg.draw_q_explorer(state, lang="pt")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), state.q)
    assert f"KL = {state.kl:.3f}" in ax.get_title() and f"ELBO = {state.elbo:.3f}" in ax.get_title()
    assert "lacuna" in ax.get_title()
    assert "gap" in kg.draw_q_explorer(state, lang="en").get_title()
    anim = kg.animate_q_explorer([state, q_explorer_state(grid, 0.0, 1.0)], lang="en", dpi=20)
    anim._func(1)
    assert f"KL = {q_explorer_state(grid, 0.0, 1.0).kl:.3f}" in anim._fig.axes[0].get_title()
    with pytest.raises(ValueError, match="states"):
        kg.animate_q_explorer([state])


def test_plot_gradient_fields_draws_unit_directions_of_each_part():
    side = torch.tensor([-1.0, 0.0, 1.0])
    centers = torch.stack(torch.meshgrid(side, side, indexing="xy"), -1).reshape(-1, 2)
    rec = torch.stack([torch.ones(9), centers[:, 0] + 2.0], 1)
    reg = -centers
    value = torch.arange(9.0)
    axes = kg.plot_gradient_fields(centers, rec, reg, recon_value=value, target=torch.tensor([0.5, 0.5]), lang="en")
    unit = lambda v: v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)  # noqa: E731
    for ax, field in zip(axes, (rec, reg, rec + reg)):
        quiver = ax.collections[0]
        np.testing.assert_allclose(np.stack([quiver.U, quiver.V], 1), unit(field).numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(axes[0].get_images()[0].get_array(), value.reshape(3, 3).numpy())
    assert [ax.get_title() for ax in axes] == ["reconstruction", "regularization (−∇KL)", "sum (∇ELBO)"]
    assert kg.plot_gradient_fields(centers, rec, reg, lang="pt")[0].get_title() == "reconstrução"
    with pytest.raises(ValueError, match="centers"):
        kg.plot_gradient_fields(centers, rec[:2], reg)
    with pytest.raises(ValueError, match="recon_value"):
        kg.plot_gradient_fields(centers, rec, reg, recon_value=value[:4])


def test_plot_regularization_field_draws_unit_directions_and_components():
    centers = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    field = torch.tensor([[0.0, -2.0], [-1.0, 1.0]])
    ax = kg.plot_regularization_field(centers, field, components=torch.tensor([[1.0, 1.0]]), lang="pt")
    quiver = ax.collections[0]
    np.testing.assert_allclose(np.stack([quiver.U, quiver.V], 1), (field / field.norm(dim=1, keepdim=True)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ax.collections[1].get_offsets(), [[1.0, 1.0]])
    assert "priori" in ax.get_legend().get_texts()[1].get_text()


def test_plot_reparameterization_draws_the_grid_and_its_image():
    mean, L = torch.tensor([1.0, 2.0]), torch.tensor([[0.5, 0.0], [0.3, 0.2]])
    eps, z = kg.reparameterize_grid(mean, L, n_lines=3, n_points=4)
    ax_eps, ax_z = kg.plot_reparameterization(eps, z, lang="en")
    np.testing.assert_allclose(ax_z.get_lines()[0].get_xydata(), z[0, 0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(ax_eps.get_lines()[0].get_xydata(), eps[0, 0].numpy(), rtol=1e-6)
    # the last drawn curve of the z panel (before the centre mark) is the image of the unit circle
    ellipse = ax_z.get_lines()[-2].get_xydata()
    back = torch.linalg.solve(L, torch.tensor(ellipse, dtype=torch.float32).T - mean[:, None])
    np.testing.assert_allclose(back.norm(dim=0).numpy(), 1.0, rtol=1e-4)
    assert ax_z.get_title().startswith("latent space")
    assert kg.plot_reparameterization(eps, z, lang="pt")[1].get_title().startswith("espaço latente")


def test_draw_digit_and_animate_latent_walk_show_the_decoded_images():
    images = torch.arange(3 * 64, dtype=torch.float32).reshape(3, 8, 8) % 17
    ax = kg.draw_digit(images[1], lang="en")
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), images[1].numpy())
    assert ax.get_title() == "decoded digit"
    path = torch.tensor([[0.0, 0.0], [1.0, 0.5], [-1.0, 2.0]])
    anim = kg.animate_latent_walk(path, images, lang="pt", dpi=20)
    anim._func(2)
    ax_z, ax_x = anim._fig.axes
    marker = ax_z.get_lines()[-1]
    np.testing.assert_allclose(marker.get_xydata(), path[2:].numpy())
    np.testing.assert_array_equal(ax_x.get_images()[0].get_array(), images[2].numpy())
    assert ax_x.get_title() == "dígito decodificado"
    with pytest.raises(ValueError, match="path, images"):
        kg.animate_latent_walk(path[:2], images)
    with pytest.raises(ValueError, match="image"):
        kg.draw_digit(images)
