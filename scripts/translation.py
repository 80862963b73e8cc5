"""Record and check which Portuguese revision each English notebook translates.

The Portuguese notebook ``book/pt/<slug>.ipynb`` is the source; its English twin
``book/en/<slug>.ipynb`` stores, in its notebook metadata, the revision of the source it
translates::

    "metadata": {"translation": {"source": "book/pt/<slug>.ipynb",
                                 "source_revision": "sha256:<hex>"}}

The revision is the SHA-256 of the Portuguese notebook's cells (cell type, tags and source
text; outputs and execution counts are left out, so re-running the Portuguese notebook
does not make its twin stale).

Usage (from the repository root)::

    .venv/bin/python scripts/translation.py stamp <slug> [<slug> ...]
        after translating (or re-checking) book/en/<slug>.ipynb against the current
        book/pt/<slug>.ipynb: writes the current revision into the English notebook.
    .venv/bin/python scripts/translation.py check [<slug> ...]
        lists stale or unstamped English twins (all slugs with both notebooks when none
        is given); exits 1 if any is stale.
    .venv/bin/python scripts/translation.py revision <slug>
        prints the current revision of book/pt/<slug>.ipynb.

tests/test_parity.py runs the same check.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SOURCE_LANG, TARGET_LANG = "pt", "en"
METADATA_KEY = "translation"


def notebook_path(slug: str, lang: str, book: Path = BOOK) -> Path:
    """Path of the chapter notebook ``book/<lang>/<slug>.ipynb``."""
    if not slug or "/" in slug or slug.endswith(".ipynb"):
        raise ValueError(f"slug must be a bare chapter name like 'elbo-derivation', got {slug!r}")
    return book / lang / f"{slug}.ipynb"


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def cell_source(cell: dict) -> str:
    """A cell's text, whether stored as one string or as a list of lines."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


_source = cell_source


def write_notebook(path: Path, nb: dict) -> None:
    """Writes ``nb`` in Jupyter's own on-disk layout (nbformat: indent 1, keys sorted, trailing newline)."""
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def revision(nb: dict) -> str:
    """SHA-256 of a notebook's cells: type, tags and source text (no outputs)."""
    digest = hashlib.sha256()
    for cell in nb["cells"]:
        record = {
            "cell_type": cell["cell_type"],
            "tags": sorted(cell.get("metadata", {}).get("tags", [])),
            "source": _source(cell),
        }
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


def recorded_revision(nb: dict) -> str | None:
    """The Portuguese revision an English notebook says it translates (None if unstamped)."""
    return nb.get("metadata", {}).get(METADATA_KEY, {}).get("source_revision")


def stamp(slug: str, book: Path = BOOK) -> str:
    """Write the current Portuguese revision of ``slug`` into its English twin."""
    src_path = notebook_path(slug, SOURCE_LANG, book)
    dst_path = notebook_path(slug, TARGET_LANG, book)
    rev = revision(_read(src_path))
    nb = _read(dst_path)
    nb.setdefault("metadata", {})[METADATA_KEY] = {
        "source": f"book/{SOURCE_LANG}/{slug}.ipynb",
        "source_revision": rev,
    }
    write_notebook(dst_path, nb)
    return rev


def status(slug: str, book: Path = BOOK) -> str:
    """'current', 'stale' or 'unstamped' for the English twin of ``slug``."""
    recorded = recorded_revision(_read(notebook_path(slug, TARGET_LANG, book)))
    if recorded is None:
        return "unstamped"
    current = revision(_read(notebook_path(slug, SOURCE_LANG, book)))
    return "current" if recorded == current else "stale"


def twin_slugs(book: Path = BOOK) -> list[str]:
    """Slugs with a notebook in both languages."""
    src = {p.stem for p in (book / SOURCE_LANG).glob("*.ipynb")}
    dst = {p.stem for p in (book / TARGET_LANG).glob("*.ipynb")}
    return sorted(src & dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="translation.py",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "examples:\n"
            "  .venv/bin/python scripts/translation.py stamp elbo-derivation\n"
            "  .venv/bin/python scripts/translation.py check\n"
            "The revision is the SHA-256 of the pt notebook's cells (type, tags, source);\n"
            "it is stored in book/en/<slug>.ipynb under metadata.translation.source_revision."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_stamp = sub.add_parser("stamp", help="record in book/en/<slug>.ipynb the pt revision it translates")
    p_stamp.add_argument("slugs", nargs="+", metavar="slug")
    p_check = sub.add_parser("check", help="report stale or unstamped English twins (exit 1 if any)")
    p_check.add_argument("slugs", nargs="*", metavar="slug")
    p_rev = sub.add_parser("revision", help="print the current revision of book/pt/<slug>.ipynb")
    p_rev.add_argument("slug")
    args = parser.parse_args(argv)

    if args.command == "stamp":
        for slug in args.slugs:
            print(f"{slug}: en stamped with pt {stamp(slug)}")
        return 0
    if args.command == "revision":
        print(revision(_read(notebook_path(args.slug, SOURCE_LANG))))
        return 0
    bad = 0
    for slug in args.slugs or twin_slugs():
        state = status(slug)
        print(f"{slug}: {state}")
        bad += state != "current"
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
