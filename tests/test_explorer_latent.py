"""The latent walker (issue 15, explorer kind "latent") of chapter latent-geometry.

Python: the payload builder against vae_support.widgets.decode_latent, and the notebook's stored
payload against a fresh decoding by the chapter's retrained model. Browser (Debian's Chromium,
offline): the stored explorer of both languages moves with the keyboard, the sliders and the
mouse; at grid points it draws the package's decodings; phone width, axe (light and dark), labels
in the page's language.
"""
from __future__ import annotations


import numpy as np
import pytest
import torch

from _latent_chapter import LANGS, chapter_model, digits_test_split, payload, stored_explorers
from conftest import JS_AXE
from explorer_harness import DESKTOP, PHONE, explorer_page
from vae_support.exercises import format_number
from vae_support.explorers import MAX_PAYLOAD_BYTES, latent_explorer
from vae_support.explorers.latent import DIGIT_COLORS, encode_pixels, latent_grid
from vae_support.models import VAE
from vae_support.plot._style import BACKGROUNDS, contrast_ratio
from vae_support.widgets import decode_latent


def _decode_hex(text: str) -> np.ndarray:
    return np.array([int(text[2 * p:2 * p + 2], 16) for p in range(len(text) // 2)]) * 0.1


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return VAE(z_dim=2, hidden=(16,))


# ------------------------------------------------------------------------------------- Python
def test_payload_holds_the_decodings_of_the_grid(small_model):
    means = torch.tensor([[0.5, -1.0], [2.0, 2.5]])
    ex = latent_explorer(small_model, means, torch.tensor([3, 7]), extent=3.0, n=5, lang="en", checks=((0, 0), (4, 1)))
    data = ex.data
    assert data["side"] == [-3.0, -1.5, 0.0, 1.5, 3.0] and data["n"] == 5 and data["shape"] == [8, 8]
    for i, z2 in enumerate(data["side"]):
        for j, z1 in enumerate(data["side"]):
            fresh = decode_latent(small_model, torch.tensor([[z1, z2]]))[0].numpy().ravel()
            np.testing.assert_allclose(_decode_hex(data["images"][i * 5 + j]), fresh, atol=0.05 + 1e-9)
    fresh = decode_latent(small_model, torch.tensor([[-1.5, 3.0]]))[0].numpy().ravel()  # row 4 (z2), column 1 (z1)
    assert data["checks"][1]["z"] == [-1.5, 3.0]
    np.testing.assert_allclose(data["checks"][1]["image"], fresh, rtol=1e-4, atol=1e-6)
    assert data["means"] == [[0.5, -1.0], [2.0, 2.5]] and data["labels"] == [3, 7]
    assert ex.kind == "latent" and "plano" not in ex.title and ex.payload_bytes < MAX_PAYLOAD_BYTES


def test_grid_rows_are_z2_and_columns_z1(small_model):
    side, images = latent_grid(small_model, extent=2.0, n=3)
    np.testing.assert_allclose(side, [-2.0, 0.0, 2.0])
    np.testing.assert_allclose(images[0, 2], decode_latent(small_model, torch.tensor([[2.0, -2.0]]))[0].numpy(), rtol=1e-6)
    assert encode_pixels(np.array([[0.0, 16.0], [0.04, 0.05]])) == "00a00000"  # tenths, half to even: 0.05 -> 0


def test_bad_input_is_refused(small_model):
    with pytest.raises(ValueError, match="means, labels"):
        latent_explorer(small_model, torch.zeros(3, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="labels"):
        latent_explorer(small_model, torch.zeros(2, 2), torch.tensor([0, 10]))
    with pytest.raises(ValueError, match="n"):
        latent_grid(small_model, n=1)
    with pytest.raises(ValueError, match="lang"):
        latent_explorer(small_model, torch.zeros(2, 2), torch.tensor([0, 1]), lang="fr")


def test_digit_palette_has_3_to_1_contrast_on_both_pages():
    assert len(set(DIGIT_COLORS)) == 10
    for color in DIGIT_COLORS:
        for background in BACKGROUNDS.values():
            assert contrast_ratio(color, background) >= 3.0, (color, background)


def test_live_twin_is_the_latent_walker(small_model):
    pytest.importorskip("ipywidgets")
    ex = latent_explorer(small_model, torch.zeros(2, 2), torch.tensor([0, 1]), lang="pt")
    box = ex.widget()
    z1, z2 = box.children[0].children
    z1.value, z2.value = -1.5, 3.0  # a grid point: the live decoding is the stored one
    shown = box.figure.axes[1].get_images()[0].get_array()
    np.testing.assert_allclose(_decode_hex(ex.data["images"][20 * 21 + 5]), np.asarray(shown).ravel(), atol=0.05 + 1e-9)
    assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()


@pytest.mark.parametrize("lang", LANGS)
def test_stored_payload_equals_a_fresh_decoding(lang):
    """The notebook's stored grid and checks are the decodings of the chapter's β = 1 model."""
    (fragment,) = stored_explorers(lang, "latent")
    data = payload(fragment)
    model = chapter_model(1.0)
    n = data["n"]
    for check in data["checks"]:
        fresh = decode_latent(model, torch.tensor([check["z"]]))[0].numpy().ravel()
        np.testing.assert_allclose(check["image"], fresh, rtol=2e-3, atol=2e-3)
        j, i = (round((v + data["extent"]) / (data["side"][1] - data["side"][0])) for v in check["z"])
        np.testing.assert_allclose(_decode_hex(data["images"][i * n + j]), fresh, atol=0.05 + 2e-3)
    with torch.no_grad():
        means = model.encode(digits_test_split().x).mean.numpy()
    np.testing.assert_allclose(np.array(data["means"]), means, atol=0.005 + 2e-3)
    size = len(fragment.encode("utf-8"))
    print(f"latent explorer ({lang}): stored fragment {size} bytes")
    assert size <= MAX_PAYLOAD_BYTES + 2_000


# ------------------------------------------------------------------------------------ browser
JS_STATE = """(fig) => ({
  z: fig.getAttribute('data-z'),
  marker: fig.querySelector('.vx-latent-marker').getAttribute('transform'),
  pixels: Array.from(fig.querySelectorAll('.vx-latent-digit rect[data-value]')).map(r => Number(r.getAttribute('data-value'))),
  opacity: fig.querySelector('.vx-latent-digit rect[data-value]').getAttribute('fill-opacity'),
  outputs: Array.from(fig.querySelectorAll('output')).map(o => o.textContent),
  near: fig.querySelector('dd[data-name=near]').textContent,
  label: fig.querySelector('.vx-latent-digit').getAttribute('aria-label'),
})"""

JS_SET_SLIDERS = """([fig, z1, z2]) => {
  const inputs = fig.querySelectorAll('input[type=range]');
  [z1, z2].forEach((v, k) => { inputs[k].value = v; inputs[k].dispatchEvent(new Event('input')); });
}"""


def _nearest(data, z):
    means = np.array(data["means"])
    return int(np.array(data["labels"])[np.argmin(((means - np.array(z)) ** 2).sum(1))])


@pytest.mark.parametrize("lang", LANGS)
def test_controls_move_the_point_and_the_digit(browser, lang):
    (fragment,) = stored_explorers(lang, "latent")
    with explorer_page(browser, [fragment], lang=lang, viewport=DESKTOP) as page:
        fig = page.locator("figure.vae-explorer").element_handle()
        state = lambda: page.evaluate(JS_STATE, fig)
        start = state()
        assert start["z"] == "0,0" and len(start["pixels"]) == 64
        # keyboard on the focused plane: one step right, a large step up
        page.locator("svg.vx-latent-plane").focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Shift+ArrowUp")
        moved = state()
        assert moved["z"] == "0.1,0.5"
        assert moved["marker"] != start["marker"] and moved["pixels"] != start["pixels"]
        assert moved["outputs"] == [format_number(0.1, 3, lang), format_number(0.5, 3, lang)]
        # keyboard on a slider
        page.locator("input[type=range]").nth(1).focus()
        page.keyboard.press("ArrowLeft")
        assert state()["z"] == "0.1,0.45"
        # mouse: drag the point to the upper-left quarter of the plane
        box = page.locator("svg.vx-latent-plane").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.25, steps=4)
        page.mouse.up()
        dragged = state()
        z1, z2 = map(float, dragged["z"].split(","))
        assert z1 < -0.5 and z2 > 0.5 and dragged["pixels"] != moved["pixels"]
        assert page.errors == []


@pytest.mark.parametrize("lang", LANGS)
def test_grid_points_show_the_packages_decodings(browser, lang):
    (fragment,) = stored_explorers(lang, "latent")
    data = payload(fragment)
    with explorer_page(browser, [fragment], lang=lang) as page:
        fig = page.locator("figure.vae-explorer").element_handle()
        for check in data["checks"]:
            page.evaluate(JS_SET_SLIDERS, [fig, check["z"][0], check["z"][1]])
            shown = page.evaluate(JS_STATE, fig)
            np.testing.assert_allclose(shown["pixels"], check["image"], atol=0.05 + 0.006)  # stored tenths, printed 2 decimals
            assert shown["outputs"] == [format_number(v, 3, lang) for v in check["z"]]
            assert shown["near"] == str(_nearest(data, check["z"]))
            assert format_number(check["z"][0], 3, lang) in shown["label"]
        # halfway between two grid points: the bilinear mean of the two decodings
        side, n = data["side"], data["n"]
        z1 = (side[10] + side[11]) / 2
        page.evaluate(JS_SET_SLIDERS, [fig, z1, side[10]])
        halfway = (_decode_hex(data["images"][10 * n + 10]) + _decode_hex(data["images"][10 * n + 11])) / 2
        np.testing.assert_allclose(page.evaluate(JS_STATE, fig)["pixels"], halfway, atol=0.006)
        assert page.errors == []


@pytest.mark.parametrize("lang", LANGS)
def test_phone_width_language_and_accessibility(browser, axe_source, lang):
    (fragment,) = stored_explorers(lang, "latent")
    for theme in ("light", "dark"):
        with explorer_page(browser, [fragment], lang=lang, theme=theme, viewport=PHONE) as page:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            text = page.locator("figure.vae-explorer").inner_text()
            if lang == "pt":
                assert "dígito de teste codificado mais próximo" in text and "Arraste o ponto" in text
                assert "-3" in text and "nearest" not in text
            else:
                assert "nearest encoded test digit" in text and "dígito" not in text
            page.locator("svg.vx-latent-plane").focus()
            page.keyboard.press("ArrowRight")
            assert page.locator("output").first.inner_text() == format_number(0.1, 3, lang)
            page.add_script_tag(content=axe_source)
            assert page.evaluate(JS_AXE, None) == []
            assert page.errors == []
