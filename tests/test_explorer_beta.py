"""The β explorer (issue 15, explorer kind "beta") of chapter latent-geometry.

Python: the payload builder (vae_support.widgets.beta_states) against closed forms
(torch.distributions' KL) and vae_support.train.evaluate, and the notebook's stored numbers against
a fresh evaluation of the chapter's retrained β = 1 model. Browser: the stored explorer of both
languages moves with the keyboard and shows the package's numbers, formatted as Python formats
them; phone width, axe (light and dark), labels in the page's language.
"""
from __future__ import annotations


import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from _latent_chapter import LANGS, chapter_model, digits_test_split, payload, stored_explorers
from conftest import JS_AXE
from explorer_harness import DESKTOP, PHONE, explorer_page
from vae_support.exercises import format_number
from vae_support.explorers import MAX_PAYLOAD_BYTES, beta_explorer
from vae_support.models import VAE
from vae_support.train import evaluate
from vae_support.widgets import beta_states


@pytest.fixture(scope="module")
def small_models():
    out = {}
    for beta in (4.0, 1.0):  # any order: the states come sorted by beta
        torch.manual_seed(int(beta))
        out[beta] = VAE(z_dim=2, hidden=(16,))
    return out


@pytest.fixture(scope="module")
def split():
    test = digits_test_split()
    return test.x[:60], test.y[:60]


# ------------------------------------------------------------------------------------- Python
def test_states_match_closed_forms_and_evaluate(small_models, split):
    x, y = split
    states = beta_states(small_models, x, y, k=5, seed=3)
    assert [s.beta for s in states] == [1.0, 4.0]
    for s in states:
        model = small_models[s.beta]
        with torch.no_grad():
            q = model.encode(x)
            prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
            closed = kl_divergence(Independent(Normal(q.mean, q.stddev), 1), prior).mean()
        assert s.rate == pytest.approx(float(closed), rel=1e-5)
        torch.manual_seed(3)
        ev = evaluate(model, x, k=5)
        assert s.distortion == pytest.approx(-ev.reconstruction, rel=1e-9)
        assert s.elbo == pytest.approx(-(s.rate + s.distortion), rel=1e-6)
        np.testing.assert_allclose(s.means, q.mean.numpy(), rtol=1e-6)
        assert s.labels.tolist() == y.tolist()


def test_states_are_reproducible_and_leave_the_random_stream_alone(small_models, split):
    x, y = split
    torch.manual_seed(11)
    before = torch.random.get_rng_state()
    a = beta_states(small_models, x, y, k=3, seed=0)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = beta_states(small_models, x, y, k=3, seed=0)
    assert [s.distortion for s in a] == [s.distortion for s in b]
    assert [s.distortion for s in a] != [s.distortion for s in beta_states(small_models, x, y, k=3, seed=1)]


def test_payload_and_live_twin(small_models, split):
    x, y = split
    ex = beta_explorer(small_models, x, y, k=3, lang="pt")
    data = ex.data
    states = beta_states(small_models, x, y, k=3, seed=0)
    assert data["betas"] == [1.0, 4.0]
    for i, s in enumerate(states):
        check = data["checks"][i]
        for name in ("rate", "distortion", "elbo"):
            assert check[name] == pytest.approx(getattr(s, name), rel=1e-6)
            assert data[name][i] == check[name]
        np.testing.assert_allclose(data["means"][i], s.means, atol=0.005 + 1e-9)
    assert data["labels"] == y.tolist() and ex.payload_bytes < MAX_PAYLOAD_BYTES
    pytest.importorskip("ipywidgets")
    box = ex.widget()
    assert f"R = {states[0].rate:.4g}" in box.children[1].value
    box.children[0].value = 1
    assert f"D = {states[1].distortion:.4g}" in box.children[1].value and "taxa" in box.children[1].value


def test_bad_input_is_refused(small_models, split):
    x, y = split
    with pytest.raises(ValueError, match="models"):
        beta_states({}, x, y)
    with pytest.raises(ValueError, match="labels"):
        beta_explorer(small_models, x, None)
    with pytest.raises(ValueError, match="2-D"):
        beta_states({1.0: VAE(z_dim=3, hidden=(8,))}, x, y)


