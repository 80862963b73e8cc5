"""The built site in a real browser (Debian's headless Chromium driven by Playwright).

The build (complete, MathJax served locally, languages, launch buttons), the landing page and one
screenshot per language (SITE_OUT/screenshot-<lang>.png). The per-page checks, made on one visit
to each page of both languages (tests/test_site_reader.py): math is typeset by the MathJax the
site serves itself (no raw TeX left, no MathJax error), every image loads, every internal link
and the twin link resolve (target file and #anchor), exercise solutions toggle, nothing is
fetched from outside the site, and no JavaScript error is logged; this module gives them its
link and solution helpers. The `site_dir` fixture (tests/conftest.py) builds the site.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

import build_book
from conftest import BOOK_DIR, BUILD, SITE_OUT, site_pages

MATHJAX_TIMEOUT_MS = 20_000

# Raw TeX a reader must never see: delimiters or a TeX command between $ signs.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$|\\begin\{")


@lru_cache(maxsize=None)
def anchors_of(path: Path) -> frozenset[str]:
    """Every id/name an #anchor can point to in a built HTML file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r'\s(?:id|name)="([^"]+)"', text))


def local_target(url: str, site_url: str, site_dir: Path) -> tuple[Path, str]:
    """The file (and fragment) a same-site URL points to."""
    parts = urlsplit(url)
    rel = unquote(parts.path)[len(urlsplit(site_url).path):]
    path = site_dir / rel
    if rel == "" or rel.endswith("/"):
        path = path / "index.html"
    return path, unquote(parts.fragment)


def broken_links(hrefs: list[str], site_url: str, site_dir: Path) -> list[str]:
    bad = []
    for href in sorted(set(hrefs)):
        if not href.startswith(site_url):
            continue  # external (launch buttons, repository, citations' URLs): not fetched here
        path, fragment = local_target(href, site_url, site_dir)
        if not path.is_file():
            bad.append(f"{href} -> missing {path.relative_to(site_dir)}")
        elif fragment and path.suffix == ".html" and fragment not in anchors_of(path):
            bad.append(f"{href} -> no #{fragment} in {path.relative_to(site_dir)}")
    return bad


class PageProbe:
    """Opens one page, recording JS errors, failed requests and off-site requests."""

    def __init__(self, browser, site_url: str):
        self.site_url = site_url
        self.js_errors: list[str] = []
        self.failed: list[str] = []
        self.offsite: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("pageerror", lambda exc: self.js_errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)
        self.page.on("requestfailed", lambda req: self.failed.append(f"{req.url} ({req.failure})"))
        self.page.on("response", lambda r: self.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
        self.page.route(lambda url: not url.startswith(site_url), self._block)

    def _console(self, msg):
        if msg.type == "error":
            self.js_errors.append(f"console: {msg.text}")

    def _block(self, route):
        self.offsite.append(route.request.url)
        route.abort()

    def open(self, url: str):
        self.page.goto(url, wait_until="load")
        has_mathjax = self.page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')")
        if has_mathjax:
            self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                        timeout=MATHJAX_TIMEOUT_MS)
            self.page.evaluate("() => MathJax.startup.promise.then(() => true)")
        return self.page

    def close(self):
        self.page.close()


@pytest.fixture
def probe(browser, site_url):
    probes = []

    def open_page(rel: str):
        p = PageProbe(browser, site_url)
        probes.append(p)
        p.open(site_url + rel)
        return p

    yield open_page
    for p in probes:
        p.close()


