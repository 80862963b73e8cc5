"""vae_support.widgets: the computations behind the explorers (against exact answers) and the
wiring of the widgets (a slider move recomputes what is shown), without a display."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.distributions import Normal, kl_divergence  # noqa: E402

from vae_support.distributions import pixel_mean  # noqa: E402
from vae_support.models import VAE  # noqa: E402
from vae_support.inference import ascend_elbo_path  # noqa: E402
from vae_support.plot import kl_geometry as kg  # noqa: E402
from vae_support.widgets import (PathState, QState, decode_latent, latent_walker, path_gradients, path_state,  # noqa: E402
                                 path_walker, q_explorer, q_explorer_state)

from test_plot_kl_geometry import _close_figures  # noqa: E402,F401  (autouse: close figures)

F64 = torch.float64


@pytest.fixture(scope="module")
def tiny_vae():
    torch.manual_seed(0)
    return VAE(x_dim=64, z_dim=2, hidden=(16,))


def test_q_explorer_state_matches_the_closed_forms(conjugate):
    grid, post = conjugate
    state = q_explorer_state(grid, mean=1.5, std=0.4)
    assert isinstance(state, QState)
    q = Normal(torch.tensor(1.5, dtype=F64), torch.tensor(0.4, dtype=F64))
    log_px = float(Normal(torch.tensor(0.0, dtype=F64), torch.tensor(math.sqrt(2.0), dtype=F64)).log_prob(torch.tensor(1.0, dtype=F64)))
    assert state.kl == pytest.approx(float(kl_divergence(q, post)), abs=1e-6)
    assert state.log_px == pytest.approx(log_px, abs=1e-6)
    assert state.elbo == pytest.approx(log_px - float(kl_divergence(q, post)), abs=1e-6)
    assert state.gap == pytest.approx(state.kl, abs=1e-8)  # eq-elbo-gap, two different integrals
    assert state.mean == 1.5 and state.std == 0.4
    assert state.q.shape == state.z.shape == state.posterior.shape == (801,)
    assert state.posterior.sum() * grid.dz == pytest.approx(1.0, abs=1e-6)


def test_q_explorer_state_is_zero_gap_at_the_posterior(conjugate):
    grid, _ = conjugate
    state = q_explorer_state(grid, 0.5, math.sqrt(0.5))
    assert state.kl == pytest.approx(0.0, abs=1e-6)
    assert state.elbo == pytest.approx(state.log_px, abs=1e-6)


def test_q_explorer_state_rejects_bad_input(conjugate):
    grid, _ = conjugate
    with pytest.raises(ValueError, match="std"):
        q_explorer_state(grid, 0.0, 0.0)
    with pytest.raises(ValueError, match="mean"):
        q_explorer_state(grid, float("nan"), 1.0)
    with pytest.raises(TypeError, match="grid"):
        q_explorer_state("grid", 0.0, 1.0)


def test_q_explorer_sliders_update_the_values(conjugate):
    grid, _ = conjugate
    box = q_explorer(grid, mean=-1.0, std=1.0, lang="en")
    mean_slider, std_slider, forward = box.children[0].children
    values = box.children[1]
    assert f"{q_explorer_state(grid, -1.0, 1.0).kl:.4g}" in values.value
    mean_slider.value = 0.5
    std_slider.value = 0.7
    state = q_explorer_state(grid, 0.5, 0.7)
    assert f"KL(q‖p(z|x)) = {state.kl:.4g}" in values.value and f"ELBO = {state.elbo:.4g}" in values.value
    (ax,) = box.figure.axes  # the figure follows the sliders: q = N(0.5, 0.7²) drawn on the grid
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), Normal(0.5, 0.7).log_prob(torch.as_tensor(state.z)).exp().numpy(),
                               rtol=1e-5, atol=1e-8)
    assert f"KL = {state.kl:.3f}" in ax.get_title()
    assert "gap" in values.value
    assert "lacuna" in q_explorer(grid, lang="pt").children[1].value
    assert mean_slider.description == "mean"
    with pytest.raises(ValueError, match="lang"):
        q_explorer(grid, lang="de")


@pytest.fixture(scope="module")
def lg_path():
    from vae_support.toy import LinearGaussian

    model = LinearGaussian(torch.tensor([[2.0, 2.0]], dtype=F64), torch.zeros(1, dtype=F64), noise_std=1.0)
    x = torch.tensor([5.0], dtype=F64)
    return model.posterior(x), ascend_elbo_path(model, x, torch.tensor([2.5, -1.5]), torch.ones(2), steps=12, lr=0.1)


def test_path_state_is_the_path_and_its_gradient(lg_path):
    posterior, path = lg_path
    state = path_state(posterior, path, 4)
    assert isinstance(state, PathState) and state.step == 4
    np.testing.assert_allclose(state.mean, path.mean[4].numpy())
    np.testing.assert_allclose(state.std, path.std[4].numpy())
    assert state.elbo == float(path.elbo[4]) and state.kl == float(path.kl[4])
    assert state.elbo + state.kl == pytest.approx(state.log_px, abs=1e-12)  # eq-elbo-gap
    g_mean, g_log_std = path_gradients(posterior, path)
    # the ascent moved the parameters by lr times this gradient
    np.testing.assert_allclose(path.mean[5].numpy(), state.mean + 0.1 * state.grad_mean, atol=1e-8)
    np.testing.assert_allclose(np.log(path.std[5].numpy()), np.log(state.std) + 0.1 * state.grad_log_std, atol=1e-8)
    np.testing.assert_allclose(state.grad_mean, g_mean[4].numpy())
    with pytest.raises(ValueError, match="step"):
        path_state(posterior, path, 13)
    with pytest.raises(ValueError, match="posterior"):
        path_state(Normal(0.0, 1.0), path, 0)
    with pytest.raises(TypeError, match="path"):
        path_gradients(posterior, (path.mean, path.std))


def test_draw_q_path_draws_q_at_the_step_and_the_values(lg_path):
    posterior, path = lg_path
    ax, ax_v = kg.draw_q_path(posterior, path, 3, lang="en", lr=0.1)
    q_patch = [p for p in ax.patches if p.get_edgecolor()[:3] == matplotlib.colors.to_rgb(kg.COLORS["q"])][0]
    np.testing.assert_allclose(q_patch.get_center(), path.mean[3].numpy())
    assert q_patch.get_width() == pytest.approx(4 * float(path.std[3, 0]))
    state = path_state(posterior, path, 3)
    arrow = ax.texts[0]  # annotate: from q's mean to the next mean (lr x gradient)
    np.testing.assert_allclose(arrow.xy, path.mean[4].numpy(), atol=1e-8)
    np.testing.assert_allclose(ax_v.get_lines()[0].get_ydata(), path.elbo.numpy())
    assert ax.get_title() == "step 3" and ax_v.get_xlabel() == "optimization step"
    np.testing.assert_allclose(ax_v.get_lines()[-1].get_ydata(), [state.elbo, state.kl])
    assert kg.draw_q_path(posterior, path, 0, lang="pt")[0].get_title() == "passo 0"


def test_path_walker_slider_moves_q(lg_path):
    posterior, path = lg_path
    box = path_walker(posterior, path, lang="en", lr=0.1)
    slider, values = box.children[0], box.children[1]
    assert (slider.min, slider.max, slider.value) == (0, 12, 0) and slider.description == "step"
    slider.value = 7
    state = path_state(posterior, path, 7)
    assert f"ELBO = {state.elbo:.4g}" in values.value and f"KL(q‖p(z|x)) = {state.kl:.4g}" in values.value
    ax = box.figure.axes[0]
    assert ax.get_title() == "step 7"
    assert path_walker(posterior, path, lang="pt").children[0].description == "passo"
    with pytest.raises(ValueError, match="lang"):
        path_walker(posterior, path, lang="de")


def test_decode_latent_is_the_pixel_mean_as_an_image(tiny_vae):
    z = torch.tensor([[0.0, 0.0], [1.0, -2.0], [0.3, 0.3]])
    images = decode_latent(tiny_vae, z)
    assert images.shape == (3, 8, 8)
    with torch.no_grad():
        expected = pixel_mean(tiny_vae.decode(z)).reshape(3, 8, 8)
    torch.testing.assert_close(images, expected)
    assert float(images.min()) >= 0 and float(images.max()) <= 16
    with pytest.raises(ValueError, match="z"):
        decode_latent(tiny_vae, torch.tensor([[float("nan"), 0.0]]))


def test_latent_walker_sliders_move_the_point(tiny_vae):
    means = torch.randn(10, 2, generator=torch.Generator().manual_seed(0))
    box = latent_walker(tiny_vae, means=means, labels=torch.arange(10), extent=2.5, lang="en")
    z1, z2 = box.children[0].children
    assert (z1.min, z1.max) == (-2.5, 2.5)
    ax_z, ax_x = box.figure.axes
    z1.value, z2.value = 1.0, -0.5
    marker = [line for line in ax_z.get_lines() if line.get_marker() == "*"][0]
    assert list(marker.get_xdata()) == [1.0] and list(marker.get_ydata()) == [-0.5]
    shown = ax_x.get_images()[-1].get_array()
    expected = decode_latent(tiny_vae, torch.tensor([[1.0, -0.5]]))[0]
    np.testing.assert_allclose(np.asarray(shown), expected.numpy(), rtol=1e-6)
    # the backdrop: one point per encoded mean
    offsets = np.concatenate([c.get_offsets() for c in ax_z.collections])
    np.testing.assert_allclose(np.sort(offsets, 0), np.sort(means.numpy(), 0), rtol=1e-6)
    assert "decoded digit" in ax_x.get_title()
    with pytest.raises(ValueError, match="extent"):
        latent_walker(tiny_vae, extent=0.0)
