"""Build the bilingual course site: one Sphinx (Jupyter Book 1.x) build per language.

Output (for the default --out _build)::

    _build/html/index.html   landing page (book/index.md): pick a language
    _build/html/pt/…         the Portuguese book (_config.yml + _toc.yml, language pt_BR)
    _build/html/en/…         the English book (_config.yml merged with _config.en.yml, _toc.en.yml)

Each language is its own Sphinx build (own `language`, search index and numbering), built
from the notebooks' stored outputs (no execution) with warnings as errors
(-W --keep-going). A chapter listed in a _toc file whose page is missing in either
language (book/pt/<slug>.ipynb|md or book/en/<slug>.ipynb|md) is skipped with a printed
notice, so both books always list the same pages and every twin link resolves. Once both
languages are built, every section gets its twin's section id as an extra anchor (paired by
order), so a twin link that carries the reader's section lands on the same section.
The book's PDFs come after the site: scripts/build_pdf.py (`make book` runs both).

Usage (from the repository root)::

    .venv/bin/python scripts/build_book.py                      # both languages into _build/
    .venv/bin/python scripts/build_book.py --lang pt            # only the Portuguese book
    .venv/bin/python scripts/build_book.py --out /tmp/me        # your own folder: /tmp/me/html/…
    .venv/bin/python scripts/build_book.py --only elbo-derivation,bibliography --out /tmp/me
                                                                # just your chapter (+ root page)
    .venv/bin/python scripts/build_book.py --book /tmp/b --out /tmp/b/_build  # another source tree

Exit status 0 when every requested build succeeded with no warning, 1 otherwise.
"""
from __future__ import annotations

import argparse
import copy
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("pt", "en")
CONFIGS = {"pt": ("_config.yml", "_toc.yml"), "en": ("_config.en.yml", "_toc.en.yml")}
PAGE_SUFFIXES = (".ipynb", ".md")


# --------------------------------------------------------------------------- configuration
def merge(base: dict, override: dict) -> dict:
    """Recursive merge: mappings are merged key by key, anything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(lang: str, root: Path = ROOT) -> dict:
    """The Jupyter Book configuration of ``lang``: _config.yml, plus _config.en.yml for en."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    if lang != "pt":
        override = yaml.safe_load((root / CONFIGS[lang][0]).read_text(encoding="utf-8")) or {}
        config = merge(config, override)
    return config


def repository_url(root: Path = ROOT) -> str:
    """The one repository address (``repository.url`` of _config.yml)."""
    return load_config("pt", root)["repository"]["url"]


def page_exists(book: Path, lang: str, name: str) -> bool:
    return any((book / lang / f"{name}{suffix}").is_file() for suffix in PAGE_SUFFIXES)


def missing_languages(book: Path, name: str) -> list[str]:
    return [lang for lang in LANGS if not page_exists(book, lang, name)]


def toc_files(toc: dict) -> list[str]:
    """Every file listed in a jb-book toc (root first)."""
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", []) if "file" in entry]
    return files


