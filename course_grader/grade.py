"""Grade a class: every notebook in its own sandbox, verdicts in clean processes, a CSV that is always written.

For each submission (``grade_submission``):
  1. read it (corrupt JSON, missing otter metadata, another assignment: a row with that status);
  2. make a fresh folder with a copy of the notebook, its code cells, the worker and a private
     copy of ``vae_support``; run the worker in a sandbox (``worker.py``), with a memory cap,
     a time limit per cell and a wall-clock limit for the whole notebook;
  3. when it is ready, run the hidden and public tests in a fresh ``verdict.py`` process that
     reaches the answers only through the worker's pipe;
  4. kill everything the submission started, delete its folder, write its row and its feedback.
Submissions are graded ``jobs`` at a time; one that stalls, crashes or deletes things only
loses its own row's points.
"""
from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import hashlib
import importlib.util
import json
import os
import pathlib
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import nbformat

from . import autograder as ag

HERE = pathlib.Path(__file__).resolve().parent
STATUSES = ("graded", "timeout", "error", "invalid", "wrong-assignment")
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt", "/sys")


@dataclasses.dataclass
class Options:
    timeout: float = 180.0       # wall-clock seconds to run one notebook (its tests get half as much more)
    memory_mb: int = 4096        # address-space cap of the notebook's process
    jobs: int = 1
    sandbox: str = "auto"        # "auto": use it where the system allows; "on": required; "off"
    tmp_mb: int = 512            # size of the notebook's private /tmp
    fork_verdicts: bool = True   # verdicts forked from a clean preloaded interpreter (fast) or started afresh

    @property
    def cell_timeout(self) -> float:
        """A cell that runs longer is interrupted; the cells after it still run."""
        return max(1.0, 0.5 * self.timeout)

    @property
    def test_timeout(self) -> float:
        """All the tests of one notebook, after its run."""
        return max(10.0, 0.5 * self.timeout)

    @property
    def call_timeout(self) -> float:
        """One call of an answer by a test."""
        return max(1.0, 0.2 * self.timeout)


@dataclasses.dataclass
class Result:
    submission: str
    assignment: str | None
    status: str
    reason: str = ""
    questions: dict = dataclasses.field(default_factory=dict)  # name -> {"score", "possible", "tests"}
    lang: str = "pt"
    seconds: float = 0.0
    cell_errors: list = dataclasses.field(default_factory=list)  # [cell number (from 1), exception name]
    timings: dict = dataclasses.field(default_factory=dict)  # seconds: "run" (sandbox + notebook), "tests"

    @property
    def total(self) -> float:
        return sum(q["score"] for q in self.questions.values())

    @property
    def possible(self) -> float:
        return sum(q["possible"] for q in self.questions.values())


