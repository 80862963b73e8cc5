"""What the grader needs from an autograder zip, read once into memory before any student code runs."""
from __future__ import annotations

import ast
import dataclasses
import json
import pathlib
import zipfile


@dataclasses.dataclass
class Autograder:
    """The tests of one assignment: ``tests`` maps a question to the text of its otter test file."""
    name: str
    path: pathlib.Path
    tests: dict[str, str]
    context: str = ""  # the assignment's own set-up code (trusted), for values the tests take as given

    def __post_init__(self):
        # Parsed here, once, on the thread that loads the zip: the grader grades submissions on several threads,
        # and CPython's AST constructor keeps one recursion counter per interpreter, so two ast.parse calls at
        # once can fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).
        self._parameters = frozenset(self._parse_parameters())
        self._context_names = frozenset(self._parse_context_names() & self._parameters)

    def parameters(self) -> set[str]:
        """Names the test functions take (answers, ``LANG`` and context values)."""
        return set(self._parameters)

    def context_names(self) -> set[str]:
        """Test parameters that the set-up code defines (``models``, say): computed by the grader, not taken from the student."""
        return set(self._context_names)

    def _parse_parameters(self) -> set[str]:
        names = set()
        for text in self.tests.values():
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                    names.update(a.arg for a in node.args.args)
        return names - {"env"}

    def _parse_context_names(self) -> set[str]:
        defined = set()
        for node in (ast.parse(self.context).body if self.context else []):
            for target in getattr(node, "targets", [getattr(node, "target", None)]):
                if isinstance(target, ast.Name):
                    defined.add(target.id)
        return defined


def load(path: pathlib.Path) -> Autograder:
    """Read an autograder zip written by ``scripts/assignments.py generate`` (otter assign)."""
    path = pathlib.Path(path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        config = json.loads(z.read("otter_config.json")) if "otter_config.json" in names else {}
        tests = {pathlib.PurePosixPath(n).stem: z.read(n).decode("utf-8") for n in sorted(names)
                 if n.startswith("tests/") and n.endswith(".py")}
        context = z.read("course_grader_context.py").decode("utf-8") if "course_grader_context.py" in names else ""
    name = config.get("assignment_name") or path.name.removesuffix("-autograder.zip")
    if not tests:
        raise ValueError(f"autograder: {path} holds no tests/*.py")
    return Autograder(name, path, tests, context)


# -- making the autograder zip run elsewhere (Gradescope, otter's Docker image) -----------------
ENVIRONMENT = """\
name: otter-env
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
      - -r /autograder/source/requirements.txt
"""


def requirements(torch_pin: str, wheel_name: str, prefix: str = "/autograder/source/files/") -> str:
    """pip requirements of the grading environment: CPU torch first, then the course package from its wheel."""
    return "\n".join([
        "--extra-index-url https://download.pytorch.org/whl/cpu",
        torch_pin,
        "otter-grader[grading]==7.0.0",
        f"vae_support @ file://{prefix}{wheel_name}",
        "",
    ])


def complete_zip(path: pathlib.Path, context: str, wheel: pathlib.Path | None, torch_pin: str) -> None:
    """Add to an otter autograder zip what the course's tests need beyond otter.

    - ``course_grader_context.py``: the assignment's set-up code (values the tests take as given);
    - ``files/course_grader/``: the delegation check the hidden "own code" tests import (otter copies
      ``files/`` beside the submission);
    - ``files/<vae_support wheel>``, ``requirements.txt`` (CPU torch, otter, vae_support) and an
      ``environment.yml`` that installs them (Python 3.11), replacing otter's default one.
    """
    here = pathlib.Path(__file__).resolve().parent
    path = pathlib.Path(path)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename not in ("environment.yml", "requirements.txt"):
                dst.writestr(item, src.read(item.filename))
        dst.writestr("course_grader_context.py", context)
        for name in ("__init__.py", "delegation.py"):
            dst.write(here / name, f"files/course_grader/{name}")
        if wheel is not None:
            dst.write(wheel, f"files/{wheel.name}")
            dst.writestr("requirements.txt", requirements(torch_pin, wheel.name))
            dst.writestr("environment.yml", ENVIRONMENT)
    tmp.replace(path)


def setup_code(cells: list[str]) -> str:
    """The set-up code of a source notebook: code cells before the first question, without Colab or otter lines."""
    out = []
    for source in cells:
        if "google.colab" in source:
            continue
        tree = ast.parse(source)
        kept = [node for node in tree.body
                if not any(isinstance(n, ast.Name) and n.id in ("otter", "grader") for n in ast.walk(node))
                and not (isinstance(node, ast.Import) and any(a.name == "otter" for a in node.names))]
        out.append("\n".join(ast.get_source_segment(source, node) for node in kept))
    return "\n\n".join(out) + "\n"
