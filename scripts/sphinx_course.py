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


def setup(app):
    app.add_config_value("twins_languages", {"pt": "Português", "en": "English"}, "html")
    app.add_config_value("twins_proof_word", "Proof", "env")
    app.add_config_value("course_decimal_comma", False, "env")
    app.connect("html-page-context", _page_context)
    app.connect("doctree-read", localize_proof_word)
    app.connect("doctree-read", drop_offsite_stylesheets)
    app.connect("doctree-read", localize_glued_numbers)
    app.setup_extension("sphinx_proof")
    app.add_directive_to_domain("prf", "proof", labelled_proof_directive(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.2", "env_version": 3}
