"""Sphinx extension with the course's own needs (one Sphinx build per language).

**Twin links.** The site publishes each language as its own Sphinx build side by side
(``_build/html/pt/<page>.html`` and ``_build/html/en/<page>.html``); pages have the same
name in both, so the twin of ``<page>`` is ``../<other>/<page>.html``.
Configuration: ``twins_languages``, an ordered mapping ``{folder: label}`` of the published
languages; the current build's folder is the source folder's name (``book/pt`` -> ``pt``).
Adds to every page's template context ``twin_links`` (list of ``(folder, label, url)`` for
the other languages), ``twin_home`` (URL of the landing page) and a
``<link rel="alternate" hreflang=...>`` per twin in ``metatags``;
``book/_templates/lang-switch.html`` shows them in the article header.

**Proofs.** Two fixes to sphinx-proof 0.4's ``{prf:proof}``:

- ``twins_proof_word`` (default "Proof"): sphinx-proof writes the English word "Proof." at
  the start of every proof; it is replaced by this word ("Demonstração" in Portuguese).
- ``:label: prf-…`` is accepted on ``{prf:proof}`` (CONTRIBUTING.md labels derivations);
  it becomes the proof's anchor, for ``{ref}`text <prf-…>``` and ``#prf-…`` links.

**Offline pages.** Notebook outputs may link stylesheets on the web (matplotlib's
``to_jshtml()`` animations link Font Awesome 4 on a CDN); those ``<link>`` tags are removed
from the outputs: the theme's own Font Awesome draws the animation's buttons. (ipywidgets'
CDN scripts are switched off in _config.yml with ``nb_ipywidgets_js: {}``.)

**Every reader** (issue 14):

- interface strings in the page's language: ``book/_locale/pt_BR/LC_MESSAGES/sphinx.po`` (found
  by Sphinx through ``locale_dirs``) and ``booktheme.po`` (compiled here, a fallback to
  sphinx-book-theme's own catalogue); the explorers' labels come from the notebooks (vae_support.explorers);
- citations with "e" in Portuguese: reference style ``author_year_pt`` and bibliography
  style ``plain_pt`` (registered here; _config.yml picks them, _config.en.yml the English ones);
- Portuguese search that ignores accents, at index time (Python) and query time (language_data.js);
- lighter pages: MathJax from its components (no 430 kB menu; ``course_mathjax_components``),
  no ipywidgets state or views on the static pages;
- the download menu's PDF item opens the whole book (``course_pdf``, scripts/build_pdf.py);
- explorers (issue 15): pages holding a ``vae_support.explorers`` output load its JS/CSS modules;
- ``course_require_alt``: a figure without a description fails the build (off until the
  notebooks' ``{glue:figure}`` directives carry ``:alt:``).
"""
from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives


def twin_url(pagename: str, target: str) -> str:
    """Relative URL, from page ``pagename`` of one build, to the same page of ``target``."""
    depth = pagename.count("/") + 1  # +1 climbs out of the language folder
    return "../" * depth + f"{target}/{pagename}.html"


def _page_context(app, pagename, templatename, context, doctree):
    current = Path(app.srcdir).name
    links = [
        (folder, label, twin_url(pagename, folder))
        for folder, label in app.config.twins_languages.items()
        if folder != current
    ]
    context["twin_links"] = links
    context["twin_home"] = "../" * (pagename.count("/") + 1) + "index.html"
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<link rel="alternate" hreflang="{folder}" href="{url}" />' for folder, _, url in links
    )


def localize_proof_word(app, doctree):
    """Replace sphinx-proof's hard-coded "Proof. " by ``twins_proof_word``."""
    word = app.config.twins_proof_word
    for admonition in doctree.findall(nodes.admonition):
        if "proof" not in admonition["classes"] or "proof" not in admonition["ids"]:
            continue
        text = admonition.next_node(nodes.Text)
        if text is not None and text.astext().startswith("Proof. "):
            text.parent.replace(text, nodes.Text(f"{word}. " + text.astext()[len("Proof. "):]))


def labelled_proof_directive():
    """sphinx-proof's ProofDirective, plus a ``:label:`` option that anchors the proof."""
    from sphinx_proof.directive import ProofDirective

    class LabelledProofDirective(ProofDirective):
        option_spec = {**ProofDirective.option_spec, "label": directives.unchanged_required}

        def run(self):
            label = self.options.pop("label", None)
            result = super().run()
            if label:
                target = nodes.target("", "", ids=[label], names=[label])
                self.state.document.note_explicit_target(target)
                # inside the admonition: its first paragraph takes the id (sphinx-proof's
                # proof node renders no id of its own)
                result[0].next_node(nodes.admonition).insert(0, target)
            return result

    return LabelledProofDirective


