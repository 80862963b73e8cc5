"""Shared fixtures of the test suite: the built site, a local web server, headless Chromium,
the chapter slugs, and a per-notebook time report for the nbval run.

Environment variables (all optional):

- ``BOOK_DIR``: the book source folder the site/parity/Colab tests look at (default ``book``);
  point it at a throwaway copy to try the pipeline on test notebooks.
- ``SITE_OUT``: build folder of the site tests (default ``_build``; the site is in SITE_OUT/html,
  screenshots go to SITE_OUT/screenshot-<lang>.png).
- ``SITE_NO_BUILD=1``: reuse the site already in SITE_OUT/html instead of rebuilding it
  (quick iteration on the browser tests; the build-time test is then skipped).
- ``CHROMIUM``: the browser binary (default Debian's ``/usr/bin/chromium``; never downloaded).
"""
from __future__ import annotations

import functools
import http.server
import os
import resource
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import math

import pytest
import torch
from filelock import FileLock
from torch.distributions import Normal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from vae_support.toy import Grid1D, LinearGaussian  # noqa: E402
import build_book  # noqa: E402  (scripts/build_book.py)
import build_pdf  # noqa: E402  (scripts/build_pdf.py)
import execute  # noqa: E402  (scripts/execute.py)
import translation  # noqa: E402  (scripts/translation.py)

# nbval's kernels inherit this: the same instruction set as scripts/execute.py wrote the outputs with
execute.pin_environment()

BOOK_DIR = Path(os.environ.get("BOOK_DIR", ROOT / "book")).resolve()
SITE_OUT = Path(os.environ.get("SITE_OUT", ROOT / "_build")).resolve()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
NOTEBOOK_BUDGET_S = 60.0  # issue 16: a notebook runs in at most 60 s on 2 CPU cores (DESIGN.md said 30 s before 3-seed comparisons)
BUILD: dict = {}  # filled by the site_dir fixture: "seconds" and "cpu_seconds" of the build, or "error"


# --------------------------------------------------------------------------- what exists
def site_pages(book: Path = BOOK_DIR) -> list[tuple[str, str]]:
    """(lang, page) of every page the site build publishes: the toc minus skipped chapters."""
    import yaml

    pages = []
    for lang in build_book.LANGS:
        toc = yaml.safe_load((ROOT / build_book.CONFIGS[lang][1]).read_text(encoding="utf-8"))
        kept = build_book.filter_toc(toc, book, notice=lambda _msg: None)
        pages += [(lang, name) for name in build_book.toc_files(kept)]
    return pages


def pytest_generate_tests(metafunc):
    if "twin_slug" in metafunc.fixturenames:
        slugs = translation.twin_slugs(BOOK_DIR)
        metafunc.parametrize("twin_slug", slugs)
    if "notebook_path" in metafunc.fixturenames:
        paths = sorted(p for lang in build_book.LANGS for p in (BOOK_DIR / lang).glob("*.ipynb"))  # chapters
        metafunc.parametrize("notebook_path", paths, ids=[p.relative_to(BOOK_DIR).as_posix() for p in paths])