def _shown(path: Path) -> str:
    """A path relative to the repository when inside it (shorter notices)."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def filter_toc(toc: dict, book: Path, notice=print, only: list[str] | None = None) -> dict:
    """Drop the chapters that are missing in either language, printing a notice for each.

    With ``only``, keep just those pages (and the root page) and drop the rest silently.
    """
    out = copy.deepcopy(toc)
    parts = []
    for part in out.get("parts", []):
        kept = []
        for entry in part.get("chapters", []):
            if only is not None and entry.get("file") not in only:
                continue
            missing = missing_languages(book, entry["file"]) if "file" in entry else []
            if missing:
                where = ", ".join(f"{_shown(book / lang / entry['file'])}.ipynb|md" for lang in missing)
                notice(f"[build_book] skipped {entry['file']}: missing {where}")
            else:
                kept.append(entry)
        if kept:
            part["chapters"] = kept
            parts.append(part)
    out["parts"] = parts
    return out


# --------------------------------------------------------------------------- one language
UNUSED_EXTENSIONS = ("sphinx_thebe", "sphinx_design")


def _drop_thebe() -> None:
    """Remove sphinx-thebe and sphinx-design from Jupyter Book's default extensions.

    Live code on the page is not used (launch buttons open Colab/Binder instead), and
    sphinx-thebe 0.3.1 under Sphinx 7.4 declares `const THEBE_JS_URL` twice in every page
    (a JavaScript SyntaxError) and points at a CDN. No page uses sphinx-design's directives
    (grids, cards, tabs): its 62 kB of CSS and JS are left off every page (a page that
    wants them fails to build with "unknown directive": add "sphinx_design" to
    extra_extensions in _config.yml then).
    """
    import jupyter_book.config as jb_config

    default = jb_config.get_default_sphinx_config
    if getattr(default, "without_thebe", False):
        return

    def without_thebe():
        config = default()
        config["extensions"] = [ext for ext in config["extensions"] if ext not in UNUSED_EXTENSIONS]
        return config

    without_thebe.without_thebe = True
    jb_config.get_default_sphinx_config = without_thebe


def build_language(lang: str, book: Path, out: Path, quiet: bool = False, only: list[str] | None = None) -> int:
    """Build one language into ``out/html/<lang>``; returns the Sphinx status (0 = clean)."""
    import myst_nb.sphinx_ext
    from jupyter_book.sphinx import build_sphinx

    sys.path.insert(0, str(ROOT / "scripts"))  # the local extension sphinx_course
    # myst-nb writes the notebooks' extracted outputs to <outdir>/../jupyter_execute, which for
    # us is the published html/ folder shared by both languages: keep them per language, outside.
    myst_nb.sphinx_ext.OUTPUT_FOLDER = f"../.jupyter_execute/{lang}"
    _drop_thebe()
    toc_name = CONFIGS[lang][1]
    work = out / ".config" / lang
    work.mkdir(parents=True, exist_ok=True)
    toc = yaml.safe_load((ROOT / toc_name).read_text(encoding="utf-8"))
    root_missing = missing_languages(book, toc["root"])
    if root_missing:
        print(f"[build_book] the root page {toc['root']} is missing in {root_missing}")
        return 1
    toc = filter_toc(toc, book, only=only)
    path_toc = work / "_toc.yml"
    path_toc.write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = load_config(lang, ROOT)
    path_config = work / "_config.yml"
    path_config.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    status = build_sphinx(
        str(book / lang),
        str(out / "html" / lang),
        doctreedir=str(out / ".doctrees" / lang),
        noconfig=True,
        path_config=str(path_config),
        confoverrides={"external_toc_path": path_toc.as_posix(), "latex_individualpages": False},
        builder="html",
        warningiserror=True,
        keep_going=True,
        quiet=quiet,
    )
    return status if isinstance(status, int) else 1


# --------------------------------------------------------------------------- twin sections
SECTION_ID = re.compile(r'<section\b[^>]*?\sid="([^"]+)"[^>]*>')
ANY_ID = re.compile(r'\sid="([^"]+)"')


def section_ids(page_html: str) -> list[str]:
    """The ids of the page's sections, in document order (the article only)."""
    start = page_html.find('<article class="bd-article"')
    end = page_html.find("</article>", start)
    return SECTION_ID.findall(page_html[start:end] if start >= 0 else "")


def add_twin_anchors(page_html: str, own: list[str], twin: list[str]) -> str:
    """Give the n-th section of a page the id of the n-th section of its twin, as an extra anchor.

    ``<twin>.html#<id of a section here>`` then lands on the same section in the other
    language (the lang-switch link adds the reader's current section; book/_static/course.js).
    Ids the page already has are left alone.
    """
    taken = set(ANY_ID.findall(page_html))
    pairs = {a: b for a, b in zip(own, twin) if a != b and b not in taken}
    if not pairs:
        return page_html

    def anchor(match):
        alias = pairs.get(match.group(1))
        return match.group(0) + (f'<span id="{alias}" class="twin-anchor"></span>' if alias else "")

    return SECTION_ID.sub(anchor, page_html)


def link_twin_sections(site: Path, notice=print) -> int:
    """Pair the sections of every page with its twin's, by order; returns the anchors added."""
    added = 0
    first, *others = LANGS
    for page in sorted((site / first).glob("*.html")):
        for other in others:
            twin = site / other / page.name
            if not twin.is_file():
                continue
            texts = {first: page.read_text(encoding="utf-8"), other: twin.read_text(encoding="utf-8")}
            ids = {lang: section_ids(text) for lang, text in texts.items()}
            if len(ids[first]) != len(ids[other]):
                notice(f"[build_book] {page.name}: {len(ids[first])} sections in {first}, "
                       f"{len(ids[other])} in {other}: twin links keep the place of the first "
                       f"{min(len(ids[first]), len(ids[other]))} only")
            for lang, path in ((first, page), (other, twin)):
                mate = other if lang == first else first
                new = add_twin_anchors(texts[lang], ids[lang], ids[mate])
                if new != texts[lang]:
                    added += new.count('class="twin-anchor"') - texts[lang].count('class="twin-anchor"')
                    path.write_text(new, encoding="utf-8")
    return added


