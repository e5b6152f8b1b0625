"""A one-way message pipe from the script's process to netscope: length-prefixed pickles.

The child writes frames on an inherited file descriptor; the parent reads them in a thread. Both
ends are trusted (netscope talks to its own child), so pickle is fine.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
from typing import Any

_HEADER = struct.Struct("<I")


class Sender:
    """The child's end: ``send(message)`` writes one whole frame (blocking)."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def send(self, message: Any) -> None:
        fd = self.fd
        if fd is None:
            return
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> Any:
    """The next message, or raises EOFError when the child closed its end (or died)."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        raise EOFError
    data = _read_exactly(fd, _HEADER.unpack(header)[0])
    if data is None:
        raise EOFError
    return pickle.loads(data)
