"""The two languages never drift apart.

For every chapter: the same slugs in book/pt and book/en; the same cells (types, order,
tags); code identical once comments are removed, except the single `LANG = "pt"` / `"en"`
line; identical display-math blocks (up to the words inside \\text{…}) and labels; the same
glue names; and the English
notebook records the Portuguese revision it translates (scripts/translation.py stamp) —
stale or unstamped twins are reported.
"""
from __future__ import annotations

import io
import json
import re
import tokenize

import pytest
from IPython.core.inputtransformer2 import TransformerManager

import translation
from conftest import BOOK_DIR

LANG_LINE = re.compile(r'^LANG = "(pt|en)"\s*(#.*)?$', flags=re.M)
DIRECTIVE = re.compile(r"^(?P<fence>```+|:::+)\s*\{(?P<name>[\w:-]+)\}(?P<arg>[^\n]*)\n(?P<body>.*?)^(?P=fence)\s*$",
                       flags=re.M | re.S)
DOLLAR_BLOCK = re.compile(r"\$\$(?P<body>.+?)\$\$(?:[ \t]*\((?P<label>[^)\s]+)\))?", flags=re.S)
LABEL_OPTION = re.compile(r"^:label:\s*(\S+)", flags=re.M)
TARGET = re.compile(r"^\(([\w:.-]+)\)=\s*$", flags=re.M)
GLUE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)")
TEX_TEXT = re.compile(r"\\(text|textrm|textit|textbf|mbox)\{[^{}]*\}")  # prose inside math: translated
AMS_ENV = re.compile(r"\\begin\{(equation|align|gather|multline)\*?\}.*?\\end\{\1\*?\}", flags=re.S)