GLUED_NUMBER = re.compile(r"[-+−]?(\d[\d,]*)?\.?\d+([eE][-+]?\d+)?\s?%?")


def decimal_comma(text: str) -> str:
    """``"1,234.5"`` -> ``"1.234,5"``: a number written the Brazilian way; other text unchanged."""
    if not GLUED_NUMBER.fullmatch(text):
        return text
    return text.translate(str.maketrans({".": ",", ",": "."}))


def localize_glued_numbers(app, doctree):
    """With ``course_decimal_comma``, glued numbers (``{glue:text}``) get a decimal comma.

    Code and its printed output keep Python's decimal point; only numbers pasted into prose
    follow the reader's language (Portuguese: ``0,5``; English: ``0.5``).
    """
    if not app.config.course_decimal_comma:
        return
    for node in list(doctree.findall(nodes.inline)):
        if "pasted-text" in node["classes"]:
            text = node.astext()
            localized = decimal_comma(text)
            if localized != text:
                node.replace(node.children[0], nodes.Text(localized))


OFFSITE_STYLESHEET = re.compile(r'<link\b[^>]*\bhref="https?://[^"]*"[^>]*>\s*', flags=re.I)


def drop_offsite_stylesheets(app, doctree):
    """Remove ``<link href="http(s)://…">`` from raw HTML (notebook outputs)."""
    for raw in list(doctree.findall(nodes.raw)):
        if "html" in raw.get("format", "").split() and OFFSITE_STYLESHEET.search(raw.astext()):
            text = OFFSITE_STYLESHEET.sub("", raw.astext())
            raw.parent.replace(raw, nodes.raw(text, text, **{k: v for k, v in raw.attributes.items()
                                                          if k in ("format", "classes")}))


# --------------------------------------------------------------------------- static pages
WIDGET_VIEW = re.compile(r'^\s*<script type="application/vnd\.jupyter\.widget-view\+json">.*?</script>\s*$', re.S)
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_TYPE = "application/vnd.jupyter.widget-view+json"


def _remove_emptied(parent) -> None:
    """Remove ``parent`` and its ancestors while they are output containers left empty."""
    while parent is not None and parent.parent is not None and not parent.children \
            and isinstance(parent, nodes.container):
        grand = parent.parent
        grand.remove(parent)
        parent = grand


def drop_widget_outputs(app, doctree):
    """Remove ipywidgets views from the outputs: inert on a static page (no kernel, no widget JS).

    An output that also carries a static face (``text/html``: an explorer of
    ``vae_support.explorers``) keeps it and loses only the widget view. An output that is a widget
    and nothing else a reader could use (a progress bar: widget view + a ``text/plain`` repr such as
    ``0%|          | 0/60``) goes entirely. The widget's saved state is dropped in
    ``drop_widget_state``. An output container left empty goes too.
    """
    for bundle in list(doctree.findall(lambda n: isinstance(n, nodes.container)
                                       and n.get("nb_element") == "mime_bundle")):
        types = [child.get("mime_type") for child in bundle.children]
        if WIDGET_VIEW_TYPE not in types:
            continue
        parent = bundle.parent
        if "text/html" in types:
            for child in [c for c in bundle.children if c.get("mime_type") == WIDGET_VIEW_TYPE]:
                bundle.remove(child)
        else:
            parent.remove(bundle)
            _remove_emptied(parent)
    for raw in list(doctree.findall(nodes.raw)):  # a widget view stored alone (no mime bundle)
        if "html" in raw.get("format", "").split() and WIDGET_VIEW.match(raw.astext()):
            parent = raw.parent
            parent.remove(raw)
            _remove_emptied(parent)


def drop_widget_state(app, pagename, templatename, context, doctree):
    """Remove the page's ``<script type="application/vnd.jupyter.widget-state+json">`` (myst-nb)."""
    scripts = context.get("script_files")
    if scripts:
        kept = [js for js in scripts if getattr(js, "attributes", {}).get("type") != WIDGET_STATE]
        if len(kept) != len(scripts):
            scripts[:] = kept


# --------------------------------------------------------------------------- explorers
EXPLORER_MARK = 'class="vae-explorer"'


def add_explorer_static(app):
    """The explorers' site modules (``vae_support/explorers/static``) are copied into ``_static``."""
    from vae_support.explorers import STATIC_DIR

    app.config.html_static_path.append(str(STATIC_DIR))