@pytest.mark.parametrize("lang", LANGS)
def test_stored_numbers_equal_a_fresh_evaluation(lang):
    """The notebook's stored β = 1 entry is the package's evaluation of the chapter's β = 1 model."""
    (fragment,) = stored_explorers(lang, "beta")
    data = payload(fragment)
    assert data["betas"] == [1.0, 2.0, 4.0]
    test = digits_test_split()
    (fresh,) = beta_states({1.0: chapter_model(1.0)}, test.x, test.y, k=10, seed=0)
    check = data["checks"][0]
    for name in ("rate", "distortion", "elbo"):
        assert check[name] == pytest.approx(getattr(fresh, name), rel=2e-4)
        assert format_number(check[name], 4, lang) == format_number(getattr(fresh, name), 4, lang)
    np.testing.assert_allclose(data["means"][0], fresh.means, atol=0.005 + 2e-3)
    for c in data["checks"]:
        assert c["elbo"] == pytest.approx(-(c["rate"] + c["distortion"]), rel=1e-6)
    size = len(fragment.encode("utf-8"))
    print(f"beta explorer ({lang}): stored fragment {size} bytes")
    assert size <= MAX_PAYLOAD_BYTES + 2_000


# ------------------------------------------------------------------------------------ browser
JS_STATE = """(fig) => ({
  index: fig.getAttribute('data-index'),
  cx: fig.querySelector('.vx-beta-current').getAttribute('cx'),
  level: fig.querySelector('.vx-beta-level').getAttribute('d'),
  dot: fig.querySelector('.vx-beta-latent circle').getAttribute('cx') + ',' + fig.querySelector('.vx-beta-latent circle').getAttribute('cy'),
  read: Object.fromEntries(Array.from(fig.querySelectorAll('dd[data-name]')).map(d => [d.dataset.name, d.textContent])),
  output: fig.querySelector('output').textContent,
  label: fig.querySelector('.vx-beta-rd').getAttribute('aria-label'),
})"""


@pytest.mark.parametrize("lang", LANGS)
def test_slider_moves_the_point_and_shows_the_packages_numbers(browser, lang):
    (fragment,) = stored_explorers(lang, "beta")
    data = payload(fragment)
    with explorer_page(browser, [fragment], lang=lang, viewport=DESKTOP) as page:
        fig = page.locator("figure.vae-explorer").element_handle()
        slider = page.locator("input[type=range]")
        slider.focus()
        seen = []
        for check in data["checks"]:
            state = page.evaluate(JS_STATE, fig)
            assert state["index"] == str(check["index"])
            assert state["read"] == {"beta": format_number(check["beta"], 4, lang),
                                     "rate": format_number(check["rate"], 4, lang) + " nats",
                                     "distortion": format_number(check["distortion"], 4, lang) + " nats",
                                     "elbo": format_number(check["elbo"], 4, lang) + " nats"}
            assert state["output"] == "β = " + format_number(check["beta"], 4, lang)
            assert format_number(check["rate"], 4, lang) in state["label"]
            seen.append((state["cx"], state["level"], state["dot"]))
            page.keyboard.press("ArrowRight")
        assert len(set(s[0] for s in seen)) == len(seen)  # the highlighted point moves
        assert len(set(s[1] for s in seen)) == len(seen)  # and its level line
        assert len(set(s[2] for s in seen)) == len(seen)  # and the scatter
        page.keyboard.press("Home")
        assert page.evaluate(JS_STATE, fig)["index"] == "0"
        assert page.errors == []


@pytest.mark.parametrize("lang", LANGS)
def test_phone_width_language_and_accessibility(browser, axe_source, lang):
    (fragment,) = stored_explorers(lang, "beta")
    for theme in ("light", "dark"):
        with explorer_page(browser, [fragment], lang=lang, theme=theme, viewport=PHONE) as page:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            text = page.locator("figure.vae-explorer").inner_text()
            if lang == "pt":
                assert "distorção D" in text and "taxa R" in text and "nats" in text
                assert "," in page.locator("dd[data-name=rate]").inner_text()
                assert "distortion" not in text
            else:
                assert "distortion D" in text and "rate R" in text and "distorção" not in text
                assert "." in page.locator("dd[data-name=rate]").inner_text()
            page.add_script_tag(content=axe_source)
            assert page.evaluate(JS_AXE, None) == []
            assert page.errors == []