def _load(lang: str, slug: str) -> dict:
    return json.loads((BOOK_DIR / lang / f"{slug}.ipynb").read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def code_tokens(source: str) -> list[tuple[int, str]]:
    """The code's tokens without comments and blank lines (IPython magics made Python first)."""
    python = TransformerManager().transform_cell(source)
    drop = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
    tokens = tokenize.generate_tokens(io.StringIO(python).readline)
    return [(tok.type, tok.string) for tok in tokens if tok.type not in drop]


def neutral_code(source: str, lang: str) -> tuple[list[tuple[int, str]], int]:
    """Tokens with the `LANG = "<lang>"` literal neutralized, and how many such lines there were."""
    count = 0

    def neutral(match):
        nonlocal count
        assert match.group(1) == lang, f'a {lang} notebook says LANG = "{match.group(1)}"'
        count += 1
        return 'LANG = "??"'

    return code_tokens(LANG_LINE.sub(neutral, source)), count


def display_math(markdown: str) -> list[tuple[str | None, str]]:
    """(label, normalized TeX) of every display-math block: {math} directives, $$…$$, amsmath.

    Whitespace is normalized and the words inside ``\\text{…}`` (prose set inside an
    equation, e.g. "reconstrução" / "reconstruction") are left out: the math itself must match.
    """
    blocks = []
    for m in DIRECTIVE.finditer(markdown):
        if m.group("name") == "math":
            body = m.group("body")
            label = LABEL_OPTION.search(body)
            tex = "\n".join(line for line in body.splitlines() if not line.startswith(":"))
            blocks.append((label.group(1) if label else None, tex))
    stripped = DIRECTIVE.sub(lambda m: "" if m.group("name") == "math" else m.group(0), markdown)
    for m in DOLLAR_BLOCK.finditer(stripped):
        blocks.append((m.group("label"), m.group("body")))
    stripped = DOLLAR_BLOCK.sub("", stripped)
    for m in AMS_ENV.finditer(stripped):
        blocks.append((None, m.group(0)))
    return [(label, " ".join(TEX_TEXT.sub(r"\\\1{…}", tex).split())) for label, tex in blocks]


def labels(markdown: str) -> list[str]:
    """Every label a chapter defines: directive :label: options and (target)= lines."""
    return LABEL_OPTION.findall(markdown) + TARGET.findall(markdown)


# --------------------------------------------------------------------------- tests
def page_names(lang: str) -> set[str]:
    folder = BOOK_DIR / lang
    return {p.stem for p in folder.iterdir() if p.suffix in (".ipynb", ".md")} if folder.is_dir() else set()


def test_same_slugs():
    """Every page exists in both languages (same file names)."""
    pt, en = page_names("pt"), page_names("en")
    assert pt == en, f"only in pt: {sorted(pt - en)}; only in en: {sorted(en - pt)}"
    for stem in pt:
        suffixes = {lang: sorted(p.suffix for p in (BOOK_DIR / lang).glob(f"{stem}.*")) for lang in ("pt", "en")}
        assert suffixes["pt"] == suffixes["en"], f"{stem}: {suffixes}"


def test_same_cells(twin_slug):
    """Same cell types and tags, in the same order."""
    pt, en = _load("pt", twin_slug), _load("en", twin_slug)
    shape = [(c["cell_type"], sorted(c.get("metadata", {}).get("tags", []))) for c in pt["cells"]]
    twin = [(c["cell_type"], sorted(c.get("metadata", {}).get("tags", []))) for c in en["cells"]]
    assert len(shape) == len(twin), f"{twin_slug}: {len(shape)} cells in pt, {len(twin)} in en"
    diffs = [f"cell {i}: pt {a} / en {b}" for i, (a, b) in enumerate(zip(shape, twin)) if a != b]
    assert not diffs, f"{twin_slug}: " + "; ".join(diffs)


def test_same_code(twin_slug):
    """Code cells identical once comments are removed, except the one LANG line."""
    pt, en = _load("pt", twin_slug), _load("en", twin_slug)
    lang_lines = {"pt": 0, "en": 0}
    diffs = []
    for i, (a, b) in enumerate(zip(pt["cells"], en["cells"])):
        if a["cell_type"] != "code" or b["cell_type"] != "code":
            continue
        tokens_pt, n_pt = neutral_code(_source(a), "pt")
        tokens_en, n_en = neutral_code(_source(b), "en")
        lang_lines["pt"] += n_pt
        lang_lines["en"] += n_en
        if tokens_pt != tokens_en:
            first = next(j for j, (x, y) in enumerate(zip(tokens_pt + [None], tokens_en + [None])) if x != y)
            diffs.append(f"cell {i}: differs at token {first} "
                         f"(pt {tokens_pt[first:first + 3]} / en {tokens_en[first:first + 3]})")
    assert not diffs, f"{twin_slug}: " + "; ".join(diffs)
    assert lang_lines == {"pt": 1, "en": 1}, f'{twin_slug}: expected one LANG = "…" line each, got {lang_lines}'


def test_same_math_and_labels(twin_slug):
    """Display math (TeX and labels), defined labels and glue names are identical."""
    pt, en = _load("pt", twin_slug), _load("en", twin_slug)
    for i, (a, b) in enumerate(zip(pt["cells"], en["cells"])):
        if a["cell_type"] != "markdown" or b["cell_type"] != "markdown":
            continue
        md_pt, md_en = _source(a), _source(b)
        assert display_math(md_pt) == display_math(md_en), f"{twin_slug} cell {i}: display math differs"
        assert labels(md_pt) == labels(md_en), f"{twin_slug} cell {i}: labels {labels(md_pt)} / {labels(md_en)}"
        assert GLUE.findall(md_pt) == GLUE.findall(md_en), f"{twin_slug} cell {i}: glue names differ"


def test_markdown_pages_same_labels():
    """Plain-MyST pages (notation, errata, …) define the same labels and display math."""
    for page in sorted((BOOK_DIR / "pt").glob("*.md")):
        twin = BOOK_DIR / "en" / page.name
        if not twin.is_file():
            continue  # reported by test_same_slugs
        a, b = page.read_text(encoding="utf-8"), twin.read_text(encoding="utf-8")
        assert labels(a) == labels(b), f"{page.name}: labels differ"
        assert display_math(a) == display_math(b), f"{page.name}: display math differs"


def test_translation_is_current():
    """Each English notebook records the current Portuguese revision (scripts/translation.py)."""
    states = {slug: translation.status(slug, BOOK_DIR) for slug in translation.twin_slugs(BOOK_DIR)}
    stale = {slug: state for slug, state in states.items() if state != "current"}
    assert not stale, (
        "English twins not matching their Portuguese source (update the translation, then "
        "`.venv/bin/python scripts/translation.py stamp <slug>`): "
        + ", ".join(f"{slug} ({state})" for slug, state in sorted(stale.items()))
    )


# --------------------------------------------------------------------------- the checks themselves
def test_display_math_extraction():
    md = ("Intro $a$.\n\n```{math}\n:label: eq-a\n\\log p(x)\n```\n\n$$\nx^2\n$$ (eq-b)\n\n"
          "```{prf:proof}\n$$ y $$\n```\n\n\\begin{align} a &= b \\end{align}\n")
    assert display_math(md) == [("eq-a", "\\log p(x)"), ("eq-b", "x^2"), (None, "y"),
                                (None, "\\begin{align} a &= b \\end{align}")]
    assert display_math("$$a_{\\text{rec}}$$") == display_math("$$a_{\\text{reconstrução}}$$")
    assert display_math("$$a_{\\text{rec}}$$") != display_math("$$b_{\\text{rec}}$$")
    assert labels("```{exercise}\n:label: ex-one\n```\n(sec-a)=\n# A") == ["ex-one", "sec-a"]


def test_code_comparison_ignores_only_comments_and_lang():
    pt = 'LANG = "pt"  # língua\nx = 1  # um\n%pip install -q "a"\n'
    en = 'LANG = "en"  # language\n\nx = 1\n%pip install -q "a"\n'
    assert neutral_code(pt, "pt") == neutral_code(en, "en")
    assert neutral_code('print("olá")', "pt")[0] != neutral_code('print("hello")', "en")[0]
    with pytest.raises(AssertionError):
        neutral_code('LANG = "en"', "pt")


def test_stamp_and_staleness(tmp_path):
    """translation.py: unstamped -> stamp -> current -> pt edited -> stale."""
    for lang in ("pt", "en"):
        (tmp_path / lang).mkdir()
        nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": [f"# {lang}"]}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (tmp_path / lang / "demo.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert translation.status("demo", tmp_path) == "unstamped"
    translation.stamp("demo", tmp_path)
    assert translation.status("demo", tmp_path) == "current"
    src = json.loads((tmp_path / "pt" / "demo.ipynb").read_text(encoding="utf-8"))
    src["cells"][0]["outputs"] = []  # outputs do not count...
    (tmp_path / "pt" / "demo.ipynb").write_text(json.dumps(src), encoding="utf-8")
    assert translation.status("demo", tmp_path) == "current"
    src["cells"][0]["source"] = ["# pt, revisto"]  # ...the text does
    (tmp_path / "pt" / "demo.ipynb").write_text(json.dumps(src), encoding="utf-8")
    assert translation.status("demo", tmp_path) == "stale"
    with pytest.raises(ValueError, match="slug"):
        translation.notebook_path("demo.ipynb", "pt")


PAREN_EQ = re.compile(r"\(\{eq\}`[^`]+`\)")


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_equation_references_are_not_wrapped_in_parentheses(lang):
    """{eq} already renders "(3.1)": writing ({eq}`…`) shows "((3.1))" on the site."""
    found = []
    for path in sorted((BOOK_DIR / lang).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        texts = [_source(c) for c in cells if c["cell_type"] == "markdown"]
        found += [f"{path.name}: {m}" for text in texts for m in PAREN_EQ.findall(text)]
    for path in sorted((BOOK_DIR / lang).glob("*.md")):
        found += [f"{path.name}: {m}" for m in PAREN_EQ.findall(path.read_text(encoding="utf-8"))]
    assert not found, found
