"""The Portuguese prose uses the glossary's terms (issue 16, item 10).

The forbidden forms and the prescribed ones live in one place: the table of section
"Formas prescritas" of ``book/pt/notation.md`` (columns: avoid | write | why). This test reads
that table and scans the Portuguese prose — the markdown cells of ``book/pt/*.ipynb`` and the
pages ``book/pt/*.md`` — for any form of the first column.

Not prose, and not scanned: inline code and roles' targets (`` `…` ``), display math, literal
quotations of the source notes ("…", “…”), and an English term in italics inside parentheses at
its first use ("bits livres (*free bits*)"). In ``notation.md`` the glossary's English column and
the table of prescribed forms itself are skipped.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from conftest import BOOK_DIR

NOTATION = BOOK_DIR / "pt" / "notation.md"
TABLE_HEADING = "## Formas prescritas"
LETTER = r"A-Za-zÀ-ÖØ-öø-ÿ0-9"


def prescribed_forms(notation: Path = NOTATION) -> list[tuple[str, str]]:
    """(forbidden form, prescribed forms) from the table of section "Formas prescritas"."""
    text = notation.read_text(encoding="utf-8")
    assert TABLE_HEADING in text, f"{notation}: no section {TABLE_HEADING!r}"
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    forms = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|") or set(cells[0]) <= set("-: "):
            continue
        if cells[0].lower() == "evite":
            continue
        avoid = [form.strip() for form in cells[0].split(",") if form.strip()]
        write = [form.strip() for form in cells[1].split(",") if form.strip()]
        paired = len(write) == len(avoid)  # "a, b | x, y": a -> x, b -> y
        forms += [(form, write[i] if paired else cells[1]) for i, form in enumerate(avoid)]
    return forms


FORMS = prescribed_forms()


def _pattern(form: str) -> re.Pattern:
    words = r"\s+".join(re.escape(word) for word in form.split())
    return re.compile(rf"(?<![{LETTER}]){words}(?![{LETTER}])", flags=re.IGNORECASE)


PATTERNS = [(form, prescribed, _pattern(form)) for form, prescribed in FORMS]


def prose(text: str) -> str:
    """`text` with what is not Portuguese prose blanked out (lengths kept, so lines still count)."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))  # noqa: E731
    text = re.sub(r"^(```+|:::+)\s*\{math\}.*?^\1\s*$", blank, text, flags=re.M | re.S)  # display math
    text = re.sub(r"^(```+)(?!\s*\{).*?^\1\s*$", blank, text, flags=re.M | re.S)  # code blocks
    text = re.sub(r"`[^`\n]*`", blank, text)  # inline code, roles' targets
    text = re.sub(r'"[^"\n]*(?:\n[^"\n]*){0,3}"', blank, text)  # "quotations" (up to 4 lines)
    text = re.sub(r"“[^”]*”", blank, text)
    text = re.sub(r"\([^()]*\)", lambda m: re.sub(r"(?<!\*)\*[^*\n]+\*(?!\*)", blank, m.group(0)),
                  text)  # (… *English term* …) at first use
    text = re.sub(r"\$\\mathrm\{KL\}", " KL", text)  # the article before $\mathrm{KL}…$ counts
    return text


def notation_prose(text: str) -> str:
    """notation.md without the prescribed-forms section and the glossary's English column."""
    text = text.split(TABLE_HEADING, 1)[0]
    head, sep, glossary = text.partition("## Glossário")
    rows = []
    for line in glossary.splitlines():
        if line.startswith("|"):
            cells = line.strip("|").split("|")
            line = "| " + cells[0] + " |"
        rows.append(line)
    return head + sep + "\n".join(rows)


def violations(text: str, where: str) -> list[str]:
    """One message per forbidden form found in `text`: where, the form, what to write instead."""
    found = []
    clean = prose(text)
    for form, prescribed, pattern in PATTERNS:
        for match in pattern.finditer(clean):
            line = clean.count("\n", 0, match.start()) + 1
            found.append(f"{where}, line {line}: {clean[match.start():match.end()]!r} — write {prescribed!r} "
                         f"(forbidden form {form!r}, glossary: book/pt/notation.md)")
    return found


