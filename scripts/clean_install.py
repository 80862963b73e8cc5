"""Run the course the way readers run it: from the built wheel, in a fresh venv, notebooks copied alone.

Colab and Binder never see this repository. A reader's first cell installs ``vae_support``
from its wheel (built from the repository address) into whatever Python and torch the host
has, and runs one notebook with nothing beside it. This script does the same, outside the
repository:

1. builds the wheel and the sdist from the tree (offline: ``--no-build-isolation``) and checks
   that they hold every file of ``vae_support/``;
2. creates a fresh venv (``--python``, default this interpreter), installs torch the way the
   host would have it (``requirements/torch.txt``, or ``--torch SPEC``), then the wheel with
   only its declared dependencies and the extras the notebooks' Colab cells name, plus the
   notebook runtime every host has (ipykernel, nbclient) — never myst-nb or jupyter-book;
3. imports every module of the installed package, from outside the repository;
4. copies each notebook alone into an empty folder and executes it top to bottom.

    .venv/bin/python scripts/clean_install.py                       # a few chapters + an assignment (make test)
    .venv/bin/python scripts/clean_install.py --all                 # every chapter and assignment (make colab-check)
    .venv/bin/python scripts/clean_install.py --all --python python3.12 --torch torch --newest
                                                                    # another Python, the newest torch and deps

Exit status 0 when every step passed; the per-notebook times are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import repository  # noqa: E402  (scripts/repository.py)

PACKAGE = "vae_support"
#: what every notebook host has (Colab, Binder, a local Jupyter): a kernel and a way to run one
RUNTIME = ("ipykernel", "nbclient")
#: the site builder: never needed to run a chapter (plain Sphinx may come with otter-grader)
FORBIDDEN = ("myst_nb", "jupyter_book")
#: the quick selection run by `make test`: two chapters per language (the widgets extra, Digits and
#: training over seeds, the plot subpackage, recorded values and figures) and one assignment; the
#: shortest chapters that cover those (`make colab-check` runs them all)
QUICK_CHAPTERS = {"pt": ("kl-geometry", "latent-variable-models"), "en": ("elbo-interpretation", "elbo-derivation")}
QUICK_ASSIGNMENT = ("pt", "01-kl-elbo")
NOTEBOOK_TIMEOUT_S = 600


# -- the distribution ---------------------------------------------------------------------------
def source_files(root: Path = ROOT) -> set[str]:
    """Files of the package in the tree, relative to the root (no caches)."""
    return {p.relative_to(root).as_posix() for p in (root / PACKAGE).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


#: what a distribution is built from: the package and the files pyproject.toml reads
DIST_INPUTS = ("pyproject.toml", "README.md", PACKAGE)


def _pristine_copy(root: Path, where: Path) -> Path:
    """The distribution's inputs copied into a new folder: a build never reads or leaves
    build/ or *.egg-info caches in the tree (a stale build/lib can smuggle deleted modules in)."""
    tree = Path(tempfile.mkdtemp(prefix="tree-", dir=where))
    for name in DIST_INPUTS:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(src, tree / name)
    return tree


def build_wheel(out: Path, root: Path = ROOT) -> Path:
    """Builds the wheel from a copy of the tree with this interpreter's setuptools (no network)."""
    out.mkdir(parents=True, exist_ok=True)
    tree = _pristine_copy(root, out)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(tree), "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(out)], check=True, capture_output=True)
    shutil.rmtree(tree)
    (wheel,) = out.glob(f"{PACKAGE}-*.whl")
    return wheel


def build_sdist(out: Path, root: Path = ROOT) -> Path:
    """Builds the sdist from a copy of the tree with this interpreter's setuptools (no network)."""
    out.mkdir(parents=True, exist_ok=True)
    tree = _pristine_copy(root, out)
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    name = subprocess.run([sys.executable, "-c", code, str(out)], cwd=tree, check=True,
                          capture_output=True, text=True).stdout.split()[-1]
    shutil.rmtree(tree)
    return out / name


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return {n for n in z.namelist() if n.startswith(PACKAGE + "/")}


