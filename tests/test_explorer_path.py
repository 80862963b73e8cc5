"""The path explorer (issue 15, kind "path", chapter kl-geometry): the payload against the package
(gradients against the closed form, the path's own steps), and the stored explorer of both
languages in a real browser (scrubbing, play, vector ellipses, numbers, phone, accessibility)."""
from __future__ import annotations


import numpy as np
import pytest
import torch

from conftest import BOOK_DIR, JS_AXE
from explorer_harness import DESKTOP, PHONE, explorer_data, explorer_page, notebook_explorers
from vae_support.exercises import format_number
from vae_support.explorers import MAX_PAYLOAD_BYTES, path_explorer
from vae_support.explorers.path import path_payload
from vae_support.inference import ascend_elbo_path
from vae_support.kl import kl_mean_gradient
from vae_support.toy import LinearGaussian
from vae_support.widgets import path_gradients, path_state

F64 = torch.float64
LANGS = ("pt", "en")
NAMES = ("step", "elbo", "kl", "sum", "log_px", "mean", "std")


def stored(lang: str) -> str:
    found = notebook_explorers(BOOK_DIR / lang / "kl-geometry.ipynb", "path")
    assert len(found) == 1, f"kl-geometry ({lang}): expected one path explorer, found {len(found)}"
    return found[0]



@pytest.fixture(scope="module")
def chapter():
    """The chapter's model, observation and path (cells of section sec-kl-geometric)."""
    lg = LinearGaussian(torch.tensor([[2.0, 2.0]], dtype=F64), torch.zeros(1, dtype=F64), noise_std=1.0)
    x = torch.tensor([5.0], dtype=F64)
    path = ascend_elbo_path(lg, x, torch.tensor([2.5, -1.5]), torch.tensor([1.0, 1.0]), steps=60, lr=0.1)
    return lg.posterior(x), path, 0.1


# ----------------------------------------------------------------------------------------- python
def test_gradients_are_the_closed_form_and_the_path_s_own_steps(chapter):
    posterior, path, lr = chapter
    g_mean, g_log_std = path_gradients(posterior, path)
    precision = torch.linalg.inv(posterior.covariance_matrix)
    for i in (0, 7, 60):
        want = -kl_mean_gradient(path.mean[i], torch.diag(path.std[i] ** 2), posterior)
        torch.testing.assert_close(g_mean[i], want, rtol=1e-10, atol=1e-12)
        # d/d log s_j of -KL(N(m, diag s^2) || N(mu, S)) = 1 - (S^-1)_jj s_j^2
        torch.testing.assert_close(g_log_std[i], 1 - precision.diagonal() * path.std[i] ** 2, rtol=1e-10, atol=1e-12)
    # each step of the ascent is lr times the gradient: the arrows are the steps taken
    torch.testing.assert_close(path.mean[1:], path.mean[:-1] + lr * g_mean[:-1], rtol=0, atol=1e-7)
    torch.testing.assert_close(path.std[1:].log(), path.std[:-1].log() + lr * g_log_std[:-1], rtol=0, atol=1e-7)


def test_payload_carries_the_path_and_the_package_values(chapter):
    posterior, path, lr = chapter
    data = path_payload(posterior, path, lr=lr)
    np.testing.assert_allclose(data["elbo"], path.elbo.numpy())
    np.testing.assert_allclose(data["kl"], path.kl.numpy())
    np.testing.assert_allclose(data["mean"], path.mean.numpy())
    np.testing.assert_allclose(data["post_cov"], posterior.covariance_matrix.numpy())
    assert data["lr"] == lr and data["arrow_scale"] == lr
    assert [r["step"] for r in data["checks"]] == [0, 1, 5, 30, 60]
    for row in data["checks"]:
        fresh = path_state(posterior, path, row["step"])
        assert row["elbo"] == fresh.elbo and row["kl"] == fresh.kl and row["log_px"] == fresh.log_px
        assert row["sum"] == pytest.approx(fresh.log_px, abs=1e-12)
    lo, hi = data["lim"][0::2], data["lim"][1::2]
    assert hi[0] - lo[0] == hi[1] - lo[1]  # a square view holding every q ellipse's 2-σ box
    assert (path.mean - 2 * path.std).min() >= min(lo) and (path.mean + 2 * path.std).max() <= max(hi)
    no_lr = path_payload(posterior, path)
    assert no_lr["lr"] is None and no_lr["arrow_scale"] > 0
    with pytest.raises(ValueError, match="lr"):
        path_payload(posterior, path, lr=-1.0)
    with pytest.raises(TypeError, match="path"):
        path_payload(posterior, "path")


@pytest.mark.parametrize("lang", LANGS)
def test_stored_payload_is_the_package_payload_and_small(chapter, lang):
    posterior, path, lr = chapter
    html = stored(lang)
    fresh = path_explorer(posterior, path, lang=lang, lr=lr)
    assert explorer_data(html) == fresh.data
    assert fresh.payload_bytes <= MAX_PAYLOAD_BYTES
    assert f'lang="{lang}"' in html


