"""Errors that reach the user as one clear paragraph, naming the file and line at fault."""

from __future__ import annotations

import os
import traceback
from types import TracebackType

_PACKAGE_DIRS: tuple[str, ...] = ()


class NetscopeError(Exception):
    """A failure the user can act on: bad file, unsafe checkpoint, forward that raises..."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        location: str | None = None,
        hint: str | None = None,
        traceback_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.location = location
        self.hint = hint
        self.traceback_tail = traceback_tail

    def __str__(self) -> str:
        parts = [self.message]
        if self.location:
            parts.append(f"(at {self.location})")
        elif self.path:
            parts.append(f"(file: {self.path})")
        text = " ".join(parts)
        if self.hint:
            text += f"\n{self.hint}"
        return text


def _internal_dirs() -> tuple[str, ...]:
    """Folders whose frames are never 'the user's line': torch, netscope, the stdlib's importlib."""
    global _PACKAGE_DIRS
    if not _PACKAGE_DIRS:
        import importlib

        import netscope

        dirs = [os.path.dirname(os.path.abspath(netscope.__file__)) + os.sep]
        dirs.append(os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep)
        try:
            import torch

            dirs.append(os.path.dirname(os.path.abspath(torch.__file__)) + os.sep)
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
        _PACKAGE_DIRS = tuple(dirs)
    return _PACKAGE_DIRS


def is_internal_file(filename: str) -> bool:
    """True for frames inside torch, netscope or importlib machinery (and synthetic '<...>')."""
    if filename.startswith("<"):
        return True
    return os.path.abspath(filename).startswith(_internal_dirs())


def user_location(tb: TracebackType | None) -> str | None:
    """The innermost traceback frame outside torch and netscope, as ``file.py:LINE``."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if not is_internal_file(filename):
            found = f"{display_path(filename)}:{lineno}"
    return found


def display_path(filename: str) -> str:
    """A path relative to the current directory when below it, else absolute."""
    absolute = os.path.abspath(filename)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    return absolute if relative.startswith("..") else relative


def traceback_tail(exc: BaseException, lines: int = 12) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return "\n".join(text.rstrip().splitlines()[-lines:])


def wrap_user_error(exc: BaseException, what: str, path: str | None = None) -> NetscopeError:
    """Turn an exception raised in user code into a NetscopeError pointing at the user's line."""
    location = user_location(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        location = f"{display_path(exc.filename)}:{exc.lineno}"
    return NetscopeError(
        f"{what}: {type(exc).__name__}: {exc}",
        path=path,
        location=location,
        traceback_tail=traceback_tail(exc),
    )