def sdist_files(sdist: Path) -> set[str]:
    import tarfile

    with tarfile.open(sdist) as t:
        names = [m.name.split("/", 1)[1] for m in t.getmembers() if m.isfile() and "/" in m.name]
    return {n for n in names if n.startswith(PACKAGE + "/")}


def missing_from(built: set[str], root: Path = ROOT) -> list[str]:
    """Package files of the tree that a built distribution lacks."""
    return sorted(source_files(root) - built)


# -- declared dependencies ------------------------------------------------------------------------
def declared(root: Path = ROOT) -> dict[str, list[str]]:
    """{"base": [...], extra: [...]} requirement strings from pyproject.toml."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"base": project["dependencies"], **project.get("optional-dependencies", {})}


def requirement_name(req: str) -> str:
    import re

    return re.split(r"[\s<>=!~;\[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def notebook_extras(paths: list[Path]) -> list[str]:
    """The extras the notebooks' Colab cells install (union, sorted)."""
    extras: set[str] = set()
    for path in paths:
        extras |= set(repository.notebook_extras(json.loads(path.read_text(encoding="utf-8"))))
    return sorted(extras)


# -- the fresh venv -------------------------------------------------------------------------------
def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Runs ``cmd``; its output is shown only when it fails (pip's notices are noise here)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


def clean_env() -> dict[str, str]:
    """The environment with nothing that points back at the repository or the dev venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP", "JUPYTER_PATH")}
    env["PYTHONNOUSERSITE"] = "1"
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as on Colab
    return env


def make_venv(where: Path, python: str, torch_spec: str | None, wheel: Path, extras: list[str],
              constraints: Path | None) -> Path:
    """A fresh venv with torch, the wheel (+extras) and the notebook runtime; returns its python.

    pip does not byte-compile what it installs (``--no-compile``): Python compiles a module the first time
    it is imported, so only the modules the notebooks use are compiled, not all of torch's (torch alone:
    43 s with pip's byte-compiling, 13 s without, on the 2-core development machine)."""
    run([python, "-m", "venv", str(where)])
    py = where / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile"]
    const = ["-c", str(constraints)] if constraints else []
    torch_args = ["-r", str(ROOT / "requirements" / "torch.txt")] if torch_spec is None else [torch_spec]
    run(pip + torch_args, env=clean_env())
    target = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    run(pip + const + [target, *RUNTIME], env=clean_env())
    return py


def check_isolated(py: Path, workdir: Path) -> None:
    """The venv has no site builder and imports the package from itself, not from the tree."""
    code = (
        "import importlib.util, sys, vae_support\n"
        f"bad = [m for m in {FORBIDDEN!r} if importlib.util.find_spec(m)]\n"
        "assert not bad, f'the fresh venv has the site builder: {bad}'\n"
        f"assert sys.prefix in vae_support.__file__, vae_support.__file__\n"
        f"assert {str(ROOT)!r} not in vae_support.__file__\n"
    )
    run([str(py), "-c", code], cwd=workdir, env=clean_env())


def import_every_module(py: Path, workdir: Path) -> int:
    """Imports every module of the installed package in the fresh venv; returns their count."""
    code = (
        "import importlib, pkgutil, vae_support\n"
        "names = [m.name for m in pkgutil.walk_packages(vae_support.__path__, 'vae_support.')]\n"
        "for n in names: importlib.import_module(n)\n"
        "print(len(names))\n"
    )
    out = subprocess.run([str(py), "-c", code], cwd=workdir, env=clean_env(), check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1])


RUNNER = """
import sys, time
import nbclient, nbformat
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
start = time.perf_counter()
client = nbclient.NotebookClient(nb, timeout=int(sys.argv[2]), kernel_name="python3",
                                 resources={"metadata": {"path": sys.argv[3]}})
client.execute()
seconds = time.perf_counter() - start
nbformat.write(nb, path)
print(f"{seconds:.1f}")
"""