def test_the_live_twin_shows_the_same_numbers(chapter):
    pytest.importorskip("ipywidgets")
    posterior, path, lr = chapter
    explorer = path_explorer(posterior, path, lang="pt", lr=lr)
    box = explorer.widget()
    slider, values = box.children[0], box.children[1]
    assert (slider.min, slider.max) == (0, 60) and slider.description == "passo"
    slider.value = 5
    row = [r for r in explorer.data["checks"] if r["step"] == 5][0]
    assert f"ELBO = {row['elbo']:.4g}" in values.value and f"KL(q‖p(z|x)) = {row['kl']:.4g}" in values.value


# ----------------------------------------------------------------------------------------- browser
def readout(fig) -> dict:
    return {name: fig.locator(f'dd[data-name="{name}"]').inner_text() for name in NAMES}


def drawn(fig) -> dict:
    return {"ellipse": fig.locator("path.vx-q-ellipse").get_attribute("d"),
            "trail": fig.locator("path.vx-trail").get_attribute("d"),
            "arrow": [fig.locator("line.vx-grad-mean").get_attribute(a) for a in ("x1", "y1", "x2", "y2")],
            "cursor": fig.locator("line.vx-cursor").get_attribute("x1")}


@pytest.mark.parametrize("lang", LANGS)
def test_scrubbing_moves_q_the_arrows_and_the_numbers(browser, lang):
    html = stored(lang)
    data = explorer_data(html)
    with explorer_page(browser, [html], lang=lang, viewport=DESKTOP) as page:
        fig = page.locator('figure.vae-explorer[data-kind="path"]')
        slider = fig.get_by_label("passo" if lang == "pt" else "step", exact=True)
        before, numbers = drawn(fig), readout(fig)
        slider.focus()
        page.keyboard.press("ArrowRight")
        after = drawn(fig)
        assert all(after[k] != before[k] for k in before) and readout(fig)["kl"] != numbers["kl"]
        page.keyboard.press("End")
        assert readout(fig)["step"] == "60"
        for row in data["checks"]:  # the numbers shown are the package's, formatted like Python's
            slider.evaluate("(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }", row["step"])
            shown = readout(fig)
            assert shown["step"] == str(row["step"])
            for name in ("elbo", "kl", "sum", "log_px"):
                assert shown[name] == format_number(row[name], 4, lang), (row["step"], name)
            sep = "; " if lang == "pt" else ", "
            assert shown["mean"] == "(" + sep.join(format_number(v, 4, lang) for v in row["mean"]) + ")"
        # play runs the path forward from the start, and pauses
        slider.evaluate("(el) => { el.value = '0'; el.dispatchEvent(new Event('input')); }")
        play = fig.locator("button.vx-play")
        play.click()
        page.wait_for_timeout(700)
        play.click()
        assert int(readout(fig)["step"]) > 0
        assert page.errors == []


def test_ellipses_are_the_covariances(browser, chapter):
    """The vector ellipses have the widths the covariances give (posterior at 1σ and 2σ; q at 2σ)."""
    posterior, path, _ = chapter
    html = stored("en")
    data = explorer_data(html)
    with explorer_page(browser, [html], lang="en", viewport=DESKTOP) as page:
        fig = page.locator('figure.vae-explorer[data-kind="path"]')
        boxes = fig.locator("path.vx-post-ellipse").evaluate_all("els => els.map(e => { const b = e.getBBox(); return [b.width, b.height]; })")
        q_box = fig.locator("path.vx-q-ellipse").evaluate("e => { const b = e.getBBox(); return [b.width, b.height]; }")
        plot_side = fig.locator("svg.vx-path-plane clipPath rect").get_attribute("width")
    per_unit = float(plot_side) / (data["lim"][1] - data["lim"][0])
    sd = posterior.covariance_matrix.diagonal().sqrt().numpy()
    for k, box in zip((1, 2), boxes):
        np.testing.assert_allclose(box, 2 * k * sd * per_unit, rtol=2e-3)
    np.testing.assert_allclose(q_box, 4 * path.std[0].numpy() * per_unit, rtol=2e-3)


@pytest.mark.parametrize("lang, theme", [("pt", "light"), ("pt", "dark"), ("en", "light"), ("en", "dark")])
def test_phone_width_language_and_accessibility(browser, axe_source, lang, theme):
    with explorer_page(browser, [stored(lang)], lang=lang, theme=theme, viewport=PHONE) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        fig = page.locator('figure.vae-explorer[data-kind="path"]')
        text = fig.inner_text()
        if lang == "pt":
            assert "reproduzir" in text and "desvios de q" in text
            assert "," in readout(fig)["log_px"]
        else:
            assert "play" in text
        label = fig.locator("svg.vx-path-plane").get_attribute("aria-label")
        assert label.startswith("Passo 0" if lang == "pt" else "Step 0")
        page.add_script_tag(content=axe_source)
        assert page.evaluate(JS_AXE, None) == []
        assert page.errors == []