# --------------------------------------------------------------------------- the build
def test_build_is_complete(site_dir):
    """Both languages build from stored outputs; the landing page and both roots exist.

    The build's time is reported here, never asserted (a shared machine's timings are noise
    for a test): benchmarks/site_build.py measures it, median over several builds.
    """
    assert (site_dir / "index.html").is_file()
    for lang in build_book.LANGS:
        assert (site_dir / lang / "index.html").is_file()
        assert (site_dir / lang / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax not served locally"
        assert not (site_dir / "jupyter_execute").exists(), "myst-nb scratch files leaked into the site"
    if "cpu_seconds" in BUILD:
        print(f"site build: {BUILD['seconds']:.1f} s wall, {BUILD['cpu_seconds']:.1f} s CPU (both languages)")


def test_mathjax_is_local(site_dir):
    """Every page that has math loads MathJax from its own _static folder, never a CDN."""
    for lang in build_book.LANGS:
        for page in (site_dir / lang).glob("*.html"):
            html = page.read_text(encoding="utf-8")
            srcs = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', html, flags=re.I)
            assert all(src.startswith("_static/mathjax/") for src in srcs), (page.name, srcs)
            if 'class="math' in html:
                assert srcs, f"{lang}/{page.name} has math but loads no MathJax"


def test_html_language(site_dir):
    """Each build is its own Sphinx build with its own language."""
    expected = {"pt": 'lang="pt-BR"', "en": 'lang="en"'}
    for lang, attribute in expected.items():
        html = (site_dir / lang / "index.html").read_text(encoding="utf-8")
        assert f"<html {attribute}" in html, f"{lang}/index.html is not marked {attribute}"
        assert (site_dir / lang / "searchindex.js").is_file()
    for page in (site_dir / "pt").glob("*.html"):
        assert "<p>Proof. " not in page.read_text(encoding="utf-8"), f"pt/{page.name}: English 'Proof.'"


FEATURES = {  # what the pilot chapters (1 and 2) use, as it appears in the built HTML
    "exercise solution (sphinx-exercise)": r'<div class="solution',
    "proof (sphinx-proof)": r'<div class="proof',
    "numbered equation": r'<span class="eqno">',
    "glued number (myst-nb glue)": r'class="pasted-text"',
    "citation (sphinxcontrib-bibtex)": r'class="bibtex-citation"',
    "figure from a notebook output": r'<img[^>]+src="_images/',
}


@pytest.mark.parametrize("lang", build_book.LANGS)
def test_the_pipeline_is_exercised(site_dir, lang):
    """The published chapters use every part of the pipeline, so the browser checks bite."""
    html = "".join(p.read_text(encoding="utf-8") for p in (site_dir / lang).glob("*.html"))
    missing = [name for name, pattern in FEATURES.items() if not re.search(pattern, html)]
    assert not missing, f"{lang}: no page has {missing}"


@pytest.mark.parametrize("lang", build_book.LANGS)
def test_launch_buttons_use_the_repository_setting(site_dir, lang):
    """Colab, Binder, repository and download buttons point at repository.url of _config.yml."""
    config = build_book.load_config(lang)
    url = config["repository"]["url"].rstrip("/")
    owner_repo = urlsplit(url).path.strip("/")
    branch, book_path = config["repository"]["branch"], config["repository"]["path_to_book"]
    notebooks = [name for l, name in site_pages() if l == lang and (BOOK_DIR / lang / f"{name}.ipynb").is_file()]
    if not notebooks:
        pytest.skip("no chapter notebook published yet")
    for name in notebooks:
        html = (site_dir / lang / f"{name}.html").read_text(encoding="utf-8")
        colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{book_path}/{name}.ipynb"
        binder = f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{book_path}/{name}.ipynb"
        assert colab in html, f"{lang}/{name}: no Colab button to {colab}"
        assert binder in html, f"{lang}/{name}: no Binder button to {binder}"
        assert f'href="{url}"' in html, f"{lang}/{name}: no repository button to {url}"
        assert f'href="_sources/{name}.ipynb"' in html, f"{lang}/{name}: no .ipynb download"
        assert (site_dir / lang / "_sources" / f"{name}.ipynb").is_file()


# --------------------------------------------------------------------------- every page
# The per-page checks (math, images, links, twins, solutions, requests, errors) are made on the one
# visit test_site_reader.py pays to every page: see its test_links_images_solutions_and_requests.
def check_solutions_toggle(page):
    """Each exercise solution starts hidden and opens / closes on a click (sphinx-togglebutton)."""
    solutions = page.locator("div.solution")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        body = solution.locator("section").first
        button = solution.locator("button.toggle-button").first
        solution.scroll_into_view_if_needed()
        assert button.count() == 1, f"solution {i} has no toggle button"
        assert not body.is_visible(), f"solution {i} is shown before the reader asks"
        button.click()
        body.wait_for(state="visible", timeout=5000)
        button.click()
        body.wait_for(state="hidden", timeout=5000)


def test_landing_page(probe, site_dir, site_url):
    """The landing page loads without errors and leads to both books."""
    p = probe("index.html")
    hrefs = p.page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    for lang in build_book.LANGS:
        assert f"{site_url}{lang}/index.html" in hrefs, f"the landing page does not link to {lang}/index.html"
    bad = broken_links(hrefs, site_url, site_dir)
    assert not bad, "broken links:\n" + "\n".join(bad)
    assert not p.js_errors and not p.failed and not p.offsite


@pytest.mark.parametrize("lang", build_book.LANGS)
def test_screenshot(probe, lang):
    """Saves SITE_OUT/screenshot-<lang>.png of the first chapter (the root page if none yet)."""
    names = [name for l, name in site_pages() if l == lang]
    name = names[1] if len(names) > 1 else names[0]
    p = probe(f"{lang}/{name}.html")
    target = SITE_OUT / f"screenshot-{lang}.png"
    p.page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000


# --------------------------------------------------------------------------- the build's pieces
def test_filter_toc_skips_pages_missing_in_either_language(tmp_path):
    for lang in build_book.LANGS:
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "index.md").write_text("# i")
        (tmp_path / lang / "a.ipynb").write_text("{}")
        (tmp_path / lang / "notes.md").write_text("# n")
    (tmp_path / "pt" / "b.ipynb").write_text("{}")  # b has no English twin yet
    toc = {"root": "index", "parts": [{"caption": "I", "chapters": [{"file": "a"}, {"file": "b"}, {"file": "c"}]},
                                      {"caption": "II", "chapters": [{"file": "d"}]},
                                      {"caption": "III", "chapters": [{"file": "notes"}]}]}
    notices = []
    kept = build_book.filter_toc(toc, tmp_path, notice=notices.append)
    assert build_book.toc_files(kept) == ["index", "a", "notes"]
    assert [part["caption"] for part in kept["parts"]] == ["I", "III"]
    assert len(notices) == 3 and "b" in notices[0] and "/en/b.ipynb" in notices[0]
    assert build_book.toc_files(build_book.filter_toc(toc, tmp_path, notice=notices.append, only=["notes"])) == ["index", "notes"]