# -- the environment every submission gets --------------------------------------------------
class Environment:
    """What is read once, before any student code runs: the package to copy, paths to bind, the sandbox probe."""

    def __init__(self, options: Options):
        self.options = options
        spec = importlib.util.find_spec("vae_support")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("vae_support: the grader needs the course package installed")
        self.package_dir = pathlib.Path(list(spec.submodule_search_locations)[0]).resolve()
        self.package_files = {p.relative_to(self.package_dir).as_posix(): p.read_bytes()
                              for p in sorted(self.package_dir.rglob("*"))
                              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
        self.package_hash = self._hash(self.package_dir)
        self.python = sys.executable
        probe = subprocess.run([self.python, "-I", "-c", "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix] + sys.path))"],
                               capture_output=True, text=True, check=True)
        prefix, base, exec_prefix, *entries = json.loads(probe.stdout)
        # the interpreter and its installed packages, never a source tree (an old-style editable install puts the
        # repository on sys.path: it holds the solutions and the autograder, so it stays out of the sandbox)
        entries = [e for e in entries if "site-packages" in e or "dist-packages" in e
                   or (e.startswith(base) and not (pathlib.Path(e) / "vae_support").exists())]
        paths = [prefix, base, exec_prefix, *entries, os.path.dirname(os.path.realpath(self.python)), os.path.dirname(self.python)]
        self.binds = list(SYSTEM_DIRS) + [p for p in paths if p and os.path.isdir(p)]
        self.paths = [str(HERE.parent), str(self.package_dir.parent)]
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="course-grader-"))
        os.chmod(self.root, 0o700)
        self.lock = threading.Lock()
        self.running: set = set()  # WorkerRuns alive, killed by cleanup() if grading stops early
        self.sandbox = False
        self.sandbox_note = "sandbox off (--sandbox off)"
        if options.sandbox != "off":
            ok, why = self._probe_sandbox()
            self.sandbox = ok
            self.sandbox_note = "sandbox on" if ok else f"sandbox unavailable: {why}"
            if not ok and options.sandbox == "on":
                raise RuntimeError(f"sandbox: required (--sandbox on) but unavailable: {why}")

    def _hash(self, folder: pathlib.Path) -> str:
        digest = hashlib.sha256()
        for p in sorted(folder.rglob("*.py")):
            if "__pycache__" not in p.parts:
                digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
        return digest.hexdigest()

    def check_package(self) -> bool:
        """True if the grader's vae_support is intact; restore it from memory otherwise."""
        with self.lock:
            if self._hash(self.package_dir) == self.package_hash:
                return True
            for rel, data in self.package_files.items():
                target = self.package_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists() or target.read_bytes() != data:
                    target.write_bytes(data)
            return False

    def _probe_sandbox(self) -> tuple[bool, str]:
        if not shutil.which("unshare"):
            return False, "no unshare command (util-linux)"
        cells = ["import os\nopen('/submission/probe', 'w').write('ok')\n"
                 "try:\n    open(os.path.realpath(os.__file__), 'a')\n    raise SystemExit('writable system')\n"
                 "except OSError:\n    pass"]
        run = WorkerRun(self, "probe", cells, sandbox=True)
        try:
            state = run.wait_ready(time.monotonic() + 60)
        finally:
            run.stop()
        if state.get("ready") and not state.get("errors"):
            return True, ""
        return False, state.get("sandbox_failed") or state.get("crash") or str(state)

    def cleanup(self) -> None:
        for run in list(self.running):
            run.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Zygote:
    """A clean interpreter with torch, vae_support and otter imported, that forks one verdict process per submission."""

    def __init__(self, env: "Environment"):
        import socket

        self.sock, theirs = socket.socketpair()
        self.lock = threading.Lock()
        self.log = open(env.root / "verdicts.log", "wb")
        self.process = subprocess.Popen([env.python, "-I", "-B", str(HERE / "verdict.py"), "--serve", str(theirs.fileno()),
                                         json.dumps(env.paths)], stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT, env=_verdict_environ(), pass_fds=(theirs.fileno(),),
                                        start_new_session=True)
        theirs.close()

    def start(self, job: bytes, fds: list[int]) -> int:
        """Send a job; return the pid of the child that runs it."""
        import socket
        import struct

        with self.lock:
            socket.send_fds(self.sock, [struct.pack("<Q", len(job))], fds)
            self.sock.sendall(job)
            data = b""
            while len(data) < 8:
                chunk = self.sock.recv(8 - len(data))
                if not chunk:
                    raise RuntimeError("the verdict zygote stopped")
                data += chunk
            return struct.unpack("<q", data)[0]

    def close(self) -> None:
        self.sock.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class WorkerRun:
    """One sandboxed worker: a fresh folder, the student's cells, and the pipes to reach it."""

    def __init__(self, env: Environment, name: str, cells: list[str], sandbox: bool, notebook: bytes = b""):
        self.env = env
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="sub-", dir=env.root))
        work = self.folder / "work"
        grader = work / ".grader"
        (grader / "pkg" / "vae_support").mkdir(parents=True)
        for rel, data in env.package_files.items():
            target = grader / "pkg" / "vae_support" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        shutil.copy(HERE / "worker.py", grader / "worker.py")
        shutil.copy(HERE / "wire.py", grader / "wire.py")
        (grader / "cells.json").write_text(json.dumps(cells), encoding="utf-8")
        if notebook:
            (work / name).write_bytes(notebook)
        self.status_r, status_w = os.pipe()
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        config = {"work": str(work), "binds": env.binds, "sandbox": sandbox, "memory_mb": env.options.memory_mb,
                  "tmp_mb": env.options.tmp_mb, "cell_timeout": env.options.cell_timeout,
                  "run_timeout": env.options.timeout,
                  "call_timeout": env.options.call_timeout,
                  "status_fd": status_w, "request_fd": request_r, "reply_fd": reply_w}
        command = [env.python, "-I", "-B", str(grader / "worker.py"), json.dumps(config)]
        if sandbox:
            command = ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--net",
                       "--kill-child", "--"] + command
        environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp" if sandbox else str(work),
                   "TMPDIR": "/tmp" if sandbox else str(work), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.log = open(self.folder / "worker.log", "wb")
        self.process = subprocess.Popen(command, cwd=work, env=environ, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT, pass_fds=(status_w, request_r, reply_w),
                                        start_new_session=True)
        for fd in (status_w, request_r, reply_w):
            os.close(fd)
        self.buffer = b""
        self.cell = None
        with env.lock:
            env.running.add(self)

    def wait_ready(self, deadline: float) -> dict:
        """Read the worker's status until ``ready``; {"timeout": True} or {"crash": ...} otherwise."""
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                if isinstance(message.get("cell"), int):
                    self.cell = message["cell"]
                if message.get("ready") or message.get("sandbox_failed"):
                    return message
            wait = deadline - time.monotonic()
            if wait <= 0:
                return {"timeout": True}
            if select.select([self.status_r], [], [], min(wait, 1.0))[0]:
                chunk = os.read(self.status_r, 65536)
                if not chunk:
                    code = self.process.wait()
                    return {"crash": f"exit code {code}" if code >= 0 else f"killed by signal {-code}"}
                self.buffer = (self.buffer + chunk)[-1_000_000:]

    def stop(self) -> None:
        with self.env.lock:
            if getattr(self, "stopped", False):
                return
            self.stopped = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.status_r, self.request_w, self.reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        with self.env.lock:
            self.env.running.discard(self)


