"""The explorers' shared parts (issue 15): the Python display object and the browser core.

Each explorer kind has its own tests (tests/test_explorer_<kind>.py).
"""
from __future__ import annotations

import random

import pytest

from conftest import JS_AXE
from explorer_harness import PHONE, explorer_data, explorer_page
from vae_support.explorers import MAX_PAYLOAD_BYTES, STATIC_DIR, Explorer, round_floats, static_files



def test_html_carries_the_data_as_json_and_a_fallback_in_the_language():
    ex = Explorer("q", {"z": [0.1234567891, 2.0], "label": "a</script>b"}, lang="pt", title="Explorador de q")
    html = ex.html()
    assert html.startswith('<figure class="vae-explorer" data-kind="q" lang="pt" aria-label="Explorador de q">')
    assert explorer_data(html) == {"z": [0.123457, 2.0], "label": "a</script>b"}
    assert html.count("</script>") == 1  # the data cannot close its script element
    assert "abra esta página no site do curso" in html
    assert "open this page on the course site" in Explorer("q", {}, lang="en", title="q").html()


def test_bundle_has_the_static_face_and_the_widget_view_when_live():
    class FakeWidget:
        def _repr_mimebundle_(self, **kwargs):
            return {"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
                    "text/plain": "VBox()"}

    ex = Explorer("q", {"a": 1}, lang="en", title="q explorer", live=FakeWidget)
    bundle = ex._repr_mimebundle_()
    assert bundle["text/html"] == ex.html()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == "abc"
    assert bundle["text/plain"] == "<q explorer: q explorer>"
    assert "application/vnd.jupyter.widget-view+json" not in Explorer("q", {}, lang="en", title="t")._repr_mimebundle_()


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Explorer("nope", {}, lang="en", title="t")
    with pytest.raises(ValueError, match="lang"):
        Explorer("q", {}, lang="fr", title="t")
    with pytest.raises(ValueError, match="title"):
        Explorer("q", {}, lang="en", title=" ")
    with pytest.raises(ValueError, match="finite"):
        Explorer("q", {"x": float("nan")}, lang="en", title="t")
    with pytest.raises(ValueError, match="exceeds"):
        Explorer("q", {"x": list(range(40_000))}, lang="en", title="t")
    with pytest.raises(TypeError):
        round_floats({"x": object()})


def test_round_floats_keeps_structure_and_significant_digits():
    import numpy as np
    import torch

    out = round_floats({"a": (1.23456789, 2), "t": torch.tensor([0.000123456789]), "n": np.array([[1e-9]])}, 3)
    assert out == {"a": [1.23, 2], "t": [0.000123], "n": [[1e-9]]}
    assert MAX_PAYLOAD_BYTES == 150_000


def test_static_files_exist_and_start_with_the_core():
    files = static_files()
    assert files[:2] == ["explorers.css", "explorers.js"]
    assert all((STATIC_DIR / name).is_file() for name in files)


@pytest.mark.parametrize("digits", [1, 3, 4, 6])
def test_browser_formats_numbers_like_python(browser, digits):
    values = [0.0, -0.0, 1.0, -93.456789, 0.000123456, 0.0000123456, 12345.678, 1234567.0, 9.9996, 0.99996,
              -0.0329876, 1e-300, 5e20, 2.5, 0.125, 1 / 3, -2 / 3, 100.0, 99999.5, 0.5, 1.5, 0.045, 9.5]
    rng = random.Random(digits)  # and 300 values of every magnitude, ties included by rounding
    values += [round(rng.uniform(-1, 1) * 10 ** rng.randint(-7, 7), rng.randint(0, 6)) for _ in range(300)]
    with explorer_page(browser, []) as page:
        got = page.evaluate("([vs, d]) => vs.map(v => VaeExplorers.formatG(v, d))", [values, digits])
        assert page.errors == []
    expected = [f"{v:.{digits}g}" for v in values]
    assert got == expected


KIND_FOR_TEST = """<script>
window.__drawn = [];
</script>"""

REGISTER = """
VaeExplorers.register("q", function (figure, data, ctx) {
  window.__drawn.push([data.n, ctx.lang, ctx.fmt(data.x, 4)]);
  var controls = ctx.el("div", {"class": "vx-controls"}, figure);
  var out = ctx.readout(figure, [["v", ctx.t("valor", "value")]]);
  ctx.slider(controls, {label: ctx.t("média", "mean"), min: -2, max: 2, step: 0.5, value: 0,
                        onInput: function (v) { out.set("v", ctx.fmt(v * data.x, 4)); }});
  if (data.fail) { throw new Error("planted"); }
});
"""


def test_core_draws_each_figure_in_its_language_and_reports_errors(browser):
    fragments = [Explorer("q", {"n": 1, "x": 0.123456}, lang="pt", title="um").html(),
                 Explorer("q", {"n": 2, "x": 0.5}, lang="en", title="two").html(),
                 Explorer("q", {"n": 3, "x": 1.0, "fail": True}, lang="en", title="three").html()]
    with explorer_page(browser, fragments, viewport=PHONE, extra_script=KIND_FOR_TEST, core_only=True) as page:
        page.add_script_tag(content=REGISTER)
        assert page.evaluate("window.__drawn") == [[1, "pt", "0,1235"], [2, "en", "0.5"], [3, "en", "1"]]
        first = page.locator("figure.vae-explorer").first
        assert first.locator(".vae-explorer-fallback").count() == 0
        slider = first.get_by_label("média")
        slider.focus()
        page.keyboard.press("ArrowRight")  # keyboard moves the slider one step
        assert first.locator("output").inner_text() == "0,5"
        assert first.locator("dd[data-name=v]").inner_text() == "0,06173"
        assert page.locator("figure.vae-explorer").nth(2).get_attribute("data-error") == "planted"
        assert any("planted" in e for e in page.errors)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_core_controls_pass_axe(browser, axe_source, theme):
    """Labelled slider, toggle and read-out: no critical or serious axe violation, light and dark."""
    fragments = [Explorer("q", {"n": 1, "x": 0.5}, lang="pt", title="Explorador").html()]
    with explorer_page(browser, fragments, lang="pt", theme=theme, viewport=PHONE, extra_script=KIND_FOR_TEST,
                       core_only=True) as page:
        page.add_script_tag(content=REGISTER)
        page.add_script_tag(content=axe_source)
        assert page.evaluate(JS_AXE, None) == []
        assert page.errors == []