# --------------------------------------------------------------------------- landing page
LANDING = """<!doctype html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<link rel="icon" href="pt/_static/favicon.svg" type="image/svg+xml">
<link rel="alternate" hreflang="pt" href="pt/index.html">
<link rel="alternate" hreflang="en" href="en/index.html">
<style>
:root {{ --fg: #222; --bg: #fff; --link: #0a5ea8; }}
@media (prefers-color-scheme: dark) {{ :root {{ --fg: #e6e6e6; --bg: #14181e; --link: #8cc4ff; }} }}
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 46rem;
       margin: 3rem auto; padding: 0 1rem; line-height: 1.55; color: var(--fg); background: var(--bg); }}
h1 {{ font-size: 1.7rem; }}
a {{ color: var(--link); }}
.languages a {{ display: inline-block; margin: .4rem .8rem .4rem 0; padding: .6rem 1.2rem;
               border: 2px solid var(--link); border-radius: .5rem; font-weight: 600; text-decoration: none; }}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def build_landing(book: Path, out: Path) -> Path:
    """Render book/index.md (CommonMark) into ``out/html/index.html``."""
    from markdown_it import MarkdownIt

    source = (book / "index.md").read_text(encoding="utf-8")
    body = MarkdownIt("commonmark", {"html": True}).render(source)
    first = next((line for line in source.splitlines() if line.startswith("# ")), "# ELBO")
    first = re.sub(r"<[^>]+>", "", first)
    page = out / "html" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(LANDING.format(title=html.escape(first[2:].strip()), body=body), encoding="utf-8")
    return page


# --------------------------------------------------------------------------- driver
def build(langs: list[str], book: Path, out: Path, quiet: bool = False, only: list[str] | None = None) -> int:
    """Build ``langs`` (each in its own process, in parallel) and the landing page."""
    start = time.perf_counter()
    if len(langs) == 1:
        statuses = {langs[0]: build_language(langs[0], book, out, quiet, only)}
    else:
        procs = {}
        for lang in langs:
            cmd = [sys.executable, __file__, "--lang", lang, "--book", str(book), "--out", str(out),
                   "--no-landing"] + (["--quiet"] if quiet else []) + (["--only", ",".join(only)] if only else [])
            procs[lang] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        statuses, notices = {}, set()
        for lang, proc in procs.items():
            output, _ = proc.communicate()
            lines = [line for line in output.splitlines(keepends=True) if line not in notices]
            notices.update(line for line in lines if line.startswith("[build_book] skipped"))
            print(f"===== {lang} =====\n{''.join(lines)}", end="")
            statuses[lang] = proc.returncode
    if all((out / "html" / lang).is_dir() for lang in LANGS):  # also after rebuilding one language
        print(f"[build_book] twin sections: {link_twin_sections(out / 'html')} anchors added")
    page = build_landing(book, out)
    seconds = time.perf_counter() - start
    for lang, status in statuses.items():
        state = "ok" if status == 0 else f"FAILED (status {status}: warnings are errors)"
        print(f"[build_book] {lang}: {state} -> {out / 'html' / lang / 'index.html'}")
    print(f"[build_book] landing page: {page}")
    print(f"[build_book] built {', '.join(langs)} in {seconds:.1f} s")
    return 0 if all(s == 0 for s in statuses.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build_book.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--lang", choices=[*LANGS, "all"], default="all", help="which book to build (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build",
                        help="build folder: the site goes to OUT/html (default: _build)")
    parser.add_argument("--book", type=Path, default=ROOT / "book",
                        help="source folder holding index.md, pt/, en/, references.bib (default: book)")
    parser.add_argument("--only", metavar="SLUG[,SLUG]",
                        help="build just these pages of the toc (plus the root page), e.g. your chapter")
    parser.add_argument("--clean", action="store_true", help="remove OUT/html and the doctrees first")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and the summary")
    parser.add_argument("--no-landing", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out, book = args.out.resolve(), args.book.resolve()
    if args.clean:
        for folder in (out / "html", out / ".doctrees"):
            shutil.rmtree(folder, ignore_errors=True)
    langs = list(LANGS) if args.lang == "all" else [args.lang]
    only = [slug.strip() for slug in args.only.split(",")] if args.only else None
    if args.no_landing:
        return build_language(langs[0], book, out, args.quiet, only)
    return build(langs, book, out, args.quiet, only)


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
