# Two commands for a fresh clone (see README.md): `make book` and `make test`.
# Both create .venv, install the exact pins once (a stamp file makes re-runs instant), then work.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The repository address used by the launch buttons and the notebooks' Colab cell.
REPO_URL ?= https://github.com/vae-course/elbo-vae-geometry

.PHONY: install book test clean

install: $(STAMP)

$(STAMP): requirements/torch.txt requirements/course.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/torch.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/course.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: install
	$(PY) scripts/build_book.py

# pytest exits 5 when it collects no test: that is not a failure of the install.
test: install
	$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

clean:
	rm -rf _build
