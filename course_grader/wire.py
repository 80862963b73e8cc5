"""Messages between the verdict process and the student's worker.

Frames are a 8-byte length then the payload. Requests (verdict -> worker) are pickles: the
verdict is trusted and the worker only hurts itself by forging them. Replies (worker -> verdict)
are ``torch.save`` archives read back with ``torch.load(weights_only=True)``, which rebuilds only
tensors, numbers, strings and containers: whatever the student's code returns or patches, the
verdict receives plain data and never runs an object of the student's.

This module is copied into the sandbox and imported there by ``worker.py``: standard library and
torch only.
"""
from __future__ import annotations

import io
import os
import select
import struct
import time

MAX_REPLY = 256 * 2**20  # bytes; a larger answer is refused, not read
_HEADER = struct.Struct("<Q")
ELLIPSIS = {"__course_grader__": "ellipsis"}


class WireError(RuntimeError):
    """The other side closed the pipe, sent too much, or did not answer in time."""


def send(fd: int, payload: bytes) -> None:
    data = _HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise WireError("no answer in time")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise WireError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, deadline: float | None = None, limit: int = MAX_REPLY) -> bytes:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if size > limit:
        raise WireError(f"an answer of {size} bytes is over the limit of {limit}")
    return _read_exactly(fd, size, deadline)


def plain(value, depth: int = 0):
    """``value`` as data ``torch.load(weights_only=True)`` accepts (tensors, numbers, str, containers)."""
    import torch

    if depth > 20:
        return {"__course_grader__": "unsupported", "type": "too deeply nested"}
    if value is None:
        return None
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return base(value)
    if value is Ellipsis:
        return dict(ELLIPSIS)
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.layout != torch.strided:
            t = t.to_dense()
        return t.cpu().as_subclass(torch.Tensor).clone()
    if isinstance(value, torch.Size):
        return tuple(int(v) for v in value)
    if type(value).__module__ == "numpy":
        import numpy as np
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return torch.from_numpy(np.ascontiguousarray(value)).clone()
        if isinstance(value, np.generic):
            return plain(value.item(), depth + 1)
    if isinstance(value, (tuple, list)):
        items = [plain(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        return {(k if type(k) in (str, int) else str(k)): plain(v, depth + 1) for k, v in value.items()}
    return {"__course_grader__": "unsupported", "type": type(value).__name__[:80]}


def pack(value) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def unpack(data: bytes):
    """Read a reply safely (weights_only) and turn the markers back into Python values."""
    import torch

    return _restore(torch.load(io.BytesIO(data), weights_only=True))


def _restore(value):
    if isinstance(value, dict):
        if value.get("__course_grader__") == "ellipsis":
            return Ellipsis
        if value.get("__course_grader__") == "unsupported":
            return f"<a value of type {value.get('type')!s}, which the grader cannot compare>"
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_restore(v) for v in value)
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value
