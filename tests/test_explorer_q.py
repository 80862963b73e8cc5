"""The q explorer (issue 15, kind "q", chapter kl-geometry): the payload against the package and
closed forms, and the stored explorer of both languages in a real browser (controls, numbers,
phone width, accessibility)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from conftest import BOOK_DIR, JS_AXE
from explorer_harness import DESKTOP, PHONE, explorer_data, explorer_page, notebook_explorers
from vae_support.exercises import format_number
from vae_support.explorers import MAX_PAYLOAD_BYTES, q_explorer
from vae_support.explorers.q import CHECK_POINTS, MEAN_RANGE, STD_RANGE, q_payload
from vae_support.toy import Grid1D
from vae_support.widgets import q_explorer_state

F64 = torch.float64
LANGS = ("pt", "en")
NAMES = ("kl", "elbo", "log_px", "gap", "forward_kl")


def stored(lang: str) -> str:
    """The q explorer's stored HTML in the chapter (what the site shows)."""
    found = notebook_explorers(BOOK_DIR / lang / "kl-geometry.ipynb", "q")
    assert len(found) == 1, f"kl-geometry ({lang}): expected one q explorer, found {len(found)}"
    return found[0]



def js_rule(data: dict, mean: float, std: float) -> dict:
    """The browser's computation written again in numpy, from the payload alone."""
    z = torch.linspace(data["z_min"], data["z_max"], data["n"], dtype=F64).numpy()
    dz = z[1] - z[0]
    lj = np.asarray(data["log_joint"])
    lp = lj - data["log_px"]
    logq = -((z - mean) ** 2) / (2 * std * std) - math.log(std) - math.log(math.sqrt(2 * math.pi))
    q, p = np.exp(logq), np.exp(lp)
    with np.errstate(invalid="ignore"):
        kl = np.where(q > 0, q * (logq - lp), 0.0).sum() * dz
        elbo = np.where(q > 0, q * (lj - logq), 0.0).sum() * dz
        fkl = np.where(p > 0, p * (lp - logq), 0.0).sum() * dz
    return {"kl": kl, "elbo": elbo, "forward_kl": fkl, "log_px": data["log_px"], "gap": data["log_px"] - elbo}


@pytest.fixture(scope="module")
def skewed():
    return Grid1D.skewed()


@pytest.fixture(scope="module")
def chapter_data(skewed):
    return q_payload(skewed, -4.0, 0.87)


# ----------------------------------------------------------------------------------------- python
def test_payload_carries_the_grid_and_the_package_values(skewed, chapter_data):
    data = chapter_data
    assert (data["z_min"], data["z_max"], data["n"]) == (float(skewed.z[0]), float(skewed.z[-1]), skewed.z.numel())
    np.testing.assert_allclose(data["log_joint"], skewed.log_joint(skewed.z).numpy(), rtol=1e-12)
    assert data["log_px"] == float(skewed.log_marginal())
    assert (data["mean"], data["std"]) == (-4.0, 0.87)
    assert data["mean_range"] == list(MEAN_RANGE) and data["std_range"] == list(STD_RANGE)
    for row, (m, s) in zip(data["checks"], CHECK_POINTS):
        fresh = q_explorer_state(skewed, m, s)  # the checks are what the package computes now
        q = Normal(torch.tensor(m, dtype=F64), torch.tensor(s, dtype=F64))
        assert (row["mean"], row["std"]) == (m, s)
        assert row["kl"] == pytest.approx(fresh.kl, rel=1e-12) and row["elbo"] == pytest.approx(fresh.elbo, rel=1e-12)
        assert row["gap"] == pytest.approx(fresh.gap, rel=1e-12) and row["log_px"] == fresh.log_px
        assert row["forward_kl"] == pytest.approx(float(skewed.forward_kl(q)), rel=1e-12)


@pytest.mark.parametrize("lang", LANGS)
def test_stored_payload_is_the_package_payload_and_small(lang, skewed):
    html = stored(lang)
    data = explorer_data(html)
    fresh = q_explorer(skewed, mean=-4.0, std=math.sqrt(0.75), lang=lang)
    assert data == fresh.data  # the notebook's output is reproducible from the package
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode())
    assert size <= MAX_PAYLOAD_BYTES and size == fresh.payload_bytes
    assert f'lang="{lang}"' in html