def execute_alone(py: Path, notebook: Path, scratch: Path) -> tuple[float, Path]:
    """Copies ``notebook`` alone into an empty folder and runs it there.

    Returns the seconds it took and the executed copy (with its outputs).
    """
    folder = Path(tempfile.mkdtemp(prefix=notebook.stem + "-", dir=scratch))
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    runner = scratch / "run_notebook.py"
    runner.write_text(RUNNER, encoding="utf-8")
    proc = subprocess.run([str(py), str(runner), str(copy), str(NOTEBOOK_TIMEOUT_S), str(folder)],
                          cwd=folder, env=clean_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{notebook} failed when run alone from the wheel:\n{proc.stderr[-4000:]}")
    return float(proc.stdout.split()[-1]), copy


def student_notebook(lang: str, slug: str, out: Path) -> Path:
    """The student version of an assignment, as handed out (generated by scripts/assignments.py)."""
    run([sys.executable, str(ROOT / "scripts" / "assignments.py"), "generate", "--only", slug, "--lang", lang,
         "--out", str(out), "--no-run-tests"])
    (path,) = (out / lang / slug / "student").glob("*.ipynb")
    return path


def chapters(all_: bool) -> list[Path]:
    if all_:
        return sorted((ROOT / "book" / "pt").glob("*.ipynb")) + sorted((ROOT / "book" / "en").glob("*.ipynb"))
    return [ROOT / "book" / lang / f"{slug}.ipynb" for lang, slugs in QUICK_CHAPTERS.items() for slug in slugs]


def assignments(all_: bool, out: Path) -> list[Path]:
    if not all_:
        return [student_notebook(*QUICK_ASSIGNMENT, out)]
    sources = sorted((ROOT / "book" / "assignments" / "source").glob("*/*.ipynb"))
    return [student_notebook(p.parent.name, p.stem, out) for p in sources]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every chapter and assignment (default: a quick selection)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the fresh venv")
    parser.add_argument("--torch", default=None, help="torch requirement (default: requirements/torch.txt)")
    parser.add_argument("--newest", action="store_true",
                        help="let pip choose the newest dependencies (default: constrained to requirements/course.txt)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="vae-clean-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        dist = scratch / "dist"
        wheel, sdist = build_wheel(dist), build_sdist(dist)
        for built, files in ((wheel, wheel_files(wheel)), (sdist, sdist_files(sdist))):
            missing = missing_from(files)
            if missing:
                print(f"FAIL {built.name} lacks {missing}")
                return 1
        print(f"wheel and sdist hold all {len(source_files())} package files")
        notebooks = chapters(args.all) + assignments(args.all, scratch / "assignments")
        extras = notebook_extras(notebooks)
        constraints = None if args.newest else ROOT / "requirements" / "course.txt"
        py = make_venv(scratch / "venv", args.python, args.torch, wheel, extras, constraints)
        versions = subprocess.run([str(py), "-c", "import sys, torch, numpy; print(sys.version.split()[0], "
                                   "torch.__version__, numpy.__version__)"], env=clean_env(), cwd=scratch,
                                  capture_output=True, text=True, check=True).stdout.split()
        print(f"fresh venv: Python {versions[0]}, torch {versions[1]}, numpy {versions[2]}, "
              f"extras {extras or 'none'} ({time.perf_counter() - t0:.0f} s)")
        check_isolated(py, scratch)
        print(f"imported all {import_every_module(py, scratch)} modules of the installed package")
        failures = 0
        for nb in notebooks:
            name = nb.relative_to(ROOT) if nb.is_relative_to(ROOT) else f"{nb.parent.parent.parent.name}/{nb.name}"
            try:
                print(f"{execute_alone(py, nb, scratch)[0]:6.1f} s  {name}", flush=True)
            except RuntimeError as err:
                failures += 1
                print(f"FAIL {name}\n{err}", flush=True)
        print(f"{len(notebooks) - failures} passed, {failures} failed ({time.perf_counter() - t0:.0f} s in all)")
        return 1 if failures else 0
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