def test_english_config_is_the_portuguese_one_plus_overrides():
    pt, en = build_book.load_config("pt"), build_book.load_config("en")
    assert pt["sphinx"]["config"]["language"] == "pt_BR" and en["sphinx"]["config"]["language"] == "en"
    assert en["repository"]["url"] == pt["repository"]["url"]
    assert en["repository"]["path_to_book"] == "book/en" and pt["repository"]["path_to_book"] == "book/pt"
    assert en["sphinx"]["extra_extensions"] == pt["sphinx"]["extra_extensions"]
    assert en["sphinx"]["config"]["html_theme_options"]["article_header_end"][0] == "lang-switch.html"
    assert build_book.merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}}) == {"a": {"b": 1, "c": [2]}}
    with pytest.raises(ValueError, match="lang"):
        build_book.load_config("fr")


def test_both_tocs_list_the_same_pages():
    tocs = [yaml.safe_load((build_book.ROOT / build_book.CONFIGS[lang][1]).read_text(encoding="utf-8"))
            for lang in build_book.LANGS]
    assert build_book.toc_files(tocs[0]) == build_book.toc_files(tocs[1])
    chapters = len(list((BOOK_DIR / "pt").glob("*.ipynb")))  # Parts I-III: every chapter notebook is listed
    assert len(build_book.toc_files(tocs[0])) == 1 + chapters + 4  # root, chapters, notation, errata, instructors, bibliography


def test_twin_url():
    from sphinx_course import twin_url

    assert twin_url("elbo-derivation", "en") == "../en/elbo-derivation.html"
    assert twin_url("sub/page", "pt") == "../../pt/sub/page.html"


@pytest.mark.parametrize(
    "text, expected",
    [("1.5", "1,5"), ("-10.11", "-10,11"), ("100,000", "100.000"), ("2.3e-04", "2,3e-04"),
     ("71.3 %", "71,3 %"), ("42", "42"), ("q_std_factor", "q_std_factor"), ("N(2, 2)", "N(2, 2)")],
)
def test_decimal_comma(text, expected):
    from sphinx_course import decimal_comma
    assert decimal_comma(text) == expected


def test_glued_numbers_follow_the_language(site_dir):
    """The same glued value reads 0,0086 in Portuguese prose and 0.0086 in English."""
    pasted = re.compile(r'class="pasted-text">([^<]*)<')
    pt = pasted.findall((site_dir / "pt" / "elbo-derivation.html").read_text(encoding="utf-8"))
    en = pasted.findall((site_dir / "en" / "elbo-derivation.html").read_text(encoding="utf-8"))
    assert pt and len(pt) == len(en)
    decimals = [(p, e) for p, e in zip(pt, en) if "." in e]
    assert decimals, "expected glued decimals in the pilot chapter"
    assert all(p == e.translate(str.maketrans(".,", ",.")) for p, e in decimals)