def portuguese_cells(cell_type: str) -> list[tuple[str, int, str]]:
    """(notebook name, cell index, source) of every cell of ``cell_type`` in the Portuguese chapters."""
    cells = []
    for path in sorted((BOOK_DIR / "pt").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == cell_type:
                src = cell["source"]
                cells.append((path.name, index, "".join(src) if isinstance(src, list) else src))
    return cells


def portuguese_prose() -> list[tuple[str, str]]:
    """(where, text) of every piece of Portuguese prose in the book."""
    pieces = [(f"pt/{name} (cell {index})", src) for name, index, src in portuguese_cells("markdown")]
    for path in sorted((BOOK_DIR / "pt").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        pieces.append((f"pt/{path.name}", notation_prose(text) if path.name == "notation.md" else text))
    return pieces


def test_table_lists_the_forms_of_issue_16():
    forms = {form.lower() for form, _ in FORMS}
    for needed in ("expectativa", "colapso posterior", "o KL", "free bits", "baseline", "são precisas",
                   "tirando fotos"):
        assert needed.lower() in forms, f"book/pt/notation.md, {TABLE_HEADING}: {needed!r} is missing"


def test_prescribed_forms_are_in_the_glossary():
    """Each prescribed term is a term of the glossary (or of the conventions) in notation.md."""
    text = NOTATION.read_text(encoding="utf-8").split(TABLE_HEADING, 1)[0]
    for term in ("esperança", "colapso da posterior", "bits livres", "linha de base", "instantâneo",
                 "aquecimento da KL"):
        assert term in text, f"book/pt/notation.md: the glossary does not list {term!r}"


@pytest.mark.parametrize("where, text", portuguese_prose(), ids=lambda value: value if "/" in value else "")
def test_portuguese_prose_follows_the_glossary(where, text):
    problems = violations(text, where)
    assert not problems, "\n".join(problems)


def test_the_check_can_fail():
    planted = ("A expectativa sob $q$ é o ELBO; o $\\mathrm{KL}_2$ medido cai e o colapso\nposterior "
               "aparece. Com *free bits* e um baseline, são precisas menos amostras, tirando fotos.")
    found = violations(planted, "planted")
    forms = " ".join(found)
    for form in ("expectativa", "o KL", "colapso posterior", "free bits", "baseline", "são precisas",
                 "tirando fotos"):
        assert f"forbidden form {form!r}" in forms, (form, found)
    assert all("write " in message and "planted, line" in message for message in found)

    allowed = ('A esperança sob $q$; a KL e o termo KL; o colapso da posterior; bits livres '
               '(*free bits*) e uma linha de base (*baseline*); as notas dizem "expectativa"; '
               "{glue:text}`opt_ratio_baseline:.3g`.")
    assert violations(allowed, "allowed") == []


# --------------------------------------------------------------- text drawn on Portuguese figures
def _strings(node: ast.AST) -> list[str]:
    """The literal text inside an expression: string constants and the fixed parts of f-strings (not dict keys)."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.Dict):
        return [text for value in node.values for text in _strings(value)]
    return [text for child in ast.iter_child_nodes(node) for text in _strings(child)]


def portuguese_figure_strings(source: str) -> list[str]:
    """Portuguese text that code draws: the pt argument of ``tr(lang, pt, en)`` and ``{"pt": …}`` values."""
    code = "\n".join(line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())  # IPython magics (the Colab cell's %pip) are not Python
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "tr" \
                and len(node.args) >= 2:
            found += _strings(node.args[1])
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "pt":
                    found += _strings(value)
    return found


def portuguese_figure_text() -> list[tuple[str, str]]:
    """(where, text) of the Portuguese text of the figures: pt notebooks' code cells and the package."""
    pieces = []
    for name, index, src in portuguese_cells("code"):
        strings = portuguese_figure_strings(src)
        if strings:
            pieces.append((f"pt/{name} (code cell {index})", "\n".join(strings)))
    for path in sorted((BOOK_DIR.parent / "vae_support").rglob("*.py")):
        strings = portuguese_figure_strings(path.read_text(encoding="utf-8"))
        if strings:
            pieces.append((str(path.relative_to(BOOK_DIR.parent)), "\n".join(strings)))
    return pieces


@pytest.mark.parametrize("where, text", [pytest.param(where, text, id=where) for where, text in portuguese_figure_text()])
def test_portuguese_figure_text_follows_the_glossary(where, text):
    problems = violations(text, where)
    assert not problems, "\n".join(problems)


def test_the_figure_text_check_can_fail():
    cell = ('labels = {"pt": {"skip": "+ skip connection"}, "en": {"skip": "+ skip"}}\n'
            'ax.set_title(tr(LANG, f"com warm-up de {n} épocas", "with a warm-up"))\n'
            'print("free bits")  # printed output, not figure text\n')
    strings = portuguese_figure_strings(cell)
    assert strings == ["+ skip connection", "com warm-up de ", " épocas"]
    forms = " ".join(violations("\n".join(strings), "planted"))
    assert "forbidden form 'skip connection'" in forms and "forbidden form 'warm-up'" in forms
    assert "free bits" not in forms
