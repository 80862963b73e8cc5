"""The Colab install cell and the one repository address.

The first code cell of every notebook (chapters of both languages, assignment sources) is
hidden on the site, does nothing outside Colab, and on Colab installs ``vae_support`` with the
extras that notebook imports, from ``repository.url`` of ``_config.yml`` — never torch or
numpy. ``scripts/repository.py set URL`` moves the address everywhere at once.
"""
from __future__ import annotations

import json
import shutil
import sys
import types

import pytest
from IPython.core.interactiveshell import InteractiveShell

import build_book
import repository  # scripts/repository.py
import translation


def run_in_ipython(code: str, monkeypatch) -> list[tuple[str, str]]:
    """Runs a cell in a real IPython shell; returns the line magics it called (not executed)."""
    shell = InteractiveShell.instance()
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(shell, "run_line_magic", lambda name, line, *a, **k: calls.append((name, line)))
    result = shell.run_cell(code, store_history=False)
    assert result.success, f"the cell raised {result.error_in_exec or result.error_before_exec!r}"
    return calls


def test_config_has_one_repository_url():
    """The English config inherits the address; it is not set twice; both scripts read the same."""
    url = build_book.repository_url()
    assert url == repository.repository_url()
    assert url.startswith("https://github.com/"), url
    assert build_book.load_config("en")["repository"]["url"] == url
    en_override = (build_book.ROOT / "_config.en.yml").read_text(encoding="utf-8")
    assert "url:" not in en_override, "_config.en.yml must not repeat repository.url"


def test_every_place_agrees():
    """README, CONTRIBUTING and every notebook's Colab cell use the address of _config.yml."""
    assert repository.disagreements() == []


@pytest.mark.parametrize("path", repository.notebook_paths(), ids=lambda p: p.relative_to(repository.ROOT).as_posix())
def test_colab_cell(path, monkeypatch):
    """First code cell: tagged remove-cell, a no-op here, on Colab one pip install of the package."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = repository.first_code_cell(nb)
    url = repository.repository_url()
    assert "remove-cell" in cell.get("metadata", {}).get("tags", []), "the Colab cell is not tagged remove-cell"
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert run_in_ipython(translation.cell_source(cell), monkeypatch) == [], "the cell does something outside Colab"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    calls = run_in_ipython(translation.cell_source(cell), monkeypatch)
    extras = repository.notebook_extras(nb)
    assert calls == [("pip", f'install -q "{repository.requirement(url, extras)}"')]
    line = calls[0][1]
    for kept in ("torch", "numpy", "--upgrade", "-U ", "--force-reinstall"):
        assert kept not in line, f"the Colab cell must leave Colab's {kept} alone: {line}"


def test_extras_follow_the_imports():
    """A notebook that imports the widgets gets the widgets extra; otter gets the assignments extra."""
    def nb(*lines):
        return {"cells": [{"cell_type": "code", "source": "\n".join(lines)}]}

    assert repository.notebook_extras(nb("import torch", "from vae_support.kl import gaussian_kl")) == []
    assert repository.notebook_extras(nb("from vae_support.widgets import q_explorer")) == ["widgets"]
    assert repository.notebook_extras(nb("import otter", "import vae_support.widgets")) == ["assignments", "widgets"]
    assert repository.requirement("https://github.com/a/b", ["widgets"]) == "vae_support[widgets] @ git+https://github.com/a/b"
    with pytest.raises(ValueError, match="url"):
        repository.requirement("github.com/a/b", [])


@pytest.fixture
def repo_copy(tmp_path):
    """The files that name the address, copied into a throwaway tree."""
    root = repository.ROOT
    for name in (repository.CONFIG, *repository.TEXT_FILES):
        shutil.copy(root / name, tmp_path / name)
    for path in repository.notebook_paths(root):
        dest = tmp_path / path.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
    return tmp_path


def test_set_url_moves_every_place(repo_copy):
    """One command writes a new address everywhere; the check then passes and twins stay fresh."""
    new = "https://github.com/someone/elbo-vae-geometry"
    fresh_before = repository._fresh_twins(repo_copy)
    changed = repository.set_url(new, repo_copy)
    assert repository.repository_url(repo_copy) == new
    assert repository.disagreements(repo_copy) == []
    assert len(changed) == 3 + len(repository.notebook_paths(repo_copy))  # config, README, CONTRIBUTING, notebooks
    book = repo_copy / "book"
    assert [s for s in translation.twin_slugs(book) if translation.status(s, book) == "current"] == fresh_before
    for path in repository.notebook_paths(repo_copy):
        assert new in path.read_text(encoding="utf-8")


def test_check_finds_a_stale_address(repo_copy):
    """The check can fail: a README left with an old address is reported."""
    readme = repo_copy / "README.md"
    url = repository.repository_url(repo_copy)
    readme.write_text(readme.read_text(encoding="utf-8").replace(url, "https://github.com/old/elbo-vae-geometry"),
                      encoding="utf-8")
    assert any(p.startswith("README.md") for p in repository.disagreements(repo_copy))
    with pytest.raises(ValueError, match="url"):
        repository.set_url("not an address", repo_copy)
