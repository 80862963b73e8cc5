"""The course's one repository address, and the Colab install cell that uses it.

The address lives in ``repository.url`` of ``_config.yml`` (the site's Colab, Binder and
repository buttons read it there). It also appears in every notebook's first code cell (the
Colab install cell), in README.md and in CONTRIBUTING.md. This script keeps them equal::

    .venv/bin/python scripts/repository.py show          # the address in _config.yml
    .venv/bin/python scripts/repository.py check         # lists every place that disagrees; exit 1 if any
    .venv/bin/python scripts/repository.py set URL       # writes URL everywhere, rewrites the Colab cells
    .venv/bin/python scripts/repository.py cells         # rewrites every Colab cell for the current address
                                                         # (after adding a notebook or an import of widgets)

The Colab cell installs ``vae_support`` from the repository with the extras that notebook
imports (``widgets`` for ``vae_support.widgets``, ``assignments`` for otter), and nothing else:
it never installs, upgrades or pins torch or numpy, so Colab keeps its own. Outside Colab it
does nothing.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import translation  # noqa: E402  (scripts/translation.py)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "_config.yml"
URL_PATTERN = r"https://github\.com/[\w.-]+/[\w.-]+"
_CONFIG_URL_LINE = re.compile(rf"^(  url: )({URL_PATTERN})\s*$", re.M)
#: the other text files that name the address (README's address, CONTRIBUTING's cell)
TEXT_FILES = ("README.md", "CONTRIBUTING.md")

COLAB_CELL = (
    "import sys\n"
    'if "google.colab" in sys.modules:  # Colab only: install the course package (Colab keeps its own torch)\n'
    '    %pip install -q "{requirement}"'
)
#: import that needs an extra of the package -> that extra (pyproject.toml's optional-dependencies)
EXTRA_OF_IMPORT = {"vae_support.widgets": "widgets", "ipywidgets": "widgets", "otter": "assignments"}


def notebook_paths(root: Path = ROOT) -> list[Path]:
    """Every notebook readers run: the chapters of both languages and the assignment sources."""
    book = root / "book"
    chapters = sorted(book.glob("pt/*.ipynb")) + sorted(book.glob("en/*.ipynb"))
    return chapters + sorted(book.glob("assignments/source/*/*.ipynb"))


def repository_url(root: Path = ROOT) -> str:
    """The address in ``repository.url`` of ``_config.yml``."""
    match = _CONFIG_URL_LINE.search((root / CONFIG).read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"{CONFIG}: no 'repository: url: https://github.com/OWNER/NAME' line")
    return match.group(2)


def imported_modules(nb: dict) -> set[str]:
    """Dotted names imported by a notebook's code cells (``import a.b``, ``from a.b import c``)."""
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for line in translation.cell_source(cell).splitlines():
            match = re.match(r"\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w.]+))", line)
            if match:
                names.add(match.group(1) or match.group(2))
    return names


def notebook_extras(nb: dict) -> list[str]:
    """The package extras a notebook needs, from what it imports (sorted)."""
    extras = set()
    for name in imported_modules(nb):
        for module, extra in EXTRA_OF_IMPORT.items():
            if name == module or name.startswith(module + "."):
                extras.add(extra)
    return sorted(extras)


def requirement(url: str, extras: list[str]) -> str:
    """The pip requirement of the Colab cell: ``vae_support[extras] @ git+URL``."""
    if not re.fullmatch(URL_PATTERN, url):
        raise ValueError(f"url: expected https://github.com/OWNER/NAME, got {url!r}")
    name = f"vae_support[{','.join(extras)}]" if extras else "vae_support"
    return f"{name} @ git+{url}"


def colab_cell(url: str, extras: list[str]) -> str:
    """The whole text of the Colab install cell for ``url`` and ``extras``."""
    return COLAB_CELL.format(requirement=requirement(url, extras))


def first_code_cell(nb: dict) -> dict:
    return next(cell for cell in nb["cells"] if cell["cell_type"] == "code")