# -- reading submissions ----------------------------------------------------------------------
def code_cells(nb) -> list[str]:
    """The notebook's code cells as plain Python (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    manager, out = TransformerManager(), []
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            try:
                out.append(manager.transform_cell(source))
            except Exception:
                out.append(source)
    return out


def read_submission(path: pathlib.Path):
    """(notebook, assignment name or None, problem or None)."""
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as err:
        return None, None, f"not a readable notebook ({type(err).__name__}: {str(err).splitlines()[0][:150] if str(err) else ''})"
    try:
        name = nb.metadata.get("otter", {}).get("assignment_name")
    except AttributeError:
        name = None
    return nb, name, None


# -- one submission ---------------------------------------------------------------------------
class Grader:
    def __init__(self, autograders: dict[str, ag.Autograder], options: Options, default: str | None = None,
                 assume: bool = False):
        """``default``: the assignment of the CSV for rows without one; ``assume``: grade notebooks without
        metadata as ``default`` (the instructor named the autograder)."""
        self.autograders, self.options, self.default, self.assume = autograders, options, default, assume
        self.env = Environment(options)
        self.contexts: dict[str, bytes] = {}
        self.possible = {slug: self._possible(a) for slug, a in autograders.items()}
        self.zygote = Zygote(self.env) if options.fork_verdicts else None

    @staticmethod
    def _possible(autograder: ag.Autograder) -> dict[str, float]:
        from otter.test_files import ExceptionTestFile

        return {q: ExceptionTestFile.from_string(text, path=f"{q}.py").possible for q, text in autograder.tests.items()}

    def context(self, slug: str) -> bytes:
        """The values an assignment's tests take as given, computed once by its own set-up code in a clean process."""
        autograder = self.autograders[slug]
        names = sorted(autograder.context_names() - {"LANG"})
        if slug not in self.contexts:
            data = b""
            if names:
                job = {"paths": self.env.paths, "context_code": autograder.context, "context_names": names}
                done = subprocess.run([self.env.python, "-I", "-B", str(HERE / "verdict.py")], input=pickle.dumps(job),
                                      capture_output=True, env=_verdict_environ(), timeout=600)
                if done.returncode != 0:
                    raise RuntimeError(f"{slug}: the assignment's set-up code failed:\n{done.stderr.decode()[-2000:]}")
                data = done.stdout
            self.contexts[slug] = data
        return self.contexts[slug]

    def zero(self, slug: str | None) -> dict:
        return {q: {"score": 0.0, "possible": p, "tests": []} for q, p in self.possible.get(slug, {}).items()}

    def grade_submission(self, path: pathlib.Path) -> Result:
        start = time.monotonic()
        result = self._grade(path, start)
        result.seconds = round(time.monotonic() - start, 2)
        return result

    def _grade(self, path: pathlib.Path, start: float) -> Result:
        nb, name, problem = read_submission(path)
        slug = name or self.default
        if problem:
            return Result(path.name, self.default, "invalid", problem, self.zero(self.default))
        if not name and not self.assume:
            return Result(path.name, self.default, "invalid", "no otter metadata (assignment name): nothing was graded; "
                          "to grade it, run grade again on it with --autograder ZIP", self.zero(self.default))
        if name and self.default and name != self.default:
            return Result(path.name, self.default, "wrong-assignment",
                          f"the notebook answers {name!r}, not {self.default!r}", self.zero(self.default))
        if slug not in self.autograders:
            known = ", ".join(sorted(self.autograders)) or "none"
            return Result(path.name, self.default, "wrong-assignment" if name else "invalid",
                          f"no autograder for {slug!r} (known: {known})", self.zero(self.default))
        lang = "en" if 'LANG = "en"' in "".join(code_cells(nb)) else "pt"
        cells = code_cells(nb)
        run = WorkerRun(self.env, path.name, cells, self.env.sandbox, path.read_bytes())
        try:
            # the worker stops its own cells at the limit; a notebook that ignores the interrupt is killed a bit later
            state = run.wait_ready(time.monotonic() + self.options.timeout + 10)
            if state.get("timeout"):
                where = f" (cell {run.cell + 1} of {len(cells)})" if run.cell is not None else ""
                return Result(path.name, slug, "timeout", f"the notebook ran past {self.options.timeout:g} s{where} "
                              "and did not stop when interrupted: killed, nothing could be graded", self.zero(slug), lang)
            if not state.get("ready"):
                why = state.get("sandbox_failed") or state.get("crash")
                where = f" in cell {run.cell + 1} of {len(cells)}" if run.cell is not None else ""
                return Result(path.name, slug, "error", f"the notebook's process ended{where} ({why}); "
                              "nothing could be graded", self.zero(slug), lang)
            ready_at = time.monotonic()
            verdict = self._verdict(slug, run, cells, lang, time.monotonic() + self.options.test_timeout)
            timings = {"run": round(ready_at - start, 2), "tests": round(time.monotonic() - ready_at, 2)}
        finally:
            run.stop()
        intact = self.env.sandbox or self.env.check_package()
        if not intact:
            return Result(path.name, slug, "error", "the notebook modified the grader's vae_support (restored); "
                          "its tests cannot be trusted", self.zero(slug), lang)
        if "failure" in verdict:
            status = "timeout" if verdict["failure"].startswith("timeout") else "error"
            return Result(path.name, slug, status, verdict["failure"], self.zero(slug), lang)
        questions = self.zero(slug)
        questions.update(verdict["questions"])
        reasons, status = [], "graded"
        if state.get("timed_out"):
            status = "timeout"
            cells_out = ", ".join(str(i + 1) for i in state["timed_out"])
            reasons.append(f"cell {cells_out} ran past its time limit ({self.options.cell_timeout:g} s a cell, "
                           f"{self.options.timeout:g} s the notebook) and was stopped")
        if state.get("skipped"):
            status = "timeout"
            reasons.append(f"{len(state['skipped'])} cell(s) after it did not run: the notebook's time was up")
        if status == "timeout":
            reasons.append("what was defined by then was graded")
        if verdict.get("worker"):
            status = "timeout"
            reasons.append(f"during the tests, {verdict['worker']}; the tests after that got no answer")
        errors = [[int(i) + 1, str(kind)[:60]] for i, kind in state.get("errors", []) if isinstance(i, int)]
        return Result(path.name, slug, status, "; ".join(reasons), questions, verdict.get("lang", lang), cell_errors=errors,
                      timings=timings)

    def _verdict(self, slug: str, run: WorkerRun, cells: list[str], lang: str, deadline: float) -> dict:
        autograder = self.autograders[slug]
        budget = max(1.0, deadline - time.monotonic())
        job = {"paths": self.env.paths, "tests": autograder.tests, "parameters": sorted(autograder.parameters()),
               "context": self.context(slug), "cells": cells, "lang": lang, "request_fd": run.request_w,
               "reply_fd": run.reply_r, "call_timeout": self.options.call_timeout, "budget": budget}
        if self.zygote is not None:
            return self._verdict_forked(job, run, budget)
        process = subprocess.Popen([self.env.python, "-I", "-B", str(HERE / "verdict.py")], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_verdict_environ(),
                                   pass_fds=(run.request_w, run.reply_r), start_new_session=True)
        try:
            out, err = process.communicate(pickle.dumps(job), timeout=budget + 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return {"failure": f"timeout: the tests ran past {self.options.test_timeout:g} s"}
        if process.returncode != 0:
            last = (err.decode(errors="replace").strip().splitlines() or ["?"])[-1][:300]
            return {"failure": f"grader error in the tests' process: {last}"}
        try:
            return json.loads(out)
        except ValueError:
            return {"failure": "grader error: unreadable results"}

    def _verdict_forked(self, job: dict, run: WorkerRun, budget: float) -> dict:
        result_r, result_w = os.pipe()
        try:
            pid = self.zygote.start(pickle.dumps(job), [run.request_w, run.reply_r, result_w])
        finally:
            os.close(result_w)
        out, deadline = b"", time.monotonic() + budget + 30
        try:
            while True:
                wait = deadline - time.monotonic()
                if wait <= 0 or not select.select([result_r], [], [], wait)[0]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    return {"failure": f"timeout: the tests ran past {self.options.test_timeout:g} s"}
                chunk = os.read(result_r, 1 << 20)
                if not chunk:
                    break
                out += chunk
        finally:
            os.close(result_r)
        try:
            return json.loads(out)
        except ValueError:
            return {"failure": "grader error: the tests' process ended without results"}

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
        self.env.cleanup()


def _verdict_environ() -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}


