"""Nothing is used before it is taught (DESIGN.md; issue 16): the order of the table of contents.

A chapter may cite an equation, a section, a figure, an exercise or a theorem only if it is
defined in that chapter or in an earlier one of the same book. The test reads the two tables of
contents (``_toc.yml`` for ``book/pt``, ``_toc.en.yml`` for ``book/en``), and in every page:

* definitions: ``:label: X`` (math, exercises, theorems), ``(X)=`` (sections), ``:name: X``
  (figures, tables);
* uses: ``{eq}`X```, ``{ref}`X``` and ``{ref}`text <X>```, ``{numref}`` (both forms),
  ``{prf:ref}`X```.

Only the markdown of a notebook is read (code comments that name a label are not citations).
The chapters are the pages of the *numbered* parts, in toc order. The root page and the back
matter (unnumbered parts: notation, errata, instructors, bibliography) are reference pages: the
labels they define may be cited from anywhere, and what they cite is not checked (an errata
page points at every chapter by design).

A forward citation is allowed only when the prose says so explicitly ("we will see in …"): such
a use goes in ``ALLOWED_FORWARD`` with the reason. ``KNOWN`` lists violations found in chapters
whose fix belongs to another task (strict: an entry that no longer occurs fails the test, so the
list only shrinks).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from conftest import BOOK_DIR, ROOT

TOCS = {"pt": ROOT / "_toc.yml", "en": ROOT / "_toc.en.yml"}

DEFINITION = re.compile(r"^\s*:(?:label|name):\s*([\w:.-]+)\s*$|^\s*\(([\w:.-]+)\)=\s*$", re.MULTILINE)
USE = re.compile(r"\{(eq|ref|numref|prf:ref)\}`(?:[^`<]*<)?\s*([\w:.-]+)\s*>?`")

#: (slug, label) -> why a chapter may cite a label of a later chapter. Keep it short: each entry
#: must be a sentence of the prose that announces the forward pointer ("we will see in …").
ALLOWED_FORWARD: dict[tuple[str, str], str] = {
    ("geometry-in-practice", "ex-glim-disentanglement"):
        "announced as 'the subject of exercise … of the next chapter': a pointer to further study",
    ("geometry-in-practice", "sec-glim-diagonal"):
        "announced as 'the next chapter shows it, in …': where the claim is measured",
    ("geometry-in-practice", "sec-glim-dimensionality"):
        "announced as 'the next chapter explains it, in …': typical versus probable, in depth",
    ("kl-geometry", "sec-lg-exercises"):
        "announced as 'to which the next chapter's exercises return': a pointer to practice",
}

#: (lang, slug, label) of forward citations found in chapters outside the task that wrote this
#: test (issue 16, "rigour-order"); their chapters' owners fix them and remove the entry. Empty:
#: the last ones were announced in the prose (session 5) and moved to ALLOWED_FORWARD.
KNOWN: set[tuple[str, str, str]] = set()

class Use(NamedTuple):
    lang: str
    slug: str
    label: str
    defined_in: str  # the earliest chapter that defines it

    def __str__(self) -> str:
        return f"{self.lang}/{self.slug} cites {self.label!r}, defined only later, in {self.defined_in}"


def toc_chapters(toc: dict) -> tuple[list[str], list[str]]:
    """(chapters of the numbered parts in order, the other pages: root and back matter)."""
    chapters, reference = [], [toc["root"]]
    for part in toc.get("parts", []):
        files = [entry["file"] for entry in part.get("chapters", [])]
        (chapters if part.get("numbered") else reference).extend(files)
    return chapters, reference


def page_text(folder: Path, slug: str) -> str:
    """The markdown of a page: a notebook's markdown cells, or the .md file; '' if missing."""
    notebook, markdown = folder / f"{slug}.ipynb", folder / f"{slug}.md"
    if notebook.is_file():
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return markdown.read_text(encoding="utf-8") if markdown.is_file() else ""


def definitions(text: str) -> set[str]:
    return {a or b for a, b in DEFINITION.findall(text)}


def uses(text: str) -> set[str]:
    return {label for _role, label in USE.findall(text)}


