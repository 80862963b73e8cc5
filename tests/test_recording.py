"""vae_support.recording: values for the text through myst-nb's glue, or nothing visible."""
from __future__ import annotations

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from vae_support import recording  # noqa: E402
from vae_support.recording import record, rounded  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    """Everything IPython would display, as myst-nb's glue or record's fallback emit it."""
    out = []
    import myst_nb.ext.glue as glue_module

    monkeypatch.setattr(glue_module, "ipy_display", lambda obj, **kw: out.append((obj, kw)))
    monkeypatch.setattr(recording, "_show", lambda value: out.append((value, {"shown": True})))
    return out


def test_record_emits_what_glue_emits(shown):
    """One call = one invisible glue record per value, in order: the same bundles as myst_nb.glue."""
    from myst_nb import glue

    record(a=0.5, b="text")
    record({"fig-like name": 3})
    ours = list(shown)
    shown.clear()
    glue("a", 0.5, display=False)
    glue("b", "text", display=False)
    glue("fig-like name", 3, display=False)
    assert ours == shown
    assert [next(iter(obj)) for obj, _ in ours] == ["application/papermill.record/text/plain"] * 3
    assert ours[0][1]["metadata"]["scrapbook"]["name"] == "a"


def test_without_myst_nb_only_figures_are_shown(shown, monkeypatch):
    monkeypatch.setattr(recording, "glue_available", lambda: False)
    fig, _ = plt.subplots()
    record(x=1.0, fig_x=fig, label="y")
    plt.close(fig)
    assert shown == [(fig, {"shown": True})]


def test_mapping_first_then_keywords(shown):
    record({"z-1": 1}, a=2)
    names = [kw["metadata"]["scrapbook"]["name"] for _, kw in shown]
    assert names == ["z-1", "a"]


@pytest.mark.parametrize("call, error", [
    (lambda: record(), ValueError),
    (lambda: record({"a": 1}, a=2), ValueError),
    (lambda: record({"": 1}), ValueError),
    (lambda: record({1: 1}), TypeError),
    (lambda: record([("a", 1)]), TypeError),
])
def test_bad_calls_raise_clear_errors(call, error, shown):
    with pytest.raises(error):
        call()
    assert shown == []


def test_rounded_matches_the_printed_digits():
    assert rounded(0.65461) == 0.6546
    assert rounded(-1234567.0) == -1235000.0
    assert rounded(torch.tensor([2.718281828])) == 2.718
    assert rounded(0.0001234567, digits=2) == 0.00012
    assert f"{rounded(93.456789):.4g}" == f"{93.456789:.4g}"
    with pytest.raises(TypeError, match="value"):
        rounded("abc")
    with pytest.raises(ValueError, match="digits"):
        rounded(1.0, digits=0)