# -- the class ----------------------------------------------------------------------------------
def grade_folder(submissions: list[pathlib.Path], autograders: dict[str, ag.Autograder], options: Options,
                 default: str | None = None, progress: bool = True, assume: bool = False) -> tuple[list[Result], str]:
    """Grade every submission; never raises for a submission (a grader bug becomes an ``error`` row)."""
    from tqdm import tqdm

    grader = Grader(autograders, options, default, assume)
    try:
        needed = set()
        for path in submissions:
            _, name, _ = read_submission(path)
            if (name or default) in autograders:
                needed.add(name or default)
        for slug in sorted(needed):
            grader.context(slug)
        results: dict[pathlib.Path, Result] = {}
        bar = tqdm(total=len(submissions), desc="grading", unit="notebook", disable=not progress, file=sys.stderr)
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            futures = {pool.submit(grader.grade_submission, p): p for p in submissions}
            for future in concurrent.futures.as_completed(futures):
                path = futures[future]
                try:
                    results[path] = future.result()
                except Exception as err:  # a bug of the grader: this row only
                    results[path] = Result(path.name, default, "error", f"grader error: {type(err).__name__}: {err}")
                bar.set_postfix_str(f"{path.name}: {results[path].status}", refresh=False)
                bar.update()
        bar.close()
        return [results[p] for p in submissions], grader.env.sandbox_note
    finally:
        grader.close()