def forward_uses(lang: str, toc: dict, folder: Path) -> list[Use]:
    """Every (chapter, label) whose label is defined only in a later chapter of ``toc``."""
    chapters, reference = toc_chapters(toc)
    texts = {slug: page_text(folder, slug) for slug in chapters + reference}
    anywhere = set().union(*(definitions(texts[slug]) for slug in reference))
    first: dict[str, int] = {}
    for position, slug in enumerate(chapters):
        for label in definitions(texts[slug]):
            first.setdefault(label, position)
    found = []
    for position, slug in enumerate(chapters):
        for label in sorted(uses(texts[slug])):
            if label not in anywhere and first.get(label, -1) > position:
                found.append(Use(lang, slug, label, chapters[first[label]]))
    return found


def book_forward_uses(lang: str) -> list[Use]:
    toc = yaml.safe_load(TOCS[lang].read_text(encoding="utf-8"))
    return forward_uses(lang, toc, BOOK_DIR / lang)


# --------------------------------------------------------------------------- the checker itself
def test_checker_finds_a_planted_forward_citation(tmp_path):
    """A toy book: chapter b cites an equation of c (later), a section of a (earlier), a
    glossary label of the back matter, and a figure of its own; only the first is reported."""
    (tmp_path / "a.md").write_text("(sec-a)=\n## A\n", encoding="utf-8")
    cell = lambda kind, text: {"cell_type": kind, "metadata": {}, "source": text.splitlines(True)}
    nb = {"cells": [cell("markdown", "See {eq}`eq-c`, {ref}`the start <sec-a>`, {ref}`gloss`, {numref}`fig-b`.\n"),
                    cell("code", "x = 1  # eq-late: a comment, not a citation\n"),
                    cell("markdown", "```{glue:figure} f\n:name: fig-b\n```\n")]}
    (tmp_path / "b.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (tmp_path / "c.md").write_text("```{math}\n:label: eq-c\nx\n```\n\n(eq-late)=\n", encoding="utf-8")
    (tmp_path / "back.md").write_text("(gloss)=\n## Glossary\n", encoding="utf-8")
    toc = {"root": "index", "parts": [{"numbered": True, "chapters": [{"file": s} for s in "abc"]},
                                      {"chapters": [{"file": "back"}]}]}
    assert [(u.slug, u.label, u.defined_in) for u in forward_uses("pt", toc, tmp_path)] == [("b", "eq-c", "c")]


def test_use_pattern_reads_every_role_and_form():
    text = "{eq}`eq-a` {ref}`sec-b` {ref}`text <sec-c>` {numref}`Fig. %s <fig-d>` {prf:ref}`prf-e` {doc}`slug`"
    assert uses(text) == {"eq-a", "sec-b", "sec-c", "fig-d", "prf-e"}


# --------------------------------------------------------------------------- the book
def test_both_books_have_the_same_chapters_in_the_same_order():
    tocs = {lang: yaml.safe_load(path.read_text(encoding="utf-8")) for lang, path in TOCS.items()}
    assert toc_chapters(tocs["pt"]) == toc_chapters(tocs["en"])


@pytest.mark.parametrize("lang", sorted(TOCS))
def test_no_chapter_cites_a_label_taught_only_later(lang):
    found = [u for u in book_forward_uses(lang)
             if (u.slug, u.label) not in ALLOWED_FORWARD and (u.lang, u.slug, u.label) not in KNOWN]
    assert not found, "cited before it is taught (reorder, move the definition, or say so and allow it):\n" + \
        "\n".join(map(str, found))


def test_allowed_and_known_entries_are_still_needed():
    """Strict bookkeeping: an allowed or known forward citation that no longer occurs must go."""
    occurring = {(u.lang, u.slug, u.label) for lang in TOCS for u in book_forward_uses(lang)}
    stale_known = sorted(KNOWN - occurring)
    stale_allowed = sorted(key for key in ALLOWED_FORWARD if not any(key == (s, l) for _, s, l in occurring))
    assert not stale_known and not stale_allowed, f"remove: KNOWN {stale_known}, ALLOWED_FORWARD {stale_allowed}"
