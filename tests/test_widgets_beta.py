"""The β explorer's live twin (vae_support.widgets.beta_slider) and its drawing function
(vae_support.plot.latent_space.draw_beta_state), on hand-made states."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_support.explorers.latent import DIGIT_COLORS  # noqa: E402
from vae_support.plot.latent_space import draw_beta_state  # noqa: E402
from vae_support.widgets import BetaState, beta_slider  # noqa: E402


def _states():
    rng = np.random.default_rng(0)
    labels = np.arange(12) % 10
    return [BetaState(1.0, 3.3, 96.5, -99.8, rng.normal(size=(12, 2)), labels),
            BetaState(2.0, 0.85, 103.5, -104.35, 0.5 * rng.normal(size=(12, 2)), labels),
            BetaState(4.0, 0.003, 106.4, -106.403, 0.01 * rng.normal(size=(12, 2)), labels)]


def test_draw_beta_state_highlights_the_chosen_model_with_its_level_line():
    states = _states()
    ax_rd, ax_z = draw_beta_state(states, 1, lang="en")
    curve, current, level = ax_rd.lines[:3]
    np.testing.assert_allclose(curve.get_xydata(), [[s.rate, s.distortion] for s in states])
    np.testing.assert_allclose(current.get_xydata(), [[0.85, 103.5]])
    r, d = level.get_xdata(), level.get_ydata()
    np.testing.assert_allclose(d + 2.0 * r, 103.5 + 2.0 * 0.85)  # D + beta R = const through the point
    np.testing.assert_allclose(ax_z.collections[0].get_offsets(), states[1].means)
    colors = ax_z.collections[0].get_facecolors()[:, :3]
    np.testing.assert_allclose(colors[3], mcolors.to_rgb(DIGIT_COLORS[3]), atol=1e-6)
    assert ax_z.get_title() == "β = 2" and ax_rd.get_xlabel().startswith("rate")
    ax_rd, _ = draw_beta_state(states, 2, axes=(ax_rd, ax_z), lang="pt")  # redraws in place
    assert ax_rd.get_xlabel().startswith("taxa") and len(ax_rd.lines) == 3
    np.testing.assert_allclose(ax_rd.lines[1].get_xydata(), [[0.003, 106.4]])


def test_draw_beta_state_refuses_bad_input():
    with pytest.raises(ValueError, match="index"):
        draw_beta_state(_states(), 3)
    with pytest.raises(ValueError, match="states"):
        draw_beta_state([], 0)
    with pytest.raises(ValueError, match="lang"):
        draw_beta_state(_states(), 0, lang="fr")


def test_beta_slider_shows_each_models_numbers():
    pytest.importorskip("ipywidgets")
    states = _states()
    box = beta_slider(states=states, lang="pt")
    slider, values = box.children[:2]
    assert [label for label, _ in slider.options] == ["1", "2", "4"]
    assert "R = 3.3" in values.value and "ELBO = -99.8" in values.value and "taxa" in values.value
    before = box.figure.axes[0].lines[1].get_xydata().copy()
    slider.value = 2
    assert "β = 4" in values.value and "D = 106.4" in values.value and "ELBO = -106.4" in values.value
    assert not np.allclose(box.figure.axes[0].lines[1].get_xydata(), before)
    assert "rate" in beta_slider(states=states, lang="en").children[1].value
