"""The Colab install cell: first code cell of every notebook, hidden on the site, a no-op
outside Colab, and installing from the one repository address (repository.url of
_config.yml, also used by the site's launch and repository buttons).
"""
from __future__ import annotations

import json
import sys
import types

import pytest
from IPython.core.interactiveshell import InteractiveShell

import build_book

COLAB_CELL = (
    'import sys\n'
    'if "google.colab" in sys.modules:  # Colab only: install the course package\n'
    '    %pip install -q "vae_support @ git+{url}"'
)


def first_code_cell(path) -> dict:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return next(cell for cell in nb["cells"] if cell["cell_type"] == "code")


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def run_in_ipython(code: str, monkeypatch) -> list[tuple[str, str]]:
    """Runs a cell in a real IPython shell; returns the line magics it called (not executed)."""
    shell = InteractiveShell.instance()
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(shell, "run_line_magic", lambda name, line, *a, **k: calls.append((name, line)))
    result = shell.run_cell(code, store_history=False)
    assert result.success, f"the cell raised {result.error_in_exec or result.error_before_exec!r}"
    return calls


def test_config_has_one_repository_url():
    """The English config inherits the address; it is not set twice."""
    url = build_book.repository_url()
    assert url.startswith("https://github.com/"), url
    assert build_book.load_config("en")["repository"]["url"] == url
    en_override = (build_book.ROOT / "_config.en.yml").read_text(encoding="utf-8")
    assert "url:" not in en_override, "_config.en.yml must not repeat repository.url"


def test_colab_cell(notebook_path, monkeypatch):
    """First code cell: tagged remove-cell, the repository's URL, no-op here, pip on Colab."""
    cell = first_code_cell(notebook_path)
    url = build_book.repository_url()
    assert "remove-cell" in cell.get("metadata", {}).get("tags", []), "the Colab cell is not tagged remove-cell"
    assert source(cell).strip() == COLAB_CELL.format(url=url), (
        f"{notebook_path.name}: the first code cell is not the Colab install cell of CONTRIBUTING.md "
        f"for repository.url = {url}"
    )
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert run_in_ipython(source(cell), monkeypatch) == [], "the cell does something outside Colab"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    calls = run_in_ipython(source(cell), monkeypatch)
    assert calls == [("pip", f'install -q "vae_support @ git+{url}"')]


def test_colab_cell_checks_can_fail(monkeypatch):
    """A cell that installs unconditionally is caught."""
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert run_in_ipython('%pip install -q "x"', monkeypatch) == [("pip", 'install -q "x"')]
    with pytest.raises(AssertionError):
        run_in_ipython("raise RuntimeError('no')", monkeypatch)
