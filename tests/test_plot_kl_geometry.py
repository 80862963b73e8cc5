"""vae_support.plot.kl_geometry: the computations against closed forms, the figures against the
values they are meant to draw, and the language switch."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.distributions import Normal  # noqa: E402

from vae_support.gradients import reparameterize_grid  # noqa: E402
from vae_support.inference import NormalFit, ascend_elbo_path  # noqa: E402
from vae_support.kl import kl_mean_gradient  # noqa: E402
from vae_support.plot import kl_geometry as kg  # noqa: E402
from vae_support.widgets import q_explorer_state  # noqa: E402

F64 = torch.float64
pytestmark = pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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
    grad = kl_mean_gradient(torch.stack([X, Y], -1), torch.eye(2, dtype=F64), post)
    np.testing.assert_allclose(quiver.U, -grad[..., 0].numpy().ravel())
    np.testing.assert_allclose(quiver.V, -grad[..., 1].numpy().ravel())
    assert "mean of p(z|x)" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax_pt = kg.plot_kl_gradient_field(post, torch.zeros(2), torch.eye(2), lang="pt")
    assert "média de p(z|x)" in [t.get_text() for t in ax_pt.get_legend().get_texts()]


def test_plot_elbo_path_draws_elbo_kl_their_sum_and_log_px(lg):
    model, x = lg
    path = ascend_elbo_path(model, x, torch.zeros(2), torch.ones(2), steps=5, lr=0.1)
    ax = kg.plot_elbo_path(path, lang="pt")
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), path.elbo.numpy())
    np.testing.assert_allclose(lines[1].get_ydata(), path.kl.numpy())
    np.testing.assert_allclose(lines[2].get_ydata(), (path.elbo + path.kl).numpy())
    assert lines[3].get_ydata()[0] == pytest.approx(float(path.log_px))
    assert ax.get_xlabel() == "passo de otimização"
    assert kg.plot_elbo_path(path, lang="en").get_xlabel() == "optimization step"


def test_plot_forward_reverse_draws_each_fitted_normal(conjugate):
    grid, _ = conjugate
    fits = {"a": NormalFit(0.3, 0.7, 0.1), "b": NormalFit(-1.0, 0.2, 0.5)}
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
    eps, z = reparameterize_grid(mean, L, n_lines=3, n_points=4)
    ax_eps, ax_z = kg.plot_reparameterization(eps, z, lang="en")
    np.testing.assert_allclose(ax_z.get_lines()[0].get_xydata(), z[0, 0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(ax_eps.get_lines()[0].get_xydata(), eps[0, 0].numpy(), rtol=1e-6)
    # the last drawn curve of the z panel (before the centre mark) is the image of the unit circle
    ellipse = ax_z.get_lines()[-2].get_xydata()
    back = torch.linalg.solve(L, torch.tensor(ellipse, dtype=torch.float32).T - mean[:, None])
    np.testing.assert_allclose(back.norm(dim=0).numpy(), 1.0, rtol=1e-4)
    assert ax_z.get_title().startswith("latent space")
    assert kg.plot_reparameterization(eps, z, lang="pt")[1].get_title().startswith("espaço latente")


def test_draw_digit_shows_the_decoded_image():
    images = torch.arange(3 * 64, dtype=torch.float32).reshape(3, 8, 8) % 17
    ax = kg.draw_digit(images[1], lang="en")
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), images[1].numpy())
    assert ax.get_title() == "decoded digit"
    assert kg.draw_digit(images[2], lang="pt").get_title() == "dígito decodificado"
    with pytest.raises(ValueError, match="image"):
        kg.draw_digit(images)
