"""The notebooks as stored: the site and nbval both trust the stored outputs, so every chapter
notebook must have been run top to bottom, without errors, and the nbval set-up must cover it.

nbval itself (pyproject.toml: `--nbval` over book/pt and book/en) re-runs each notebook and
compares; this file checks the stored side and the sanitizers (tests/nbval_sanitize.cfg).
"""
from __future__ import annotations

import json
import re
import tomllib

from nbval.plugin import get_sanitize_patterns

from conftest import ROOT

SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def sanitize(text: str) -> str:
    """What nbval does to an output string before comparing (same patterns, same order)."""
    for regex, replace in get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8")):
        text = re.sub(regex, replace, text)
    return text


def test_stored_run_is_complete_and_in_order(notebook_path):
    """Every code cell ran, once, top to bottom (execution counts 1, 2, 3, …), with no error."""
    nb = json.loads(notebook_path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{notebook_path.name}: execution counts {counts}: re-run the notebook from a fresh kernel "
        "(Restart & Run All) and save it"
    )
    errors = [i for i, c in enumerate(code) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{notebook_path.name}: stored errors in code cells {errors}"


def test_nbval_runs_every_chapter():
    """pytest's configuration collects book/pt and book/en with nbval and these sanitizers."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert {"book/pt", "book/en"} <= set(options["testpaths"])
    assert "--nbval " in options["addopts"] + " "
    assert "--nbval-sanitize-with tests/nbval_sanitize.cfg" in options["addopts"]


def test_sanitizers_hide_only_what_varies():
    """Addresses, uuids and glued PNGs are masked; numbers and ordinary text are not."""
    assert sanitize("<Figure at 0x7f3a2c1d5e50>") == sanitize("<Figure at 0x7f00aa11bb22>")
    assert sanitize('id="anim_0123456789abcdef0123456789abcdef"') == sanitize('id="anim_fedcba9876543210fedcba9876543210"')
    assert sanitize("iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\nCAYAAAA=") == "<PNG image>"
    for text in ["log p(x) = -12.35", "KL = 0.6931", "ESS = 41", "deadbeef", "0x1F"]:
        assert sanitize(text) == text
    assert sanitize("log p(x) = -12.35") != sanitize("log p(x) = -12.36")
