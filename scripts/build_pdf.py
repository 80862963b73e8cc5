"""The whole book as one PDF per language, from the built site (run after build_book.py).

Every page of the book (the toc's order: landing page of the language, chapters, appendices)
is put into one HTML document next to the site's pages (so figures, fonts and MathJax load
from the site itself), typeset by the site's own MathJax in Debian's headless Chromium
(driven by Playwright, never a downloaded browser) and printed to PDF with page numbers:

    <site>/pt/_downloads/livro-elbo-vae.pdf     (course_pdf of _config.yml)
    <site>/en/_downloads/book-elbo-vae.pdf      (course_pdf of _config.en.yml)

The PDF opens with a contents page (each chapter with its page number), then every chapter
starting on a new page: numbered equations, figures, exercise solutions shown (the toggle
script is not loaded), code wrapped to the page (book/_static/course.css, ``@media print``).
Every page's download menu links to its language's PDF (scripts/sphinx_course.py).

Usage (from the repository root; ``make pdf`` runs it after ``make book``)::

    .venv/bin/python scripts/build_pdf.py                     # both languages, site in _build/html
    .venv/bin/python scripts/build_pdf.py --site /tmp/me/html --lang pt

Environment: ``CHROMIUM`` (default /usr/bin/chromium). Needs ``pdftotext`` (poppler-utils)
for the page numbers of the contents; without it the contents list has no numbers.
Exit status 0 when every PDF was written.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_book  # noqa: E402

ROOT = build_book.ROOT
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
PRINT_PAGE = "_print-book.html"  # scratch file next to the pages; removed afterwards
WORDS = {"pt": {"contents": "Sumário", "page": "p."}, "en": {"contents": "Contents", "page": "p."}}

ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(.*?)</article>', re.S)
H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
HEAD_CSS = re.compile(r'<link rel="stylesheet"[^>]*href="([^"]+)"[^>]*>')
MATHJAX_CONFIG = re.compile(r"<script>window\.MathJax = .*?</script>", re.S)
MATHJAX_SRC = re.compile(r'<script[^>]+src="(_static/mathjax/[^"]+)"[^>]*></script>')
LOCAL_LINK = re.compile(r'href="([A-Za-z0-9_.-]+)\.html(#[^"]*)?"')

PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
html, body { background: #fff !important; color: #000; }
body { font-size: 10.5pt; }
.pdf-cover { text-align: center; padding-top: 30vh; break-after: page; }
.pdf-cover h1 { font-size: 2.2em; }
.pdf-contents { break-after: page; }
.pdf-contents ol { list-style: none; padding: 0; }
.pdf-contents li { display: flex; gap: .5em; margin: .3em 0; }
.pdf-contents li .dots { flex: 1; border-bottom: 1px dotted #888; margin-bottom: .3em; }
.pdf-chapter { break-before: page; }
.bd-main .bd-content .bd-article .pdf-chapter h1:first-of-type { display: block !important; }
.bd-main .bd-content { margin-left: 0 !important; }
.anim-controls, .copybtn, a.headerlink, .toggle-button, button { display: none !important; }
details.hide > summary { display: none; }
details.hide > .summary-content, details.hide { display: block; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
img { max-width: 100% !important; }
"""


def book_pages(lang: str, book: Path = ROOT / "book") -> list[str]:
    """The pages of ``lang``'s book, in the toc's order (chapters missing in a language skipped)."""
    toc = yaml.safe_load((ROOT / build_book.CONFIGS[lang][1]).read_text(encoding="utf-8"))
    kept = build_book.filter_toc(toc, book, notice=lambda _msg: None)
    return build_book.toc_files(kept)


def _text(fragment: str) -> str:
    fragment = re.sub(r'<a class="headerlink".*?</a>', "", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def concatenate(site_lang: Path, pages: list[str], title: str, lang: str, numbers: dict | None = None) -> str:
    """One HTML document holding every page's article, with a cover and a contents page."""
    first = (site_lang / "index.html").read_text(encoding="utf-8")
    css = "\n".join(f'<link rel="stylesheet" href="{href}">' for href in HEAD_CSS.findall(first))
    mathjax_config = MATHJAX_CONFIG.search(first)
    mathjax_src = MATHJAX_SRC.search(first)
    chapters, contents = [], []
    for name in pages:
        page = (site_lang / f"{name}.html").read_text(encoding="utf-8")
        match = ARTICLE.search(page)
        if not match:
            continue
        body = LOCAL_LINK.sub(lambda m: f'href="{m.group(2) or "#page-" + m.group(1)}"', match.group(1))
        heading = H1.search(body)
        chapter_title = _text(heading.group(1)) if heading else name
        number = (numbers or {}).get(name)
        page_no = f'<span class="dots"></span><span>{WORDS[lang]["page"]} {number}</span>' if number else ""
        contents.append(f'<li><a href="#page-{name}">{html.escape(chapter_title)}</a>{page_no}</li>')
        chapters.append(f'<section class="pdf-chapter" id="page-{name}" data-title="{html.escape(chapter_title)}">'
                        f"{body}</section>")
    return f"""<!doctype html>
<html lang="{'pt-BR' if lang == 'pt' else 'en'}" data-theme="light" data-mode="light">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
{css}
<style>{PRINT_CSS}</style>
{mathjax_config.group(0) if mathjax_config else ''}
{f'<script defer src="{mathjax_src.group(1)}"></script>' if mathjax_src else ''}
</head>
<body class="pdf-book">
<main class="bd-main"><div class="bd-content"><div class="bd-article-container">
<div class="pdf-cover"><h1>{html.escape(title)}</h1><p>{html.escape(build_book.load_config(lang)["author"])}</p></div>
<nav class="pdf-contents"><h2>{WORDS[lang]["contents"]}</h2><ol>{"".join(contents)}</ol></nav>
<article class="bd-article">
{"".join(chapters)}
</article>
</div></div></main>
</body>
</html>
"""


#: Playwright's limit for loading and typesetting the one-page book (its default, 30 s, is too
#: short when the tests run the PDF build beside other work on a 2-core machine).
PAGE_TIMEOUT_MS = 180_000


def open_typeset(browser, source: Path):
    """``source`` opened in a print-media page, typeset by its MathJax, every image decoded."""
    page = browser.new_page(viewport={"width": 900, "height": 1200})
    page.set_default_timeout(PAGE_TIMEOUT_MS)  # the whole book on one page; a busy machine is slow to load it
    page.goto(source.as_uri(), wait_until="load")
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => true) : true")
    page.evaluate("""async () => {
        document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });
        await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
    }""")
    page.emulate_media(media="print")
    return page


