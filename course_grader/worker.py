"""Run one submitted notebook, then answer the verdict's questions about it.

Started by ``course_grader.grade`` inside ``unshare`` (new user, mount, pid and network
namespaces), in a fresh folder that holds this file, ``wire.py``, the notebook's code cells
(``cells.json``) and a private copy of ``vae_support``. Before any student code runs it
  1. caps its memory (RLIMIT_AS), file size and CPU time,
  2. builds a new root: a tmpfs with the system and Python folders bound read-only, its own
     folder at ``/submission`` (the only writable place besides a small private ``/tmp``);
     the instructor's tree, the autograder, other submissions and the grader's files are not
     there at all; ``pivot_root`` leaves no way back to the old root,
  3. enters a nested user namespace, so that the read-only mounts are locked,
then runs the cells one by one in an IPython shell (a cell that runs past its time is
interrupted), reports ``ready`` and serves requests: describe names, return a value, call a
function. Its answers are plain data (see ``wire.py``); whatever the code does here only
changes what this process answers.

Standard library only until the sandbox is in place (a new user namespace needs one thread).
"""
from __future__ import annotations

import ctypes
import json
import os
import pickle
import resource
import signal
import sys
import time

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
ST_TO_MS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME, 2048: MS_NODIRATIME,
            4096: MS_RELATIME}
CLONE_NEWUSER = 0x10000000
MNT_DETACH = 2
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source} {target}")


def _mount_flags(path: str) -> int:
    st = os.statvfs(path).f_flag
    return sum(ms for stf, ms in ST_TO_MS.items() if st & stf)


def _read_only(target: str) -> None:
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _mount_flags(target))


def sandbox(work: str, binds: list[str], tmp_mb: int) -> None:
    """Make ``work`` the only writable folder we can see (see the module docstring)."""
    import platform

    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = os.path.join(work, ".grader", "root")
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=0755")
    # the private /tmp first: a Python or venv that lives under /tmp (a checkout in /tmp, say) is
    # bound inside it below, instead of being hidden by it
    os.makedirs(root + "/tmp")
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,mode=1777")
    for path in sorted({os.path.abspath(p) for p in binds}, key=len):
        if not os.path.isdir(path):
            continue
        target = root + path
        if os.path.exists(target):  # already visible through a folder bound above it
            continue
        os.makedirs(target)
        _mount(os.path.realpath(path), target, None, MS_BIND | MS_REC)
    for sub in ("dev", "proc", "tmp", "submission"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    _mount("/dev", root + "/dev", None, MS_BIND | MS_REC)
    if os.path.isdir(root + "/dev/shm"):
        _mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m")
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount(work, root + "/submission", None, MS_BIND)
    # everything bound from outside becomes read-only, submounts included
    keep = {root, root + "/dev", root + "/proc", root + "/tmp", root + "/submission", root + "/dev/shm"}
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].replace("\\040", " ") for line in f]
    for point in points:
        if point.startswith(root + "/") and point not in keep and not point.startswith(root + "/proc/") \
                and not point.startswith(root + "/dev/"):
            _read_only(point)
    old = root + "/.old"
    os.makedirs(old)
    _check(_libc.syscall(PIVOT_ROOT[platform.machine()], root.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    _read_only("/")
    # a nested user namespace: the mounts above are now locked (no remount, no unmount)
    _check(_libc.unshare(CLONE_NEWUSER), "unshare user namespace")
    for name, text in (("setgroups", "deny"), ("uid_map", "0 0 1"), ("gid_map", "0 0 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    os.chdir("/submission")


class CellTimeout(BaseException):
    """Raised in the student's code when a cell or a call runs past its time."""


def _alarm(signum, frame):
    raise CellTimeout("time limit reached")


def status(fd: int, **message) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def main() -> None:
    config = json.loads(sys.argv[1])
    mem = config["memory_mb"] * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**30, 2**30))
    status_fd, request_fd, reply_fd = config["status_fd"], config["request_fd"], config["reply_fd"]
    if config["sandbox"]:
        try:
            sandbox(config["work"], config["binds"], config["tmp_mb"])
        except Exception as err:  # the grader decides what to do: it asked for a sandbox
            status(status_fd, sandbox_failed=f"{type(err).__name__}: {err}")
            raise SystemExit(3)
        work = "/submission"
    else:
        work = config["work"]
        os.chdir(work)
    sys.path.insert(0, os.path.join(work, ".grader"))
    sys.path.insert(0, os.path.join(work, ".grader", "pkg"))
    with open(os.path.join(work, ".grader", "cells.json"), encoding="utf-8") as f:
        cells = json.load(f)
    import wire  # noqa: E402  (copied beside this file)

    signal.signal(signal.SIGALRM, _alarm)
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.showtraceback = lambda *a, **k: None  # tracebacks go nowhere: nobody reads them
    shell.user_ns["__name__"] = "__main__"
    errors, timed_out, skipped = [], [], []
    deadline = time.monotonic() + config["run_timeout"]
    for index, source in enumerate(cells):
        left = deadline - time.monotonic()
        if left <= 0:  # the notebook's time is up: what is defined so far is graded
            skipped.append(index)
            continue
        status(status_fd, cell=index)
        signal.setitimer(signal.ITIMER_REAL, min(config["cell_timeout"], left))
        try:
            result = shell.run_cell(source, store_history=False, silent=False)
            error = result.error_in_exec or result.error_before_exec
        except CellTimeout as err:
            error = err
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if isinstance(error, CellTimeout):
            timed_out.append(index)
        elif error is not None:
            errors.append([index, type(error).__name__])
    status(status_fd, ready=True, errors=errors, timed_out=timed_out, skipped=skipped)
    serve(shell.user_ns, request_fd, reply_fd, config["call_timeout"], wire)


def serve(namespace: dict, request_fd: int, reply_fd: int, call_timeout: float, wire) -> None:
    import torch

    while True:
        try:
            request = pickle.loads(wire.receive(request_fd))
        except wire.WireError:
            return
        reply = {}
        try:
            if request["op"] == "describe":
                reply["kinds"] = {n: ("missing" if n not in namespace else "callable" if callable(namespace[n])
                                      else "value") for n in request["names"]}
            elif request["op"] == "value":
                reply["value"] = wire.plain(namespace.get(request["name"]))
            elif request["op"] == "call":
                torch.set_rng_state(request["rng"])
                signal.setitimer(signal.ITIMER_REAL, call_timeout)
                try:
                    value = namespace[request["name"]](*request["args"], **request["kwargs"])
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                reply["value"] = wire.plain(value)
                reply["rng"] = torch.get_rng_state()
        except BaseException as err:  # noqa: B036  the student's code may raise anything
            if isinstance(err, CellTimeout):
                reply = {"error": ["TimeoutError", f"the call ran past {call_timeout:g} s and was stopped"]}
            else:
                reply = {"error": [type(err).__name__[:60], str(err)[:300]]}
        try:
            data = wire.pack(reply)
        except BaseException as err:  # noqa: B036
            data = wire.pack({"error": [type(err).__name__[:60], f"the answer could not be sent: {str(err)[:200]}"]})
        wire.send(reply_fd, data)


if __name__ == "__main__":
    main()
