"""Does an answer delegate to a function the question forbids? Read what the code refers to.

The check is static: it parses the notebook's code cells (never runs them), resolves every name
the answer refers to through the notebook's imports and assignments (``from vae_support.kl import
gaussian_kl as g``, ``import vae_support.kl as K; K.gaussian_kl``, ``g = K.gaussian_kl``,
``getattr(K, "gaussian_kl")``, default arguments, decorators), follows the helper functions and
classes of the notebook that the answer uses, and compares what the names resolve to with the
forbidden functions *by identity* (a re-export under another name is caught too). Docstrings,
comments and strings are not references, so mentioning a forbidden name costs nothing. Code that
hides what it refers to (``eval``, ``exec``, ``__import__``, ``importlib``, ``globals()``,
``sys.modules``, ``getattr`` of a module with a computed name, …) fails the check: the grader
cannot see what it calls.

Used by the hidden "own code" tests: ``delegation_problem(kl_diag, [...], LANG)`` returns ``None``
or the message explaining what is forbidden and why. In ``course_grader``'s verdict process the
answer carries the notebook's cells (``__course_grader_source__``); elsewhere (otter in a kernel)
the source comes from ``inspect`` and the names from the function's globals.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import textwrap

PREFIX = "[own code] "
ROOTS = ("vae_support", "torch", "numpy", "math", "scipy", "functools", "operator")
HIDING = {"eval", "exec", "compile", "__import__", "globals", "vars", "locals", "importlib", "import_module",
          "attrgetter", "methodcaller", "__builtins__", "builtins", "get_ipython", "__loader__", "__spec__"}
HIDING_ATTRS = {"__dict__", "__getattribute__", "__globals__", "modules", "__builtins__", "f_globals",
                "f_locals", "__code__", "__closure__", "__wrapped__"}
NOTEBOOK_NAMES = {"display", "get_ipython", "In", "Out", "exit", "quit", "_", "__", "___"}
UNANSWERED = {"pt": "None — questão ainda não respondida", "en": "None — question not answered yet"}


def _resolve(path: str):
    """The object a dotted path names, importing only from a few known packages; None if unknown."""
    parts = path.split(".")
    if parts[0] not in ROOTS:
        return None
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except Exception:
            return None
        return obj
    return None


def _dotted(node) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return None


def _import_aliases(statements) -> dict[str, set[str]]:
    aliases: dict[str, set[str]] = {}
    stars = set()
    for node in statements:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases.setdefault(a.asname, set()).add(a.name)
                else:
                    top = a.name.split(".")[0]
                    aliases.setdefault(top, set()).add(top)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name == "*":
                    stars.add(node.module)
                else:
                    aliases.setdefault(a.asname or a.name, set()).add(f"{node.module}.{a.name}")
    aliases["*"] = stars
    return aliases


def _module_statements(tree):
    """Statements at module level, inside if/for/try/with too, but not inside functions or classes."""
    out, stack = [], list(tree.body)
    while stack:
        node = stack.pop(0)
        out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(n for n in getattr(node, field, []) if isinstance(n, (ast.stmt, ast.excepthandler)))
    return out


def _stored_names(node) -> set[str]:
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in n.names if a.name != "*")
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            names.difference_update(n.names)
    return names


class _Notebook:
    """What the module level of a notebook binds: imports, definitions, other assignments."""

    def __init__(self, cells: list[str], extra_aliases: dict[str, set[str]] | None = None):
        self.definitions: dict[str, ast.AST] = {}
        self.aliases: dict[str, set[str]] = {k: set(v) for k, v in (extra_aliases or {}).items()}
        self.assigned: dict[str, list[ast.AST]] = {}
        self.stars: set[str] = set()
        self.hidden_module_code: list[str] = []
        for source in cells:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            statements = _module_statements(tree)
            imports = _import_aliases(statements)
            self.stars |= imports.pop("*")
            for k, v in imports.items():
                self.aliases.setdefault(k, set()).update(v)
            for node in statements:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.definitions[node.name] = node
                elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        for n in ast.walk(target):
                            if isinstance(n, ast.Name):
                                self.assigned.setdefault(n.id, []).append(node.value)
                elif isinstance(node, (ast.For, ast.With)):
                    for n in ast.walk(node.target if isinstance(node, ast.For) else node):
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                            self.assigned.setdefault(n.id, []).append(node)
        self.bound = set(self.definitions) | set(self.aliases) | set(self.assigned)


class Checker:
    def __init__(self, notebook: _Notebook, forbidden: list[str]):
        self.nb = notebook
        self.forbidden = {}
        for path in forbidden:
            obj = _resolve(path)
            self.forbidden[path] = obj
        self.findings: list[tuple[str, str, int]] = []  # (what, how, line)
        self.seen: set[int] = set()

    def _is_forbidden(self, path: str) -> str | None:
        if path in self.forbidden:
            return path
        obj = _resolve(path)
        if obj is None:
            return None
        for name, f in self.forbidden.items():
            if f is not None and obj is f:
                return name
        return None

    def _paths_of(self, name: str, local_aliases: dict[str, set[str]], depth: int = 0) -> set[str]:
        """Dotted paths a free name may stand for (through imports and simple assignments)."""
        if name in local_aliases:
            return set(local_aliases[name])
        paths = set(self.nb.aliases.get(name, set()))
        for value in self.nb.assigned.get(name, []):
            dotted = _dotted(value) if isinstance(value, ast.expr) else None
            if dotted and depth < 5:
                head, _, rest = dotted.partition(".")
                paths |= {p + ("." + rest if rest else "") for p in self._paths_of(head, {}, depth + 1)}
        if not paths and name not in self.nb.bound:
            for module in self.nb.stars:
                if _resolve(f"{module}.{name}") is not None:
                    paths.add(f"{module}.{name}")
        return paths

    def _taints(self, name: str, depth: int = 0) -> str | None:
        """A module-level name assigned from an expression that refers to a forbidden function."""
        if depth > 5:
            return None
        for value in self.nb.assigned.get(name, []):
            sub = Checker(self.nb, list(self.forbidden))
            sub.forbidden = self.forbidden
            sub.seen = self.seen
            sub._walk(value, {}, set(), depth + 1)
            if sub.findings:
                return sub.findings[0][0]
        return None

    def check(self, node) -> None:
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        local_aliases = _import_aliases([n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))])
        stars = local_aliases.pop("*")
        if stars:
            self.findings.append(("import *", f"from {sorted(stars)[0]} import *", getattr(node, "lineno", 0)))
        for n in ast.walk(node):  # local aliases: D = torch.distributions
            if isinstance(n, ast.Assign) and _dotted(n.value):
                head, _, rest = _dotted(n.value).partition(".")
                paths = {p + ("." + rest if rest else "") for p in self._paths_of(head, local_aliases)}
                for target in n.targets:
                    if isinstance(target, ast.Name) and paths:
                        local_aliases.setdefault(target.id, set()).update(paths)
        self._walk(node, local_aliases, _stored_names(node))

    def _walk(self, node, local_aliases, local_names, depth: int = 0) -> None:
        for n in ast.walk(node):
            line = getattr(n, "lineno", 0)
            if isinstance(n, ast.Attribute) and n.attr in HIDING_ATTRS:
                self.findings.append((f".{n.attr}", "hides what it refers to", line))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("getattr", "setattr", "hasattr") \
                    and n.func.id not in local_names and len(n.args) >= 2:
                target = _dotted(n.args[0])
                if isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str):
                    if target:
                        self._reference(f"{target}.{n.args[1].value}", local_aliases, local_names, line,
                                        how=f"getattr({target}, {n.args[1].value!r})")
                elif (target is None and any(isinstance(x, ast.Call) for x in ast.walk(n.args[0]))) \
                        or (target is not None and self._module_like(target, local_aliases)):
                    # a computed name on a module, or on what a call returns (it may be a module)
                    self.findings.append(("getattr", "uses getattr with a computed name", line))
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                self._reference(n.id, local_aliases, local_names, line)
            elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
                dotted = _dotted(n)
                if dotted:
                    self._reference(dotted, local_aliases, local_names, line)

    def _module_like(self, dotted: str, local_aliases) -> bool:
        head, _, rest = dotted.partition(".")
        for path in self._paths_of(head, local_aliases):
            obj = _resolve(path + ("." + rest if rest else ""))
            if inspect.ismodule(obj):
                return True
        return False

    def _reference(self, dotted: str, local_aliases, local_names, line: int, how: str | None = None) -> None:
        head, _, rest = dotted.partition(".")
        if head in local_names and head not in local_aliases:
            return
        if head in HIDING and (head not in self.nb.bound or head in self.nb.aliases):
            self.findings.append((head, "hides what it calls", line))
            return
        for path in self._paths_of(head, local_aliases):
            full = path + ("." + rest if rest else "")
            if full.split(".")[-1] in HIDING or full.startswith("importlib") or full == "sys.modules":
                self.findings.append((full, "hides what it calls", line))
            hit = self._is_forbidden(full)
            if hit:
                self.findings.append((hit, how or (f"as {dotted}" if dotted != hit else ""), line))
        if head in self.nb.definitions and head not in local_aliases:
            self.check(self.nb.definitions[head])
        elif head in self.nb.assigned and head not in local_aliases:
            tainted = self._taints(head)
            if tainted:
                self.findings.append((tainted, f"through {head}", line))
        elif head not in self.nb.bound and head not in local_aliases and not hasattr(builtins, head) \
                and head not in NOTEBOOK_NAMES and not self._paths_of(head, local_aliases):
            self.findings.append((head, "is not defined anywhere the grader can see", line))


def _source_of(function):
    """(cells, name, extra aliases) for an answer: the verdict's proxy, or a live function (in a kernel)."""
    carried = getattr(function, "__course_grader_source__", None)
    if carried is not None:
        cells, name = carried
        return list(cells), name, {}
    name = getattr(function, "__name__", "answer")
    cells = [textwrap.dedent(inspect.getsource(function))]
    aliases: dict[str, set[str]] = {}
    for key, value in getattr(function, "__globals__", {}).items():
        if inspect.ismodule(value):
            aliases[key] = {value.__name__}
        elif callable(value) and getattr(value, "__module__", None) not in (None, "__main__"):
            aliases[key] = {f"{value.__module__}.{getattr(value, '__qualname__', key)}"}
        elif callable(value) and getattr(value, "__module__", None) == "__main__" and key != name:
            try:
                cells.append(textwrap.dedent(inspect.getsource(value)))
            except (OSError, TypeError):
                pass
    return cells, name, aliases