# --------------------------------------------------------------------------- the built site
#: the test files that need the built site: one work unit under `--dist loadfile`
SITE_FILES = ("tests/test_site.py", "tests/test_site_reader.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's ``loadfile`` scheduling, with the site's test files sent to one worker as one unit.

    Given to two workers at once, one of them would build the site while the other waited on the lock
    for the whole build. (``--dist loadgroup`` would say the same with marks, but does not group under
    pytest 9.2: pytest-dev/pytest-xdist#1386.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SiteInOneUnit(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "the built site" if path in SITE_FILES else path

    return SiteInOneUnit(config, log)


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """Both languages built from scratch (scripts/build_book.py --clean, warnings are errors), then
    each language's book PDF, which every page's download menu links to.

    Once per test run: under ``pytest -n 2 --dist loadfile`` (the Makefile's ``test``) the site
    tests of two files may run on two workers; a file lock lets the first build while the other
    waits, and a stamp named after xdist's run id tells the second that this run's site is ready.
    """
    html = SITE_OUT / "html"
    if os.environ.get("SITE_NO_BUILD") == "1" and (html / "index.html").is_file():
        return html
    if "error" in BUILD:  # pytest re-runs a failed session fixture for every test: build once
        pytest.fail(BUILD["error"], pytrace=False)
    SITE_OUT.mkdir(parents=True, exist_ok=True)
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    built, failed = (SITE_OUT / f".site-built-{run_id}", SITE_OUT / f".site-failed-{run_id}") if run_id else (None, None)
    with FileLock(str(SITE_OUT / ".site.lock")):
        if built is not None and built.is_file():
            return html  # another worker of this run built it
        if failed is not None and failed.is_file():  # another worker of this run tried: the same error, not a second try
            BUILD["error"] = failed.read_text(encoding="utf-8")
            pytest.fail(BUILD["error"], pytrace=False)
        for old in SITE_OUT.glob(".site-*-*"):
            old.unlink()
        try:
            _build_site()
            build_pdf.ensure(html)
        except RuntimeError as err:
            BUILD["error"] = str(err)
        if "error" in BUILD:
            if failed is not None:
                failed.write_text(BUILD["error"], encoding="utf-8")
            pytest.fail(BUILD["error"], pytrace=False)
        if built is not None:
            built.touch()
    return html


def _build_site() -> None:
    cmd = [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--book", str(BOOK_DIR),
           "--out", str(SITE_OUT), "--clean", "--quiet"]
    start, cpu_start = time.perf_counter(), execute.children_cpu_seconds()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, execute.children_cpu_seconds() - cpu_start
    if proc.returncode != 0:
        raise RuntimeError(f"the site build failed ({' '.join(cmd)}):\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")
    BUILD["seconds"], BUILD["cpu_seconds"] = seconds, cpu


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def site_url(site_dir):
    """The built site served on 127.0.0.1 (a real web server, as readers get it)."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (no browser download, ever)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no browser at {CHROMIUM}: `make test` installs Debian's chromium "
                    "(apt-get install chromium), or set CHROMIUM=/path/to/chromium", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


# --------------------------------------------------------------------------- accessibility (axe-core)
AXE_VERSION = "4"  # npm: axe-core@4.x
AXE = SITE_OUT / ".node" / "node_modules" / "axe-core" / "axe.min.js"

#: Run in a page that holds axe (page.add_script_tag(content=axe_source)): its critical and serious
#: violations; pass a list of rule ids to run only those.
JS_AXE = """async (rules) => {
  const options = {resultTypes: ['violations']};
  if (rules) options.runOnly = {type: 'rule', values: rules};
  const result = await axe.run(document, options);
  return result.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
                summary: (v.nodes[0] && v.nodes[0].failureSummary || '').slice(0, 200)}));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm registry (installed into SITE_OUT/.node when missing)."""
    if not AXE.is_file():
        subprocess.run(["npm", "install", "--prefix", str(AXE.parents[2]), "--no-audit", "--no-fund",
                        "--silent", f"axe-core@{AXE_VERSION}"], check=True, timeout=300)
    return AXE.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- notebook times
def notebook_seconds(stats: dict) -> dict[str, float]:
    """Time per notebook: the nbval reports (setup + call + teardown of every cell) added up."""
    seconds: dict[str, float] = defaultdict(float)
    for reports in stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            path = nodeid.split("::", 1)[0]
            if path.endswith(".ipynb") and hasattr(report, "duration"):
                seconds[path] += report.duration
    return seconds


def pytest_terminal_summary(terminalreporter):
    """Reports each notebook's time (kernel start + every cell) after an nbval run."""
    seconds = notebook_seconds(terminalreporter.stats)
    if not seconds:
        return
    terminalreporter.section("notebook times (nbval: kernel start + every cell)")
    for path, total in sorted(seconds.items(), key=lambda kv: -kv[1]):
        flag = f"  OVER the {NOTEBOOK_BUDGET_S:.0f} s budget" if total > NOTEBOOK_BUDGET_S else ""
        terminalreporter.write_line(f"{total:7.1f} s  {path}{flag}")


@pytest.fixture
def float64_default():
    """Exact comparisons in double precision; the global default dtype is restored afterwards."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


# ------------------------------------------------------------------ toy models shared by tests
@pytest.fixture(scope="module")
def lg():
    """The chapter's model: x = 2 z1 + 2 z2 + N(0, 1), x = 5; posterior correlation -0.8."""
    model = LinearGaussian(torch.tensor([[2.0, 2.0]], dtype=torch.float64), torch.zeros(1, dtype=torch.float64), noise_std=1.0)
    return model, torch.tensor([5.0], dtype=torch.float64)


@pytest.fixture(scope="module")
def conjugate():
    """z ~ N(0, 1), x | z ~ N(z, 1), x = 1: posterior N(1/2, 1/2) exactly."""
    grid = Grid1D(Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)),
                  lambda z: Normal(z, 1.0), x=1.0, z_min=-8.0, z_max=8.0, n=801)
    return grid, Normal(torch.tensor(0.5, dtype=torch.float64), torch.tensor(math.sqrt(0.5), dtype=torch.float64))


@pytest.fixture
def correlated():
    """A linear-Gaussian model with nearly parallel loadings: a strongly correlated posterior."""
    W = torch.tensor([[1.0, 0.8], [0.8, 1.0], [0.6, 0.5]], dtype=torch.float64)
    model = LinearGaussian(W, torch.zeros(3, dtype=torch.float64), 0.5)
    x = torch.tensor([0.2, 1.2, 0.3], dtype=torch.float64)
    return model, x
