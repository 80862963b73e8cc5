"""Every figure has alt text that describes it, in the page's language (issue 14).

* every ``{glue:figure}`` directive in a markdown cell (or a ``book/<lang>/*.md`` page) has an
  ``:alt:`` option;
* every code cell whose stored output shows an image directly (not through glue) has the
  myst-nb cell metadata ``"mystnb": {"image": {"alt": "…"}}``;
* an alt text is a description, not a file path, a glue name or a figure label;
* the twins describe the same figures, each in its own language: the Portuguese and the
  English alt texts of a figure differ.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import translation
from conftest import BOOK_DIR

LANGS = ("pt", "en")
GLUE_FIGURE = re.compile(r"^(?P<fence>```+|:::+)\s*\{glue:figure\}\s*(?P<name>\S+)[^\n]*\n(?P<body>.*?)^(?P=fence)\s*$",
                         flags=re.M | re.S)
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>[^\n]*)$", flags=re.M)
IMAGE_MIME = re.compile(r"^image/")
PATH_LIKE = re.compile(r"(\.(png|jpe?g|svg|gif|pdf|webp)\b|^[\w./\\-]+$|[\\/][\w.-]+[\\/])", flags=re.I)
MIN_WORDS = 6


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _options(body: str) -> dict[str, str]:
    """The directive's leading ``:key: value`` lines (they stop at the first other line)."""
    options = {}
    for line in body.splitlines():
        match = OPTION.match(line)
        if not match:
            break
        options[match["key"]] = match["value"].strip()
    return options


def alt_problem(alt: str | None, *names: str) -> str | None:
    """Why `alt` is not a real description (None when it is fine)."""
    if alt is None:
        return "has no alt text"
    text = alt.strip()
    if not text:
        return "has an empty alt text"
    if PATH_LIKE.search(text) or text in names:
        return f"has an alt text that is a path or a name, not a description: {text!r}"
    if len(text.split()) < MIN_WORDS:
        return f"has an alt text too short to describe the figure: {text!r}"
    return None


def markdown_figures(text: str) -> list[tuple[str, str, str | None]]:
    """(glue name, figure label, alt) of every {glue:figure} directive in `text`."""
    found = []
    for match in GLUE_FIGURE.finditer(text):
        options = _options(match["body"])
        found.append((match["name"], options.get("name", ""), options.get("alt")))
    return found


def _is_glued(output: dict) -> bool:
    """A glue record (myst-nb/scrapbook) is shown only where a {glue:…} directive places it."""
    data = output.get("data", {})
    meta = output.get("metadata", {})
    return "scrapbook" in meta or all(key.startswith("application/papermill.record/") for key in data)


def notebook_figures(nb: dict) -> tuple[dict[str, str | None], list[str]]:
    """Alt texts of a notebook's figures keyed by figure, and the problems found.

    Keys: the glue name of each {glue:figure}; ``cell <i>`` for a code cell showing an image.
    """
    alts: dict[str, str | None] = {}
    problems = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            for name, label, alt in markdown_figures(_source(cell)):
                alts[name] = alt
                problem = alt_problem(alt, name, label)
                if problem:
                    problems.append(f"cell {index}: {{glue:figure}} {name} {problem}")
        elif cell["cell_type"] == "code":
            shows_image = any(
                any(IMAGE_MIME.match(key) for key in output.get("data", {})) and not _is_glued(output)
                for output in cell.get("outputs", [])
            )
            if shows_image:
                alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
                alts[f"cell {index}"] = alt
                problem = alt_problem(alt)
                if problem:
                    problems.append(f"cell {index}: code cell with an image output {problem} "
                                    '(set metadata "mystnb": {"image": {"alt": "…"}})')
    return alts, problems


def _notebooks(lang: str) -> list[Path]:
    return sorted((BOOK_DIR / lang).glob("*.ipynb"))


@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_has_alt_text(lang):
    problems = []
    for path in _notebooks(lang):
        _, found = notebook_figures(json.loads(path.read_text(encoding="utf-8")))
        problems += [f"{path.relative_to(BOOK_DIR)}: {p}" for p in found]
    for path in sorted((BOOK_DIR / lang).glob("*.md")):
        for name, label, alt in markdown_figures(path.read_text(encoding="utf-8")):
            problem = alt_problem(alt, name, label)
            if problem:
                problems.append(f"{path.relative_to(BOOK_DIR)}: {{glue:figure}} {name} {problem}")
    assert not problems, "figures without a real alt text:\n" + "\n".join(problems)


def test_book_has_figures():
    """Guard against a silently empty check (a changed directive syntax, a moved book)."""
    count = sum(len(notebook_figures(json.loads(p.read_text(encoding="utf-8")))[0]) for p in _notebooks("pt"))
    assert count >= 10, f"only {count} figures found in book/pt: is the pattern still right?"


@pytest.mark.parametrize("slug", translation.twin_slugs(BOOK_DIR))
def test_twins_describe_their_figures_in_their_language(slug):
    pt, _ = notebook_figures(json.loads((BOOK_DIR / "pt" / f"{slug}.ipynb").read_text(encoding="utf-8")))
    en, _ = notebook_figures(json.loads((BOOK_DIR / "en" / f"{slug}.ipynb").read_text(encoding="utf-8")))
    assert set(pt) == set(en), f"{slug}: the twins show different figures: {sorted(set(pt) ^ set(en))}"
    same = [key for key in pt if pt[key] is not None and pt[key] == en[key]]
    assert not same, f"{slug}: alt text not translated (identical in pt and en) for {same}"


# --------------------------------------------------------------------------- the check can fail

def _planted(markdown: str, outputs: list | None = None, metadata: dict | None = None) -> dict:
    code = {"cell_type": "code", "source": "fig", "metadata": metadata or {}, "outputs": outputs or [],
            "execution_count": 1}
    return {"cells": [{"cell_type": "markdown", "source": markdown, "metadata": {}}, code]}


def test_check_catches_planted_problems():
    no_alt = "```{glue:figure} fig_x\n:name: fig-x\n\nCaption.\n```\n"
    path_alt = "```{glue:figure} fig_x\n:name: fig-x\n:alt: figures/fig_x.png\n\nCaption.\n```\n"
    name_alt = "```{glue:figure} fig_x\n:name: fig-x\n:alt: fig_x\n\nCaption.\n```\n"
    good = ("```{glue:figure} fig_x\n:name: fig-x\n:alt: The ELBO against the step, rising to a plateau "
            "below log p(x).\n\nCaption.\n```\n")
    for text in (no_alt, path_alt, name_alt):
        assert notebook_figures(_planted(text))[1], text
    assert not notebook_figures(_planted(good))[1]

    image = [{"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"},
              "metadata": {}}]
    glued = [{"output_type": "display_data", "metadata": {"scrapbook": {"name": "fig_x"}},
              "data": {"application/papermill.record/image/png": "iVBOR",
                       "application/papermill.record/text/plain": "<Figure>"}}]
    assert notebook_figures(_planted(good, image))[1]  # a direct image without metadata
    described = {"mystnb": {"image": {"alt": "Two histograms of the score, the held-out class to the right."}}}
    assert not notebook_figures(_planted(good, image, described))[1]
    assert not notebook_figures(_planted(good, glued))[1]  # glued: described where it is placed