# -- writing results ------------------------------------------------------------------------------
def rows(results: list[Result], questions: list[str]) -> list[dict]:
    out = []
    for r in results:
        row = {"submission": r.submission}
        for q in questions:
            row[q] = _num(r.questions.get(q, {}).get("score", 0.0))
        possible = r.possible or 0.0
        row.update(total=_num(r.total), possible=_num(possible),
                   percent=round(100 * r.total / possible, 1) if possible else 0.0, status=r.status, reason=r.reason)
        out.append(row)
    return out


def _num(x: float):
    x = round(float(x), 4)
    return int(x) if x == int(x) else x


def write_csv(path: pathlib.Path, results: list[Result], questions: list[str]) -> None:
    columns = ["submission"] + questions + ["total", "possible", "percent", "status", "reason"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows(results, questions))
    os.replace(tmp, path)


TEXT = {
    "pt": {"status": "Situação", "total": "Total", "public": "público", "hidden": "oculto", "passed": "passou",
           "failed": "falhou", "cell_errors": "Células que terminaram com erro: ", "hidden_note": "Testes ocultos: só o resultado e os pontos (os valores esperados não são mostrados).",
           "statuses": {"graded": "corrigido", "timeout": "tempo esgotado", "error": "erro", "invalid": "inválido",
                        "wrong-assignment": "outra tarefa"}},
    "en": {"status": "Status", "total": "Total", "public": "public", "hidden": "hidden", "passed": "passed",
           "failed": "failed", "cell_errors": "Cells that ended with an error: ", "hidden_note": "Hidden tests: the outcome and the points only (expected values are not shown).",
           "statuses": {s: s for s in STATUSES}},
}


