"""Run the tests of one submission in a fresh interpreter where no student code ever runs.

Started by ``course_grader.grade`` as ``python -I verdict.py`` with a job (a pickle from the
grader) on stdin: the assignment's test files (read from the autograder before any student code
ran), the values the tests take as given (computed by the assignment's own set-up code in
another clean process), the notebook's code cells (for the delegation check) and the two pipe
ends that reach the student's worker. The student's answers become proxies: calling one sends
the arguments to the worker and gets back plain data (``wire.unpack``); values come back the same
way. The global torch random state travels with each call, so a test that seeds it and then
calls the answer sees what it would see in one process. The results go to stdout as JSON.

``python -I verdict.py --context`` instead runs an assignment's set-up code (stdin) and writes
the pickled values the tests take as given (stdout).
"""
from __future__ import annotations

import json
import os
import pickle
import re
import sys
import time


class WorkerClient:
    def __init__(self, request_fd: int, reply_fd: int, call_timeout: float, deadline: float):
        self.request_fd, self.reply_fd = request_fd, reply_fd
        self.call_timeout, self.deadline = call_timeout, deadline
        self.broken: str | None = None

    def ask(self, request: dict, timeout: float):
        from course_grader import wire

        if self.broken:
            raise TimeoutError(self.broken)
        deadline = min(time.monotonic() + timeout, self.deadline)
        try:
            wire.send(self.request_fd, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            reply = wire.unpack(wire.receive(self.reply_fd, deadline))
        except (wire.WireError, OSError, BrokenPipeError) as err:
            self.broken = f"the notebook's process stopped answering ({err})"
            raise TimeoutError(self.broken) from None
        except Exception as err:  # a reply torch.load refuses: not plain data
            raise ValueError(f"the answer is not plain data the grader can read ({type(err).__name__})") from None
        if not isinstance(reply, dict):
            raise ValueError("malformed answer")
        if "error" in reply:
            kind, message = (list(reply["error"]) + ["", ""])[:2]
            kind = re.sub(r"\W", "", str(kind)) or "Error"
            raise type(kind, (Exception,), {})(str(message))
        return reply


class Answer:
    """Stands for a function of the student's: calls it in the worker, returns plain data."""

    def __init__(self, client: WorkerClient, name: str, cells: list[str]):
        self._client, self.__name__ = client, name
        self.__course_grader_source__ = (cells, name)

    def __call__(self, *args, **kwargs):
        import torch

        reply = self._client.ask({"op": "call", "name": self.__name__, "args": args, "kwargs": kwargs,
                                  "rng": torch.get_rng_state()}, self._client.call_timeout + 5)
        rng = reply.get("rng")
        if isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8:
            try:
                torch.set_rng_state(rng)
            except Exception:
                pass
        return reply.get("value")

    def __repr__(self):
        return f"<answer {self.__name__}>"


def run_tests(job: dict) -> dict:
    import torch  # noqa: F401  (before the tests: they import it too)
    from otter.test_files import ExceptionTestFile

    client = WorkerClient(job["request_fd"], job["reply_fd"], job["call_timeout"], time.monotonic() + job["budget"])
    context = pickle.loads(job["context"]) if job["context"] else {}
    names = sorted(set(job["parameters"]) - set(context))
    env = dict(context)
    try:
        kinds = client.ask({"op": "describe", "names": names}, 30).get("kinds")
    except Exception:  # the worker is the student's: its answers may be anything
        kinds = None
    kinds = kinds if isinstance(kinds, dict) else {}
    for name in names:
        kind = kinds.get(name)
        if kind == "callable":
            env[name] = Answer(client, name, job["cells"])
        elif kind == "value":
            try:
                env[name] = client.ask({"op": "value", "name": name}, 30).get("value")
            except Exception as err:
                env[name] = f"{type(err).__name__}: {err}"
    lang = env.get("LANG")
    env["LANG"] = lang if lang in ("pt", "en") else job["lang"]
    questions = {}
    for question, text in sorted(job["tests"].items()):
        test_file = ExceptionTestFile.from_string(text, path=f"{question}.py")
        test_file.run(env)
        questions[question] = {
            "score": test_file.score, "possible": test_file.possible,
            "tests": [{"name": r.test_case.name, "function": r.test_case.body.test_func.__name__,
                       "hidden": bool(r.test_case.hidden), "points": r.test_case.points,
                       "passed": bool(r.passed), "message": str(r.message or "")[:2000]}
                      for r in test_file.test_case_results],
        }
    return {"questions": questions, "lang": env["LANG"], "worker": client.broken}


def compute_context(code: str) -> dict:
    import ast

    tree = ast.parse(code)
    names = json.loads(os.environ.get("COURSE_GRADER_CONTEXT_NAMES", "[]"))
    namespace = {"__name__": "__main__"}
    exec(compile(tree, "<assignment set-up>", "exec"), namespace)
    return {n: namespace[n] for n in names if n in namespace}


PRELOAD = ("torch", "vae_support", "vae_support.kl", "vae_support.toy", "vae_support.bounds", "vae_support.models",
           "vae_support.train", "vae_support.data", "vae_support.distributions", "vae_support.gradients",
           "otter.test_files", "course_grader.wire", "course_grader.delegation")


def _recv_exactly(sock, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def serve_forks(sock_fd: int, paths: list[str]) -> None:
    """A zygote: import what the tests need once, then fork one child per submission.

    The parent never runs student code or tests; each child starts as an exact copy of this
    clean interpreter (no import cost), runs one submission's tests and exits. Requests come on
    a Unix socket: a length, three file descriptors (request and reply pipes of the worker, a pipe
    for the results) and the pickled job; the reply is the child's pid.
    """
    import importlib
    import signal
    import socket
    import struct

    sys.path[:0] = paths
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    import torch

    torch.set_num_threads(1)
    torch.zeros(2).sum()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    sock = socket.socket(fileno=sock_fd)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 8, 3)
            if not message or len(fds) != 3:
                return
            data = _recv_exactly(sock, struct.unpack("<Q", _recv_exactly_prefix(sock, message))[0])
        except (EOFError, OSError):
            return
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            out = b""
            try:
                job = pickle.loads(data)
                job["request_fd"], job["reply_fd"] = fds[0], fds[1]
                out = json.dumps(run_tests(job)).encode()
            except BaseException as err:  # noqa: B036
                out = json.dumps({"failure": f"grader error in the tests' process: {type(err).__name__}: {err}"[:400]}).encode()
            finally:
                view = memoryview(out)
                try:
                    while view:
                        view = view[os.write(fds[2], view):]
                except OSError:
                    pass
                os._exit(0)
        for fd in fds:
            os.close(fd)
        sock.sendall(struct.pack("<q", pid))


def _recv_exactly_prefix(sock, first: bytes) -> bytes:
    return first if len(first) == 8 else first + _recv_exactly(sock, 8 - len(first))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        os.dup2(2, 1)
        serve_forks(int(sys.argv[2]), json.loads(sys.argv[3]))
        return
    real_stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the tests print goes to stderr, not into the results
    job = pickle.load(sys.stdin.buffer)
    sys.path[:0] = job["paths"]
    if job.get("context_code") is not None:
        os.environ["COURSE_GRADER_CONTEXT_NAMES"] = json.dumps(job["context_names"])
        real_stdout.write(pickle.dumps(compute_context(job["context_code"])))
    else:
        real_stdout.write(json.dumps(run_tests(job)).encode())
    real_stdout.flush()


if __name__ == "__main__":
    main()
