"""The course where readers run it: the built wheel in a fresh venv, each notebook copied alone.

Nothing here uses the development venv's view of the package: the wheel is built from the tree,
installed non-editable with only its declared dependencies (and the extras the Colab cells
name) into a new venv outside the repository, and notebooks run from empty folders.
``make colab-check`` runs every chapter and assignment the same way (scripts/clean_install.py).
"""
from __future__ import annotations

import ast
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import clean_install as ci  # scripts/clean_install.py
import repository
import translation

ROOT = ci.ROOT


# -- the distribution -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    return {"wheel": ci.build_wheel(out), "sdist": ci.build_sdist(out)}


def test_wheel_holds_every_package_file(dist):
    files = ci.wheel_files(dist["wheel"])
    assert ci.missing_from(files) == []
    assert "vae_support/plot/_style.py" in files and "vae_support/recording.py" in files


def test_sdist_holds_every_package_file(dist):
    assert ci.missing_from(ci.sdist_files(dist["sdist"])) == []


def test_wheel_check_catches_a_missing_subpackage(tmp_path):
    """The last round's bug, planted: packages = ["vae_support"] drops vae_support/plot."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "vae_support", tree / "vae_support", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", tree / "README.md")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    old = '[tool.setuptools.packages.find]\ninclude = ["vae_support", "vae_support.*"]'
    assert old in pyproject
    (tree / "pyproject.toml").write_text(pyproject.replace(old, '[tool.setuptools]\npackages = ["vae_support"]'),
                                         encoding="utf-8")
    wheel = ci.build_wheel(tmp_path / "dist", root=tree)
    missing = ci.missing_from(ci.wheel_files(wheel), root=tree)
    assert "vae_support/plot/_style.py" in missing


def test_license_is_an_spdx_string():
    """setuptools deprecates the license table; pyproject names the licence by its SPDX id."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"


