r"""Explorers: interactive figures that work on the static site (no kernel, no network) and in kernels.

An explorer is one display object with two faces:

* on the **static site**, a ``<figure class="vae-explorer" data-kind="…">`` holding its data as
  JSON (``<script type="application/json">``). The site loads one small plain-JS/SVG module per
  explorer kind (``vae_support/explorers/static/explorer-<kind>.js``, on top of ``explorers.js``, copied
  into the site by ``scripts/sphinx_course.py``) that draws it and wires sliders, keyboard and
  buttons. Everything it shows is computed in the browser from closed forms or read from the
  JSON the notebook computed with the package, so nbval checks the same data the site shows.
* in a **kernel** (Colab, Binder, local Jupyter) with ipywidgets, the live widget of
  :mod:`vae_support.widgets` — the same picture and the same numbers.

The notebook calls one function per explorer, e.g. ``q_explorer(grid, lang=LANG)``, and the cell's
output carries both faces in one MIME bundle: ``text/html`` (the static explorer) and, when a
live widget could be built, ``application/vnd.jupyter.widget-view+json``. Jupyter front ends
prefer the widget; the site drops widget views (``drop_widget_outputs`` in
``scripts/sphinx_course.py``) and shows the HTML.

Payload rules: plain JSON (numbers rounded to what is shown, see :func:`round_floats`), at most
:data:`MAX_PAYLOAD_BYTES` per explorer; labels are in the page's language (``lang``).
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..plot._style import check_lang, tr

__all__ = ["Explorer", "MAX_PAYLOAD_BYTES", "STATIC_DIR", "static_files", "round_floats", "KINDS",
           "q_explorer", "path_explorer", "latent_explorer", "beta_explorer"]

#: The notebook-facing function of each kind, in its own module (imported on first use).
_BUILDERS = {"q_explorer": "q", "path_explorer": "path", "latent_explorer": "latent", "beta_explorer": "beta"}


def __getattr__(name: str):
    if name in _BUILDERS:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_BUILDERS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: The folder of the site modules: explorers.js and explorers.css (shared), then one explorer-<kind>.js each.
STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Issue 15: each explorer's data is at most 150 KB.
MAX_PAYLOAD_BYTES = 150_000

#: Explorer kinds: each has STATIC_DIR / f"explorer-{kind}.js" registering ``VaeExplorers.register(kind, draw)``.
KINDS = ("q", "path", "latent", "beta")


def static_files() -> list[str]:
    """The site files, in load order: the shared core and stylesheet, then the kinds that exist."""
    files = ["explorers.css", "explorers.js"]
    files += [f"explorer-{kind}.js" for kind in KINDS if (STATIC_DIR / f"explorer-{kind}.js").is_file()]
    return files


def round_floats(value: Any, digits: int = 6) -> Any:
    """``value`` (nested dicts, lists, tuples, numbers, tensors, arrays) as plain JSON data with every
    float rounded to ``digits`` significant digits (smaller payloads, and reproducible across CPUs).

    Non-finite floats are refused: JSON has no NaN.
    """
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"explorer data: expected finite numbers, got {value}")
        return float(f"{value:.{digits}g}")
    if isinstance(value, Mapping):
        return {str(k): round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [round_floats(v, digits) for v in value]
    raise TypeError(f"explorer data: cannot store {type(value).__name__} as JSON")


class Explorer:
    """One explorer: the static site's HTML face and, where possible, the live widget.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`; the site module ``explorer-<kind>.js`` draws it.
    data : mapping
        What the module needs (JSON-able after :func:`round_floats`; at most
        :data:`MAX_PAYLOAD_BYTES` serialized).
    lang : {"pt", "en"}
        Language of the labels (and decimal comma in Portuguese).
    title : str
        A short accessible name (``aria-label`` of the figure), in ``lang``.
    live : callable, optional
        ``live() -> ipywidgets.Widget``: the kernel twin (from :mod:`vae_support.widgets`). Called
        when the explorer is displayed, only if ipywidgets can be imported.
    digits : int
        Significant digits kept for floats in the payload.
    """

    def __init__(self, kind: str, data: Mapping, *, lang: str, title: str,
                 live: Callable[[], Any] | None = None, digits: int = 6):
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
        check_lang(lang)
        if not isinstance(title, str) or not title.strip():
            raise ValueError("title: expected a non-empty accessible name")
        if live is not None and not callable(live):
            raise TypeError(f"live: expected a callable returning a widget, got {type(live).__name__}")
        self.kind, self.lang, self.title, self.live = kind, lang, title, live
        self.data = round_floats(dict(data), digits)
        self.json = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        size = len(self.json.encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            raise ValueError(f"{kind} explorer: payload of {size} bytes exceeds {MAX_PAYLOAD_BYTES}; "
                             "use a coarser grid or fewer points")
        self._widget = None

    @property
    def payload_bytes(self) -> int:
        """Size of the serialized data, in bytes."""
        return len(self.json.encode("utf-8"))

    def html(self) -> str:
        """The static face: a labelled figure holding the data; the site's JS draws it."""
        fallback = tr(self.lang,
                      "Explorador interativo: abra esta página no site do curso, ou execute o notebook "
                      "com ipywidgets para a versão ao vivo.",
                      "Interactive explorer: open this page on the course site, or run the notebook "
                      "with ipywidgets for the live version.")
        data = self.json.replace("</", "<\\/")  # a JSON string can never close the script element
        return (f'<figure class="vae-explorer" data-kind="{self.kind}" lang="{self.lang}" '
                f'aria-label="{html.escape(self.title, quote=True)}">'
                f'<script type="application/json" class="vae-explorer-data">{data}</script>'
                f'<p class="vae-explorer-fallback">{html.escape(fallback)}</p></figure>')

    def widget(self):
        """The live ipywidgets twin (built once), or None without ipywidgets or without ``live``."""
        if self._widget is None and self.live is not None:
            try:
                import ipywidgets  # noqa: F401
            except ImportError:
                return None
            self._widget = self.live()
        return self._widget

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/html": self.html(),
                  "text/plain": f"<{self.kind} explorer: {self.title}>"}
        live = self.widget()
        if live is not None and hasattr(live, "_repr_mimebundle_"):
            widget_bundle = live._repr_mimebundle_() or {}
            view = widget_bundle.get("application/vnd.jupyter.widget-view+json")
            if view is not None:
                bundle["application/vnd.jupyter.widget-view+json"] = view
        return bundle

    def __repr__(self) -> str:
        return f"Explorer(kind={self.kind!r}, lang={self.lang!r}, payload_bytes={self.payload_bytes})"