def load_explorers(app, pagename, templatename, context, doctree):
    """A page holding an explorer loads the shared core, its stylesheet and the kind modules.

    Only those pages: the others stay as light as before. The notebook's output carries the
    static face (``text/html``, chosen over the widget view by ``nb_mime_priority_overrides``).
    """
    if doctree is None or not any(EXPLORER_MARK in raw.astext() for raw in doctree.findall(nodes.raw)):
        return
    from vae_support.explorers import static_files

    for name in static_files():
        if name.endswith(".css"):
            app.add_css_file(name)
        else:
            app.add_js_file(name, loading_method="defer")


# --------------------------------------------------------------------------- figures' alt text
PATH_LIKE_ALT = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|svg|gif)$|^_images/|^\.\./|^/", re.I)


def check_figure_alt(app, doctree):
    """With ``course_require_alt``, every image needs a real description (not its file path).

    A figure gets it where it is placed: ``:alt:`` on the notebook's ``{glue:figure}``
    directive (myst-nb), in the page's language; an output shown in place takes
    ``mystnb: {image: {alt: ...}}`` in the cell's metadata. Off until the notebooks have
    them (``tests/test_site_reader.py::test_figures_have_real_alt_text`` lists the pages).
    """
    if not app.config.course_require_alt:
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for image in doctree.findall(nodes.image):
        alt = (image.get("alt") or "").strip()
        if len(alt) < 12 or PATH_LIKE_ALT.search(alt):
            logger.warning("figure without a description (:alt: of {glue:figure}): %s", image.get("uri"),
                           location=image)


# --------------------------------------------------------------------------- citations (pt: "e")
def register_citation_styles():
    """``author_year_pt`` (in-text) and ``plain_pt`` (bibliography): authors joined with "e"."""
    from dataclasses import dataclass, field

    import pybtex.plugin
    from pybtex.richtext import Tag, Text
    from pybtex.style.formatting.plain import Style as Plain
    from pybtex.style.template import names, sentence
    from sphinxcontrib.bibtex.plugin import register_plugin
    from sphinxcontrib.bibtex.style.referencing import PersonStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    def person_pt():
        return PersonStyle(sep2=" e ", last_sep=" e ", other=Text(" ", Tag("em", "et al.")))

    @dataclass
    class AuthorYearPt(AuthorYearReferenceStyle):
        person: PersonStyle = field(default_factory=person_pt)

    class PlainPt(Plain):
        def format_names(self, role, as_sentence=True):
            formatted = names(role, sep=", ", sep2=" e ", last_sep=" e ")
            return sentence[formatted] if as_sentence else formatted

    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_pt", AuthorYearPt, force=True)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "plain_pt", PlainPt, force=True)


# --------------------------------------------------------------------------- search (pt accents)
def strip_accents(word: str) -> str:
    """``"reparametrização"`` -> ``"reparametrizacao"`` (NFD, combining marks removed)."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


ACCENT_FREE_JS = """
/* scripts/sphinx_course.py: the Portuguese stemmer on words without accents, at index and
   query time alike, so "reparametrizacao" finds "reparametrização" and vice versa. */