def expected_cell(nb: dict, url: str) -> str:
    return colab_cell(url, notebook_extras(nb))


def _fresh_twins(root: Path) -> list[str]:
    """Slugs whose English twin is stamped with the current Portuguese revision."""
    book = root / "book"
    return [slug for slug in translation.twin_slugs(book) if translation.status(slug, book) == "current"]


def rewrite_cells(url: str, root: Path = ROOT) -> list[Path]:
    """Makes every notebook's first code cell the Colab cell for ``url``; returns the changed paths.

    A twin that was up to date stays up to date: the Colab cell is not translated prose.
    """
    fresh = _fresh_twins(root)
    changed = []
    for path in notebook_paths(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = first_code_cell(nb)
        want = expected_cell(nb, url)
        if translation.cell_source(cell).strip() != want:
            if "google.colab" not in translation.cell_source(cell):
                raise ValueError(f"{path}: the first code cell is not a Colab install cell; add one by hand first")
            cell["source"] = want.splitlines(keepends=True)
            cell.setdefault("metadata", {}).setdefault("tags", [])
            if "remove-cell" not in cell["metadata"]["tags"]:
                cell["metadata"]["tags"].append("remove-cell")
            translation.write_notebook(path, nb)
            changed.append(path)
    for slug in fresh:
        if translation.status(slug, root / "book") != "current":
            translation.stamp(slug, root / "book")
    return changed


def set_url(url: str, root: Path = ROOT) -> list[Path]:
    """Writes ``url`` into _config.yml, README.md, CONTRIBUTING.md and every Colab cell."""
    requirement(url, [])  # validates the address
    old = repository_url(root)
    changed = []
    config = root / CONFIG
    text = config.read_text(encoding="utf-8")
    new = _CONFIG_URL_LINE.sub(lambda m: m.group(1) + url, text, count=1)
    if new != text:
        config.write_text(new, encoding="utf-8")
        changed.append(config)
    for name in TEXT_FILES:
        path = root / name
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, url), encoding="utf-8")
            changed.append(path)
    return changed + rewrite_cells(url, root)


def disagreements(root: Path = ROOT) -> list[str]:
    """Every place whose address or Colab cell disagrees with ``_config.yml``."""
    url = repository_url(root)
    problems = []
    for name in TEXT_FILES:
        text = (root / name).read_text(encoding="utf-8")
        others = sorted(set(re.findall(URL_PATTERN, text)) - {url})
        others = [o for o in others if _looks_like_course_address(o, url)]
        if url not in text or others:
            problems.append(f"{name}: names {others or 'not'} instead of {url}")
    for path in notebook_paths(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = first_code_cell(nb)
        if translation.cell_source(cell).strip() != expected_cell(nb, url):
            problems.append(f"{path.relative_to(root)}: first code cell is not the Colab cell for {url}")
        elif "remove-cell" not in cell.get("metadata", {}).get("tags", []):
            problems.append(f"{path.relative_to(root)}: the Colab cell is not tagged remove-cell")
    return problems


def _looks_like_course_address(candidate: str, url: str) -> bool:
    """Another github address with the course's repository name (an old address left behind)."""
    return candidate.rsplit("/", 1)[-1] == url.rsplit("/", 1)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("show", help="print the address in _config.yml")
    sub.add_parser("check", help="list the places that disagree with _config.yml")
    sub.add_parser("cells", help="rewrite every Colab cell for the current address")
    setter = sub.add_parser("set", help="write a new address everywhere")
    setter.add_argument("url", help="https://github.com/OWNER/NAME")
    args = parser.parse_args(argv)
    if args.command == "show":
        print(repository_url())
        return 0
    if args.command == "check":
        problems = disagreements()
        print("\n".join(problems) if problems else f"every place uses {repository_url()}")
        return 1 if problems else 0
    try:
        changed = set_url(args.url) if args.command == "set" else rewrite_cells(repository_url())
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"updated {path.relative_to(ROOT)}")
    if not changed:
        print("nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
