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
from vae_support.widgets import QState, decode_latent, latent_walker, q_explorer, q_explorer_state  # noqa: E402

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
    mean_slider, std_slider = box.children[0].children
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