@pytest.mark.parametrize("mean, std", [(-4.0, 0.87), (2.0, 1.41), (1.97, 0.87), (-5.0, 3.0), (8.0, 0.1), (0.35, 0.23)])
def test_the_browser_rule_is_the_package_rule(chapter_data, skewed, mean, std):
    """From the rounded payload alone, the browser's integrals give the package's numbers (to ~1e-9)."""
    got = js_rule(chapter_data, mean, std)
    state = q_explorer_state(skewed, mean, std)
    q = Normal(torch.tensor(mean, dtype=F64), torch.tensor(std, dtype=F64))
    for name, want in (("kl", state.kl), ("elbo", state.elbo), ("gap", state.gap),
                       ("forward_kl", float(skewed.forward_kl(q)))):
        assert got[name] == pytest.approx(want, rel=1e-9, abs=1e-9), name
        assert format_number(got[name], 4, "en") == format_number(want, 4, "en"), name


def test_the_rule_matches_closed_forms_on_a_conjugate_model(conjugate):
    grid, post = conjugate
    data = q_payload(grid, 0.0, 1.0, checks=(), mean_range=(-3.0, 3.0, 0.05), std_range=(0.2, 1.5, 0.01))
    for m, s in [(0.5, math.sqrt(0.5)), (-1.0, 0.4), (2.0, 1.2)]:
        q = Normal(torch.tensor(m, dtype=F64), torch.tensor(s, dtype=F64))
        got = js_rule(data, m, s)
        # the grid's own error (spacing 0.02) is ~1e-5 relative: the rule, not the payload, sets it
        assert got["kl"] == pytest.approx(float(kl_divergence(q, post)), rel=1e-4, abs=1e-6)
        assert got["forward_kl"] == pytest.approx(float(kl_divergence(post, q)), rel=1e-4, abs=1e-6)
        log_px = float(Normal(torch.tensor(0.0, dtype=F64), torch.tensor(math.sqrt(2.0), dtype=F64)).log_prob(torch.tensor(1.0, dtype=F64)))
        assert got["elbo"] + got["kl"] == pytest.approx(log_px, abs=1e-6)


def test_every_slider_position_is_resolved_by_the_grid(skewed):
    for m in (MEAN_RANGE[0], MEAN_RANGE[1]):
        for s in (STD_RANGE[0], STD_RANGE[1]):
            q_explorer_state(skewed, m, s)  # raises if the grid cannot resolve q
    with pytest.raises(ValueError, match="mean_range, std_range"):
        q_payload(skewed, 0.0, 1.0, mean_range=(-12.0, 8.0, 0.05))
    with pytest.raises(ValueError, match="std_range"):
        q_payload(skewed, 0.0, 1.0, std_range=(1.0, 0.5, 0.01))
    with pytest.raises(TypeError, match="grid"):
        q_payload("grid", 0.0, 1.0)


def test_the_live_twin_shows_the_same_numbers(skewed):
    pytest.importorskip("ipywidgets")
    explorer = q_explorer(skewed, mean=2.0, std=1.41, lang="en")
    box = explorer.widget()
    mean_slider, std_slider, forward = box.children[0].children
    assert (mean_slider.min, mean_slider.max, mean_slider.step) == MEAN_RANGE
    assert (std_slider.min, std_slider.max, std_slider.step) == STD_RANGE
    row = [r for r in explorer.data["checks"] if (r["mean"], r["std"]) == (2.0, 1.41)][0]
    text = box.children[1].value
    for name in ("kl", "elbo", "log_px", "gap"):
        assert f"{row[name]:.4g}" in text, name
    assert "KL(p(z|x)‖q)" not in text  # the forward KL only with the switch on, as in the static explorer
    forward.value = True
    assert f"KL(p(z|x)‖q) = {row['forward_kl']:.4g}" in box.children[1].value
    forward.value = False
    assert "KL(p(z|x)‖q)" not in box.children[1].value
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