def feedback(result: Result) -> str:
    """What the student may receive: public tests' messages; hidden tests: pass or fail and the points."""
    t = TEXT["pt" if result.lang == "pt" else "en"]
    lines = [f"{result.assignment or '?'} — {result.submission}",
             f"{t['status']}: {t['statuses'].get(result.status, result.status)}" + (f" — {result.reason}" if result.reason else ""),
             f"{t['total']}: {_num(result.total)} / {_num(result.possible)}"]
    if result.cell_errors:
        lines.append(t["cell_errors"] + ", ".join(f"{i} ({kind})" for i, kind in result.cell_errors))
    lines.append("")
    for q, data in sorted(result.questions.items()):
        lines.append(f"{q}: {_num(data['score'])} / {_num(data['possible'])}")
        hidden_i = 0
        for test in data.get("tests", []):
            mark = "✔" if test["passed"] else "✘"
            points = f"{_num(test['points'] if test['passed'] else 0)} / {_num(test['points'])}"
            if test["hidden"]:
                hidden_i += 1
                lines.append(f"  {mark} {t['hidden']} {hidden_i}: {t['passed'] if test['passed'] else t['failed']} ({points})")
                message = test.get("message", "")
                if not test["passed"] and "[own code] " in message:  # the delegation check: no expected values in it
                    lines.append("      " + message[message.index("[own code] "):].splitlines()[0])
            else:
                lines.append(f"  {mark} {t['public']} {test['function']}: {t['passed'] if test['passed'] else t['failed']} ({points})")
                if not test["passed"]:
                    lines.append("      " + _assertion(test.get("message", "")))
        lines.append("")
    lines.append(t["hidden_note"])
    return "\n".join(lines) + "\n"


def _assertion(message: str) -> str:
    """The assertion's own message from otter's report (no traceback, no test source)."""
    for line in reversed(message.strip().splitlines()):
        if line.startswith("AssertionError"):
            return line.removeprefix("AssertionError:").strip()[:600]
    return (message.strip().splitlines() or [""])[-1][:600]