var AccentFreePortugueseStemmer = function() {
  var inner = new PortugueseStemmer();
  this.stemWord = function(w) {
    return inner.stemWord(w.normalize("NFD").replace(/[\u0300-\u036f]/g, ""));
  };
};
"""


def register_search_language(app):
    """Portuguese search that ignores accents (index: Python; query: language_data.js)."""
    from os import path

    import sphinx
    from sphinx.search import languages
    from sphinx.search.pt import SearchPortuguese

    minified = Path(sphinx.package_dir) / "search" / "minified-js" / "portuguese-stemmer.js"
    target = Path(app.doctreedir) / "accent-free-portuguese-stemmer.js"
    target.parent.mkdir(parents=True, exist_ok=True)
    code = minified.read_text(encoding="utf-8") + ACCENT_FREE_JS
    if not target.is_file() or target.read_text(encoding="utf-8") != code:
        target.write_text(code, encoding="utf-8")

    class SearchPortugueseAccentFree(SearchPortuguese):
        language_name = "AccentFreePortuguese"
        js_stemmer_rawcode = path.abspath(target)  # os.path.join(js_dir, absolute) == absolute

        def stem(self, word: str) -> str:
            return self.stemmer.stemWord(strip_accents(word.lower()))

    languages["pt"] = SearchPortugueseAccentFree


# --------------------------------------------------------------------------- interface strings
LOCALE_DIR = Path(__file__).resolve().parents[1] / "book" / "_locale"


def compile_catalogs(app, config):
    """Interface strings of the themes in the page's language, from book/_locale/<lang>/LC_MESSAGES.

    ``sphinx.po`` (the templates' strings; pydata-sphinx-theme ships no Portuguese) is found
    by Sphinx itself through ``locale_dirs: ["../_locale"]`` in _config.yml. Every other
    catalogue (``booktheme.po``: launch-button strings sphinx-book-theme's own "pt" catalogue
    lacks) is compiled here into the build folder and added as a fallback to that domain.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    import sphinx.locale

    out = Path(app.doctreedir) / "locale"
    domains = set()
    for po in LOCALE_DIR.glob("*/LC_MESSAGES/*.po"):
        if po.stem == "sphinx":
            continue
        mo = out / po.relative_to(LOCALE_DIR).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as src:
            catalog = read_po(src)
        with mo.open("wb") as dst:
            write_mo(dst, catalog)
        domains.add(po.stem)
    for domain in sorted(domains):
        sphinx.locale.init([str(out)], config.language, domain)


# --------------------------------------------------------------------------- MathJax weight
MATHJAX_LOADER = ["input/tex", "output/chtml", "a11y/assistive-mml"]


def lighter_mathjax(app, config):
    """MathJax from its components (TeX input, CommonHTML output, assistive MathML for screen
    readers) instead of the tex-chtml bundle: the same typesetting without the 430 kB menu."""
    if config.course_mathjax_components:
        config.mathjax_path = "mathjax/startup.js"
        mj = dict(config.mathjax3_config or {})
        mj.setdefault("loader", {"load": MATHJAX_LOADER})
        mj.setdefault("startup", {"typeset": True})
        config.mathjax3_config = mj


# --------------------------------------------------------------------------- markup for assistive tech
BODY_FIXES = (
    # DPUB-ARIA 1.1 deprecated doc-biblioentry: assistive tech (and axe) then see a list whose
    # items are not list items; "listitem" is what the role stood for.
    ('role="doc-biblioentry"', 'role="listitem"'),
    # myst-nb's hidden-cell toggles: the visible (translated) text is the accessible name.
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
)


def fix_body_markup(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if isinstance(body, str):
        for old, new in BODY_FIXES:
            body = body.replace(old, new)
        context["body"] = body


# --------------------------------------------------------------------------- the book's PDF
def link_book_pdf(app, pagename, templatename, context, doctree):
    """The download menu's ".pdf" item opens the whole book's PDF (scripts/build_pdf.py)
    instead of printing the page with ``window.print()``."""
    from sphinx.locale import _

    name = app.config.course_pdf
    if not name:
        return
    for button in context.get("header_buttons", []):
        if button.get("label") != "download-buttons":
            continue
        items = [b for b in button.get("buttons", []) if b.get("label") != "download-pdf-button"]
        items.append({"type": "link", "url": context["pathto"](f"_downloads/{name}", 1), "text": ".pdf",
                      "tooltip": _("Book in PDF"), "icon": "fas fa-file-pdf", "label": "download-book-pdf-button"})
        button["buttons"] = items


def setup(app):
    app.add_config_value("twins_languages", {"pt": "Português", "en": "English"}, "html")
    app.add_config_value("course_mathjax_components", True, "html")
    app.add_config_value("course_pdf", "", "html")  # file name of the book's PDF in _downloads/
    app.add_config_value("course_require_alt", False, "env")  # warn (= fail) on figures without alt text
    app.connect("config-inited", compile_catalogs)
    app.connect("config-inited", lighter_mathjax, priority=900)
    app.connect("builder-inited", register_search_language)
    app.connect("builder-inited", add_explorer_static)
    app.connect("html-page-context", load_explorers)
    app.connect("doctree-read", drop_widget_outputs)
    app.connect("doctree-read", check_figure_alt)
    app.connect("html-page-context", drop_widget_state, priority=900)
    app.connect("html-page-context", link_book_pdf, priority=900)
    app.connect("html-page-context", fix_body_markup, priority=900)
    register_citation_styles()
    app.add_config_value("twins_proof_word", "Proof", "env")
    app.add_config_value("course_decimal_comma", False, "env")
    app.connect("html-page-context", _page_context)
    app.connect("doctree-read", localize_proof_word)
    app.connect("doctree-read", drop_offsite_stylesheets)
    app.connect("doctree-read", localize_glued_numbers)
    app.setup_extension("sphinx_proof")
    app.add_directive_to_domain("prf", "proof", labelled_proof_directive(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.3", "env_version": 4}
