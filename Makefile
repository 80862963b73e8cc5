# Two commands for a fresh clone (see README.md): `make book` and `make test`.
# Both create .venv, install the exact pins once (a stamp file makes re-runs instant), then work.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install book pdf browser test colab-check clean

install: $(STAMP)

# Byte-compiled at install (pip's default): the grader runs its sandboxed workers and verdicts with
# `python -B` on a read-only view of this venv, where nothing compiled later could be saved.
PIP_INSTALL := $(PY) -m pip install -q --disable-pip-version-check
$(STAMP): requirements/torch.txt requirements/course.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements/torch.txt
	$(PIP_INSTALL) -r requirements/course.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Both languages from the notebooks' stored outputs, warnings are errors (see scripts/build_book.py --help),
# then each language's whole book as a PDF, which every page's download menu links to.
book: install browser
	$(PY) scripts/build_book.py
	CHROMIUM=$(CHROMIUM) $(PY) scripts/build_pdf.py

# Just the PDFs, from the site already in _build/html (scripts/build_pdf.py --help).
pdf: install browser
	CHROMIUM=$(CHROMIUM) $(PY) scripts/build_pdf.py

# The PDFs and the browser tests use Debian's chromium (never a downloaded browser) and poppler's
# pdftotext: installed here when missing.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x $(CHROMIUM) && command -v pdftotext >/dev/null || { echo "installing Debian's chromium and poppler-utils"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils; }

# axe-core (accessibility checks of tests/test_site_reader.py) from the npm registry, into the build folder.
AXE := _build/.node/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --prefix _build/.node --no-audit --no-fund --silent axe-core@4

# pytest exits 5 when it collects no test: that is not a failure of the install.
# The site tests build the site themselves (into _build/), so this target is complete on its own.
# Two pytest-xdist workers (every chapter and most tests run on one thread; the machine has two
# cores), a file at a time: a notebook's cells share one kernel, a module's fixtures are made once,
# and the site is built once per run (tests/conftest.py, site_dir). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: install browser $(AXE)
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# Every chapter and assignment the way Colab runs it: the built wheel in a fresh venv outside the
# repository, each notebook copied alone into an empty folder (scripts/clean_install.py --help).
# Another Python and the newest torch: make colab-check COLAB_ARGS="--python python3.12 --torch torch --newest"
COLAB_ARGS ?=
colab-check: install
	$(PY) scripts/clean_install.py --all $(COLAB_ARGS)

clean:
	rm -rf _build