# -- honest dependencies ------------------------------------------------------------------------------
def imports_of(code: str) -> set[str]:
    """Top-level module names imported by ``code`` (IPython magics ignored)."""
    code = "\n".join(line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
                     for line in code.splitlines())
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def notebook_imports(path: Path) -> set[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return set().union(*(imports_of(translation.cell_source(c)) for c in nb["cells"] if c["cell_type"] == "code"))


def distributions_of(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in importlib.metadata.packages_distributions().get(module, [])}


def undeclared(modules: set[str], allowed: set[str]) -> dict[str, set[str]]:
    """{module: its distributions} for each third-party module whose distribution is not allowed."""
    bad = {}
    for module in sorted(modules - set(sys.stdlib_module_names) - {"vae_support", "__future__"}):
        dists = distributions_of(module)
        if not dists & allowed:
            bad[module] = dists
    return bad


def declared_names(*groups: str) -> set[str]:
    reqs = ci.declared()
    return {ci.requirement_name(r) for g in groups for r in reqs[g]}


@pytest.mark.parametrize("path", repository.notebook_paths(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_notebook_imports_are_declared(path):
    """A notebook imports only the package, the standard library, and what pyproject declares
    in the base set or an extra its Colab cell installs — never the site builder."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    allowed = declared_names("base", *repository.notebook_extras(nb))
    imports = notebook_imports(path)
    if "assignments" in path.parts:
        # hidden tests import the grader's own package, which the autograder zip carries
        # (stripped from the student's notebook, which course_grader never reaches)
        imports.discard("course_grader")
    assert not imports & {"myst_nb", "jupyter_book", "sphinx"}, f"{path.name} imports the site builder"
    assert undeclared(imports, allowed) == {}


def test_package_imports_are_declared():
    """Every module of vae_support imports only the standard library and its base dependencies
    (ipywidgets, of the widgets extra, only inside vae_support.widgets and the explorers' display
    object, which builds the live twin only when ipywidgets imports; myst-nb only in recording,
    behind a check that it is installed)."""
    optional = {"widgets.py": declared_names("widgets"), "explorers/__init__.py": declared_names("widgets"),
                "recording.py": {"myst-nb"}}
    for path in sorted((ROOT / "vae_support").rglob("*.py")):
        allowed = declared_names("base") | optional.get(path.relative_to(ROOT / "vae_support").as_posix(), set())
        bad = undeclared(imports_of(path.read_text(encoding="utf-8")), allowed)
        assert bad == {}, f"{path.relative_to(ROOT)} imports undeclared {bad}"


def test_import_check_can_fail():
    assert undeclared({"myst_nb", "torch", "json"}, declared_names("base")) == {"myst_nb": {"myst-nb"}}


# -- Binder's environment -------------------------------------------------------------------------------
def test_binder_environment_matches_the_pins():
    """environment.yml: Python 3.11, the same pin files as the Makefile, the package itself; and the
    development venv (what those pins install) is consistent (pip check)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_lines = next(d["pip"] for d in deps if isinstance(d, dict))
    assert [l for l in pip_lines if l.startswith("-r")] == ["-r requirements/torch.txt", "-r requirements/course.txt"]
    assert "-e ." in pip_lines
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-r requirements/torch.txt" in makefile and "-r requirements/course.txt" in makefile
    for line in (ROOT / "requirements" / "course.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert importlib.metadata.version(name) == version, f"{name}: the venv differs from the pin"
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


# -- the fresh venv ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fresh(tmp_path_factory, dist):
    """A new venv outside the repository: torch of requirements/torch.txt, the wheel with the
    extras of the notebooks below, and a kernel. Its scratch folder holds the notebooks' copies."""
    scratch = tmp_path_factory.mktemp("clean")
    notebooks = ci.chapters(all_=False) + ci.assignments(all_=False, out=scratch / "assignments")
    py = ci.make_venv(scratch / "venv", sys.executable, None, dist["wheel"], ci.notebook_extras(notebooks),
                      ROOT / "requirements" / "course.txt")
    return {"python": py, "scratch": scratch, "notebooks": notebooks}


def test_fresh_venv_has_no_site_builder(fresh):
    ci.check_isolated(fresh["python"], fresh["scratch"])


def test_every_module_imports_from_the_installed_wheel(fresh):
    source_modules = [p for p in (ROOT / "vae_support").rglob("*.py") if "__pycache__" not in p.parts]
    assert ci.import_every_module(fresh["python"], fresh["scratch"]) == len(source_modules) - 1  # minus __init__


def test_notebooks_run_alone_from_the_wheel(fresh):
    """Two chapters per language and one assignment's student notebook, each alone in an empty folder."""
    times = {}
    for nb in fresh["notebooks"]:
        times[nb.name] = ci.execute_alone(fresh["python"], nb, fresh["scratch"])[0]
    print("seconds per notebook:", {k: round(v, 1) for k, v in times.items()})
    assert len(times) == 5


def _planted(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "planted.ipynb"
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


@pytest.mark.parametrize("code", [
    "from myst_nb import glue",  # the site builder
    "import pathlib; pathlib.Path('../book/pt/notation.md').read_text()",  # a file of the checkout
    "import sys; sys.path.insert(0, '/nonexistent'); import build_book",  # the repository's scripts
])
def test_the_fresh_venv_catches_what_only_the_repository_has(fresh, tmp_path, code):
    """The check can fail: a notebook that needs the site builder or the checkout fails alone."""
    with pytest.raises(RuntimeError, match="failed when run alone"):
        ci.execute_alone(fresh["python"], _planted(tmp_path, code), fresh["scratch"])


def test_recording_without_myst_nb_shows_figures_only(fresh, tmp_path):
    """record() stores nothing without myst-nb, shows a figure, and still rejects bad names."""
    code = (
        "import matplotlib.pyplot as plt\n"
        "from vae_support.recording import record, rounded, glue_available\n"
        "assert not glue_available()\n"
        "fig, ax = plt.subplots()\n"
        "record(a=rounded(0.123456), fig_x=fig)\n"
        "plt.close(fig)  # as the chapters do: the figure is shown by record, not again at the cell's end\n"
        "try:\n"
        "    record({'': 1})\n"
        "except ValueError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('an empty name was accepted')\n"
    )
    _, executed = ci.execute_alone(fresh["python"], _planted(tmp_path, code), fresh["scratch"])
    outputs = json.loads(executed.read_text(encoding="utf-8"))["cells"][0]["outputs"]
    mimes = [sorted(o.get("data", {})) for o in outputs]
    assert len(outputs) == 1 and "image/png" in mimes[0], mimes  # the figure, once; no hidden records