# ----------------------------------------------------------------------------------------- browser
def readout(fig) -> dict:
    return {name: fig.locator(f'dd[data-name="{name}"]').inner_text() for name in NAMES}


def set_slider(fig, index: int, value: float) -> None:
    fig.locator('input[type="range"]').nth(index).evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }", value)


@pytest.mark.parametrize("lang", LANGS)
def test_controls_move_the_figure_and_the_numbers(browser, lang):
    with explorer_page(browser, [stored(lang)], lang=lang, viewport=DESKTOP) as page:
        fig = page.locator('figure.vae-explorer[data-kind="q"]')
        curve = fig.locator("path.vx-q-curve")
        before, numbers = curve.get_attribute("d"), readout(fig)
        elbo_bar = fig.locator("rect.vx-bar-elbo").get_attribute("width")
        mean = fig.get_by_label("média μ de q" if lang == "pt" else "mean μ of q")
        mean.focus()
        page.keyboard.press("ArrowRight")
        assert mean.input_value() == "-3.95"
        assert curve.get_attribute("d") != before and readout(fig)["kl"] != numbers["kl"]
        assert fig.locator("rect.vx-bar-elbo").get_attribute("width") != elbo_bar
        std = fig.get_by_label("desvio padrão σ de q" if lang == "pt" else "standard deviation σ of q")
        before, numbers = curve.get_attribute("d"), readout(fig)
        std.focus()
        page.keyboard.press("ArrowLeft")
        assert std.input_value() == "0.86"
        assert curve.get_attribute("d") != before and readout(fig)["elbo"] != numbers["elbo"]
        # log p(x) never moves: the dashed line of the bars stays where it was
        line = fig.locator("line.vx-bar-logpx")
        assert line.count() == 1
        assert page.errors == []


@pytest.mark.parametrize("lang", LANGS)
def test_displayed_numbers_are_the_package_numbers(browser, lang):
    html = stored(lang)
    data = explorer_data(html)
    with explorer_page(browser, [html], lang=lang, viewport=DESKTOP) as page:
        fig = page.locator('figure.vae-explorer[data-kind="q"]')
        forward = fig.locator('dd[data-name="forward_kl"]')
        assert forward.is_hidden()
        fig.locator('input[type="checkbox"]').check()  # the switch shows the forward KL
        assert forward.is_visible()
        for row in data["checks"]:
            set_slider(fig, 0, row["mean"])
            set_slider(fig, 1, row["std"])
            shown = readout(fig)
            for name in NAMES:
                assert shown[name] == format_number(row[name], 4, lang), (row, name)
        # and anywhere on the sliders, the browser's numbers are the package's to ~1e-9
        grid = Grid1D.skewed()
        for m, s in [(1.95, 0.86), (-2.5, 2.2), (6.0, 0.35)]:
            got = fig.evaluate("(el, ms) => { const r = el._vxCompute(ms[0], ms[1]); return [r.kl, r.elbo, r.fkl]; }", [m, s])
            state = q_explorer_state(grid, m, s)
            fkl = float(grid.forward_kl(Normal(torch.tensor(m, dtype=F64), torch.tensor(s, dtype=F64))))
            np.testing.assert_allclose(got, [state.kl, state.elbo, fkl], rtol=1e-9)
        assert page.errors == []


@pytest.mark.parametrize("lang, theme", [("pt", "light"), ("pt", "dark"), ("en", "light"), ("en", "dark")])
def test_phone_width_language_and_accessibility(browser, axe_source, lang, theme):
    with explorer_page(browser, [stored(lang)], lang=lang, theme=theme, viewport=PHONE) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        fig = page.locator('figure.vae-explorer[data-kind="q"]')
        text = fig.inner_text()
        if lang == "pt":
            assert "média μ de q" in text and "lacuna" in text and "mostrar a KL direta" in text
            assert "," in readout(fig)["log_px"] and "." not in readout(fig)["log_px"]
        else:
            assert "mean μ of q" in text and "gap" in text and "show the forward KL" in text
        assert fig.locator("svg.vx-q-main").get_attribute("aria-label").startswith("Posterior p(z|x)")
        page.add_script_tag(content=axe_source)
        assert page.evaluate(JS_AXE, None) == []
        assert page.errors == []
