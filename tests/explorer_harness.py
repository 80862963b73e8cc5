"""Open explorers in a real browser without building the site (tests of issue 15).

:func:`explorer_page` writes one standalone page — the explorers' stylesheet and scripts inline,
as the site loads them, then the HTML fragments — and opens it in Debian's Chromium (the
``browser`` fixture of conftest.py) at a given width, language and theme. Console errors and
uncaught exceptions are collected in ``page.errors``. :func:`notebook_explorers` reads the
explorer outputs a notebook stored, i.e. exactly what the site shows.
"""
from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from vae_support.explorers import STATIC_DIR, static_files

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}


#: The JSON data element of an explorer's HTML (vae_support.explorers.Explorer.html).
DATA = re.compile(r'<script type="application/json" class="vae-explorer-data">(.*?)</script>', re.S)


def explorer_data(html: str) -> dict:
    """The JSON data an explorer's HTML carries (``<\\/`` unescaped)."""
    return json.loads(DATA.search(html).group(1).replace("<\\/", "</"))


def notebook_explorers(path: Path, kind: str | None = None) -> list[str]:
    """The ``text/html`` of every explorer output (of ``kind``, if given) stored in notebook ``path``, in order."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if html is None:
                continue
            html = "".join(html) if isinstance(html, list) else html
            if 'class="vae-explorer"' in html and (kind is None or f'data-kind="{kind}"' in html):
                found.append(html)
    return found


def page_html(fragments: list[str], lang: str = "en", theme: str = "light", extra_script: str = "",
              core_only: bool = False) -> str:
    """A standalone page holding the fragments, with the explorers' CSS and JS inline (``core_only``:
    the shared core without the kinds' modules, for tests that register a kind of their own)."""
    files = [n for n in static_files() if not (core_only and n.startswith("explorer-"))]
    css = "".join(f"<style>{(STATIC_DIR / n).read_text(encoding='utf-8')}</style>"
                  for n in files if n.endswith(".css"))
    js = "".join(f"<script>{(STATIC_DIR / n).read_text(encoding='utf-8')}</script>"
                 for n in files if n.endswith(".js"))
    dark = "background:#14181e;color:#ced6dd;" if theme == "dark" else "background:#ffffff;color:#222832;"
    # the theme's text colour variable, as pydata-sphinx-theme sets it on the site
    css = ('<style>html{--pst-color-text-base:#222832}html[data-theme="dark"]{--pst-color-text-base:#ced6dd}</style>'
           + css)
    body = "\n".join(fragments)
    return (f'<!DOCTYPE html><html lang="{lang}" data-theme="{theme}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>explorer test</title>'
            f'{css}</head><body style="{dark}margin:0;padding:8px;font-family:sans-serif"><main>{body}</main>'
            f'{extra_script}{js}</body></html>')


@contextlib.contextmanager
def explorer_page(browser, fragments: list[str], lang: str = "en", theme: str = "light",
                  viewport: dict = DESKTOP, extra_script: str = "", core_only: bool = False):
    """A Playwright page showing ``fragments``; ``page.errors`` lists console errors and exceptions."""
    context = browser.new_context(viewport=viewport, color_scheme=theme, offline=True)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    try:
        page.set_content(page_html(fragments, lang, theme, extra_script, core_only), wait_until="load")
        yield page
    finally:
        context.close()
