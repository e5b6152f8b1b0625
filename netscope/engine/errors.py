"""Errors that reach the user as one clear paragraph, naming the file and line at fault."""

from __future__ import annotations

import os
import site
import sysconfig
import traceback
from types import TracebackType

_PACKAGE_DIRS: tuple[str, ...] = ()
_LIBRARY_DIRS: tuple[str, ...] = ()


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
        library_location: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.location = location  # the user's own line
        self.hint = hint
        self.traceback_tail = traceback_tail
        self.library_location = library_location  # the library line that raised, below it

    def __str__(self) -> str:
        parts = [self.message]
        if self.location and self.library_location:
            parts.append(f"(at {self.location}, inside {self.library_location})")
        elif self.location:
            parts.append(f"(at {self.location})")
        elif self.library_location:
            parts.append(f"(inside {self.library_location})")
        elif self.path and display_path(self.path) not in self.message:  # said once is enough
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


def is_netscope_file(filename: str) -> bool:
    """True for frames in netscope's own package (the first of the internal folders)."""
    return os.path.abspath(filename).startswith(_internal_dirs()[0])


def is_internal_file(filename: str) -> bool:
    """True for frames inside torch, netscope or importlib machinery (and synthetic '<...>')."""
    if filename.startswith("<"):
        return True
    return os.path.abspath(filename).startswith(_internal_dirs())


def _library_dirs() -> tuple[str, ...]:
    """Installed packages and the standard library: code the user did not write."""
    global _LIBRARY_DIRS
    if not _LIBRARY_DIRS:
        dirs = {sysconfig.get_paths().get(k) for k in ("purelib", "platlib", "stdlib")}
        try:
            dirs.update(site.getsitepackages())
            dirs.add(site.getusersitepackages())
        except AttributeError:  # pragma: no cover - a virtualenv's trimmed site module
            pass
        _LIBRARY_DIRS = tuple(
            sorted({os.path.abspath(d) + os.sep for d in dirs if d}, key=len, reverse=True)
        )
    return _LIBRARY_DIRS


def library_path(filename: str) -> str | None:
    """``transformers/models/bert/modeling_bert.py`` for an installed file; None for the user's."""
    absolute = os.path.abspath(filename)
    for folder in _library_dirs():
        if absolute.startswith(folder):
            return absolute[len(folder) :]
    return None


def frame_locations(
    tb: TracebackType | None, user_file: str | None = None
) -> tuple[str | None, str | None]:
    """(the user's line, the library line below it) of a traceback, each ``file.py:LINE``.

    The user's line is the innermost frame in code outside torch, netscope, installed packages
    and the standard library; the library line is the innermost frame in an installed package
    (transformers, typing_extensions...) when it lies below the user's, else None. With no
    frame of the user's at all, the innermost library frame is the location. ``user_file`` (the
    model file) counts as the user's even when it lies in an installed package.
    """
    user = library = None
    mine = os.path.abspath(user_file) if user_file else None
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if is_internal_file(filename):
            continue
        installed = None if os.path.abspath(filename) == mine else library_path(filename)
        if installed is None:
            user, library = f"{display_path(filename)}:{lineno}", None
        else:
            library = f"{installed}:{lineno}"
    if user is None:
        return library, None
    return user, library


def user_location(tb: TracebackType | None) -> str | None:
    """The innermost traceback frame in the user's own code (see ``frame_locations``)."""
    return frame_locations(tb)[0]


def display_path(filename: str) -> str:
    """A path relative to the current directory when below it, else absolute."""
    absolute = os.path.abspath(filename)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    return absolute if relative.startswith("..") else relative


def traceback_tail(exc: BaseException, lines: int = 12, users_only: bool = False) -> str:
    """The traceback's last ``lines`` lines; ``users_only``: without netscope's frames and
    importlib's (the machinery that ran the user's code), so the tail keeps the user's and the
    libraries' frames. A traceback with nothing else stays whole: netscope's own failure."""
    shown = traceback.TracebackException.from_exception(exc)
    if users_only:
        without_machinery(shown)
    text = "".join(shown.format())
    return "\n".join(text.rstrip().splitlines()[-lines:])


def without_machinery(shown: traceback.TracebackException) -> traceback.TracebackException:
    """In place, down the chain of causes: only the frames netscope and importlib did not run.
    Where that leaves nothing of the user's to point at (no frame, no syntax error's own line),
    the traceback stays whole: it is netscope's own failure."""
    chain: list[traceback.TracebackException] = []
    pending = [shown]
    while pending:
        current = pending.pop()
        if any(current is seen for seen in chain):
            continue
        chain.append(current)
        pending += [c for c in (current.__cause__, current.__context__) if c is not None]
    kept = [[f for f in te.stack if not _machinery(f.filename)] for te in chain]
    located = any(te.exc_type is not None and issubclass(te.exc_type, SyntaxError) for te in chain)
    if not located and not any(kept):
        return shown
    for te, frames in zip(chain, kept, strict=True):
        te.stack = traceback.StackSummary.from_list(frames)
    return shown


def _machinery(filename: str) -> bool:
    return filename.startswith("<frozen importlib") or (
        not filename.startswith("<") and is_netscope_file(filename)
    )


def wrap_user_error(exc: BaseException, what: str, path: str | None = None) -> NetscopeError:
    """Turn an exception raised in user code into a NetscopeError pointing at the user's line
    first, then at the library line that raised (``modeling_bert.py:144``) when there is one."""
    location, library = frame_locations(exc.__traceback__, path)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        location, library = f"{display_path(exc.filename)}:{exc.lineno}", None
    return NetscopeError(
        f"{what}: {type(exc).__name__}: {exc}",
        path=path,
        location=location,
        traceback_tail=traceback_tail(exc, users_only=True),
        library_location=library,
    )
