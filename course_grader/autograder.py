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

    def parameters(self) -> set[str]:
        """Names the test functions take (answers, ``LANG`` and context values)."""
        names = set()
        for text in self.tests.values():
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                    names.update(a.arg for a in node.args.args)
        return names - {"env"}

    def context_names(self) -> set[str]:
        """Test parameters that the set-up code defines (``models``, say): computed by the grader, not taken from the student."""
        if not self.context:
            return set()
        defined = set()
        for node in ast.parse(self.context).body:
            for target in getattr(node, "targets", [getattr(node, "target", None)]):
                if isinstance(target, ast.Name):
                    defined.add(target.id)
        return defined & self.parameters()


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