def print_pdf(page, target: Path, title: str) -> None:
    """A4, the book's title on top of every page, "n / total" at the bottom."""
    footer = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
              '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
    header = f'<div style="font-size:8px;width:100%;text-align:center;color:#777">{html.escape(title)}</div>'
    target.parent.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(target), format="A4", print_background=True, display_header_footer=True,
             header_template=header, footer_template=footer,
             margin={"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"}, outline=True)


JS_PAGE_NUMBERS = """numbers => {
  document.querySelectorAll('.pdf-contents li').forEach(li => {
    const name = li.querySelector('a').getAttribute('href').slice('#page-'.length);
    if (numbers[name] && !li.querySelector('.dots')) {
      li.insertAdjacentHTML('beforeend', '<span class="dots"></span><span>' + WORD + ' ' + numbers[name] + '</span>');
    }
  });
}"""


def chapter_pages(pdf: Path, titles: dict[str, str]) -> dict[str, int]:
    """The page each chapter starts on (its title is the first line of that page), via pdftotext."""
    if not shutil.which("pdftotext"):
        return {}
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    found: dict[str, int] = {}
    for name, title in titles.items():
        want = re.sub(r"\s+", " ", title).strip()
        for number, page_text in enumerate(pages, start=1):
            lines = [re.sub(r"\s+", " ", line).strip() for line in page_text.splitlines() if line.strip()]
            # the running header (the book's title) comes first: the chapter's h1 is the next line(s)
            head = " ".join(lines[:4])
            if number > 2 and want[:40] in head:
                found[name] = number
                break
    return found


def build_pdf(site: Path, lang: str, browser) -> Path:
    config = build_book.load_config(lang)
    name = config["sphinx"]["config"]["course_pdf"]
    site_lang = site / lang
    pages = [p for p in book_pages(lang) if (site_lang / f"{p}.html").is_file()]
    source = site_lang / PRINT_PAGE
    target = site_lang / "_downloads" / name
    title = config["title"]
    try:
        source.write_text(concatenate(site_lang, pages, title, lang), encoding="utf-8")
        page = open_typeset(browser, source)
        try:
            print_pdf(page, target, title)
            titles = {}
            for p in pages:
                heading = H1.search(ARTICLE.search((site_lang / f"{p}.html").read_text(encoding="utf-8")).group(1))
                titles[p] = _text(heading.group(1)) if heading else p
            numbers = chapter_pages(target, titles)
            if numbers:  # second print: the contents with page numbers (one line each: same pagination)
                page.evaluate(JS_PAGE_NUMBERS.replace("WORD", repr(WORDS[lang]["page"])), numbers)
                print_pdf(page, target, title)
        finally:
            page.close()
    finally:
        source.unlink(missing_ok=True)
    return target


def pdf_paths(site: Path) -> dict[str, Path]:
    """Where each language's book PDF goes in the site (``<lang>/_downloads/<course_pdf>``)."""
    return {lang: site / lang / "_downloads" / build_book.load_config(lang)["sphinx"]["config"]["course_pdf"]
            for lang in build_book.LANGS}


def ensure(site: Path) -> dict[str, Path]:
    """Build the PDFs of ``site`` unless each is newer than its language's pages (for the tests)."""
    stale = [lang for lang, pdf in pdf_paths(site).items()
             if not pdf.is_file() or pdf.stat().st_mtime < (site / lang / "index.html").stat().st_mtime]
    # one process per language, side by side (the caller may be running Playwright already)
    procs = {lang: subprocess.Popen([sys.executable, __file__, "--site", str(site), "--lang", lang],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for lang in stale}
    for lang, proc in procs.items():
        output, _ = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"the {lang} PDF could not be built:\n{output[-4000:]}")
    return pdf_paths(site)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_pdf.py", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html", help="the built site (default: _build/html)")
    parser.add_argument("--lang", choices=[*build_book.LANGS, "all"], default="all")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).is_file():
        print(f"[build_pdf] no browser at {CHROMIUM}: apt-get install chromium (or set CHROMIUM)")
        return 1
    from playwright.sync_api import sync_playwright

    langs = list(build_book.LANGS) if args.lang == "all" else [args.lang]
    start = time.perf_counter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            for lang in langs:
                target = build_pdf(args.site.resolve(), lang, browser)
                print(f"[build_pdf] {lang}: {target} ({target.stat().st_size / 1e6:.1f} MB)")
        finally:
            browser.close()
    print(f"[build_pdf] built {', '.join(langs)} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