def find_delegation(cells: list[str], name: str, forbidden: list[str], extra_aliases=None) -> list[tuple[str, str, int]]:
    """What ``name`` (a function or value defined in ``cells``) refers to that is forbidden or hidden."""
    nb = _Notebook(cells, extra_aliases)
    checker = Checker(nb, forbidden)
    if name in nb.definitions:
        checker.check(nb.definitions[name])
    elif name in nb.bound:
        checker._reference(name, {}, set(), 0)
    seen, out = set(), []
    for f in checker.findings:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def _unanswered(cells: list[str], name: str) -> bool:
    nb = _Notebook(cells)
    node = nb.definitions.get(name)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                          and isinstance(s.value.value, str))]
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                            and s.value.value is Ellipsis) for s in body)


def delegation_problem(function, forbidden: list[str], lang: str = "en") -> str | None:
    """None if ``function`` does its own computation; else a message (in ``lang``) saying what is forbidden and why."""
    lang = "pt" if lang == "pt" else "en"
    if function is None or function is Ellipsis:
        return PREFIX + UNANSWERED[lang]
    try:
        cells, name, aliases = _source_of(function)
    except (OSError, TypeError):
        return PREFIX + ("o corretor não encontrou o código-fonte da função" if lang == "pt"
                         else "the grader could not find the function's source code")
    if _unanswered(cells, name):
        return PREFIX + UNANSWERED[lang]
    findings = find_delegation(cells, name, forbidden, aliases)
    if not findings:
        return None
    listed = ", ".join(forbidden)
    what, how, line = findings[0]
    where = (f" (linha {line})" if lang == "pt" else f" (line {line})") if line else ""
    if what in forbidden:
        how = f" {how}" if how else ""
        if lang == "pt":
            return (f"{PREFIX}{name} usa {what}{how}{where}, que esta questão proíbe (proibidos: {listed}): "
                    f"a questão pede que você escreva a conta com o seu próprio código, não que devolva o resultado do pacote.")
        return (f"{PREFIX}{name} uses {what}{how}{where}, which this question forbids (forbidden: {listed}): "
                f"the question asks you to write the computation in your own code, not to return the package's result.")
    if lang == "pt":
        return (f"{PREFIX}{name} usa {what}{where}, que esconde o que a função chama: o corretor não pode verificar que ela "
                f"não delega a {listed}. Escreva a conta diretamente.")
    return (f"{PREFIX}{name} uses {what}{where}, which hides what the function calls: the grader cannot verify that it "
            f"does not delegate to {listed}. Write the computation directly.")
